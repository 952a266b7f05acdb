-- Likes flow to the read model with the flush, like views: cumulative, overwritten.
ALTER TABLE view_counts ADD COLUMN likes INTEGER NOT NULL DEFAULT 0;

CREATE INDEX view_counts_site_likes ON view_counts (site, likes DESC);
