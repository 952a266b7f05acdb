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

type request struct {
	view   item.View
	result item.Recorded
	done   chan error
}

var requestPool = sync.Pool{New: func() any { return &request{done: make(chan error, 1)} }}

// Record adds one view and returns once it is durable on disk.
func (s *Store) Record(ctx context.Context, v item.View) (item.Recorded, error) {
	if !v.Item.Valid() {
		return item.Recorded{}, fmt.Errorf("record view: invalid item %q", v.Item)
	}
	req := requestPool.Get().(*request)
	req.view = v
	select {
	case s.reqs <- req:
	case <-s.quit:
		requestPool.Put(req)
		return item.Recorded{}, ErrClosed
	case <-ctx.Done():
		requestPool.Put(req)
		return item.Recorded{}, ctx.Err()
	}
	// Once handed over, the view will be committed or fail as a whole; waiting is bounded by
	// one transaction, so the context is not consulted again.
	err := <-req.done
	res := req.result
	requestPool.Put(req)
	return res, err
}

// sweepEvery is how often expired dedup keys leave memory and disk.
const sweepEvery = time.Minute

// run is the writer goroutine: it takes every view waiting at the moment, commits them in one
// transaction, answers them all, and repeats. While a commit is in flight, new views queue
// up, so batches grow with load without any added delay.
func (s *Store) run() {
	defer close(s.done)
	sweep := time.NewTicker(sweepEvery)
	defer sweep.Stop()
	batch := make([]*request, 0, s.maxBatch)
	for {
		select {
		case r := <-s.reqs:
			batch = append(batch[:0], r)
		gather:
			for len(batch) < s.maxBatch {
				select {
				case r := <-s.reqs:
					batch = append(batch, r)
				default:
					break gather
				}
			}
			err := s.commit(batch)
			for _, r := range batch {
				r.done <- err
			}
		case <-sweep.C:
			s.sweep()
		case reply := <-s.sweeps:
			s.sweep()
			reply <- len(s.dedup)
		case <-s.quit:
			return
		}
	}
}

type delta struct {
	key           []byte
	unique, total int64
}

// commit records a batch of views in one transaction. Dedup decisions are staged in pending and
// reach the in-memory index only after the commit succeeded, so a failed batch leaves no trace.
func (s *Store) commit(batch []*request) error {
	now := s.now()
	nowMs := now.UnixMilli()
	expMs := now.Add(s.window).UnixMilli()
	d := max(day(now), s.lastDay) // a clock that steps back must not reopen a finished day

	pending := make(map[uint64]int64, len(batch))
	deltas := make(map[string]*delta, len(batch))
	for _, r := range batch {
		key := r.view.Item.Key()
		h := dedupHash(r.view.Session, key)
		unique := !s.seen(h, nowMs, pending)
		if unique && !r.view.Previous.IsZero() {
			unique = !s.seen(dedupHash(r.view.Previous, key), nowMs, pending)
		}
		pending[h] = expMs
		r.result = item.Recorded{Unique: unique}

		dl := deltas[string(key)]
		if dl == nil {
			dl = &delta{key: key}
			deltas[string(key)] = dl
		}
		dl.total++
		if unique {
			dl.unique++
		}
	}

	err := s.db.Update(func(tx *bbolt.Tx) error {
		if err := applyDeltas(tx, deltas, d); err != nil {
			return err
		}
		dedup := tx.Bucket(bucketDedup)
		for h, exp := range pending {
			if err := dedup.Put(dedupKey(exp, h), nil); err != nil {
				return err
			}
		}
		if d != s.lastDay {
			if err := tx.Bucket(bucketMeta).Put(keyLastDay, binary.BigEndian.AppendUint32(nil, d)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record views: %w", err)
	}
	for h, exp := range pending {
		s.dedup[h] = exp
	}
	s.lastDay = d
	return nil
}

// applyDeltas adds the batch's increments to each item, writes the day's history entry and
// marks the item dirty, all under one new mark.
func applyDeltas(tx *bbolt.Tx, deltas map[string]*delta, d uint32) error {
	items, history, dirty := tx.Bucket(bucketItems), tx.Bucket(bucketHistory), tx.Bucket(bucketDirty)
	mark, err := dirty.NextSequence()
	if err != nil {
		return err
	}
	markBytes := binary.BigEndian.AppendUint64(nil, mark)
	for _, dl := range deltas {
		c := decodeCounts(items.Get(dl.key))
		c.Unique += dl.unique
		c.Total += dl.total
		v := encodeCounts(c)
		if err := items.Put(dl.key, v); err != nil {
			return err
		}
		if err := history.Put(historyKey(dl.key, d), v); err != nil {
			return err
		}
		if err := dirty.Put(dl.key, markBytes); err != nil {
			return err
		}
	}
	return nil
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
}

// Sweep forgets expired dedup windows now instead of at the next minute tick, and returns how
// many windows are still open. The writer goroutine owns the index, so the sweep runs there.
func (s *Store) Sweep(ctx context.Context) (open int, err error) {
	reply := make(chan int, 1)
	select {
	case s.sweeps <- reply:
	case <-s.quit:
		return 0, ErrClosed
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	return <-reply, nil
}
