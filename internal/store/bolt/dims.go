package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/tallyhq/tally/internal/item"
	"github.com/tallyhq/tally/internal/session"
)

// Dimensions and visitors. A view's changes to them go into its own transaction as one log
// record per batch, and are folded into the rows about once a second (and before every flush):
// a batch of views adds to the same few rows, and folding a second's worth at once costs a
// fraction of updating the rows in every batch.
//
//	dims_log    day, batch mark → the visitors the batch counted (8-byte hashes) and its row
//	            changes (owner site, type and slug, dim, value, +views, +visitors), until the
//	            next fold applies them to visitors and dims and deletes the record
//	dims        day, owner key, 0, dim, value → views, visitors (8 bytes each), cumulative
//	            within the day; the owner is an item, or a site (its key with empty type and slug)
//	dims_dirty  day, owner key → the mark of the fold that last changed the pair's rows; the
//	            (owner, day) pairs the next flush copies
//	visitors    day, fold mark → the 8-byte hashes of the (session, owner) pairs counted as
//	            visitors of the day: one key per fold, not per view. Kept in memory for today,
//	            swept with the like counters
//
// Days before yesterday leave dims once a flush has copied them (PruneDims): the read model
// keeps the history.
var (
	bucketDimsLog   = []byte("dims_log")
	bucketDims      = []byte("dims")
	bucketDimsDirty = []byte("dims_dirty")
	bucketVisitors  = []byte("visitors")
)

// dimState is the writer goroutine's memory of today's visitors (of sites, and of client
// events) and of each site's dimension values.
type dimState struct {
	day      uint32
	visitors map[uint64]struct{}
	values   map[dimValue]struct{}
	counts   map[capCount]int // see caps.go
}

// dimValue is a value of one of a site's dimensions, or (page set) of one of its pages'.
type dimValue struct {
	site  string
	page  string // the item key of a page's value; "" for the site's
	dim   item.Dim
	value string
}

func (d *dimState) reset(day uint32) {
	*d = dimState{day: day, visitors: map[uint64]struct{}{}, values: map[dimValue]struct{}{}, counts: map[capCount]int{}}
}

// dimBatch is one transaction's changes to dimension rows and visitors.
type dimBatch struct {
	rows     map[rowKey]*[2]int64 // items' rows: views, visitors to add
	sites    map[string]*siteRows // sites' rows, which every page view adds to
	visitors map[uint64]struct{}
	values   map[dimValue]struct{}
	counts   map[capCount]int
	live     []liveView
}

// rowKey names a dimension row of the batch's day without building its key: the batch adds
// to the same few rows over and over.
type rowKey struct {
	owner item.Item // a site's own rows: Type and Slug empty
	dim   item.Dim
	value string
}

// siteRows are a site's rows in a batch, looked up by value alone: a page view adds to one row
// of each dimension, so this lookup is the most frequent one.
type siteRows struct {
	total [2]int64
	byDim [item.NumDims]map[string]*[2]int64
}

// reset empties the batch's changes for the next batch, keeping the maps' room: the writer
// reuses one dimBatch.
func (db *dimBatch) reset() {
	if db.rows == nil {
		*db = dimBatch{rows: map[rowKey]*[2]int64{}, sites: map[string]*siteRows{}, visitors: map[uint64]struct{}{},
			values: map[dimValue]struct{}{}, counts: map[capCount]int{}}
	}
	clear(db.rows)
	clear(db.sites)
	clear(db.visitors)
	clear(db.values)
	clear(db.counts)
	db.live = db.live[:0]
}

