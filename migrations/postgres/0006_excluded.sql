-- What was not counted, per site and UTC day: one row per reason (kind 'reason': bot, prefetch,
-- rate_limit, …) and per bot product token (kind 'bot': Googlebot, …), never a User-Agent.
-- Cumulative per day and overwritten by the flush, like view_counts.
CREATE TABLE excluded_daily (
    site  TEXT COLLATE "C" NOT NULL,
    date  DATE             NOT NULL, -- UTC
    kind  TEXT COLLATE "C" NOT NULL,
    name  TEXT COLLATE "C" NOT NULL,
    count BIGINT           NOT NULL DEFAULT 0,
    PRIMARY KEY (site, date, kind, name)
);
