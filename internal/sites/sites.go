// Package sites holds the owner's list of allowed sites and the CORS rules that follow from it.
package sites

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/tallyhq/tally/internal/item"
)

// List is the set of sites tally counts. An empty List allows any site.
type List struct {
	sites []string
}

// Parse reads "example.com,blog.example.org" and normalises each entry the way beacon URLs
// are: lower case, no port, no leading "www.".
func Parse(s string) (List, error) {
	var l List
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		u, err := url.Parse("http://" + part)
		if err != nil || u.Hostname() == "" || u.Path != "" {
			return List{}, fmt.Errorf("site %q: want a host name such as blog.example.com", part)
		}
		l.sites = append(l.sites, item.Site(u))
	}
	return l, nil
}

// Any reports whether every site is allowed.
func (l List) Any() bool { return len(l.sites) == 0 }

// Allowed reports whether site may be counted.
func (l List) Allowed(site string) bool { return l.Any() || slices.Contains(l.sites, site) }

// Listed reports whether the owner named site (Allowed without the "any site" of an empty list).
func (l List) Listed(site string) bool { return slices.Contains(l.sites, site) }

// String lists the sites, comma-separated.
func (l List) String() string { return strings.Join(l.sites, ",") }

// OriginSite returns the site of the request's Origin header: "" and ok without one, and !ok
// if it is present but unusable ("null", garbage, a scheme other than http and https).
func OriginSite(r *http.Request) (site string, ok bool) {
	o := r.Header.Get("Origin")
	if o == "" {
		return "", true
	}
	u, err := url.Parse(o)
	if err != nil || u.Hostname() == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", false
	}
	return item.Site(u), true
}

// CORS lets pages of allowed sites read a response; pages of any site when the list is empty.
func (l List) CORS(w http.ResponseWriter, r *http.Request) {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return
	}
	w.Header().Add("Vary", "Origin")
	if o, ok := OriginSite(r); ok && l.Allowed(o) {
		w.Header().Set("Access-Control-Allow-Origin", origin)
	}
}

// Preflight answers a CORS preflight request, as fetch() sends before a JSON POST.
func (l List) Preflight(w http.ResponseWriter, r *http.Request) {
	l.CORS(w, r)
	w.Header().Set("Access-Control-Allow-Methods", "GET, POST, DELETE")
	w.Header().Set("Access-Control-Allow-Headers", "Content-Type")
	w.Header().Set("Access-Control-Max-Age", "86400")
	w.WriteHeader(http.StatusNoContent)
}