// applyDims counts a recorded view's visitors and dimensions. A page view adds to the site's
// rows of every dimension and to its item's rows of the sources (referrer and campaign: which
// posts a source sent readers to), where a visitor is a unique view, as in the item's own
// counts; a client event adds to its own totals, its visitors counted once a day, for the
// events panel. Devices and countries are the site's only: per item, they would cost a row per
// item and value on every view, for a question nobody asks of one post.
func (s *Store) applyDims(b *batch, v item.View, itemKey []byte, unique bool) {
	if !v.Page {
		// An event's visitors are the site's visitors of the day who did it, so a conversion
		// rate is a share: a session that viewed no page of the site today is not one yet.
		viewer := s.knownVisitor(b, siteHash(v.Session, v.Item.Site))
		b.dims.add(v.Item, item.DimTotal, "", viewer && s.newVisitor(b, dedupHash(v.Session, itemKey)))
		return
	}
	siteHash := siteHash(v.Session, v.Item.Site)
	siteNew := s.newSiteVisitor(b, v, siteHash)
	sr := b.dims.sites[v.Item.Site]
	if sr == nil {
		sr = new(siteRows)
		b.dims.sites[v.Item.Site] = sr
	}
	count(&sr.total, siteNew)
	for d := item.DimTotal + 1; d < item.NumDims; d++ {
		value := v.Dims[d]
		if value == "" {
			continue
		}
		m := sr.byDim[d]
		if m == nil {
			m = map[string]*[2]int64{}
			sr.byDim[d] = m
		}
		// A value the batch has counted already passed the cap: one map lookup on the hot path.
		c := m[value]
		if c == nil {
			value = s.capValue(b, v.Item.Site, d, value, v.Network)
			if c = m[value]; c == nil {
				c = new([2]int64)
				m[value] = c
			}
		}
		count(c, siteNew)
		if d.Source() {
			b.dims.add(v.Item, d, s.capPageValue(b, v.Item, itemKey, d, value), unique)
		}
	}
	b.dims.live = append(b.dims.live, liveView{site: v.Item.Site, item: v.Item, visitor: siteHash})
}

func (db *dimBatch) add(owner item.Item, d item.Dim, value string, visitor bool) {
	k := rowKey{owner, d, value}
	c := db.rows[k]
	if c == nil {
		c = new([2]int64)
		db.rows[k] = c
	}
	count(c, visitor)
}

// count adds a view, and a visitor if it is one, to a row's counter.
func count(c *[2]int64, visitor bool) {
	c[0]++
	if visitor {
		c[1]++
	}
}

// eachRow calls f with every row of the batch, but those of items and sites a bound kept from
// being created.
func (b *batch) eachRow(f func(k rowKey, c *[2]int64)) {
	refused := func(owner item.Item) bool { return len(b.refused) > 0 && b.refused[string(owner.Key())] }
	for k, c := range b.dims.rows {
		if !refused(k.owner) {
			f(k, c)
		}
	}
	for site, sr := range b.dims.sites {
		owner := item.SiteOwner(site)
		if refused(owner) {
			continue
		}
		f(rowKey{owner: owner}, &sr.total)
		for d, m := range sr.byDim {
			for value, c := range m {
				f(rowKey{owner, item.Dim(d), value}, c)
			}
		}
	}
}

// siteHash identifies a (session, site) pair as dedupHash does a (session, item) pair: the
// site's owner key is the site and two 0 bytes, which no item key is.
func siteHash(sid session.ID, site string) uint64 {
	const offset, prime = 14695981039346656037, 1099511628211 // FNV-1a 64, as dedupHash
	h := uint64(offset)
	for _, b := range sid {
		h = (h ^ uint64(b)) * prime
	}
	for i := 0; i < len(site); i++ {
		h = (h ^ uint64(site[i])) * prime
	}
	h *= prime // two 0 bytes: h ^ 0 == h
	return h * prime
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

// knownVisitor reports whether the pair hashed to h was counted as a visitor today.
func (s *Store) knownVisitor(b *batch, h uint64) bool {
	_, ok := s.dims.visitors[h]
	if !ok {
		_, ok = b.dims.visitors[h]
	}
	return ok
}

// writeDims logs the batch's row changes and visitors, leaving out items and sites that a
// bound refused (they were not created, so they get no rows either).
func (b *batch) writeDims() error {
	rec := binary.AppendUvarint(nil, uint64(len(b.dims.visitors)))
	for h := range b.dims.visitors {
		rec = binary.BigEndian.AppendUint64(rec, h)
	}
	rows := 0
	b.eachRow(func(k rowKey, add *[2]int64) {
		rows++
		for _, f := range [...]string{k.owner.Site, k.owner.Type, k.owner.Slug} {
			rec = binary.AppendUvarint(rec, uint64(len(f)))
			rec = append(rec, f...)
		}
		rec = append(rec, byte(k.dim))
		rec = binary.AppendUvarint(rec, uint64(len(k.value)))
		rec = append(rec, k.value...)
		rec = binary.AppendUvarint(rec, uint64(add[0]))
		rec = binary.AppendUvarint(rec, uint64(add[1]))
	})
	if rows == 0 {
		return nil // no page view and no event: nothing to log
	}
	key := binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint32(make([]byte, 0, 12), b.day), b.version)
	return b.tx.Bucket(bucketDimsLog).Put(key, rec)
}

