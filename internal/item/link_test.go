package item_test

import (
	"net/url"
	"testing"

	"github.com/tallyhq/tally/internal/item"
)

// TestLinkNamesPagesAsTheSiteDoes: a dashboard link keeps the scheme, port, "www." and
// trailing slash the site's own beacons used.
func TestLinkNamesPagesAsTheSiteDoes(t *testing.T) {
	for _, tt := range []struct {
		page, path string
		knowsSlash bool
		want       string
	}{
		{"http://127.0.0.1:8090/blogs/x.html", "/blogs/x.html", true, "http://127.0.0.1:8090/blogs/x.html"},
		{"https://www.Example.com/posts/hi/", "/posts/hi", true, "https://www.example.com/posts/hi/"},
		{"https://example.com:443/a", "/b", true, "https://example.com/b"},
		{"http://example.com:80/a/", "/", true, "http://example.com/"},
		{"https://example.com:8443/", "/about", false, "https://example.com:8443/about"},
		{"http://[::1]:8080/a?x=1#y", "/c", true, "http://[::1]:8080/c"},
	} {
		u, err := url.Parse(tt.page)
		if err != nil {
			t.Fatal(err)
		}
		link, knows := item.LinkOf(u)
		if got := item.ParseLink(link.String()).URL(tt.path); got != tt.want || knows != tt.knowsSlash {
			t.Errorf("page %s: URL(%q) = %q (knows slash %v), want %q (%v)", tt.page, tt.path, got, knows, tt.want, tt.knowsSlash)
		}
	}
	if got := item.DefaultLink("example.com").URL("/a"); got != "https://example.com/a" {
		t.Errorf("default link: %q", got)
	}
}
