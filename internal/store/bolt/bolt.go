// Package bolt is tally's embedded write model: live counts, dedup keys, per-day history and the
// dirty set, in one bbolt file.
//
// Every view goes through one writer goroutine that commits many concurrent views in a single
// transaction and fsync (group commit), so a view is durable before its beacon is answered and
// the cost of the fsync is shared. Dedup decisions are made from an in-memory index that the
// same goroutine owns; the index is rebuilt from the file at start-up.
//
// # Buckets
//
//	items    item key → a record: current cumulative counts, the UTC day of the last change, and
//	         the version (batch mark) of the last change
//	history  item key, 0, day → cumulative counts at the end of that day (UTC), written once per
//	         item and day, when the item is first changed on a later day; a snapshot of day D
//	         reads the record if its day is D or earlier, else the latest entry on or before D
//	changed  day, item key → nothing: the items whose counts changed on that UTC day, so a
//	         snapshot reads only them (written with the item's first change of the day; built
//	         from history and items when a file from before it is opened)
//	dirty    item key → nothing; present while the item changed since the last flush. Written
//	         only when an item becomes dirty, so a busy item costs no dirty-set write per batch
//	dedup    expiry (ms), batch mark → the 8-byte hashes of the (session, item) pairs whose window
//	         that batch opened or renewed; time-ordered, swept from the front
//	likes    day, hash of (session, item) → that visitor's likes of the item that day (0..cap);
//	         days before today are swept
//	like_budget  day, hash of (client block id, item) → likes that address block gave the item
//	         that day (2 bytes), for the per-address budget; days before today are swept
//	seeds    item key → the views and likes last imported for it, so a re-import moves the
//	         counts by the difference only
//	meta     bookkeeping: the last day written, so a clock going backwards cannot reopen a day
//	sites    site → how many items it has, for the bounds on sites and items (see bounds.go)
//	admin_sessions  hash of a dashboard session token → expiry and the fingerprint of the
//	         password it was opened under (see internal/admin); not counts, but the write model
//	         is the store tally keeps for good, so the read model stays rebuildable from it
//	links    site → how the site's beacons name its pages (see item.Link; links.go)
//	excluded day, site, kind, name → what was not counted that day, cumulative, until the flush
//	         has copied a day that can no longer change (see excluded.go)
//	dims_log, dims, dims_dirty, visitors  the day's dimension rows and visitors: a log of each
//	         batch's changes, folded into the rows about once a second; which (owner, day) pairs
//	         the next flush copies; the visitor hashes of the day (see dims.go)
//
// # Caveats
//
// bbolt holds an exclusive lock on its file: only one process can open the data directory.
// Open waits at most Options.LockTimeout and then reports ErrLocked.
package bolt

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"time"

	bbolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/tallyhq/tally/internal/item"
	"github.com/tallyhq/tally/internal/session"
)

var (
	bucketItems   = []byte("items")
	bucketHistory = []byte("history")
	bucketChanged = []byte("changed")
	bucketDirty   = []byte("dirty")
	bucketDedup   = []byte("dedup")
	bucketMeta    = []byte("meta")
	bucketLikes   = []byte("likes")
	bucketBudget  = []byte("like_budget")
	bucketSeeds   = []byte("seeds")
	bucketAdmin   = []byte("admin_sessions")
	bucketSites   = []byte("sites")
	keyLastDay    = []byte("last_day")
)

// ErrLocked means another process, usually a running tally server, holds the file.
var ErrLocked = errors.New("the data directory is in use by a running tally server")

// ErrClosed is returned by Record after Close.
var ErrClosed = errors.New("write model closed")

