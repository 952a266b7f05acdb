-- The read model on PostgreSQL: the same tables and columns as on SQLite (see ../sqlite), in
-- PostgreSQL's types. This one file brings an empty database to where SQLite's 0001–0004 lead,
-- and takes their last number, so later migrations share numbers across dialects. Text is in
-- the "C" collation, ordered byte by byte as SQLite orders it, so both models sort alike and
-- the indexes below serve the dashboard's orders, ties included.

-- Current cumulative counts per item, overwritten by each flush.
CREATE TABLE view_counts (
    site           TEXT COLLATE "C" NOT NULL,
    type           TEXT COLLATE "C" NOT NULL,
    slug           TEXT COLLATE "C" NOT NULL,
    unique_views   BIGINT      NOT NULL DEFAULT 0,
    total_views    BIGINT      NOT NULL DEFAULT 0,
    src            TEXT,
    data           TEXT,
    last_synced_at TIMESTAMPTZ NOT NULL,
    likes          BIGINT      NOT NULL DEFAULT 0,
    PRIMARY KEY (site, type, slug)
);

-- One index per order of the item table and the top lists, ties and all, so a page is read
-- from the index instead of sorting the site's items.
CREATE INDEX view_counts_site_total  ON view_counts (site, total_views DESC, unique_views DESC, type, slug);
CREATE INDEX view_counts_site_unique ON view_counts (site, unique_views DESC, total_views DESC, type, slug);
CREATE INDEX view_counts_site_synced ON view_counts (site, last_synced_at DESC, total_views DESC, type, slug);
CREATE INDEX view_counts_site_likes  ON view_counts (site, likes DESC, total_views DESC, type, slug);

-- Cumulative counts at the end of each UTC day. Daily views are the difference between two
-- consecutive days, computed when read, never stored.
CREATE TABLE view_counts_daily (
    site                  TEXT COLLATE "C" NOT NULL,
    type                  TEXT COLLATE "C" NOT NULL,
    slug                  TEXT COLLATE "C" NOT NULL,
    date                  DATE   NOT NULL, -- UTC
    unique_views_snapshot BIGINT NOT NULL DEFAULT 0,
    total_views_snapshot  BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (site, type, slug, date)
);

CREATE INDEX view_counts_daily_site_date ON view_counts_daily (site, date);
CREATE INDEX view_counts_daily_date      ON view_counts_daily (date, site, type);

-- Per site, type and day: the sums of that day's snapshots, written by the snapshot job.
CREATE TABLE view_totals_daily (
    site                  TEXT COLLATE "C" NOT NULL,
    type                  TEXT COLLATE "C" NOT NULL,
    date                  DATE    NOT NULL, -- UTC
    unique_views_snapshot BIGINT  NOT NULL DEFAULT 0,
    total_views_snapshot  BIGINT  NOT NULL DEFAULT 0,
    items                 INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (site, type, date)
);

-- When each job last succeeded, for the dashboard's "last flushed" and for operators.
CREATE TABLE job_runs (
    job         TEXT        NOT NULL PRIMARY KEY,
    finished_at TIMESTAMPTZ NOT NULL,
    items       INTEGER     NOT NULL
);
