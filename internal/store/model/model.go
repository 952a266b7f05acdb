// Package model declares, once, the method sets every write model and every read model offers.
// It imports no consumer, so the stores, their conformance tests and the consumers' own tests
// can all use it; internal/store checks each store and each consumer interface against it.
package model

import (
	"context"
	"time"

	"github.com/tallyhq/tally/internal/item"
	"github.com/tallyhq/tally/internal/report"
	"github.com/tallyhq/tally/internal/session"
)

// WriteModel is what every write model offers: what the beacon path records and reads live,
// what the jobs read and clear, imports, restores and the owner's sessions. internal/store
// checks at compile time that bbolt and Redis have every method and that every consumer's
// interface is part of it; the conformance tests (internal/store/storetest) hold each one to
// the same behaviour.
type WriteModel interface {
	Record(ctx context.Context, v item.View) error
	Counts(ctx context.Context, it item.Item) (item.Counts, error)
	Like(ctx context.Context, l item.Like) (item.LikeCounts, error)
	Likes(ctx context.Context, it item.Item, sid session.ID) (item.LikeCounts, error)
	Seed(ctx context.Context, seeds []item.Seed) ([]item.Seed, error)
	Dirty(ctx context.Context, after item.Item, limit int) ([]item.Change, error)
	Clean(ctx context.Context, flushed []item.Change) error
	DirtyLen(ctx context.Context) (int, error)
	MarkAllDirty(ctx context.Context) (int, error)
	ChangedOn(ctx context.Context, date time.Time, after item.Item, limit int) ([]item.Counted, error)
	FirstDay(ctx context.Context) (time.Time, bool, error)
	CreateSession(ctx context.Context, tokenHash, pw string, expires time.Time) error
	SessionValid(ctx context.Context, tokenHash, pw string) (bool, error)
	DeleteSession(ctx context.Context, tokenHash string) error
	SetLink(ctx context.Context, site, link string) error
	Links(ctx context.Context) (map[string]string, error)
	AddExcluded(ctx context.Context, rows []item.Excluded) error
	KeptSites(ctx context.Context, sites []string) (map[string]bool, error)
	Excluded(ctx context.Context, cursor string, limit int) ([]item.Excluded, string, error)
	PruneExcluded(ctx context.Context, day string) error
	DimsDirty(ctx context.Context, after item.DimChange, limit int) ([]item.DimChange, error)
	CleanDims(ctx context.Context, flushed []item.DimChange) error
	PruneDims(ctx context.Context) error
	Realtime(ctx context.Context, site string) (item.Live, error)
	Ping(ctx context.Context) error
	Close() error
}

// ReadModel is what every read model offers: what the jobs write (flush.Sink, snapshot.Sink)
// and the dashboard and /api/top read (ops.Reader, top.Lister), spelled out here, where no
// consumer is imported, because those packages' own tests use the stores. internal/store
// checks at compile time that SQLite and PostgreSQL have every method and that every
// consumer's interface is part of it.
type ReadModel interface {
	UpsertCounts(ctx context.Context, rows []item.Counted) error
	RecordFlush(ctx context.Context, items int) error
	UpsertDaily(ctx context.Context, date time.Time, rows []item.Counted) error
	MarkSnapshot(ctx context.Context, date time.Time) error
	LastSnapshot(ctx context.Context) (time.Time, bool, error)
	RecordSnapshot(ctx context.Context, items int) error
	Sites(ctx context.Context) ([]string, error)
	Site(ctx context.Context, site string) (report.Site, error)
	SnapshotTotals(ctx context.Context, site string, date time.Time) (report.TypeTotals, error)
	SiteSeries(ctx context.Context, site string, types []string, first, last time.Time) ([]report.DayPoint, error)
	ItemSeries(ctx context.Context, it item.Item, first, last time.Time) ([]report.DayPoint, error)
	Items(ctx context.Context, q report.ItemQuery) ([]report.ItemRow, int, error)
	Item(ctx context.Context, it item.Item) (report.ItemRow, bool, error)
	Top(ctx context.Context, f report.TopFilter) ([]report.TopItem, error)
	LastFlush(ctx context.Context) (time.Time, bool, error)
	UpsertExcluded(ctx context.Context, rows []item.Excluded) error
	Excluded(ctx context.Context, site string, first, last time.Time) (report.NotCounted, error)
	UpsertDims(ctx context.Context, rows []item.DimCount) error
	PruneDays(ctx context.Context, before time.Time) (int64, error)
	Breakdown(ctx context.Context, q report.DimQuery) ([]report.DimRow, error)
	DimDays(ctx context.Context, q report.DimQuery) ([]report.DimDay, error)
	DimItems(ctx context.Context, q report.OwnerQuery) ([]report.OwnerRow, error)
	Ping(ctx context.Context) error
	Close() error
}
