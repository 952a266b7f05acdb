-- History grows with traffic, not with items × days: the same step as SQLite's 0008 (see
-- there), in PostgreSQL's types. Days are integers (days since 1970-01-01, UTC) in the new
-- tables; view_counts_daily stays, as a view over the stored days, for scripts that query it.

-- view_counts gains its id, in (site, type, slug) order for the rows already there.
ALTER TABLE view_counts ADD COLUMN id BIGINT;
CREATE SEQUENCE view_counts_id_seq OWNED BY view_counts.id;
UPDATE view_counts v SET id = o.n
FROM (SELECT site, type, slug, row_number() OVER (ORDER BY site, type, slug) AS n FROM view_counts) o
WHERE v.site = o.site AND v.type = o.type AND v.slug = o.slug;
-- An item snapshotted but never flushed keeps its history under counts from its last day.
INSERT INTO view_counts (site, type, slug, unique_views, total_views, last_synced_at, id)
SELECT site, type, slug, unique_views_snapshot, total_views_snapshot, 'epoch',
       (SELECT COUNT(*) FROM view_counts) + row_number() OVER (ORDER BY site, type, slug)
FROM (SELECT DISTINCT ON (site, type, slug) site, type, slug, unique_views_snapshot, total_views_snapshot
      FROM view_counts_daily d
      WHERE NOT EXISTS (SELECT 1 FROM view_counts v WHERE v.site = d.site AND v.type = d.type AND v.slug = d.slug)
      ORDER BY site, type, slug, date DESC) n;
SELECT setval('view_counts_id_seq', COALESCE((SELECT MAX(id) FROM view_counts), 0) + 1, false);
ALTER TABLE view_counts ALTER COLUMN id SET DEFAULT nextval('view_counts_id_seq');
ALTER TABLE view_counts ALTER COLUMN id SET NOT NULL;
ALTER TABLE view_counts ADD CONSTRAINT view_counts_id_key UNIQUE (id);

-- An item's cumulative counts at the end of each UTC day on which they changed.
CREATE TABLE item_daily (
    item_id      BIGINT  NOT NULL, -- view_counts.id
    day          INTEGER NOT NULL, -- days since 1970-01-01, UTC
    unique_views BIGINT  NOT NULL,
    total_views  BIGINT  NOT NULL,
    PRIMARY KEY (item_id, day)
);
INSERT INTO item_daily (item_id, day, unique_views, total_views)
SELECT v.id, d.date - DATE '1970-01-01', d.unique_views_snapshot, d.total_views_snapshot
FROM (SELECT site, type, slug, date, unique_views_snapshot, total_views_snapshot,
             LAG(unique_views_snapshot) OVER w AS pu, LAG(total_views_snapshot) OVER w AS pt
      FROM view_counts_daily WINDOW w AS (PARTITION BY site, type, slug ORDER BY date)) d
JOIN view_counts v ON v.site = d.site AND v.type = d.type AND v.slug = d.slug
WHERE d.pu IS NULL OR d.pu <> d.unique_views_snapshot OR d.pt <> d.total_views_snapshot;

-- Per site and type: the sums of every item's latest daily row, on each day any changed.
CREATE TABLE site_daily (
    site         TEXT COLLATE "C" NOT NULL,
    type         TEXT COLLATE "C" NOT NULL,
    day          INTEGER NOT NULL,
    unique_views BIGINT  NOT NULL,
    total_views  BIGINT  NOT NULL,
    PRIMARY KEY (site, type, day)
);
INSERT INTO site_daily (site, type, day, unique_views, total_views)
SELECT site, type, date - DATE '1970-01-01', SUM(unique_views_snapshot), SUM(total_views_snapshot)
FROM view_counts_daily GROUP BY site, type, date;

CREATE TABLE snapshot_days (day INTEGER PRIMARY KEY);
INSERT INTO snapshot_days (day) SELECT DISTINCT day FROM site_daily;

-- Dimension rows refer to their owner and their value by integer ids, as on SQLite (see there
-- for the numbers of the dimensions).
CREATE TABLE sites (id BIGSERIAL PRIMARY KEY, site TEXT COLLATE "C" NOT NULL UNIQUE);
INSERT INTO sites (site) SELECT DISTINCT site FROM dimension_daily ORDER BY site;
CREATE TABLE dim_values (
    id    BIGSERIAL PRIMARY KEY,
    site  TEXT COLLATE "C" NOT NULL,
    dim   SMALLINT NOT NULL,
    value TEXT COLLATE "C" NOT NULL,
    UNIQUE (site, dim, value)
);
INSERT INTO dim_values (site, dim, value)
SELECT DISTINCT site, CASE dim WHEN '' THEN 0 WHEN 'referrer' THEN 1 WHEN 'utm_source' THEN 2 WHEN 'utm_medium' THEN 3
    WHEN 'utm_campaign' THEN 4 WHEN 'browser' THEN 5 WHEN 'browser_version' THEN 6 WHEN 'os' THEN 7
    WHEN 'device' THEN 8 WHEN 'country' THEN 9 END, value