// decodeLog adds a dims_log record of day d to rows, and returns its visitors' hashes.
func decodeLog(d uint32, rec []byte, rows map[foldKey][2]int64) (visitors []byte, err error) {
	bad := fmt.Errorf("malformed dimension log record of day %d", d)
	n, w := binary.Uvarint(rec)
	if w <= 0 || uint64(len(rec)-w)/8 < n {
		return nil, bad
	}
	visitors, rec = rec[w:w+8*int(n)], rec[w+8*int(n):]
	next := func() (uint64, bool) {
		n, w := binary.Uvarint(rec)
		if w <= 0 {
			return 0, false
		}
		rec = rec[w:]
		return n, true
	}
	field := func() (string, bool) {
		n, ok := next()
		if !ok || uint64(len(rec)) < n {
			return "", false
		}
		f := string(rec[:n])
		rec = rec[n:]
		return f, true
	}
	for len(rec) > 0 {
		site, ok1 := field()
		typ, ok2 := field()
		slug, ok3 := field()
		if !ok1 || !ok2 || !ok3 || len(rec) == 0 {
			return nil, bad
		}
		owner := item.Item{Site: site, Type: typ, Slug: slug}
		dim := item.Dim(rec[0])
		rec = rec[1:]
		value, ok := field()
		if !ok {
			return nil, bad
		}
		views, ok1 := next()
		visitors, ok2 := next()
		if !ok1 || !ok2 {
			return nil, bad
		}
		k := foldKey{d, rowKey{owner, dim, value}}
		c := rows[k]
		c[0], c[1] = c[0]+int64(views), c[1]+int64(visitors)
		rows[k] = c
	}
	return visitors, nil
}

// foldKey is a row of some day waiting to be folded.
type foldKey struct {
	day uint32
	rowKey
}

// fold applies the logged row changes to the rows, marks their (owner, day) pairs dirty and
// deletes the log, in one transaction. The writer goroutine runs it.
func (s *Store) fold() error {
	if len(s.unfolded) == 0 && len(s.unfoldedVisitors) == 0 {
		return nil
	}
	err := s.db.Update(func(tx *bbolt.Tx) error {
		mark, err := tx.Bucket(bucketDirty).NextSequence()
		if err != nil {
			return err
		}
		rows, dirty := tx.Bucket(bucketDims), tx.Bucket(bucketDimsDirty)
		owners := map[foldKey][]byte{}
		for k, add := range s.unfolded {
			ok := foldKey{day: k.day, rowKey: rowKey{owner: k.owner}}
			ownerKey := owners[ok]
			if ownerKey == nil {
				ownerKey = k.owner.Key()
				owners[ok] = ownerKey
			}
			key := dimKey(k.day, ownerKey, k.dim, k.value)
			views, visitors := decodeDimCounts(rows.Get(key))
			if err := rows.Put(key, encodeDimCounts(views+add[0], visitors+add[1])); err != nil {
				return err
			}
		}
		for d, hashes := range s.unfoldedVisitors {
			if err := tx.Bucket(bucketVisitors).Put(binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint32(nil, d), mark), hashes); err != nil {
				return err
			}
		}
		markValue := binary.BigEndian.AppendUint64(nil, mark)
		for ok, ownerKey := range owners {
			k := append(binary.BigEndian.AppendUint32(make([]byte, 0, 4+len(ownerKey)), ok.day), ownerKey...)
			if err := dirty.Put(k, markValue); err != nil {
				return err
			}
		}
		if err := tx.DeleteBucket(bucketDimsLog); err != nil {
			return err
		}
		_, err = tx.CreateBucket(bucketDimsLog)
		return err
	})
	if err != nil {
		return fmt.Errorf("fold dimension rows: %w", err)
	}
	clear(s.unfolded)
	clear(s.unfoldedVisitors)
	return nil
}

