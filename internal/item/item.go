// Package item names what tally counts: an item is a (site, type, slug) triple, and its Counts
// are cumulative numbers that only the write model changes.
package item

import (
	"bytes"
	"errors"
	"net/netip"
	"net/url"
	"strings"

	"golang.org/x/net/idna"

	"github.com/tallyhq/tally/internal/session"
)

// Item identifies one counted thing: a blog post, a project, a page, or an event target.
type Item struct {
	Site string // beacon URL host, lower-cased, without port or a leading "www."
	Type string // free-form: "blog", "project", "page", "home", or an event name
	Slug string
}

// Counts are an item's cumulative numbers.
type Counts struct {
	Unique int64
	Total  int64
	Likes  int64
}

// Site returns the site of u: its host lower-cased, without a port or a leading "www.".
func Site(u *url.URL) string { return NormalizeSite(u.Hostname()) }

// NormalizeSite writes a host the way sites are stored, whether it comes from a beacon URL or
// from a person (?site=, --site, --sites): lower case, without a trailing dot or a leading
// "www.". Only ASCII blanks are trimmed, the ones a person types around a name: a host made of
// Unicode spaces stays what it is, and ValidHost refuses it.
func NormalizeSite(host string) string {
	h := strings.TrimSuffix(strings.ToLower(strings.Trim(host, " \t\r\n")), ".")
	if !isASCII(h) {
		// An international name as a person types it: its ASCII (punycode) form, the one
		// browsers send. A name IDNA refuses stays as it is, and ValidHost refuses it.
		if a, err := idna.Lookup.ToASCII(h); err == nil {
			h = a
		}
	}
	return strings.TrimPrefix(h, "www.")
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// ValidHost reports whether h is a DNS name (letters, digits, hyphens and the underscores some
// hosts have, in dot-separated labels of at most 63 bytes, 253 in all, as browsers send even
// international names; NormalizeSite turns a Unicode name into that form) or an IP address
// without a zone (a zone is free text: "fe80::1%<anything>"). Anything else in a site, such
// as a spreadsheet formula, is not a site.
func ValidHost(h string) bool {
	if a, err := netip.ParseAddr(h); err == nil {
		return a.Zone() == ""
	}
	h = strings.TrimSuffix(h, ".")
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range []byte(label) {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// sep cannot appear in a site, type or slug that passed validation, so keys split unambiguously.
const sep = 0

// Key encodes it as bytes for ordered key-value stores: site, type and slug separated by NUL.
func (it Item) Key() []byte {
	return it.AppendKey(make([]byte, 0, len(it.Site)+len(it.Type)+len(it.Slug)+2))
}

// AppendKey appends it's key to b.
func (it Item) AppendKey(b []byte) []byte {
	b = append(b, it.Site...)
	b = append(b, sep)
	b = append(b, it.Type...)
	b = append(b, sep)
	return append(b, it.Slug...)
}

// ParseKey is the inverse of Key.
func ParseKey(k []byte) (Item, error) {
	site, rest, ok := bytes.Cut(k, []byte{sep})
	if !ok {
		return Item{}, errors.New("item: malformed key")
	}
	typ, slug, ok := bytes.Cut(rest, []byte{sep})
	if !ok {
		return Item{}, errors.New("item: malformed key")
	}
	return Item{Site: string(site), Type: string(typ), Slug: string(slug)}, nil
}

// Valid reports whether it can be stored: a site and a type, each part within its byte bound
// and passing ValidText (so no NUL, the key separator, anywhere). Handlers check it before a
// write, and the write models again, so nothing a store refuses can reach one.
func (it Item) Valid() bool {
	return it.Site != "" && it.Type != "" &&
		ValidKeyPart(it.Site, MaxSiteBytes) && ValidKeyPart(it.Type, MaxTypeBytes) && ValidKeyPart(it.Slug, MaxSlugBytes)
}

// Counted is an item with its counts, as the jobs move them from one model to the other.
type Counted struct {
	Item   Item
	Counts Counts
}

// Change is a dirty item read for a flush. Mark identifies the write that last dirtied it: the
// flush clears the item's dirty mark only if Mark is still current, so a view that lands while
// the flush runs keeps the item dirty for the next one.
type Change struct {
	Counted
	Mark uint64
}

// View is one countable view of an item, already classified.
type View struct {
	Item    Item
	Session session.ID
	// Previous is the visitor's id of the day before, set during the first minutes after
	// midnight UTC so that a reader who crosses midnight is not a new unique.
	Previous session.ID
	// Cap, if set, is how many views this session may add to this item per minute, enforced
	// by a write model that several nodes share; past it Record returns ErrCapped.
	Cap int
	// Page is set for a page view, unset for a client event: only page views make a site's
	// visitors and its dimension rows. Every view makes its item's visitors.
	Page bool
	// Dims are the page view's dimensions (see Dims).
	Dims Dims
	// Network is a daily, salted id of the visitor's client network (IPv4 /24, IPv6 /48), like
	// a session id: a network brings at most MaxNewValuesPerNetwork new values of a dimension
	// to a site a day. Zero: the view's values take no share.
	Network session.ID
	// VisitorCap, above 0, is how many visitors the view's Network may add to its site today
	// (--visitors-per-client); a view past it counts, but not as a new visitor.
	VisitorCap int
}

// ErrCapped means a view was over View.Cap and was not counted.
var ErrCapped = errors.New("over the views a visitor may add to an item per minute")

// Like is a visitor's press of an item's like button: Delta > 0 adds up to that many likes,
// never past Cap for this visitor today, nor, with a Budget, past Budget for all visitors of
// the same address block (Client) today; Delta < 0 takes back one of the visitor's likes.
type Like struct {
	Item    Item
	Session session.ID
	Delta   int
	Cap     int
	Client  session.ID // a daily, salted id of the visitor's address block, like a session id
	Budget  int        // likes one address block may give the item per UTC day; 0: no budget
}

// LikeCounts are what the like button shows: this visitor's likes today and the item's total.
type LikeCounts struct {
	User  int
	Total int64
}

// Seed is an item's starting counts from an import (frontmatter, a spreadsheet). Importing the
// same seed again changes nothing; a different one moves the counts by the difference. A count
// of Keep was not in the import: what was imported for it before stays.
type Seed struct {
	Item  Item
	Views int64
	Likes int64
}

// Keep, as a Seed's count, keeps the count imported before.
const Keep = -1
