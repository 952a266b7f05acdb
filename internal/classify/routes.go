package classify

import (
	"fmt"
	"slices"
	"strings"

	"github.com/tallyhq/tally/internal/item"
)

// Route maps paths under a prefix to a type: "/blogs/{slug}" → type "blog".
// "{slug}" takes one path segment; "{slug...}" takes the rest of the path.
type Route struct {
	Prefix string // "/blogs/", always ending in "/"
	Type   string
	Rest   bool // "{slug...}"
}

// DefaultRoutes are the rules a blog needs: /blogs/{slug} and /projects/{slug}. The home page
// ("/") is always type "home", and a path no route matches is type "page" with the path as slug.
func DefaultRoutes() []Route {
	return []Route{{Prefix: "/blogs/", Type: "blog"}, {Prefix: "/projects/", Type: "project"}}
}

// ParseRoutes parses "/blogs/{slug}=blog,/notes/{slug...}=note". An empty string means no
// routes besides home and page.
func ParseRoutes(s string) ([]Route, error) {
	routes := []Route{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		pattern, typ, ok := strings.Cut(part, "=")
		if !ok || typ == "" || !validType(typ) {
			return nil, fmt.Errorf("route %q: want PATTERN=TYPE, e.g. /blogs/{slug}=blog", part)
		}
		var rt Route
		switch {
		case strings.HasSuffix(pattern, "/{slug}"):
			rt = Route{Prefix: strings.TrimSuffix(pattern, "{slug}"), Type: typ}
		case strings.HasSuffix(pattern, "/{slug...}"):
			rt = Route{Prefix: strings.TrimSuffix(pattern, "{slug...}"), Type: typ, Rest: true}
		default:
			return nil, fmt.Errorf("route %q: pattern must end in /{slug} or /{slug...}", part)
		}
		if !strings.HasPrefix(rt.Prefix, "/") || strings.ContainsAny(rt.Prefix, "{}*") {
			return nil, fmt.Errorf("route %q: pattern must be a plain path ending in /{slug}", part)
		}
		routes = append(routes, rt)
	}
	return routes, nil
}

// FormatRoutes formats routes the way ParseRoutes reads them.
func FormatRoutes(routes []Route) string {
	parts := make([]string, len(routes))
	for i, rt := range routes {
		slug := "{slug}"
		if rt.Rest {
			slug = "{slug...}"
		}
		parts[i] = rt.Prefix + slug + "=" + rt.Type
	}
	return strings.Join(parts, ",")
}

func validType(s string) bool {
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return len(s) <= 64
}

// route returns the type and slug of path p. The slug never keeps a trailing slash.
func (r *Rules) route(p string) (typ, slug string) {
	if p == "/" {
		return "home", ""
	}
	trimmed := strings.TrimRight(p, "/")
	if trimmed == "" {
		return "home", ""
	}
	for _, rt := range r.routes {
		rest, ok := strings.CutPrefix(trimmed, rt.Prefix)
		if !ok || rest == "" {
			continue
		}
		if rt.Rest || !strings.Contains(rest, "/") {
			return rt.Type, rest
		}
	}
	return "page", trimmed
}

// IsPageType reports whether typ is a type that pages are counted under: home, page, or a
// route's type.
func (r *Rules) IsPageType(typ string) bool {
	if typ == "home" || typ == "page" {
		return true
	}
	for _, rt := range r.routes {
		if rt.Type == typ {
			return true
		}
	}
	return false
}

// PageTypes returns the types pages are counted under: home, page and each route's type.
// Every other type is a client event's.
func (r *Rules) PageTypes() []string {
	types := []string{"home", "page"}
	for _, rt := range r.routes {
		if !slices.Contains(types, rt.Type) {
			types = append(types, rt.Type)
		}
	}
	return types
}

// PageURL is the address of the page an item counts, for links from the dashboard, on the
// site as link names it; "" for items that are not pages, such as events.
func (r *Rules) PageURL(link item.Link, typ, slug string) string {
	switch typ {
	case "home":
		return link.URL("/")
	case "page":
		return link.URL(slug)
	}
	for _, rt := range r.routes {
		if rt.Type == typ {
			return link.URL(rt.Prefix + slug)
		}
	}
	return ""
}
