-- What was not counted, per site and UTC day: one row per reason (kind 'reason': bot, prefetch,
-- rate_limit, …) and per bot product token (kind 'bot': Googlebot, …), never a User-Agent.
-- Cumulative per day and overwritten by the flush, like view_counts.
CREATE TABLE excluded_daily (
    site  TEXT    NOT NULL,
    date  TEXT    NOT NULL, -- YYYY-MM-DD, UTC
    kind  TEXT    NOT NULL,
    name  TEXT    NOT NULL,
    count INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (site, date, kind, name)
);
