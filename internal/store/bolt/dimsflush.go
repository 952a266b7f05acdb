package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/tallyhq/tally/internal/item"
	"github.com/tallyhq/tally/internal/session"
)

// dimKey is the day, the owner key, a 0 byte, the dimension and the value.
func dimKey(d uint32, owner []byte, dim item.Dim, value string) []byte {
	k := make([]byte, 0, 4+len(owner)+2+len(value))
	k = binary.BigEndian.AppendUint32(k, d)
	k = append(k, owner...)
	k = append(k, 0, byte(dim))
	return append(k, value...)
}

func parseDimKey(k []byte) (d uint32, owner item.Item, dim item.Dim, value string, err error) {
	if len(k) < 4 {
		return 0, item.Item{}, 0, "", fmt.Errorf("malformed dimension key %q", k)
	}
	d, rest := binary.BigEndian.Uint32(k), k[4:]
	// The owner key holds two 0 bytes; the third ends it (the dimension byte may be 0 too).
	end, zeros := -1, 0
	for i, c := range rest {
		if c == 0 {
			if zeros++; zeros == 3 {
				end = i
				break
			}
		}
	}
	if end < 0 || end+1 >= len(rest) {
		return 0, item.Item{}, 0, "", fmt.Errorf("malformed dimension key %q", k)
	}
	if owner, err = item.ParseKey(rest[:end]); err != nil {
		return 0, item.Item{}, 0, "", err
	}
	return d, owner, item.Dim(rest[end+1]), string(rest[end+2:]), nil
}

func encodeDimCounts(views, visitors int64) []byte {
	b := make([]byte, 16)
	binary.BigEndian.PutUint64(b, uint64(views))
	binary.BigEndian.PutUint64(b[8:], uint64(visitors))
	return b
}

func decodeDimCounts(b []byte) (views, visitors int64) {
	if len(b) != 16 {
		return 0, 0
	}
	return int64(binary.BigEndian.Uint64(b)), int64(binary.BigEndian.Uint64(b[8:]))
}

// DimsDirty returns up to limit (owner, day) pairs whose rows changed since the last flush,
// each with all its rows, in key order after after (zero: from the start).
func (s *Store) DimsDirty(ctx context.Context, after item.DimChange, limit int) ([]item.DimChange, error) {
	if after.Day == "" { // a flush begins: everything logged so far must be in the rows
		if err := s.FoldDims(ctx); err != nil {
			return nil, fmt.Errorf("read changed dimensions: %w", err)
		}
	}
	var out []item.DimChange
	err := s.db.View(func(tx *bbolt.Tx) error {
		rows := tx.Bucket(bucketDims).Cursor()
		var start []byte
		if after.Day != "" {
			start = ownerDayKey(after)
		}
		_, err := pageAfter(tx.Bucket(bucketDimsDirty).Cursor(), start, limit, func(k, v []byte) error {
			owner, err := item.ParseKey(k[4:])
			if err != nil {
				return err
			}
			ch := item.DimChange{Owner: owner, Day: dayString(binary.BigEndian.Uint32(k)), Mark: decodeMark(v)}
			prefix := append(bytes.Clone(k), 0)
			for rk, rv := rows.Seek(prefix); rk != nil && bytes.HasPrefix(rk, prefix); rk, rv = rows.Next() {
				views, visitors := decodeDimCounts(rv)
				ch.Rows = append(ch.Rows, item.DimCount{Owner: owner, Day: ch.Day, Dim: item.Dim(rk[len(prefix)]),
					Value: string(rk[len(prefix)+1:]), Views: views, Visitors: visitors})
			}
			out = append(out, ch)
			return nil
		})
		if err != nil {
			return err
		}
		return ctx.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("read changed dimensions: %w", err)
	}
	return out, nil
}

// CleanDims clears the marks of flushed (owner, day) pairs that no write changed since.
func (s *Store) CleanDims(ctx context.Context, flushed []item.DimChange) error {
	err := s.db.Update(func(tx *bbolt.Tx) error {
		dirty := tx.Bucket(bucketDimsDirty)
		err := clearUnchanged(dirty, len(flushed),
			func(i int) ([]byte, uint64) { return ownerDayKey(flushed[i]), flushed[i].Mark },
			func(key []byte) uint64 { return decodeMark(dirty.Get(key)) })
		if err != nil {
			return err
		}
		return ctx.Err()
	})
	if err != nil {
		return fmt.Errorf("clear changed dimensions: %w", err)
	}
	return nil
}

// PruneDims deletes the rows of days before yesterday, except a day with rows still to be
// flushed.
func (s *Store) PruneDims(ctx context.Context) error {
	end := day(s.now()) - 1
	err := s.db.Update(func(tx *bbolt.Tx) error {
		dirty := tx.Bucket(bucketDimsDirty).Cursor()
		if k, _ := dirty.First(); k != nil && binary.BigEndian.Uint32(k) < end {
			end = binary.BigEndian.Uint32(k) // a failed flush left that day; keep it
		}
		if err := deleteFront(tx.Bucket(bucketDims), func(k []byte) bool { return binary.BigEndian.Uint32(k) < end }); err != nil {
			return err
		}
		return ctx.Err()
	})
	if err != nil {
		return fmt.Errorf("prune dimensions: %w", err)
	}
	return nil
}

func decodeMark(v []byte) uint64 {
	if len(v) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

func ownerDayKey(ch item.DimChange) []byte {
	t, _ := time.Parse(time.DateOnly, ch.Day)
	return append(binary.BigEndian.AppendUint32(nil, day(t)), ch.Owner.Key()...)
}

func dayString(d uint32) string {
	return session.FormatDay(time.Unix(int64(d)*86400, 0))
}
