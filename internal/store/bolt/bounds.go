package bolt

import (
	"bytes"
	"encoding/binary"

	bbolt "go.etcd.io/bbolt"

	"github.com/tallyhq/tally/internal/item"
)

// What visitors choose (paths, and with --sites empty, hosts) must not make the write model grow
// with traffic: past MaxSites sites or MaxItemsPerSite items in a site, nothing new is created
// (existing items go on counting), and the in-memory dedup index holds at most MaxDedupWindows
// windows (and the index of the day's visitors as many visitors). Each refusal is counted through Options.OnRefused and logged once per kind.

// Defaults of the bounds.
const (
	DefaultMaxSites        = item.DefaultMaxSites
	DefaultMaxItemsPerSite = item.DefaultMaxItemsPerSite
	// DefaultMaxDedupWindows is about 100 MB of index: half an hour of 1,000 new visitors a
	// second, each reading a page.
	DefaultMaxDedupWindows = 2_000_000
)

// Reasons given to Options.OnRefused.
const (
	RefusedSite      = item.RefusedSite // a new site past MaxSites
	RefusedItem      = item.RefusedItem // a new item past MaxItemsPerSite
	RefusedDedupFull = "dedup_full"     // a view whose window could not be kept: counted as unique
	// RefusedVisitorsFull is a view whose visitor could not be remembered for the day: not
	// counted as a new visitor (the view itself counts).
	RefusedVisitorsFull = "visitors_full"
)

// loadSites reads each site's item count into memory, counting the items bucket once when the
// file predates the sites bucket.
func (s *Store) loadSites(tx *bbolt.Tx) error {
	b := tx.Bucket(bucketSites)
	if b.Stats().KeyN == 0 {
		counts := map[string]uint64{}
		if err := tx.Bucket(bucketItems).ForEach(func(k, _ []byte) error {
			counts[string(siteOf(k))]++
			return nil
		}); err != nil {
			return err
		}
		for site, n := range counts {
			if err := b.Put([]byte(site), binary.BigEndian.AppendUint64(nil, n)); err != nil {
				return err
			}
		}
	}
	return b.ForEach(func(k, v []byte) error {
		s.siteItems[string(k)] = int(binary.BigEndian.Uint64(v))
		return nil
	})
}

// siteOf returns the site part of an item key.
func siteOf(key []byte) []byte {
	site, _, _ := bytes.Cut(key, []byte{0})
	return site
}

// admitItem reports whether a new item may be created in this batch, and stages it.
func (s *Store) admitItem(b *batch, key []byte) bool {
	site := string(siteOf(key))
	n, known := s.siteItems[site]
	n += b.newItems[site]
	_, staged := b.newItems[site]
	switch {
	case !known && !staged && len(s.siteItems)+b.newSites >= s.maxSites:
		s.refuse(RefusedSite)
		b.refused[string(key)], b.refused[string(item.SiteOwner(site).Key())] = true, true
		return false
	case n >= s.maxItems:
		s.refuse(RefusedItem)
		b.refused[string(key)] = true
		return false
	}
	if !known && !staged {
		b.newSites++
	}
	b.newItems[site]++
	return true
}

// writeSites stores the batch's new item counts per site.
func (s *Store) writeSites(b *batch) error {
	bucket := b.tx.Bucket(bucketSites)
	for site, n := range b.newItems {
		if err := bucket.Put([]byte(site), binary.BigEndian.AppendUint64(nil, uint64(s.siteItems[site]+n))); err != nil {
			return err
		}
	}
	return nil
}

// refuse counts a refusal, and logs its kind the first time.
func (s *Store) refuse(reason string) {
	if s.onRefused != nil {
		s.onRefused(reason)
	}
	if !s.refusedOnce[reason] {
		s.refusedOnce[reason] = true
		s.log.Warn("write model bound reached: nothing new of this kind is kept (logged once)", "bound", reason,
			"max_sites", s.maxSites, "max_items_per_site", s.maxItems, "max_dedup_windows", s.maxDedup)
	}
}
