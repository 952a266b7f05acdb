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

	"github.com/mssola/useragent"
	"github.com/oschwald/maxminddb-golang/v2"

	"github.com/tallyhq/tally/internal/cache"
	"github.com/tallyhq/tally/internal/item"
)

// Extractor works out dimensions. It is safe for concurrent use.
type Extractor struct {
	geo    *maxminddb.Reader // nil without a GeoIP database
	agents *cache.Cache[agent]
}

// agent is what a User-Agent says about the reader's software and device.
type agent struct{ browser, version, os, device string }

// maxAgents bounds a generation of the User-Agent cache: a real site sees a few thousand
// distinct ones a day.
const maxAgents = 10_000

// New returns an Extractor; geoipDB, if not empty, is the path of a GeoLite2, GeoIP2 or DB-IP
// country (or city) database in the MaxMind DB format.
func New(geoipDB string) (*Extractor, error) {
	e := &Extractor{agents: cache.New[agent](maxAgents)}
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
// page the page URL (for its campaign), ua and ip the request's.
func (e *Extractor) Dims(ref string, page *url.URL, ua string, ip netip.Addr) item.Dims {
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
	a := e.agent(ua)
	d[item.DimBrowser], d[item.DimOS], d[item.DimDevice] = a.browser, a.os, a.device
	d[item.DimBrowserVersion] = a.browser
	if a.version != "" {
		d[item.DimBrowserVersion] = a.browser + " " + a.version
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

// agent parses ua once; a busy site sends the same few User-Agents over and over.
func (e *Extractor) agent(ua string) agent {
	a, ok := e.agents.Get(ua)
	if !ok {
		a = parseAgent(ua)
		e.agents.Put(ua, a)
	}
	return a
}

func parseAgent(ua string) agent {
	p := useragent.New(ua)
	name, version := p.Browser()
	a := agent{browser: label(name, "Other"), os: osFamily(p), device: deviceClass(ua, p)}
	if major, _, _ := strings.Cut(version, "."); a.browser != "Other" && isDigits(major) && len(major) <= 5 {
		a.version = major
	}
	return a
}

// osFamily names the operating system as owners know it, without its version.
func osFamily(p *useragent.UserAgent) string {
	info := p.OSInfo()
	switch name := info.Name; {
	case p.Platform() == "iPad" || p.Platform() == "iPhone" || p.Platform() == "iPod" || name == "iPhone OS":
		return "iOS"
	case name == "Mac OS X" || strings.HasPrefix(name, "Macintosh"):
		return "macOS"
	case strings.HasPrefix(name, "Windows Phone"):
		return "Windows Phone"
	case strings.HasPrefix(name, "Windows"):
		return "Windows"
	case strings.HasPrefix(name, "Android"):
		return "Android"
	case strings.HasPrefix(name, "CrOS"):
		return "ChromeOS"
	case strings.HasPrefix(name, "Linux") || strings.Contains(info.FullName, "Linux"):
		return "Linux"
	default:
		first, _, _ := strings.Cut(name, " ")
		return label(first, "Other")
	}
}

// deviceClass tells a tablet from a phone from a desktop by the User-Agent's own words.
func deviceClass(ua string, p *useragent.UserAgent) string {
	switch {
	case strings.Contains(ua, "iPad") || strings.Contains(ua, "Tablet") ||
		strings.Contains(ua, "Android") && !strings.Contains(ua, "Mobile"):
		return "tablet"
	case p.Mobile() || strings.Contains(ua, "Mobile") || strings.Contains(ua, "iPhone"):
		return "phone"
	default:
		return "desktop"
	}
}

// label keeps a name a parser found if it is short plain text, else fallback.
func label(s, fallback string) string {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 32 {
		return fallback
	}
	for _, r := range s {
		if !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == ' ' || r == '-' || r == '.' || r == '_') {
			return fallback
		}
	}
	return s
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
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