// Options configure a Store. Zero values mean the defaults.
type Options struct {
	Window      time.Duration    // dedup window; default 30 minutes
	LockTimeout time.Duration    // how long Open waits for the file lock; default 2 s
	Now         func() time.Time // clock; default time.Now
	Logger      *slog.Logger
	MaxBatch    int // views per transaction at most; default 1024
	// OnCommit, if set, hears about every write transaction: how many requests it carried and
	// how long it took, fsync included. It runs on the writer goroutine and must be quick.
	OnCommit func(requests int, d time.Duration)
	// SweepEvery is how often expired dedup windows leave memory and disk; default 1 minute.
	SweepEvery time.Duration
	// FoldEvery is how often logged dimension changes are folded into their rows (and always
	// before a flush reads them); default 1 second.
	FoldEvery time.Duration
	// OnSweep, if set, hears how many dedup windows are still open after each sweep. It runs on
	// the writer goroutine and must be quick.
	OnSweep func(open int)
	// Bounds on what traffic can make the store hold (see bounds.go); zero: the defaults.
	MaxSites, MaxItemsPerSite, MaxDedupWindows int
	// MaxDimValues bounds the distinct values of one dimension per site and day; past it, a
	// new value counts as item.Other. Zero: item.DefaultMaxDimValues.
	MaxDimValues int
	// OnRefused, if set, hears each refusal of a bound, by reason. It runs on the writer
	// goroutine and must be quick.
	OnRefused func(reason string)
}

// Store is the bbolt write model.
type Store struct {
	db     *bbolt.DB
	now    func() time.Time
	window time.Duration
	log    *slog.Logger

	reqs       chan *request
	onCommit   func(int, time.Duration)
	sweepEvery time.Duration
	foldEvery  time.Duration
	onSweep    func(int)
	quit       chan struct{}
	done       chan struct{}
	maxBatch   int

	maxSites, maxItems, maxDedup int
	maxValues                    int
	onRefused                    func(string)
	live                         live

	// Owned by the writer goroutine after Open returns.
	dedup       map[uint64]int64 // dedup hash → expiry, unix ms
	lastDay     uint32           // days since the Unix epoch
	siteItems   map[string]int   // site → items
	refusedOnce map[string]bool
	caps        map[uint64]int // views per (session, item) this minute, for View.Cap
	capMinute   int64
	dims        dimState
	unfolded    map[foldKey][2]int64 // logged row changes not yet in the rows (see dims.go)
	// unfoldedVisitors are the logged visitors' hashes not yet in the visitors bucket, by day.
	unfoldedVisitors map[uint32][]byte
	dimBatch         dimBatch // the batch's dimension changes, reused batch after batch
}

// Open opens or creates the write model at path and starts its writer.
func Open(path string, opts Options) (*Store, error) {
	if opts.Window <= 0 {
		opts.Window = 30 * time.Minute
	}
	if opts.LockTimeout <= 0 {
		opts.LockTimeout = 2 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 1024
	}
	if opts.SweepEvery <= 0 {
		opts.SweepEvery = time.Minute
	}
	if opts.FoldEvery <= 0 {
		opts.FoldEvery = time.Second
	}
	if opts.MaxSites <= 0 {
		opts.MaxSites = DefaultMaxSites
	}
	if opts.MaxItemsPerSite <= 0 {
		opts.MaxItemsPerSite = DefaultMaxItemsPerSite
	}
	if opts.MaxDedupWindows <= 0 {
		opts.MaxDedupWindows = DefaultMaxDedupWindows
	}
	if opts.MaxDimValues <= 0 {
		opts.MaxDimValues = item.DefaultMaxDimValues
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{
		Timeout: opts.LockTimeout,
		// The freelist is rebuilt by a scan after a crash instead of being written on every
		// commit: fewer pages per fsync on the hot path.
		NoFreelistSync: true,
		FreelistType:   bbolt.FreelistMapType,
		// Address space only: the file grows as needed, but early growth does not remap (and
		// stall every reader and the writer) each time it doubles.
		InitialMmapSize: 64 << 20,
	})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("open write model %s: %w", path, ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("open write model %s: %w", path, err)
	}
	s := &Store{
		db:         db,
		now:        opts.Now,
		window:     opts.Window,
		log:        opts.Logger,
		reqs:       make(chan *request),
		sweepEvery: opts.SweepEvery,
		foldEvery:  opts.FoldEvery,
		onSweep:    opts.OnSweep,
		quit:       make(chan struct{}),
		done:       make(chan struct{}),
		maxBatch:   opts.MaxBatch,
		onCommit:   opts.OnCommit,
		dedup:      make(map[uint64]int64),
		maxSites:   opts.MaxSites, maxItems: opts.MaxItemsPerSite, maxDedup: opts.MaxDedupWindows,
		maxValues:        opts.MaxDimValues,
		onRefused:        opts.OnRefused,
		siteItems:        map[string]int{},
		refusedOnce:      map[string]bool{},
		caps:             map[uint64]int{},
		unfolded:         map[foldKey][2]int64{},
		unfoldedVisitors: map[uint32][]byte{},
	}
	if err := s.init(); err != nil {
		db.Close()
		return nil, err
	}
	go s.run()
	return s, nil
}

