-- Current cumulative counts per item, overwritten by each flush.
CREATE TABLE view_counts (
    site           TEXT    NOT NULL,
    type           TEXT    NOT NULL,
    slug           TEXT    NOT NULL,
    unique_views   INTEGER NOT NULL DEFAULT 0,
    total_views    INTEGER NOT NULL DEFAULT 0,
    src            TEXT,
    data           TEXT,
    last_synced_at TEXT    NOT NULL,
    PRIMARY KEY (site, type, slug)
);

CREATE INDEX view_counts_site_total ON view_counts (site, total_views DESC);

-- Cumulative counts at the end of each UTC day. Daily views are the difference between two
-- consecutive days, computed when read, never stored.
CREATE TABLE view_counts_daily (
    site                  TEXT    NOT NULL,
    type                  TEXT    NOT NULL,
    slug                  TEXT    NOT NULL,
    date                  TEXT    NOT NULL, -- YYYY-MM-DD, UTC
    unique_views_snapshot INTEGER NOT NULL DEFAULT 0,
    total_views_snapshot  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (site, type, slug, date)
);

CREATE INDEX view_counts_daily_site_date ON view_counts_daily (site, date);

-- When each job last succeeded, for the dashboard's "last flushed" and for operators.
CREATE TABLE job_runs (
    job         TEXT    NOT NULL PRIMARY KEY,
    finished_at TEXT    NOT NULL,
    items       INTEGER NOT NULL
);
