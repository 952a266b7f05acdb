package item

import (
	"net/url"
	"strings"
)

// Link is how a site's beacons name its pages, remembered per site so that the dashboard links
// to a page as the site serves it: http on a port during development, "www." kept, a trailing
// slash where the site's pages end in one.
type Link struct {
	Origin string // scheme://host[:port], as the beacon sent it, without a default port
	Slash  bool   // the site's page paths end in "/"
}

// DefaultLink is the link of a site no beacon has named yet.
func DefaultLink(site string) Link { return Link{Origin: "https://" + site} }

// LinkOf returns the link page u shows, and whether u says anything about trailing slashes: a
// home page does not.
func LinkOf(u *url.URL) (l Link, knowsSlash bool) {
	host := strings.ToLower(u.Host)
	switch {
	case u.Scheme == "https":
		host = strings.TrimSuffix(host, ":443")
	case u.Scheme == "http":
		host = strings.TrimSuffix(host, ":80")
	}
	p := u.EscapedPath()
	knowsSlash = strings.TrimRight(p, "/") != ""
	return Link{Origin: u.Scheme + "://" + host, Slash: knowsSlash && strings.HasSuffix(p, "/")}, knowsSlash
}

// String is the form a write model keeps: the origin, and "/" after it for Slash.
func (l Link) String() string {
	if l.Slash {
		return l.Origin + "/"
	}
	return l.Origin
}

// ParseLink reverses String.
func ParseLink(s string) Link {
	origin, slash := strings.CutSuffix(s, "/")
	return Link{Origin: origin, Slash: slash}
}

// URL is the address of path on the site, which starts with "/".
func (l Link) URL(path string) string {
	if path == "/" || path == "" {
		return l.Origin + "/"
	}
	if l.Slash && !strings.HasSuffix(path, "/") {
		path += "/"
	}
	return l.Origin + path
}
