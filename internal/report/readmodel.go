package report

import "time"

// What both read models (SQLite and PostgreSQL) share beyond their tables: the names and the
// retention of job_runs, and the order of top lists and of the item table over the columns of
// view_counts, which both dialects spell alike.

// Job names in job_runs.
const (
	JobFlush    = "flush"
	JobSnapshot = "snapshot"
)

// JobRunsKept is how long job_runs keeps a run.
const JobRunsKept = 30 * 24 * time.Hour

// TopOrder is the ORDER BY of each order of a top list (TopFilter.By; "" is ByViews).
var TopOrder = map[string]string{
	"":      "total_views DESC, unique_views DESC",
	ByViews: "total_views DESC, unique_views DESC",
	ByLikes: "likes DESC, total_views DESC",
}

// ItemOrder is the ORDER BY of each of Sorts, over view_counts as v.
var ItemOrder = map[string]string{
	"total":  "v.total_views DESC, v.unique_views DESC",
	"unique": "v.unique_views DESC, v.total_views DESC",
	"recent": "v.last_synced_at DESC, v.total_views DESC",
}
