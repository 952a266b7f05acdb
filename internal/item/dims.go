package item

import (
	"cmp"
	"net/netip"
	"slices"
	"strings"

	"golang.org/x/net/publicsuffix"
)

// Dim is a dimension of a page view: where the reader came from, or what they read it with.
// Every dimension is counted per owner (an item, or a whole site) and UTC day, as views and
// visitors, never per visitor.
type Dim uint8

// The dimensions. DimTotal is no dimension: the owner's views and visitors of the day, so that
// an item's visitors and a site's visitors are kept the same way as the breakdowns.
const (
	DimTotal Dim = iota
	DimReferrer
	DimUTMSource
	DimUTMMedium
	DimUTMCampaign
	DimBrowser
	DimBrowserVersion
	DimOS
	DimDevice
	DimCountry
	NumDims
)

var dimNames = [NumDims]string{"", "referrer", "utm_source", "utm_medium", "utm_campaign",
	"browser", "browser_version", "os", "device", "country"}

// String is the dimension's name in the API and the read model ("" for DimTotal).
func (d Dim) String() string {
	if d >= NumDims {
		return ""
	}
	return dimNames[d]
}

// Source reports whether d says where a reader came from (referrer, campaign): the dimensions
// kept per item as well as per site.
func (d Dim) Source() bool { return d >= DimReferrer && d <= DimUTMCampaign }

// ParseDim returns the dimension named s; DimTotal is not one a caller can ask for by name.
func ParseDim(s string) (Dim, bool) {
	for d := DimReferrer; d < NumDims; d++ {
		if dimNames[d] == s {
			return d, true
		}
	}
	return 0, false
}

// Dims are a page view's value of each dimension, indexed by Dim; "" means the view has no
// value for it (no campaign, no GeoIP database) and adds no row.
type Dims [NumDims]string

// Values of dimensions that are not what a visitor sent.
const (
	// Direct is the referrer of a view that came from no other site.
	Direct = "(direct)"
	// Other is counted instead of a new value once a site has MaxDimValues distinct values of
	// a dimension on a day: visitors choose referrers and campaigns, so their number must not
	// grow with traffic.
	Other = "(other)"
)

// DefaultMaxDimValues is the default cap on distinct values per site, dimension and day.
const DefaultMaxDimValues = 1000

// Fair shares of the cap, so that whoever fills it first does not own a site's day: visitors
// choose their referrers and campaigns, and a spray of made-up values from one place must leave
// room for real readers.
const (
	// MaxNewValuesPerNetwork is how many new values of one dimension one client network (IPv4
	// /24, IPv6 /48: View.Network) may bring to a site per day; its further new values count
	// as Other.
	MaxNewValuesPerNetwork = 20
	// MaxHostsPerDomain is how many referrer hosts under one registrable domain a site keeps
	// per day; further hosts of that domain count as the domain itself (a1.spam.example,
	// a2.spam.example, … become spam.example).
	MaxHostsPerDomain = 10
)

// RegistrableDomain returns the domain a referrer host belongs to by the public suffix list
// (news.ycombinator.com → ycombinator.com, a.b.example.co.uk → example.co.uk), or the host
// itself for an IP address, a public suffix or a name the list cannot place.
func RegistrableDomain(host string) string {
	if _, err := netip.ParseAddr(host); err == nil {
		return host
	}
	d, err := publicsuffix.EffectiveTLDPlusOne(host)
	if err != nil {
		return host
	}
	return d
}

// DimCount is one row of the dimension tables: the views and visitors of Owner on Day whose
// Dim had Value. Owner is an item, or a site alone (Type and Slug empty) for the site's rows.
// Counts are cumulative within the day, so writing a row again overwrites it.
type DimCount struct {
	Owner    Item
	Day      string // YYYY-MM-DD, UTC
	Dim      Dim
	Value    string
	Views    int64
	Visitors int64
}

// DimChange is every row of one owner and day, read for a flush because some changed. Mark
// identifies the write that last changed them, as in Change.
type DimChange struct {
	Owner Item
	Day   string
	Rows  []DimCount
	Mark  uint64
}

// SiteOwner is the owner of a site's own rows.
func SiteOwner(site string) Item { return Item{Site: site} }

// Live is what a site had in the last 30 minutes, read from the write model.
type Live struct {
	Views    int64
	Visitors int64
	Pages    []LivePage // most views first
}

// LivePage is one item's views in the last 30 minutes.
type LivePage struct {
	Item  Item
	Views int64
}

// SortLive orders pages by views, most first, then by type and slug.
func SortLive(pages []LivePage) {
	slices.SortFunc(pages, func(a, b LivePage) int {
		if a.Views != b.Views {
			return cmp.Compare(b.Views, a.Views)
		}
		return cmp.Or(strings.Compare(a.Item.Type, b.Item.Type), strings.Compare(a.Item.Slug, b.Item.Slug))
	})
}
