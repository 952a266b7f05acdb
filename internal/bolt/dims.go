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

// Dimensions and visitors, written in the view's own transaction (see package item's Dim):
//
//	dims        day, owner key, 0, dim, value → views, visitors (8 bytes each), cumulative
//	            within the day; the owner is an item, or a site (its key with empty type and slug)
//	dims_dirty  day, owner key → the batch mark of the last change; the (owner, day) pairs the
//	            next flush copies
//	visitors    day, hash of (session, owner) → nothing: who was already counted as a visitor of
//	            the owner that day. Kept in memory for today, swept with the like counters
//
// Days before yesterday leave dims once a flush has copied them (PruneDims): the read model
// keeps the history.
var (
	bucketDims      = []byte("dims")
	bucketDimsDirty = []byte("dims_dirty")
	bucketVisitors  = []byte("visitors")
)

// dimState is the writer goroutine's memory of today's visitors and dimension values.
type dimState struct {
	day      uint32
	visitors map[uint64]struct{}
	values   map[string]struct{} // site, 0, dim, value
	perDim   map[string]int      // site, 0, dim → distinct values
}

func (d *dimState) reset(day uint32) {
	*d = dimState{day: day, visitors: map[uint64]struct{}{}, values: map[string]struct{}{}, perDim: map[string]int{}}
}

// dimBatch is one transaction's changes to dimension rows and visitors.
type dimBatch struct {
	rows     map[string]*[2]int64 // row key → views, visitors to add
	owners   map[string]struct{}  // day + owner key, to mark dirty
	visitors map[uint64]struct{}
	values   map[string]struct{}
	perDim   map[string]int
	live     []liveView
}

func newDimBatch() dimBatch {
	return dimBatch{rows: map[string]*[2]int64{}, owners: map[string]struct{}{},
		visitors: map[uint64]struct{}{}, values: map[string]struct{}{}, perDim: map[string]int{}}
}

// applyDims counts a recorded view's visitors and dimensions.
func (s *Store) applyDims(b *batch, v item.View) {
	itemKey := v.Item.Key()
	itemNew := s.newVisitor(b, dedupHash(v.Session, itemKey))
	b.dims.add(b.day, itemKey, item.DimTotal, "", itemNew)
	if !v.Page {
		return
	}
	siteKey := item.SiteOwner(v.Item.Site).Key()
	siteHash := dedupHash(v.Session, siteKey)
	siteNew := s.newVisitor(b, siteHash)
	b.dims.add(b.day, siteKey, item.DimTotal, "", siteNew)
	for d := item.DimTotal + 1; d < item.NumDims; d++ {
		value := v.Dims[d]
		if value == "" {
			continue
		}
		value = s.capValue(b, v.Item.Site, d, value)
		b.dims.add(b.day, siteKey, d, value, siteNew)
		if d != item.DimBrowserVersion { // the drilldown is a site's, not each item's
			b.dims.add(b.day, itemKey, d, value, itemNew)
		}
	}
	b.dims.live = append(b.dims.live, liveView{site: v.Item.Site, item: string(itemKey), visitor: siteHash})
}

func (db *dimBatch) add(day uint32, owner []byte, d item.Dim, value string, visitor bool) {
	k := dimKey(day, owner, d, value)
	r := db.rows[string(k)]
	if r == nil {
		r = new([2]int64)
		db.rows[string(k)] = r
	}
	r[0]++
	if visitor {
		r[1]++
	}
	db.owners[string(k[:4+len(owner)])] = struct{}{}
}

// newVisitor reports whether the pair hashed to h is new today, and remembers it.
func (s *Store) newVisitor(b *batch, h uint64) bool {
	if _, ok := s.dims.visitors[h]; ok {
		return false
	}
	if _, ok := b.dims.visitors[h]; ok {
		return false
	}
	if len(s.dims.visitors)+len(b.dims.visitors) >= s.maxDedup {
		s.refuse(RefusedVisitorsFull)
		return false
	}
	b.dims.visitors[h] = struct{}{}
	return true
}

// capValue returns value, or item.Other once the site has maxValues other values of d today.
func (s *Store) capValue(b *batch, site string, d item.Dim, value string) string {
	k := site + "\x00" + string(rune('0'+d)) + "\x00" + value
	if _, ok := s.dims.values[k]; ok {
		return value
	}
	if _, ok := b.dims.values[k]; ok {
		return value
	}
	n := site + "\x00" + string(rune('0'+d))
	if s.dims.perDim[n]+b.dims.perDim[n] >= s.maxValues {
		return item.Other
	}
	b.dims.values[k] = struct{}{}
	b.dims.perDim[n]++
	return value
}

