-- History grows with traffic, not with items × days. Items get integer ids; an item's daily
-- row exists only for a day on which its cumulative counts changed, and any day's value is the
-- latest row on or before it. Per-site rollups of the current and the daily totals are kept by
-- the flush and the snapshot in their own transactions, so no dashboard read scans items.
-- Days are integers (days since 1970-01-01, UTC) in the new tables; view_counts_daily stays,
-- as a view over the stored days, for scripts that query it.

-- view_counts gains its id. Ids follow (site, type, slug) order here, and the order of first
-- flush afterwards; they break ties in the dashboard's orders, so a page is read from an index.
CREATE TABLE view_counts_new (
    id             INTEGER PRIMARY KEY,
    site           TEXT    NOT NULL,
    type           TEXT    NOT NULL,
    slug           TEXT    NOT NULL,
    unique_views   INTEGER NOT NULL DEFAULT 0,
    total_views    INTEGER NOT NULL DEFAULT 0,
    src            TEXT,
    data           TEXT,
    last_synced_at TEXT    NOT NULL,
    likes          INTEGER NOT NULL DEFAULT 0,
    UNIQUE (site, type, slug)
);
INSERT INTO view_counts_new (site, type, slug, unique_views, total_views, src, data, last_synced_at, likes)
SELECT site, type, slug, unique_views, total_views, src, data, last_synced_at, likes
FROM view_counts ORDER BY site, type, slug;
-- An item snapshotted but never flushed keeps its history under counts from its last day.
INSERT INTO view_counts_new (site, type, slug, unique_views, total_views, last_synced_at)
SELECT site, type, slug, unique_views_snapshot, total_views_snapshot, '1970-01-01T00:00:00Z'
FROM (SELECT site, type, slug, unique_views_snapshot, total_views_snapshot, MAX(date)
      FROM view_counts_daily d
      WHERE NOT EXISTS (SELECT 1 FROM view_counts v WHERE v.site = d.site AND v.type = d.type AND v.slug = d.slug)
      GROUP BY site, type, slug)
ORDER BY site, type, slug;

-- An item's cumulative counts at the end of each UTC day on which they changed.
CREATE TABLE item_daily (
    item_id      INTEGER NOT NULL, -- view_counts.id
    day          INTEGER NOT NULL, -- days since 1970-01-01, UTC
    unique_views INTEGER NOT NULL,
    total_views  INTEGER NOT NULL,
    PRIMARY KEY (item_id, day)
) WITHOUT ROWID;
-- A dense row equal to the item's row before it adds nothing: "latest on or before" gives the
-- same value for that day.
INSERT INTO item_daily (item_id, day, unique_views, total_views)
SELECT v.id, CAST(julianday(d.date) - 2440587.5 AS INTEGER), d.unique_views_snapshot, d.total_views_snapshot
FROM (SELECT site, type, slug, date, unique_views_snapshot, total_views_snapshot,
             LAG(unique_views_snapshot) OVER w AS pu, LAG(total_views_snapshot) OVER w AS pt
      FROM view_counts_daily WINDOW w AS (PARTITION BY site, type, slug ORDER BY date)) d
JOIN view_counts_new v ON v.site = d.site AND v.type = d.type AND v.slug = d.slug
WHERE d.pu IS NULL OR d.pu <> d.unique_views_snapshot OR d.pt <> d.total_views_snapshot;

-- Dimension rows refer to their owner and their value by integer ids. An owner is an item
-- (its view_counts id) or a whole site (minus its id in sites); a value is one value of one
-- dimension of a site, dim being the dimension's number (0 the owner's own views and visitors,
-- then referrer, utm_source, utm_medium, utm_campaign, browser, browser_version, os, device,
-- country: internal/item's order, which a test holds to this file).
CREATE TABLE sites (id INTEGER PRIMARY KEY, site TEXT NOT NULL UNIQUE);
INSERT INTO sites (site) SELECT DISTINCT site FROM dimension_daily ORDER BY site;
CREATE TABLE dim_values (
    id    INTEGER PRIMARY KEY,
    site  TEXT    NOT NULL,
    dim   INTEGER NOT NULL,
    value TEXT    NOT NULL,
    UNIQUE (site, dim, value)
);
INSERT INTO dim_values (site, dim, value)
SELECT DISTINCT site, CASE dim WHEN '' THEN 0 WHEN 'referrer' THEN 1 WHEN 'utm_source' THEN 2 WHEN 'utm_medium' THEN 3
    WHEN 'utm_campaign' THEN 4 WHEN 'browser' THEN 5 WHEN 'browser_version' THEN 6 WHEN 'os' THEN 7
    WHEN 'device' THEN 8 WHEN 'country' THEN 9 END, value
