-- Where readers came from and what they read with, per owner and UTC day: views and visitors
-- for each value of a dimension (dim: referrer, utm_source, utm_medium, utm_campaign, browser,
-- browser_version, os, device, country). The owner is an item, or a whole site (type and slug
-- ''). dim '' (value '') holds the owner's own views and visitors of the day. Visitors choose
-- the values, so the write model caps their number per site, dimension and day ('(other)').
-- Items keep their sources only (referrer and campaign), and client events their totals.
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
    -- One key serves every read: a dimension's values (site, dim), one value's days (…, value,
    -- date) and the posts it sent readers to (…, type, slug).
    PRIMARY KEY (site, dim, value, date, type, slug)
);
