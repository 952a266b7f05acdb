-- Where readers came from and what they read with, per owner and UTC day: views and visitors
-- for each value of a dimension (dim: referrer, utm_source, utm_medium, utm_campaign, browser,
-- browser_version, os, device, country). The owner is an item, or a whole site (type and slug
-- ''). dim '' (value '') holds the owner's own views and visitors of the day. Visitors choose
-- the values, so the write model caps their number per site, dimension and day ('(other)').
-- Cumulative per day and overwritten by the flush, like view_counts.
CREATE TABLE dimension_daily (
    site     TEXT COLLATE "C" NOT NULL,
    type     TEXT COLLATE "C" NOT NULL,
    slug     TEXT COLLATE "C" NOT NULL,
    date     DATE             NOT NULL, -- UTC
    dim      TEXT COLLATE "C" NOT NULL,
    value    TEXT COLLATE "C" NOT NULL,
    views    BIGINT           NOT NULL DEFAULT 0,
    visitors BIGINT           NOT NULL DEFAULT 0,
    PRIMARY KEY (site, type, slug, dim, date, value)
);
-- "Which posts did this source send readers to?" reads by value across items.
CREATE INDEX dimension_daily_value ON dimension_daily (site, dim, value, date);
