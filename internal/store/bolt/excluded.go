package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"strings"

	"go.etcd.io/bbolt"

	"github.com/tallyhq/tally/internal/item"
)

// bucketExcluded holds what was not counted: "day\x00site\x00kind\x00name" → count (uint64 BE),
// cumulative per UTC day. Only days the flush has not yet seen end up here; PruneExcluded
// drops the rest, so the bucket stays a day or two of rows.
var bucketExcluded = []byte("excluded")

func excludedKey(e item.Excluded) []byte {
	return []byte(e.Day + "\x00" + e.Site + "\x00" + e.Kind + "\x00" + e.Name)
}

// AddExcluded adds rows' counts to the per-day totals, in one transaction.
func (s *Store) AddExcluded(ctx context.Context, rows []item.Excluded) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := s.db.Update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketExcluded)
		if err != nil {
			return err
		}
		for _, r := range rows {
			k := excludedKey(r)
			var n uint64
			if v := b.Get(k); len(v) == 8 {
				n = binary.BigEndian.Uint64(v)
			}
			if err := b.Put(k, binary.BigEndian.AppendUint64(nil, n+uint64(r.Count))); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("add exclusions: %w", err)
	}
	return nil
}

// Excluded returns up to limit per-day totals in key order after cursor ("": from the first),
// and the cursor of the next page ("" after the last): the flush copies them in bounded pages.
func (s *Store) Excluded(ctx context.Context, cursor string, limit int) ([]item.Excluded, string, error) {
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	var rows []item.Excluded
	next := ""
	err := s.db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketExcluded)
		if b == nil {
			return nil
		}
		var after []byte
		if cursor != "" {
			after = []byte(cursor)
		}
		n, err := pageAfter(b.Cursor(), after, limit, func(k, v []byte) error {
			parts := strings.SplitN(string(k), "\x00", 4)
			if len(parts) != 4 || len(v) != 8 {
				return fmt.Errorf("bad exclusion row %q", k)
			}
			rows = append(rows, item.Excluded{Day: parts[0], Site: parts[1], Kind: parts[2], Name: parts[3],
				Count: int64(binary.BigEndian.Uint64(v))})
			return nil
		})
		if n == limit && n > 0 {
			next = string(excludedKey(rows[n-1])) // perhaps more: the next page says
		}
		return err
	})
	if err != nil {
		return nil, "", fmt.Errorf("read exclusions: %w", err)
	}
	return rows, next, nil
}

// PruneExcluded drops the totals of days before day (YYYY-MM-DD), which can no longer change.
func (s *Store) PruneExcluded(ctx context.Context, day string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := s.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketExcluded)
		if b == nil {
			return nil
		}
		return deleteFront(b, func(k []byte) bool { return bytes.Compare(k, []byte(day)) < 0 })
	})
	if err != nil {
		return fmt.Errorf("prune exclusions: %w", err)
	}
	return nil
}

// KeptSites reports which of sites the store keeps: those with items.
func (s *Store) KeptSites(ctx context.Context, sites []string) (map[string]bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	kept := make(map[string]bool, len(sites))
	err := s.db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketSites)
		for _, site := range sites {
			if b.Get([]byte(site)) != nil {
				kept[site] = true
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read kept sites: %w", err)
	}
	return kept, nil
}