// writeDims adds the batch's rows and marks their owners dirty, leaving out items and sites
// that a bound refused (they were not created, so they get no rows either).
func (b *batch) writeDims() error {
	rows, dirty, vis := b.tx.Bucket(bucketDims), b.tx.Bucket(bucketDimsDirty), b.tx.Bucket(bucketVisitors)
	items, sites := b.tx.Bucket(bucketItems), b.tx.Bucket(bucketSites)
	refused := map[string]bool{}
	isRefused := func(ownerKey []byte) bool {
		r, ok := refused[string(ownerKey)]
		if !ok {
			it, _ := item.ParseKey(ownerKey)
			if it.Type == "" {
				r = sites.Get([]byte(it.Site)) == nil
			} else {
				r = items.Get(ownerKey) == nil
			}
			refused[string(ownerKey)] = r
		}
		return r
	}
	for k, add := range b.dims.rows {
		_, owner, _, _, err := parseDimKey([]byte(k))
		if err != nil {
			return err
		}
		if isRefused(owner.Key()) {
			continue
		}
		cur := rows.Get([]byte(k))
		views, visitors := decodeDimCounts(cur)
		if err := rows.Put([]byte(k), encodeDimCounts(views+add[0], visitors+add[1])); err != nil {
			return err
		}
	}
	mark := binary.BigEndian.AppendUint64(nil, b.version)
	for k := range b.dims.owners {
		if isRefused([]byte(k[4:])) {
			continue
		}
		if err := dirty.Put([]byte(k), mark); err != nil {
			return err
		}
	}
	for h := range b.dims.visitors {
		if err := vis.Put(binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint32(nil, b.day), h), nil); err != nil {
			return err
		}
	}
	return nil
}

// keepDims moves a committed batch's visitors and values into memory.
func (s *Store) keepDims(b *batch) {
	for h := range b.dims.visitors {
		s.dims.visitors[h] = struct{}{}
	}
	for k := range b.dims.values {
		s.dims.values[k] = struct{}{}
	}
	for k, n := range b.dims.perDim {
		s.dims.perDim[k] += n
	}
	s.live.add(time.UnixMilli(b.nowMs), b.dims.live)
}

// loadDims reads today's visitors and each site's dimension values into memory at start.
func (s *Store) loadDims(tx *bbolt.Tx) error {
	today := max(day(s.now()), s.lastDay)
	s.dims.reset(today)
	prefix := binary.BigEndian.AppendUint32(nil, today)
	c := tx.Bucket(bucketVisitors).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		if len(k) == 12 {
			s.dims.visitors[binary.BigEndian.Uint64(k[4:])] = struct{}{}
		}
	}
	c = tx.Bucket(bucketDims).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		_, owner, d, value, err := parseDimKey(k)
		if err != nil {
			return err
		}
		if owner.Type != "" || d == item.DimTotal {
			continue
		}
		s.dims.values[owner.Site+"\x00"+string(rune('0'+d))+"\x00"+value] = struct{}{}
		s.dims.perDim[owner.Site+"\x00"+string(rune('0'+d))]++
	}
	return nil
}

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
	var out []item.DimChange
	err := s.db.View(func(tx *bbolt.Tx) error {
		rows := tx.Bucket(bucketDims).Cursor()
		c := tx.Bucket(bucketDimsDirty).Cursor()
		k, v := c.First()
		if after.Day != "" {
			start := ownerDayKey(after)
			k, v = c.Seek(start)
			if bytes.Equal(k, start) {
				k, v = c.Next()
			}
		}
		for ; k != nil && len(out) < limit; k, v = c.Next() {
			owner, err := item.ParseKey(k[4:])
			if err != nil {
				return err
			}
			ch := item.DimChange{Owner: owner, Day: dayString(binary.BigEndian.Uint32(k)), Mark: binary.BigEndian.Uint64(v)}
			prefix := append(bytes.Clone(k), 0)
			for rk, rv := rows.Seek(prefix); rk != nil && bytes.HasPrefix(rk, prefix); rk, rv = rows.Next() {
				views, visitors := decodeDimCounts(rv)
				ch.Rows = append(ch.Rows, item.DimCount{Owner: owner, Day: ch.Day, Dim: item.Dim(rk[len(prefix)]),
					Value: string(rk[len(prefix)+1:]), Views: views, Visitors: visitors})
			}
			out = append(out, ch)
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
		for _, ch := range flushed {
			k := ownerDayKey(ch)
			if v := dirty.Get(k); len(v) != 8 || binary.BigEndian.Uint64(v) != ch.Mark {
				continue
			}
			if err := dirty.Delete(k); err != nil {
				return err
			}
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
		c := tx.Bucket(bucketDims).Cursor()
		for k, _ := c.First(); k != nil && binary.BigEndian.Uint32(k) < end; k, _ = c.First() {
			if err := c.Delete(); err != nil {
				return err
			}
		}
		return ctx.Err()
	})
	if err != nil {
		return fmt.Errorf("prune dimensions: %w", err)
	}
	return nil
}

// DimsDirtyLen returns how many (owner, day) pairs wait for the next flush.
func (s *Store) DimsDirtyLen(ctx context.Context) (int, error) {
	var n int
	err := s.db.View(func(tx *bbolt.Tx) error {
		n = tx.Bucket(bucketDimsDirty).Stats().KeyN
		return nil
	})
	return n, err
}

func ownerDayKey(ch item.DimChange) []byte {
	t, _ := time.Parse(time.DateOnly, ch.Day)
	return append(binary.BigEndian.AppendUint32(nil, day(t)), ch.Owner.Key()...)
}

func dayString(d uint32) string {
	return session.FormatDay(time.Unix(int64(d)*86400, 0))
}
