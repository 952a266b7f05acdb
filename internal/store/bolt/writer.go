package bolt

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/tallyhq/tally/internal/item"
)

type kind uint8

const (
	kindView kind = iota
	kindLike
	kindSeed
	kindFold // apply the logged dimension changes (see dims.go)
)

// request is one unit of work for the writer goroutine.
type request struct {
	kind  kind
	view  item.View
	like  item.Like
	seeds []item.Seed

	capped     bool // the view was over its View.Cap
	likeResult item.LikeCounts
	seeded     []item.Seed // the seeds these replaced
	done       chan error
}

var requestPool = sync.Pool{New: func() any { return &request{done: make(chan error, 1)} }}

// submit hands req to the writer and waits until its batch is durable on disk or failed.
func (s *Store) submit(ctx context.Context, req *request) error {
	select {
	case s.reqs <- req:
	case <-s.quit:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	// Once handed over, the request will be committed or fail with its batch; waiting is
	// bounded by one transaction, so the context is not consulted again.
	return <-req.done
}

// Record adds one view and returns once it is durable on disk.
func (s *Store) Record(ctx context.Context, v item.View) error {
	if !v.Item.Valid() {
		return fmt.Errorf("record view: invalid item %q", v.Item)
	}
	req := requestPool.Get().(*request)
	defer requestPool.Put(req)
	*req = request{kind: kindView, view: v, done: req.done}
	if err := s.submit(ctx, req); err != nil {
		return err
	}
	if req.capped {
		return item.ErrCapped
	}
	return nil
}

// Like applies a visitor's like or unlike and returns the numbers after it, once durable.
// Presses over the visitor's cap for the day, and unlikes with none to take back, change
// nothing and return the same numbers.
func (s *Store) Like(ctx context.Context, l item.Like) (item.LikeCounts, error) {
	if !l.Item.Valid() {
		return item.LikeCounts{}, fmt.Errorf("like: invalid item %q", l.Item)
	}
	if l.Cap < 1 || l.Cap > 255 {
		return item.LikeCounts{}, fmt.Errorf("like: cap %d outside 1..255", l.Cap)
	}
	req := requestPool.Get().(*request)
	defer requestPool.Put(req)
	*req = request{kind: kindLike, like: l, done: req.done}
	if err := s.submit(ctx, req); err != nil {
		return item.LikeCounts{}, err
	}
	return req.likeResult, nil
}

// Seed applies imported starting counts and returns the seeds they replaced (zero for items
// never seeded), once durable. Views from a seed add to the total only: an import does not
// know how many of them were unique.
func (s *Store) Seed(ctx context.Context, seeds []item.Seed) ([]item.Seed, error) {
	for _, sd := range seeds {
		if !sd.Item.Valid() || sd.Views < item.Keep || sd.Likes < item.Keep {
			return nil, fmt.Errorf("seed: invalid seed %+v", sd)
		}
	}
	req := &request{kind: kindSeed, seeds: seeds, done: make(chan error, 1)}
	if err := s.submit(ctx, req); err != nil {
		return nil, err
	}
	return req.seeded, nil
}

// run is the writer goroutine: it takes every view waiting at the moment, commits them in one
// transaction, answers them all, and repeats. While a commit is in flight, new views queue
// up, so batches grow with load without any added delay.
func (s *Store) run() {
	defer close(s.done)
	sweep := time.NewTicker(s.sweepEvery)
	defer sweep.Stop()
	fold := time.NewTicker(s.foldEvery)
	defer fold.Stop()
	batch := make([]*request, 0, s.maxBatch)
	for {
		select {
		case r := <-s.reqs:
			if r.kind == kindFold {
				r.done <- s.fold()
				continue
			}
			batch = append(batch[:0], r)
			var foldReq *request
		gather:
			for len(batch) < s.maxBatch {
				select {
				case r := <-s.reqs:
					if r.kind == kindFold { // after the views already gathered
						foldReq = r
						break gather
					}
					batch = append(batch, r)
				default:
					break gather
				}
			}
			start := time.Now()
			b, err := s.commit(batch)
			if s.onCommit != nil {
				s.onCommit(len(batch), time.Since(start))
			}
			for _, r := range batch {
				r.done <- err
			}
			if err == nil {
				// After the answers: the clients' next views queue up meanwhile, and what
				// follows only feeds the next fold.
				s.keepRows(b)
			}
			if foldReq != nil {
				foldReq.done <- s.fold()
			}
		case <-fold.C:
			if err := s.fold(); err != nil {
				s.log.Error("fold dimension rows; the log keeps them for the next try", "err", err)
			}
		case <-sweep.C:
			s.sweep()
			if s.onSweep != nil {
				s.onSweep(len(s.dedup))
			}
		case <-s.quit:
			return
		}
	}
}

// delta collects one batch's changes to one item.
type delta struct {
	key                  []byte
	unique, total, likes int64
}

// batch is the state of one transaction while the writer applies its requests in order.
type batch struct {
	store    *Store
	tx       *bbolt.Tx
	day      uint32
	deltas   map[string]*delta
	likes    map[string]int // per-visitor like counts written in this batch
	budgets  map[string]int // per-address-block like counts written in this batch
	pending  map[uint64]int64
	nowMs    int64
	expMs    int64
	counts   map[string]item.Counts // each changed item's counts after the batch
	likeReqs []*request
	version  uint64         // this batch's mark: items it changes carry it until the next change
	newItems map[string]int // site → items this batch creates
	newSites int
	refused  map[string]bool // keys of the items (and sites) a bound kept this batch from creating
	dims     *dimBatch       // the Store's, reused
}

func (b *batch) delta(key []byte) *delta {
	dl := b.deltas[string(key)]
	if dl == nil {
		dl = &delta{key: key}
		b.deltas[string(key)] = dl
	}
	return dl
}

// commit applies a batch of requests in one transaction. Dedup decisions are staged and reach
// the in-memory index only after the commit succeeded, so a failed batch leaves no trace.
func (s *Store) commit(reqs []*request) (*batch, error) {
	now := s.now()
	b := &batch{
		store:    s,
		newItems: map[string]int{},
		day:      max(day(now), s.lastDay), // a clock that steps back must not reopen a finished day
		deltas:   make(map[string]*delta, len(reqs)),
		likes:    map[string]int{},
		budgets:  map[string]int{},
		pending:  make(map[uint64]int64, len(reqs)),
		nowMs:    now.UnixMilli(),
		expMs:    now.Add(s.window).UnixMilli(),
		dims:     &s.dimBatch,
		refused:  map[string]bool{},
	}
	b.dims.reset()
	if b.day != s.dims.day {
		s.dims.reset(b.day) // a new UTC day: everyone is a new visitor again
	}
	err := s.db.Update(func(tx *bbolt.Tx) error {
		b.tx = tx
		var err error
		if b.version, err = tx.Bucket(bucketDirty).NextSequence(); err != nil {
			return err
		}
		for _, r := range reqs {
			var err error
			switch r.kind {
			case kindView:
				s.applyView(b, r)
			case kindLike:
				err = b.applyLike(r)
			case kindSeed:
				err = b.applySeeds(r)
			}
			if err != nil {
				return err
			}
		}
		if err := b.writeDeltas(); err != nil {
			return err
		}
		if err := s.writeSites(b); err != nil {
			return err
		}
		if err := b.writeDims(); err != nil {
			return err
		}
		for _, r := range b.likeReqs {
			r.likeResult.Total = b.counts[string(r.like.Item.Key())].Likes
		}
		if err := b.writeLikes(); err != nil {
			return err
		}
		if err := b.writeDedup(); err != nil {
			return err
		}
		if b.day != s.lastDay {
			return tx.Bucket(bucketMeta).Put(keyLastDay, binary.BigEndian.AppendUint32(nil, b.day))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("record: %w", err)
	}
	for h, exp := range b.pending {
		s.dedup[h] = exp
	}
	for site, n := range b.newItems {
		s.siteItems[site] += n
	}
	s.keepDims(b)
	s.lastDay = b.day
	return b, nil
}

// applyView decides whether a view is unique from the open dedup windows, then counts it.
func (s *Store) applyView(b *batch, r *request) {
	key := r.view.Item.Key()
	h := dedupHash(r.view.Session, key)
	if r.view.Cap > 0 && s.overCap(h, b.nowMs, r.view.Cap) {
		r.capped = true
		return
	}
	unique := !s.seen(h, b.nowMs, b.pending)
	if unique && !r.view.Previous.IsZero() {
		unique = !s.seen(dedupHash(r.view.Previous, key), b.nowMs, b.pending)
	}
	if _, open := s.dedup[h]; open || len(s.dedup)+len(b.pending) < s.maxDedup {
		b.pending[h] = b.expMs
	} else {
		s.refuse(RefusedDedupFull)
	}
	dl := b.delta(key)
	dl.total++
	if unique {
		dl.unique++
	}
	s.applyDims(b, r.view, key, unique)
}

// applyLike moves the visitor's likes of the item today within [0, cap], and, with a budget,
// keeps the likes of the visitor's address block within it too.
func (b *batch) applyLike(r *request) error {
	key := r.like.Item.Key()
	lk := string(likeKey(b.day, dedupHash(r.like.Session, key)))
	cur, ok := b.likes[lk]
	if !ok {
		cur = decodeLikeCount(b.tx.Bucket(bucketLikes).Get([]byte(lk)))
	}
	left, bk, spent := r.like.Cap-cur, "", 0
	if r.like.Budget > 0 {
		bk = string(likeKey(b.day, dedupHash(r.like.Client, key)))
		if spent, ok = b.budgets[bk]; !ok {
			spent = decodeBudget(b.tx.Bucket(bucketBudget).Get([]byte(bk)))
		}
		left = min(left, r.like.Budget-spent)
	}
	change := 0
	switch {
	case r.like.Delta > 0:
		change = max(0, min(r.like.Delta, left))
	case r.like.Delta < 0 && cur > 0:
		change = -1
	}
	if bk != "" {
		b.budgets[bk] = max(0, spent+change)
	}
	b.likes[lk] = cur + change
	b.delta(key).likes += int64(change)
	r.likeResult = item.LikeCounts{User: cur + change}
	b.likeReqs = append(b.likeReqs, r)
	return nil
}

// applySeeds moves each item's counts by the difference between its new and its last seed.
func (b *batch) applySeeds(r *request) error {
	seeds := b.tx.Bucket(bucketSeeds)
	r.seeded = make([]item.Seed, len(r.seeds))
	for i, sd := range r.seeds {
		key := sd.Item.Key()
		old := decodeCounts(seeds.Get(key))
		r.seeded[i] = item.Seed{Item: sd.Item, Views: old.Total, Likes: old.Likes}
		if sd.Views == item.Keep {
			sd.Views = old.Total
		}
		if sd.Likes == item.Keep {
			sd.Likes = old.Likes
		}
		dl := b.delta(key)
		dl.total += sd.Views - old.Total
		dl.likes += sd.Likes - old.Likes
		if err := seeds.Put(key, encodeCounts(item.Counts{Total: sd.Views, Likes: sd.Likes})); err != nil {
			return err
		}
	}
	return nil
}

// writeDeltas adds the batch's changes to each item under one new version. The first change
// of an item on a new day first files the old day's final counts in the history and notes the
// item among the day's changed ones; an item that was not yet dirty is marked.
func (b *batch) writeDeltas() error {
	items, history, dirty := b.tx.Bucket(bucketItems), b.tx.Bucket(bucketHistory), b.tx.Bucket(bucketDirty)
	changed := b.tx.Bucket(bucketChanged)
	version := b.version
	b.counts = make(map[string]item.Counts, len(b.deltas))
	for k, dl := range b.deltas {
		old := items.Get(dl.key)
		r := decodeRecord(old)
		if dl.unique == 0 && dl.total == 0 && dl.likes == 0 || old == nil && !b.store.admitItem(b, dl.key) {
			b.counts[k] = r.counts // a like over the cap, or an item past a bound: nothing changed
			continue
		}
		if r.day != 0 && r.day < b.day {
			if err := history.Put(historyKey(dl.key, r.day), encodeCounts(r.counts)); err != nil {
				return err
			}
		}
		if r.day < b.day {
			if err := changed.Put(changedKey(b.day, dl.key), nil); err != nil {
				return err
			}
		}
		r.counts.Unique = max(0, r.counts.Unique+dl.unique)
		r.counts.Total = max(0, r.counts.Total+dl.total)
		r.counts.Likes = max(0, r.counts.Likes+dl.likes)
		r.day, r.version = b.day, version
		b.counts[k] = r.counts
		if err := items.Put(dl.key, encodeRecord(r)); err != nil {
			return err
		}
		if dirty.Get(dl.key) == nil {
			if err := dirty.Put(dl.key, nil); err != nil {
				return err
			}
		}
	}
	return nil
}

// writeDedup stores the batch's new dedup windows under one key: they all expire at the same
// moment (the commit's time plus the window), so one key holding their hashes costs one write
// per batch instead of one per view, and the sweep still finds them by expiry.
func (b *batch) writeDedup() error {
	if len(b.pending) == 0 {
		return nil
	}
	v := make([]byte, 0, 8*len(b.pending))
	for h := range b.pending {
		v = binary.BigEndian.AppendUint64(v, h)
	}
	return b.tx.Bucket(bucketDedup).Put(dedupKey(b.expMs, b.version), v)
}

// writeLikes stores the visitors' and address blocks' like counts of the batch.
func (b *batch) writeLikes() error {
	bucket := b.tx.Bucket(bucketLikes)
	for k, n := range b.likes {
		if err := bucket.Put([]byte(k), []byte{byte(n)}); err != nil {
			return err
		}
	}
	budgets := b.tx.Bucket(bucketBudget)
	for k, n := range b.budgets {
		if err := budgets.Put([]byte(k), binary.BigEndian.AppendUint16(nil, uint16(min(n, 65535)))); err != nil {
			return err
		}
	}
	return nil
}

func decodeBudget(b []byte) int {
	if len(b) != 2 {
		return 0
	}
	return int(binary.BigEndian.Uint16(b))
}

// seen reports whether the pair hashed to h has a dedup window still open at nowMs.
func (s *Store) seen(h uint64, nowMs int64, pending map[uint64]int64) bool {
	if exp, ok := pending[h]; ok && exp > nowMs {
		return true
	}
	exp, ok := s.dedup[h]
	return ok && exp > nowMs
}

// sweepBatch bounds one sweep transaction; what is left goes in the next sweep.
const sweepBatch = 50_000

// sweep forgets expired dedup windows in memory and deletes their keys on disk. Keys are
// ordered by expiry, so the expired ones are a prefix of the bucket.
func (s *Store) sweep() {
	nowMs := s.now().UnixMilli()
	for h, exp := range s.dedup {
		if exp <= nowMs {
			delete(s.dedup, h)
		}
	}
	n := 0
	err := s.db.Update(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketDedup).Cursor()
		for k, _ := c.First(); k != nil && n < sweepBatch; k, _ = c.First() {
			if exp, _ := parseDedupKey(k); exp > nowMs {
				break
			}
			if err := c.Delete(); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		s.log.Error("sweep dedup keys", "err", err)
		return
	}
	if n > 0 {
		s.log.Debug("swept dedup keys", "deleted", n, "live", len(s.dedup))
	}
	if err := s.sweepLikes(day(s.now())); err != nil {
		s.log.Error("sweep like counts", "err", err)
	}
}

// sweepLikes deletes visitors' and address blocks' like counts, and the visitors seen, of days
// before today: the cap, the budget and visitors start again each UTC day, so they are never
// read again. Keys start with their day, so these are a prefix.
func (s *Store) sweepLikes(today uint32) error {
	return s.db.Update(func(tx *bbolt.Tx) error {
		for _, name := range [][]byte{bucketLikes, bucketBudget, bucketVisitors} {
			if err := deleteFront(tx.Bucket(name), func(k []byte) bool { return binary.BigEndian.Uint32(k) < today }); err != nil {
				return err
			}
		}
		return nil
	})
}

// maxCapKeys bounds the per-minute view counters of View.Cap; past it, views are let through.
const maxCapKeys = 1_000_000

// overCap counts a view of the (session, item) pair hashed to h in the current minute and
// reports whether it is over cap. The writer goroutine owns the counters.
func (s *Store) overCap(h uint64, nowMs int64, cap int) bool {
	if m := nowMs / 60_000; m != s.capMinute {
		s.capMinute = m
		clear(s.caps)
	}
	n, ok := s.caps[h]
	if !ok && len(s.caps) >= maxCapKeys {
		return false
	}
	s.caps[h] = n + 1
	return n >= cap
}