FROM dimension_daily ORDER BY 1, 2, 3;
INSERT INTO view_counts (site, type, slug, last_synced_at)
SELECT DISTINCT site, type, slug, TIMESTAMPTZ 'epoch' FROM dimension_daily d
WHERE type <> '' AND NOT EXISTS (SELECT 1 FROM view_counts v WHERE v.site = d.site AND v.type = d.type AND v.slug = d.slug)
ORDER BY site, type, slug;
CREATE TABLE dimension_daily_new (
    owner    BIGINT   NOT NULL,
    dim      SMALLINT NOT NULL,
    day      INTEGER  NOT NULL,
    value_id BIGINT   NOT NULL,
    views    BIGINT   NOT NULL DEFAULT 0,
    visitors BIGINT   NOT NULL DEFAULT 0,
    PRIMARY KEY (owner, dim, day, value_id)
);
INSERT INTO dimension_daily_new (owner, dim, day, value_id, views, visitors)
SELECT CASE WHEN d.type = '' THEN -s.id ELSE v.id END, dv.dim, d.date - DATE '1970-01-01', dv.id, d.views, d.visitors
FROM dimension_daily d
JOIN sites s ON s.site = d.site
LEFT JOIN view_counts v ON d.type <> '' AND v.site = d.site AND v.type = d.type AND v.slug = d.slug
JOIN dim_values dv ON dv.site = d.site AND dv.value = d.value AND dv.dim = CASE d.dim WHEN '' THEN 0 WHEN 'referrer' THEN 1 WHEN 'utm_source' THEN 2 WHEN 'utm_medium' THEN 3
    WHEN 'utm_campaign' THEN 4 WHEN 'browser' THEN 5 WHEN 'browser_version' THEN 6 WHEN 'os' THEN 7
    WHEN 'device' THEN 8 WHEN 'country' THEN 9 END;
DROP TABLE dimension_daily;
ALTER TABLE dimension_daily_new RENAME TO dimension_daily;
ALTER INDEX dimension_daily_new_pkey RENAME TO dimension_daily_pkey;
CREATE INDEX dimension_daily_value ON dimension_daily (value_id, day, owner);

-- Per site and type: the sums of view_counts as of the last flush, and how many items.
CREATE TABLE site_totals (
    site         TEXT COLLATE "C" NOT NULL,
    type         TEXT COLLATE "C" NOT NULL,
    unique_views BIGINT NOT NULL DEFAULT 0,
    total_views  BIGINT NOT NULL DEFAULT 0,
    likes        BIGINT NOT NULL DEFAULT 0,
    items        BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (site, type)
);
INSERT INTO site_totals (site, type, unique_views, total_views, likes, items)
SELECT site, type, SUM(unique_views), SUM(total_views), SUM(likes), COUNT(*) FROM view_counts GROUP BY site, type;

DROP TABLE view_totals_daily;
DROP TABLE view_counts_daily;

-- Ties go to the id, so each order is one index and a page is read from it.
DROP INDEX view_counts_site_total;
DROP INDEX view_counts_site_unique;
DROP INDEX view_counts_site_synced;
DROP INDEX view_counts_site_likes;
CREATE INDEX view_counts_site_total  ON view_counts (site, total_views DESC, unique_views DESC, id);
CREATE INDEX view_counts_site_unique ON view_counts (site, unique_views DESC, total_views DESC, id);
CREATE INDEX view_counts_site_synced ON view_counts (site, last_synced_at DESC, total_views DESC, id);
CREATE INDEX view_counts_site_likes  ON view_counts (site, likes DESC, total_views DESC, id);

CREATE VIEW view_counts_daily AS
SELECT v.site, v.type, v.slug, DATE '1970-01-01' + d.day AS date,
       d.unique_views AS unique_views_snapshot, d.total_views AS total_views_snapshot
FROM item_daily d JOIN view_counts v ON v.id = d.item_id;

-- Search of the item table by trigrams where the server has pg_trgm (contrib), so a search
-- reads the items it finds; without it, a search reads the site's items in order, and counts
-- at most 10,001 of them. The extension goes to public when it can, where every schema finds it.
DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;
EXCEPTION WHEN OTHERS THEN
    BEGIN
        CREATE EXTENSION IF NOT EXISTS pg_trgm;
    EXCEPTION WHEN OTHERS THEN
        RAISE NOTICE 'pg_trgm is not available (%): the item search reads items in order', SQLERRM;
    END;
END $$;
DO $$
DECLARE
    s text;
BEGIN
    SELECT n.nspname INTO s FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm';
    IF s IS NOT NULL THEN
        EXECUTE format('CREATE INDEX view_counts_search ON view_counts USING gin ((lower(type || %L || slug)) %I.gin_trgm_ops)', ' ', s);
    END IF;
END $$;