FROM dimension_daily ORDER BY 1, 2, 3;
-- An item with sources but never flushed gets its id (and its counts from the next flush).
INSERT INTO view_counts_new (site, type, slug, last_synced_at)
SELECT DISTINCT site, type, slug, '1970-01-01T00:00:00Z' FROM dimension_daily d
WHERE type <> '' AND NOT EXISTS (SELECT 1 FROM view_counts_new v WHERE v.site = d.site AND v.type = d.type AND v.slug = d.slug)
ORDER BY site, type, slug;
-- One key serves every read: an owner's dimension over some days (owner, dim, day), one of
-- its values' days (…, value_id); an index the items a value brought readers to.
CREATE TABLE dimension_daily_new (
    owner    INTEGER NOT NULL,
    dim      INTEGER NOT NULL,
    day      INTEGER NOT NULL, -- days since 1970-01-01, UTC
    value_id INTEGER NOT NULL, -- dim_values.id
    views    INTEGER NOT NULL DEFAULT 0,
    visitors INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (owner, dim, day, value_id)
) WITHOUT ROWID;
INSERT INTO dimension_daily_new (owner, dim, day, value_id, views, visitors)
SELECT CASE WHEN d.type = '' THEN -s.id ELSE v.id END, dv.dim, CAST(julianday(d.date) - 2440587.5 AS INTEGER), dv.id, d.views, d.visitors
FROM dimension_daily d
JOIN sites s ON s.site = d.site
LEFT JOIN view_counts_new v ON d.type <> '' AND v.site = d.site AND v.type = d.type AND v.slug = d.slug
JOIN dim_values dv ON dv.site = d.site AND dv.value = d.value
 AND dv.dim = CASE d.dim WHEN '' THEN 0 WHEN 'referrer' THEN 1 WHEN 'utm_source' THEN 2 WHEN 'utm_medium' THEN 3
    WHEN 'utm_campaign' THEN 4 WHEN 'browser' THEN 5 WHEN 'browser_version' THEN 6 WHEN 'os' THEN 7
    WHEN 'device' THEN 8 WHEN 'country' THEN 9 END;
DROP TABLE dimension_daily;
ALTER TABLE dimension_daily_new RENAME TO dimension_daily;
CREATE INDEX dimension_daily_value ON dimension_daily (value_id, day, owner);

-- Per site and type: the sums of every item's latest daily row, on each day any changed.
CREATE TABLE site_daily (
    site         TEXT    NOT NULL,
    type         TEXT    NOT NULL,
    day          INTEGER NOT NULL, -- days since 1970-01-01, UTC
    unique_views INTEGER NOT NULL,
    total_views  INTEGER NOT NULL,
    PRIMARY KEY (site, type, day)
) WITHOUT ROWID;
INSERT INTO site_daily (site, type, day, unique_views, total_views)
SELECT site, type, CAST(julianday(date) - 2440587.5 AS INTEGER), SUM(unique_views_snapshot), SUM(total_views_snapshot)
FROM view_counts_daily GROUP BY site, type, date;

-- The days a snapshot was written for, so "the last snapshot" needs no scan of rows.
CREATE TABLE snapshot_days (day INTEGER PRIMARY KEY);
INSERT INTO snapshot_days (day) SELECT DISTINCT day FROM site_daily;

-- Per site and type: the sums of view_counts as of the last flush, and how many items.
CREATE TABLE site_totals (
    site         TEXT    NOT NULL,
    type         TEXT    NOT NULL,
    unique_views INTEGER NOT NULL DEFAULT 0,
    total_views  INTEGER NOT NULL DEFAULT 0,
    likes        INTEGER NOT NULL DEFAULT 0,
    items        INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (site, type)
) WITHOUT ROWID;
INSERT INTO site_totals (site, type, unique_views, total_views, likes, items)
SELECT site, type, SUM(unique_views), SUM(total_views), SUM(likes), COUNT(*) FROM view_counts_new GROUP BY site, type;

DROP TABLE view_totals_daily;
DROP TABLE view_counts_daily;
DROP TABLE view_counts;
ALTER TABLE view_counts_new RENAME TO view_counts;

-- One index per order of the item table and the top lists; each ends in the id (the rowid),
-- which breaks ties, so a page is read from the index, never sorted.
CREATE INDEX view_counts_site_total  ON view_counts (site, total_views DESC, unique_views DESC);
CREATE INDEX view_counts_site_unique ON view_counts (site, unique_views DESC, total_views DESC);
CREATE INDEX view_counts_site_synced ON view_counts (site, last_synced_at DESC, total_views DESC);
CREATE INDEX view_counts_site_likes  ON view_counts (site, likes DESC, total_views DESC);

-- Search of the item table: the trigrams of each item's type and slug, so a search reads the
-- items it finds rather than every item of the site. The flush adds each new item.
CREATE VIRTUAL TABLE view_counts_search USING fts5(text, content='', contentless_delete=1, tokenize='trigram');
INSERT INTO view_counts_search (rowid, text) SELECT id, type || ' ' || slug FROM view_counts;
CREATE TRIGGER view_counts_search_add AFTER INSERT ON view_counts BEGIN
    INSERT INTO view_counts_search (rowid, text) VALUES (new.id, new.type || ' ' || new.slug);
END;

CREATE VIEW view_counts_daily AS
SELECT v.site, v.type, v.slug, date(d.day * 86400, 'unixepoch') AS date,
       d.unique_views AS unique_views_snapshot, d.total_views AS total_views_snapshot
FROM item_daily d JOIN view_counts v ON v.id = d.item_id;
