-- Per site, type and day: the sums of that day's snapshots, written by the snapshot job, so the
-- dashboard's series, tiles and donut read a handful of rows instead of every item's history.
CREATE TABLE view_totals_daily (
    site                  TEXT    NOT NULL,
    type                  TEXT    NOT NULL,
    date                  TEXT    NOT NULL, -- YYYY-MM-DD, UTC
    unique_views_snapshot INTEGER NOT NULL DEFAULT 0,
    total_views_snapshot  INTEGER NOT NULL DEFAULT 0,
    items                 INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (site, type, date)
);

-- The snapshot job sums one date across all sites.
CREATE INDEX view_counts_daily_date ON view_counts_daily (date, site, type);

-- "Most recent" sort of the item table.
CREATE INDEX view_counts_site_synced ON view_counts (site, last_synced_at DESC);
CREATE INDEX view_counts_site_unique ON view_counts (site, unique_views DESC);

-- Owner sessions of the dashboard. Only a hash of each token is kept, so a copy of this file
-- cannot be used to log in; pw is a fingerprint of the password hash the session was opened
-- under, so setting a new password ends every session.
CREATE TABLE admin_sessions (
    token_hash TEXT NOT NULL PRIMARY KEY,
    pw         TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
