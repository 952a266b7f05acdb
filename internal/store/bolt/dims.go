package bolt

import (
	"encoding/binary"
	"slices"
	"time"

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