// init creates the buckets and loads the live dedup keys and the last day into memory.
func (s *Store) init() error {
	nowMs := s.now().UnixMilli()
	return s.db.Update(func(tx *bbolt.Tx) error {
		if tx.Bucket(bucketChanged) == nil {
			if err := buildChanged(tx); err != nil {
				return fmt.Errorf("open write model: index the days items changed: %w", err)
			}
		}
		for _, name := range [][]byte{bucketItems, bucketHistory, bucketDirty, bucketDedup, bucketMeta, bucketLikes, bucketBudget, bucketSeeds, bucketAdmin, bucketSites, bucketDims, bucketDimsDirty, bucketVisitors, bucketDimsLog} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("open write model: create bucket %s: %w", name, err)
			}
		}
		if err := s.loadSites(tx); err != nil {
			return fmt.Errorf("open write model: count items per site: %w", err)
		}
		if v := tx.Bucket(bucketMeta).Get(keyLastDay); len(v) == 4 {
			s.lastDay = binary.BigEndian.Uint32(v)
		}
		if err := s.loadDims(tx); err != nil {
			return fmt.Errorf("open write model: read today's visitors: %w", err)
		}
		c := tx.Bucket(bucketDedup).Cursor()
		for k, v := c.Seek(dedupKey(nowMs+1, 0)); k != nil; k, v = c.Next() {
			exp, h := parseDedupKey(k)
			if len(v) == 0 { // one window per key, as files before batched keys kept them
				s.dedup[h] = max(s.dedup[h], exp)
				continue
			}
			for ; len(v) >= 8; v = v[8:] {
				h := binary.BigEndian.Uint64(v)
				s.dedup[h] = max(s.dedup[h], exp)
			}
		}
		return nil
	})
}

// Close stops the writer after the views already handed to it and closes the file.
// Callers stop sending views first (the HTTP server's Shutdown does).
func (s *Store) Close() error {
	select {
	case <-s.quit:
	default:
		close(s.quit)
	}
	<-s.done
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close write model: %w", err)
	}
	return nil
}

// Counts returns an item's live counts; zeros for an item never seen.
func (s *Store) Counts(ctx context.Context, it item.Item) (item.Counts, error) {
	var c item.Counts
	err := s.db.View(func(tx *bbolt.Tx) error {
		c = decodeCounts(tx.Bucket(bucketItems).Get(it.Key()))
		return nil
	})
	if err != nil {
		return item.Counts{}, fmt.Errorf("read counts: %w", err)
	}
	return c, ctx.Err()
}

// day returns t's UTC day as days since the Unix epoch, the form keys carry.
func day(t time.Time) uint32 {
	return uint32(session.DayNumber(t))
}

func encodeCounts(c item.Counts) []byte {
	b := make([]byte, 24)
	binary.BigEndian.PutUint64(b[0:], uint64(c.Unique))
	binary.BigEndian.PutUint64(b[8:], uint64(c.Total))
	binary.BigEndian.PutUint64(b[16:], uint64(c.Likes))
	return b
}

// itemRecord is an item's entry in the items bucket.
type itemRecord struct {
	counts  item.Counts
	day     uint32 // UTC day of the last change; 0 in files written before days were kept here
	version uint64 // mark of the batch that last changed it
}

const recordSize = 24 + 4 + 8

func encodeRecord(r itemRecord) []byte {
	b := make([]byte, recordSize)
	copy(b, encodeCounts(r.counts))
	binary.BigEndian.PutUint32(b[24:], r.day)
	binary.BigEndian.PutUint64(b[28:], r.version)
	return b
}

func decodeRecord(b []byte) itemRecord {
	r := itemRecord{counts: decodeCounts(b)}
	if len(b) >= recordSize {
		r.day = binary.BigEndian.Uint32(b[24:])
		r.version = binary.BigEndian.Uint64(b[28:])
	}
	return r
}

