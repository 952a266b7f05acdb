package ingest

import (
	"net/url"
	"testing"
	"time"
)

// TestLinksWrittenOnlyWhenTheyChange: a site's link goes to the write model when its beacons
// start naming pages differently, at most once a minute, and a home page keeps the site's
// trailing-slash habit.
func TestLinksWrittenOnlyWhenTheyChange(t *testing.T) {
	t0 := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	var l links
	for i, tt := range []struct {
		page    string
		after   time.Duration
		want    string
		changed bool
	}{
		{"https://www.example.com/posts/a/", 0, "https://www.example.com/", true},
		{"https://www.example.com/posts/b/", time.Second, "https://www.example.com/", false},
		{"https://www.example.com/", 2 * time.Second, "https://www.example.com/", false},
		{"http://example.com:8080/posts/a", 3 * time.Second, "http://example.com:8080", false}, // within the minute
		{"http://example.com:8080/posts/a", 2 * time.Minute, "http://example.com:8080", true},
		{"http://example.com:8080/posts/a", 10 * time.Minute, "http://example.com:8080", false},
	} {
		u, err := url.Parse(tt.page)
		if err != nil {
			t.Fatal(err)
		}
		link, changed := l.next("example.com", u, t0.Add(tt.after))
		if link.String() != tt.want || changed != tt.changed {
			t.Errorf("%d: %s at +%v = %q, changed %v; want %q, %v", i, tt.page, tt.after, link, changed, tt.want, tt.changed)
		}
	}
}
