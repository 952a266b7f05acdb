// Package classify decides whether a beacon is a countable view and which item it counts for.
//
// It answers three questions, cheapest first: is the request itself countable (not HEAD, not a
// prefetch), is the page countable (not an admin, API or static path, not an ignored glob), and
// is the visitor a person (not a bot). Route rules then map the page's path to a type and slug.
package classify

import (
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/tallyhq/tally/internal/item"
)

// Reason says why a beacon was not counted; Countable means it was.
type Reason string

// The reasons a beacon is not counted. They are stable: metrics and logs use them as labels.
const (
	Countable   Reason = ""
	Head        Reason = "head"
	Prefetch    Reason = "prefetch"
	Bot         Reason = "bot"
	AdminPath   Reason = "admin_path"
	StaticAsset Reason = "static_asset"
	IgnoredPath Reason = "ignored_path"
)

// Rules hold the owner's configuration: route rules and ignored path globs.
type Rules struct {
	routes []Route
	ignore []string
}

// NewRules validates routes and ignore globs. Nil routes mean DefaultRoutes.
func NewRules(routes []Route, ignore []string) (*Rules, error) {
	if routes == nil {
		routes = DefaultRoutes()
	}
	for _, g := range ignore {
		if _, err := path.Match(strings.TrimSuffix(g, "/**"), "/"); err != nil || !strings.HasPrefix(g, "/") {
			return nil, fmt.Errorf("classify: bad ignore glob %q: must start with / and be a valid pattern", g)
		}
	}
	return &Rules{routes: routes, ignore: ignore}, nil
}

// Request reports whether the HTTP request itself is not a real view: a HEAD request, or a
// browser prefetching or prerendering a page nobody may ever look at.
func Request(r *http.Request) Reason {
	if r.Method == http.MethodHead {
		return Head
	}
	for _, h := range []string{"Sec-Purpose", "Purpose", "X-Purpose", "X-Moz"} {
		v := strings.ToLower(r.Header.Get(h))
		if strings.Contains(v, "prefetch") || strings.Contains(v, "prerender") || strings.Contains(v, "preview") {
			return Prefetch
		}
	}
	return Countable
}

// Item maps a page URL to the item it counts for, or says why the page is not countable.
// Rules apply to the path of the page's URL; the query string and fragment never matter.
func (r *Rules) Item(u *url.URL) (item.Item, Reason) {
	p := u.Path
	if p == "" {
		p = "/"
	}
	if reason := r.pathReason(p); reason != Countable {
		return item.Item{}, reason
	}
	typ, slug := r.route(p)
	return item.Item{Site: item.Site(u), Type: typ, Slug: slug}, Countable
}

// Route maps a path to its type and slug without checking exclusions; for reads such as
// /api/counts, which must answer for any item.
func (r *Rules) Route(u *url.URL) item.Item {
	p := u.Path
	if p == "" {
		p = "/"
	}
	typ, slug := r.route(p)
	return item.Item{Site: item.Site(u), Type: typ, Slug: slug}
}

var adminPrefixes = []string{"/admin", "/ops", "/api"}

func (r *Rules) pathReason(p string) Reason {
	// Servers read /API/x, //api/x and /./ops/z as the admin paths they are; so do we.
	clean := strings.ToLower(path.Clean("/" + p))
	for _, prefix := range adminPrefixes {
		if underPrefix(clean, prefix) {
			return AdminPath
		}
	}
	if staticExt[strings.ToLower(path.Ext(p))] {
		return StaticAsset
	}
	for _, g := range r.ignore {
		if matchGlob(g, p) {
			return IgnoredPath
		}
	}
	return Countable
}

// underPrefix reports whether p is prefix or below it: "/api" and "/api/x", not "/apiary".
func underPrefix(p, prefix string) bool {
	return p == prefix || strings.HasPrefix(p, prefix+"/")
}

// matchGlob matches one path.Match pattern; a trailing "/**" also matches everything below.
func matchGlob(glob, p string) bool {
	if base, ok := strings.CutSuffix(glob, "/**"); ok {
		if underPrefix(p, base) {
			return true
		}
		glob = base + "/*"
	}
	ok, _ := path.Match(glob, p)
	if !ok && strings.HasSuffix(p, "/") && len(p) > 1 {
		ok, _ = path.Match(glob, strings.TrimSuffix(p, "/"))
	}
	return ok
}

// staticExt lists extensions of files that are assets, feeds or downloads, never page views.
var staticExt = map[string]bool{}

func init() {
	for _, e := range strings.Fields(`css js mjs map json xml txt rss atom webmanifest
		png jpg jpeg gif webp avif svg ico bmp tif tiff
		woff woff2 ttf otf eot
		mp3 mp4 m4a webm ogg wav flac mov avi
		pdf zip gz tgz bz2 xz 7z rar tar exe dmg apk wasm`) {
		staticExt["."+e] = true
	}
}