func decodeCounts(b []byte) item.Counts {
	if len(b) < 24 {
		return item.Counts{}
	}
	return item.Counts{
		Unique: int64(binary.BigEndian.Uint64(b[0:])),
		Total:  int64(binary.BigEndian.Uint64(b[8:])),
		Likes:  int64(binary.BigEndian.Uint64(b[16:])),
	}
}

// deleteFront deletes the bucket's keys from the first on while before holds. It reads the
// keys first, then deletes them: a cursor's First after each Delete walks the emptied pages
// again, which makes pruning a busy day's million keys quadratic.
func deleteFront(b *bbolt.Bucket, before func(k []byte) bool) error {
	var keys [][]byte
	c := b.Cursor()
	for k, _ := c.First(); k != nil && before(k); k, _ = c.Next() {
		keys = append(keys, k) // valid until the transaction ends
	}
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// historyKey is the item key, a 0 byte, and the day as 4 big-endian bytes. Slugs never contain
// a 0 byte, so an item's history keys are exactly those with its key + 0 as prefix and 5 more
// bytes, in day order.
func historyKey(itemKey []byte, d uint32) []byte {
	k := make([]byte, 0, len(itemKey)+5)
	k = append(k, itemKey...)
	k = append(k, 0)
	return binary.BigEndian.AppendUint32(k, d)
}

// dedupKey is an expiry and a second number: the batch mark (or, in older files, the hash).
func dedupKey(expMs int64, h uint64) []byte {
	k := make([]byte, 16)
	binary.BigEndian.PutUint64(k[0:], uint64(expMs))
	binary.BigEndian.PutUint64(k[8:], h)
	return k
}

func parseDedupKey(k []byte) (expMs int64, h uint64) {
	if len(k) != 16 {
		return 0, 0
	}
	return int64(binary.BigEndian.Uint64(k[0:])), binary.BigEndian.Uint64(k[8:])
}

// likeKey is the day as 4 big-endian bytes and the (session, item) hash.
func likeKey(d uint32, h uint64) []byte {
	k := make([]byte, 12)
	binary.BigEndian.PutUint32(k[0:], d)
	binary.BigEndian.PutUint64(k[4:], h)
	return k
}

func decodeLikeCount(b []byte) int {
	if len(b) != 1 {
		return 0
	}
	return int(b[0])
}

// Likes returns a visitor's likes of an item today and the item's total.
func (s *Store) Likes(ctx context.Context, it item.Item, sid session.ID) (item.LikeCounts, error) {
	var lc item.LikeCounts
	err := s.db.View(func(tx *bbolt.Tx) error {
		key := it.Key()
		lc.Total = decodeCounts(tx.Bucket(bucketItems).Get(key)).Likes
		lc.User = decodeLikeCount(tx.Bucket(bucketLikes).Get(likeKey(day(s.now()), dedupHash(sid, key))))
		return nil
	})
	if err != nil {
		return item.LikeCounts{}, fmt.Errorf("read likes: %w", err)
	}
	return lc, ctx.Err()
}

// dedupHash identifies a (session, item) pair in 8 bytes. It is a hash of a salted hash, kept
// only for the dedup window; a collision makes one view count as a repeat, nothing worse.
func dedupHash(sid session.ID, itemKey []byte) uint64 {
	const offset, prime = 14695981039346656037, 1099511628211 // FNV-1a 64
	h := uint64(offset)
	for _, b := range sid {
		h = (h ^ uint64(b)) * prime
	}
	for _, b := range itemKey {
		h = (h ^ uint64(b)) * prime
	}
	return h
}

// Check verifies the consistency of the bbolt file at path, opened read-only; for restores.
func Check(path string) error {
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		return fmt.Errorf("check write model %s: %w", path, err)
	}
	defer db.Close()
	return db.View(func(tx *bbolt.Tx) error {
		for err := range tx.Check() {
			return fmt.Errorf("check write model %s: %w", path, err)
		}
		if tx.Bucket(bucketItems) == nil {
			return fmt.Errorf("check write model %s: not a tally write model", path)
		}
		return nil
	})
}

// Ping reports whether the store is open, for /healthz: the file is local, so it answers as
// long as tally does.
func (s *Store) Ping(ctx context.Context) error {
	select {
	case <-s.quit:
		return ErrClosed
	default:
		return ctx.Err()
	}
}
