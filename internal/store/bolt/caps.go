package bolt

import (
	"github.com/tallyhq/tally/internal/item"
	"github.com/tallyhq/tally/internal/session"
)

// The caps on a site's dimension values of a day, kept by the writer goroutine in memory (today
// only) and rebuilt from the rows at start: at most maxValues values of a dimension per site,
// at most maxValues (page, value) rows of a source dimension per site, at most
// item.MaxNewValuesPerNetwork new values per client network, and at most item.MaxHostsPerDomain
// referrer hosts per registrable domain. A network's shares start over when the store does.

// capCount names one counter of the caps: how many values (kind capValues), page rows
// (capPages), new values of a network (capNetwork, name the network) or referrer hosts of a
// domain (capDomain, name the domain) a site has today.
type capCount struct {
	site string
	dim  item.Dim
	kind byte
	name string
}

const (
	capValues byte = iota
	capPages
	capNetwork
	capDomain
	capVisitors // visitors a network added to the site (View.VisitorCap)
)

// newSiteVisitor reports whether page view v's session (hashed with its site to h) is a new
// visitor of the site today, within its network's visitors (View.VisitorCap). A session past
// that bound is not remembered, so it is not one of the site's visitors for its events either.
func (s *Store) newSiteVisitor(b *batch, v item.View, h uint64) bool {
	if v.VisitorCap <= 0 || v.Network.IsZero() {
		return s.newVisitor(b, h)
	}
	if s.knownVisitor(b, h) {
		return false
	}
	k := capCount{site: v.Item.Site, kind: capVisitors, name: networkName(v.Network)}
	if s.capCounted(b, k) >= v.VisitorCap || !s.newVisitor(b, h) {
		return false
	}
	b.dims.counts[k]++
	return true
}

// capCounted returns the counter k of the day, the batch's included.
func (s *Store) capCounted(b *batch, k capCount) int { return s.dims.counts[k] + b.dims.counts[k] }

// hasValue reports whether the day, or the batch, has the value k.
func (s *Store) hasValue(b *batch, k dimValue) bool {
	if _, ok := s.dims.values[k]; ok {
		return true
	}
	_, ok := b.dims.values[k]
	return ok
}

// capValue returns the value a page view adds to the site's rows of d: value if the site has
// it today or may take it; the registrable domain for a referrer host past that domain's share;
// item.Other past the network's share or the cap.
func (s *Store) capValue(b *batch, site string, d item.Dim, value string, network session.ID) string {
	if s.hasValue(b, dimValue{site: site, dim: d, value: value}) {
		return value
	}
	domain := ""
	if d == item.DimReferrer && value != item.Direct {
		if domain = item.RegistrableDomain(value); domain == value {
			domain = ""
		} else if s.capCounted(b, capCount{site, d, capDomain, domain}) >= item.MaxHostsPerDomain {
			value, domain = domain, ""
			if s.hasValue(b, dimValue{site: site, dim: d, value: value}) {
				return value
			}
		}
	}
	net := capCount{site, d, capNetwork, networkName(network)}
	if !network.IsZero() && s.capCounted(b, net) >= item.MaxNewValuesPerNetwork ||
		s.capCounted(b, capCount{site: site, dim: d, kind: capValues}) >= s.maxValues {
		return item.Other
	}
	b.dims.values[dimValue{site: site, dim: d, value: value}] = struct{}{}
	b.dims.counts[capCount{site: site, dim: d, kind: capValues}]++
	if !network.IsZero() {
		b.dims.counts[net]++
	}
	if domain != "" {
		b.dims.counts[capCount{site, d, capDomain, domain}]++
	}
	return value
}

// capPageValue returns the value a page view adds to its page's rows of source dimension d
// (value as capValue returned it): past maxValues page rows of the site's d today, a page's
// further values count as its item.Other.
func (s *Store) capPageValue(b *batch, page item.Item, pageKey []byte, d item.Dim, value string) string {
	if _, ok := b.dims.rows[rowKey{page, d, value}]; ok { // the batch has the row: it passed
		return value
	}
	k := dimValue{site: page.Site, page: string(pageKey), dim: d, value: value}
	if s.hasValue(b, k) {
		return value
	}
	pages := capCount{site: page.Site, dim: d, kind: capPages}
	if s.capCounted(b, pages) >= s.maxValues {
		return item.Other
	}
	b.dims.values[k] = struct{}{}
	b.dims.counts[pages]++
	return value
}

// known notes, at start, a value the day's rows already hold.
func (d *dimState) known(owner item.Item, dim item.Dim, value string) {
	k := dimValue{site: owner.Site, dim: dim, value: value}
	kind := capValues
	if owner.Type != "" {
		k.page, kind = string(owner.Key()), capPages
	}
	if _, ok := d.values[k]; ok {
		return
	}
	d.values[k] = struct{}{}
	d.counts[capCount{site: owner.Site, dim: dim, kind: kind}]++
	if kind == capValues && dim == item.DimReferrer && value != item.Direct && value != item.Other {
		if domain := item.RegistrableDomain(value); domain != value {
			d.counts[capCount{owner.Site, dim, capDomain, domain}]++
		}
	}
}

// networkName is a network's id as a map key: 8 of its bytes are as good as all 16 here.
func networkName(id session.ID) string { return string(id[:8]) }
