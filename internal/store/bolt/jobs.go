package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/tallyhq/tally/internal/item"
)

// Dirty returns up to limit items changed since they were last flushed, in key order, starting
// after the item after (the zero Item starts at the beginning). Counts and marks are read in one
// transaction, so they agree with each other.
func (s *Store) Dirty(ctx context.Context, after item.Item, limit int) ([]item.Change, error) {
	var out []item.Change
	err := s.db.View(func(tx *bbolt.Tx) error {
		items := tx.Bucket(bucketItems)
		var start []byte
		if after != (item.Item{}) {
			start = after.Key()
		}
		_, err := pageAfter(tx.Bucket(bucketDirty).Cursor(), start, limit, func(k, _ []byte) error {
			it, err := item.ParseKey(k)
			if err != nil {
				return err
			}
			r := decodeRecord(items.Get(k))
			out = append(out, item.Change{Counted: item.Counted{Item: it, Counts: r.counts}, Mark: r.version})
			return nil
		})
		if err != nil {
			return err
		}
		return ctx.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("read dirty items: %w", err)
	}
	return out, nil
}

// Clean clears the dirty marks of flushed items, except where a newer write has changed an
// item since it was read (its version moved on): that item stays dirty for the next flush.
func (s *Store) Clean(ctx context.Context, flushed []item.Change) error {
	err := s.db.Update(func(tx *bbolt.Tx) error {
		items := tx.Bucket(bucketItems)
		err := clearUnchanged(tx.Bucket(bucketDirty), len(flushed),
			func(i int) ([]byte, uint64) { return flushed[i].Item.Key(), flushed[i].Mark },
			func(key []byte) uint64 { return decodeRecord(items.Get(key)).version })
		if err != nil {
			return err
		}
		return ctx.Err()
	})
	if err != nil {
		return fmt.Errorf("clear dirty marks: %w", err)
	}
	return nil
}

// DirtyLen returns how many items wait for the next flush.
func (s *Store) DirtyLen(ctx context.Context) (int, error) {
	var n int
	err := s.db.View(func(tx *bbolt.Tx) error {
		n = tx.Bucket(bucketDirty).Stats().KeyN
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("count dirty items: %w", err)
	}
	return n, ctx.Err()
}

// ChangedOn returns up to limit items, in key order after the item after, whose counts changed
// on the UTC day of date, with their cumulative counts at the end of that day: what a sparse
// snapshot of the day writes. For today, these are the items changed so far.
func (s *Store) ChangedOn(ctx context.Context, date time.Time, after item.Item, limit int) ([]item.Counted, error) {
	d := day(date)
	prefix := binary.BigEndian.AppendUint32(nil, d)
	var out []item.Counted
	err := s.db.View(func(tx *bbolt.Tx) error {
		hc := tx.Bucket(bucketHistory).Cursor()
		items := tx.Bucket(bucketItems)
		start := prefix
		if after != (item.Item{}) {
			start = changedKey(d, after.Key())
		}
		c := tx.Bucket(bucketChanged).Cursor()
		for k, _ := c.Seek(start); k != nil && len(out) < limit && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			if bytes.Equal(k, start) && after != (item.Item{}) {
				continue
			}
			key := k[4:]
			counts, ok := countsOn(decodeRecord(items.Get(key)), hc, key, d)
			if !ok {
				continue
			}
			it, err := item.ParseKey(key)
			if err != nil {
				return err
			}
			out = append(out, item.Counted{Item: it, Counts: counts})
		}
		return ctx.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("read items changed on %s: %w", date.UTC().Format(time.DateOnly), err)
	}
	return out, nil
}

// changedKey is the day as 4 big-endian bytes and the item key: a day's changed items are a
// prefix, in key order.
func changedKey(d uint32, itemKey []byte) []byte {
	return append(binary.BigEndian.AppendUint32(make([]byte, 0, 4+len(itemKey)), d), itemKey...)
}

// buildChanged creates the changed bucket of a file written before it existed: every day in
// an item's history, and the day of its last change, is a day it changed.
func buildChanged(tx *bbolt.Tx) error {
	changed, err := tx.CreateBucket(bucketChanged)
	if err != nil {
		return err
	}
	if h := tx.Bucket(bucketHistory); h != nil {
		err := h.ForEach(func(k, _ []byte) error {
			if len(k) < 5 {
				return nil
			}
			return changed.Put(changedKey(binary.BigEndian.Uint32(k[len(k)-4:]), k[:len(k)-5]), nil)
		})
		if err != nil {
			return err
		}
	}
	if items := tx.Bucket(bucketItems); items != nil {
		return items.ForEach(func(k, v []byte) error {
			if d := decodeRecord(v).day; d != 0 {
				return changed.Put(changedKey(d, k), nil)
			}
			return nil
		})
	}
	return nil
}

// countsOn returns an item's counts at the end of day d: the record's own if its last change
// was on d or before, else the history entry of the latest day on or before d.
func countsOn(r itemRecord, hc *bbolt.Cursor, itemKey []byte, d uint32) (item.Counts, bool) {
	if r.day != 0 && r.day <= d {
		return r.counts, true
	}
	v, ok := latestOnOrBefore(hc, itemKey, d)
	if !ok {
		return item.Counts{}, false
	}
	return decodeCounts(v), true
}

// latestOnOrBefore finds the history entry of itemKey with the greatest day ≤ d.
func latestOnOrBefore(hc *bbolt.Cursor, itemKey []byte, d uint32) ([]byte, bool) {
	prefix := append(append([]byte{}, itemKey...), 0)
	var k, v []byte
	if k, _ = hc.Seek(historyKey(itemKey, d+1)); k == nil {
		k, v = hc.Last()
	} else {
		k, v = hc.Prev()
	}
	if k == nil || len(k) != len(prefix)+4 || !bytes.HasPrefix(k, prefix) {
		return nil, false
	}
	return v, true
}

// BackupTo writes a consistent copy of the write model to path, while writes go on.
func (s *Store) BackupTo(ctx context.Context, path string) error {
	err := s.db.View(func(tx *bbolt.Tx) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		return tx.CopyFile(path, 0o600)
	})
	if err != nil {
		return fmt.Errorf("back up write model: %w", err)
	}
	return nil
}

// MarkAllDirty marks every item for the next flush, so that after a restore the read model
// is rewritten from the write model whatever moment each was copied at.
func (s *Store) MarkAllDirty(ctx context.Context) (int, error) {
	n := 0
	err := s.db.Update(func(tx *bbolt.Tx) error {
		dirty := tx.Bucket(bucketDirty)
		if err := tx.Bucket(bucketItems).ForEach(func(k, _ []byte) error {
			n++
			return dirty.Put(append([]byte(nil), k...), nil)
		}); err != nil {
			return err
		}
		// The dimension rows still held (today's and yesterday's) go to the new read model too;
		// a changed mark makes a flush already reading them copy them again.
		dimsDirty := tx.Bucket(bucketDimsDirty)
		mark, err := tx.Bucket(bucketDirty).NextSequence()
		if err != nil {
			return err
		}
		return tx.Bucket(bucketDims).ForEach(func(k, _ []byte) error {
			d, owner, _, _, err := parseDimKey(k)
			if err != nil {
				return err
			}
			pair := append(binary.BigEndian.AppendUint32(nil, d), owner.Key()...)
			return dimsDirty.Put(pair, binary.BigEndian.AppendUint64(nil, mark))
		})
	})
	if err != nil {
		return 0, fmt.Errorf("mark all items dirty: %w", err)
	}
	return n, ctx.Err()
}

// FirstDay returns the earliest UTC day with counts in the write model: the first day any item
// changed; ok is false when nothing was ever counted. A rebuilt read model snapshots every day
// from there.
func (s *Store) FirstDay(ctx context.Context) (first time.Time, ok bool, err error) {
	var d uint32
	err = s.db.View(func(tx *bbolt.Tx) error {
		if k, _ := tx.Bucket(bucketChanged).Cursor().First(); len(k) >= 4 {
			d = binary.BigEndian.Uint32(k)
		}
		return nil
	})
	if err != nil {
		return time.Time{}, false, fmt.Errorf("find the first day: %w", err)
	}
	if d == 0 {
		return time.Time{}, false, ctx.Err()
	}
	return time.Unix(int64(d)*86400, 0).UTC(), true, ctx.Err()
}