// FoldDims applies every logged row change to the rows, so that DimsDirty sees them all.
func (s *Store) FoldDims(ctx context.Context) error {
	req := &request{kind: kindFold, done: make(chan error, 1)}
	return s.submit(ctx, req)
}

// keepDims moves a committed batch's visitors and values into memory, before the next batch
// asks about them, and its page views into the live view. What a bound refused leaves
// nothing behind: a refused site gets no value sets, and no refused item a live view.
func (s *Store) keepDims(b *batch) {
	for h := range b.dims.visitors {
		s.dims.visitors[h] = struct{}{}
		s.unfoldedVisitors[b.day] = binary.BigEndian.AppendUint64(s.unfoldedVisitors[b.day], h)
	}
	refusedSite := func(site string) bool {
		return len(b.refused) > 0 && b.refused[string(item.SiteOwner(site).Key())]
	}
	for k := range b.dims.values {
		if !refusedSite(k.site) {
			s.dims.values[k] = struct{}{}
		}
	}
	for k, n := range b.dims.counts {
		if !refusedSite(k.site) {
			s.dims.counts[k] += n
		}
	}
	live := b.dims.live
	if len(b.refused) > 0 {
		live = slices.DeleteFunc(live, func(v liveView) bool { return b.refused[string(v.item.Key())] })
	}
	s.live.add(time.UnixMilli(b.nowMs), live) // before the answers: Realtime shows them
}

// keepRows adds a committed batch's row changes to those the next fold applies; the fold
// itself goes through the writer, after them.
func (s *Store) keepRows(b *batch) {
	b.eachRow(func(k rowKey, add *[2]int64) {
		fk := foldKey{b.day, k}
		c := s.unfolded[fk]
		c[0], c[1] = c[0]+add[0], c[1]+add[1]
		s.unfolded[fk] = c
	})
}

// loadDims reads today's visitors and each site's dimension values into memory at start.
func (s *Store) loadDims(tx *bbolt.Tx) error {
	today := max(day(s.now()), s.lastDay)
	s.dims.reset(today)
	prefix := binary.BigEndian.AppendUint32(nil, today)
	c := tx.Bucket(bucketVisitors).Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		for ; len(v) >= 8; v = v[8:] {
			s.dims.visitors[binary.BigEndian.Uint64(v)] = struct{}{}
		}
	}
	if err := tx.Bucket(bucketDimsLog).ForEach(func(k, v []byte) error {
		if len(k) != 12 {
			return fmt.Errorf("malformed dimension log key %q", k)
		}
		d := binary.BigEndian.Uint32(k)
		hashes, err := decodeLog(d, v, s.unfolded)
		s.unfoldedVisitors[d] = append(s.unfoldedVisitors[d], hashes...)
		for ; d == today && len(hashes) >= 8; hashes = hashes[8:] {
			s.dims.visitors[binary.BigEndian.Uint64(hashes)] = struct{}{}
		}
		return err
	}); err != nil {
		return err
	}
	known := func(owner item.Item, d item.Dim, value string) {
		if d != item.DimTotal {
			s.dims.known(owner, d, value)
		}
	}
	c = tx.Bucket(bucketDims).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		_, owner, d, value, err := parseDimKey(k)
		if err != nil {
			return err
		}
		known(owner, d, value)
	}
	for k := range s.unfolded {
		if k.day == today {
			known(k.owner, k.dim, k.value)
		}
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
	if after.Day == "" { // a flush begins: everything logged so far must be in the rows
		if err := s.FoldDims(ctx); err != nil {
			return nil, fmt.Errorf("read changed dimensions: %w", err)
		}
	}
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
			ch := item.DimChange{Owner: owner, Day: dayString(binary.BigEndian.Uint32(k)), Mark: decodeMark(v)}
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
			if decodeMark(dirty.Get(k)) != ch.Mark {
				continue // changed since it was read: the next flush copies it again
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
