// Package dimension works out a page view's dimensions from its request: the referrer's host,
// the campaign in the page URL, the browser, OS and device class from the User-Agent, and the
// country from a GeoIP database when the owner has one. Only these values leave the request;
// a referrer's path and query, the User-Agent and the address are never kept.
package dimension

import (
	"fmt"
	"net/netip"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/oschwald/maxminddb-golang/v2"

	"github.com/tallyhq/tally/internal/classify"
	"github.com/tallyhq/tally/internal/item"
)

// Extractor works out dimensions. It is safe for concurrent use.
type Extractor struct {
	geo *maxminddb.Reader // nil without a GeoIP database
}

// New returns an Extractor; geoipDB, if not empty, is the path of a GeoLite2, GeoIP2 or DB-IP
// country (or city) database in the MaxMind DB format.
func New(geoipDB string) (*Extractor, error) {
	e := &Extractor{}
	if geoipDB != "" {
		db, err := maxminddb.Open(geoipDB)
		if err != nil {
			return nil, fmt.Errorf("--geoip-db: %w", err)
		}
		e.geo = db
	}
	return e, nil
}

// HasCountry reports whether views get a country.
func (e *Extractor) HasCountry() bool { return e.geo != nil }

// Close releases the GeoIP database.
func (e *Extractor) Close() error {
	if e.geo == nil {
		return nil
	}
	return e.geo.Close()
}

// Dims returns a page view's dimensions: ref is the referrer's host as Referrer returned it,
// page the page URL (for its campaign), a what the bot check read in the request's User-Agent
// (classify.Bots.Inspect: one parse per distinct User-Agent, cached once), ip the request's.
func (e *Extractor) Dims(ref string, page *url.URL, a classify.Agent, ip netip.Addr) item.Dims {
	var d item.Dims
	d[item.DimReferrer] = ref
	if page.RawQuery != "" { // most views have no query at all
		q := campaignParams(page.RawQuery)
		d[item.DimUTMSource] = campaignValue(q["utm_source"])
		if d[item.DimUTMSource] == "" {
			d[item.DimUTMSource] = campaignValue(q["ref"])
		}
		if d[item.DimUTMSource] == "" {
			d[item.DimUTMSource] = campaignValue(q["source"])
		}
		d[item.DimUTMMedium] = campaignValue(q["utm_medium"])
		d[item.DimUTMCampaign] = campaignValue(q["utm_campaign"])
	}
	d[item.DimBrowser], d[item.DimOS], d[item.DimDevice] = a.Browser, a.OS, a.Device
	d[item.DimBrowserVersion] = a.Browser
	if a.Version != "" {
		d[item.DimBrowserVersion] = a.Browser + " " + a.Version
	}
	if e.geo != nil {
		d[item.DimCountry] = e.country(ip)
	}
	return d
}

// Unknown is the country of an address the GeoIP database does not place.
const Unknown = "(unknown)"

func (e *Extractor) country(ip netip.Addr) string {
	var rec struct {
		Country struct {
			ISOCode string `maxminddb:"iso_code"`
		} `maxminddb:"country"`
	}
	if err := e.geo.Lookup(ip.Unmap()).Decode(&rec); err != nil || !isCountryCode(rec.Country.ISOCode) {
		return Unknown
	}
	return rec.Country.ISOCode
}

func isCountryCode(s string) bool {
	return len(s) == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z'
}

// campaignParams reads the campaign parameters of a query string, the first of each name, as
// url.Values.Get would, without building a map of every parameter.
func campaignParams(raw string) map[string]string {
	var out map[string]string
	for raw != "" {
		var kv string
		kv, raw, _ = strings.Cut(raw, "&")
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "utm_source", "utm_medium", "utm_campaign", "ref", "source":
		default:
			continue
		}
		if _, seen := out[k]; seen {
			continue
		}
		if v, err := url.QueryUnescape(v); err == nil {
			if out == nil {
				out = make(map[string]string, 2)
			}
			out[k] = v
		}
	}
	return out
}

// maxCampaignLength bounds a campaign value; longer ones are not campaigns anyone typed.
const maxCampaignLength = 100

// campaignValue normalises a utm_ value: trimmed and lower-cased; "" (none) when it is empty,
// too long, not ValidText (a Hangul filler is a letter that shows as a blank source), or holds
// anything but letters, digits, spaces and - _ . + ~ /.
func campaignValue(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" || len(s) > maxCampaignLength || !item.ValidText(s) {
		return ""
	}
	for _, r := range s {
		if !(unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune(" -_.+~/", r)) {
			return ""
		}
	}
	return s
}

// plainHost returns the host of an http(s) URL as browsers send referrers, without parsing the
// rest (every beacon has a referrer); ok is false for anything it does not take apart by hand.
func plainHost(ref string) (host string, ok bool) {
	rest, ok := strings.CutPrefix(ref, "https://")
	if !ok {
		if rest, ok = strings.CutPrefix(ref, "http://"); !ok {
			return "", false
		}
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	for i := 0; i < len(rest); i++ {
		if c := rest[i]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_' || c == ':') {
			return "", false
		}
	}
	if i := strings.IndexByte(rest, ':'); i >= 0 {
		rest = rest[:i] // the port
	}
	return rest, true
}

// maxReferrerLength bounds the referrer read; a longer one is not a link anyone followed.
const maxReferrerLength = 2048

// Referrer returns the source of a view from its referrer: the host, lower-cased, without a
// port or a leading "www."; Direct for none, or for one that is over-long, binary or not an
// http(s) URL; "" for a page of the same site (internal navigation, not a source). spam
// reports a host on the referrer spam list.
func Referrer(ref, site string) (host string, spam bool) {
	if ref == "" || len(ref) > maxReferrerLength || !utf8.ValidString(ref) {
		return item.Direct, false
	}
	host, ok := plainHost(ref)
	if !ok { // the general parser, for user info, IPv6 literals, escapes, odd schemes
		u, err := url.Parse(ref)
		if err != nil || u.Scheme != "http" && u.Scheme != "https" {
			return item.Direct, false
		}
		host = u.Hostname()
	}
	h := item.NormalizeSite(host)
	if h == "" || !item.ValidHost(h) {
		return item.Direct, false
	}
	if h == site {
		return "", false
	}
	if isSpam(h) {
		return "", true
	}
	return h, false
}
