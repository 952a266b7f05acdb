package dimension

import (
	"net/netip"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tallyhq/tally/internal/classify"
	"github.com/tallyhq/tally/internal/dimension/geotest"
	"github.com/tallyhq/tally/internal/item"
)

func TestReferrer(t *testing.T) {
	for _, tc := range []struct {
		ref, want string
		spam      bool
	}{
		{"", item.Direct, false},
		{"https://news.ycombinator.com/item?id=1", "news.ycombinator.com", false},
		{"https://WWW.Google.COM/search?q=secret", "google.com", false},
		{"http://example.org:8080/a/b", "example.org", false},
		{"https://blog.example.com/other-post", "", false}, // the same site: internal navigation
		{"https://www.blog.example.com/", "", false},
		{"android-app://com.slack/", item.Direct, false}, // not an http(s) URL
		{"not a url at all", item.Direct, false},
		{"https://exa mple.com/", item.Direct, false},
		{"https://" + strings.Repeat("a", 2100) + ".com/", item.Direct, false}, // over-long
		{"https://bad\xffhost.com/", item.Direct, false},                       // binary
		{"https://semalt.com/", "", true},
		{"https://x.y.semalt.com/page", "", true}, // a host under a listed domain
		{"https://notsemalt.com/", "notsemalt.com", false},
		// Hosts from deep in the list (alphabetically its middle and its end), so a list cut
		// short to a handful of famous names fails here.
		{"https://landoftracking.com/", "", true},
		{"http://www.xtrafficplus.shop/x", "", true},
	} {
		got, spam := Referrer(tc.ref, "blog.example.com")
		if got != tc.want || spam != tc.spam {
			t.Errorf("Referrer(%.60q) = %q %v, want %q %v", tc.ref, got, spam, tc.want, tc.spam)
		}
	}
}

func TestCampaign(t *testing.T) {
	e, _ := New("")
	for _, tc := range []struct {
		page                     string
		source, medium, campaign string
	}{
		{"https://b.example/p", "", "", ""},
		{"https://b.example/p?utm_source=Newsletter&utm_medium=email&utm_campaign=Launch%20Week", "newsletter", "email", "launch week"},
		{"https://b.example/p?ref=producthunt", "producthunt", "", ""},
		{"https://b.example/p?source=mastodon&utm_campaign=x", "mastodon", "", "x"},
		{"https://b.example/p?utm_source=a&ref=b", "a", "", ""}, // utm_source wins
		{"https://b.example/p?utm_source=%3Cscript%3E", "", "", ""},
		{"https://b.example/p?utm_source=" + strings.Repeat("x", 101), "", "", ""},
		{"https://b.example/p?utm_source=%FF%FE", "", "", ""},
		{"https://b.example/p?utm_source=caf%C3%A9", "café", "", ""},
	} {
		u, _ := url.Parse(tc.page)
		d := e.Dims(item.Direct, u, classify.Agent{}, netip.Addr{})
		if d[item.DimUTMSource] != tc.source || d[item.DimUTMMedium] != tc.medium || d[item.DimUTMCampaign] != tc.campaign {
			t.Errorf("%s: source %q medium %q campaign %q, want %q %q %q", tc.page, d[item.DimUTMSource],
				d[item.DimUTMMedium], d[item.DimUTMCampaign], tc.source, tc.medium, tc.campaign)
		}
	}
}

// TestAgent: the browser, OS and device dimensions of a User-Agent, as the bot check's one
// parse of it (classify.Bots.Inspect) reads them.
func TestAgent(t *testing.T) {
	bots := classify.NewBots(100, classify.Overrides{})
	for _, tc := range []struct{ ua, browser, version, os, device string }{
		{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", "Chrome", "Chrome 131", "Linux", "desktop"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox", "Firefox 133", "Windows", "desktop"},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15", "Safari", "Safari 18", "macOS", "desktop"},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1", "Safari", "Safari 18", "iOS", "phone"},
		{"Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1", "Safari", "Safari 17", "iOS", "tablet"},
		{"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36", "Chrome", "Chrome 131", "Android", "phone"},
		{"Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", "Chrome", "Chrome 131", "Android", "tablet"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0", "Edge", "Edge 131", "Windows", "desktop"},
		{"Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", "Chrome", "Chrome 131", "ChromeOS", "desktop"},
		{"Lynx/2.9.0 libwww-FM/2.14", "Lynx", "Lynx 2", "Other", "desktop"},
		{"", "Other", "Other", "Other", "desktop"},
		{"<script>alert(1)</script>/1.0", "Other", "Other", "Other", "desktop"},
	} {
		e, _ := New("")
		u, _ := url.Parse("https://b.example/")
		for range 2 { // the second answer comes from the cache
			d := e.Dims(item.Direct, u, bots.Inspect(tc.ua).Agent, netip.Addr{})
			if d[item.DimBrowser] != tc.browser || d[item.DimBrowserVersion] != tc.version || d[item.DimOS] != tc.os || d[item.DimDevice] != tc.device {
				t.Errorf("%.50q: %q %q %q %q, want %q %q %q %q", tc.ua, d[item.DimBrowser], d[item.DimBrowserVersion],
					d[item.DimOS], d[item.DimDevice], tc.browser, tc.version, tc.os, tc.device)
			}
			if d[item.DimCountry] != "" {
				t.Errorf("a country %q without a GeoIP database", d[item.DimCountry])
			}
		}
	}
}

// TestCountry reads a small country database written by the test.
func TestCountry(t *testing.T) {
	path := geotest.CountryDB(t, map[string]string{"81.2.69.0/24": "GB", "2a01:4f8::/32": "DE"})
	e, err := New(path)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	u, _ := url.Parse("https://b.example/")
	for ip, want := range map[string]string{"81.2.69.142": "GB", "::ffff:81.2.69.1": "GB", "2a01:4f8::1": "DE", "192.0.2.1": Unknown} {
		if got := e.Dims(item.Direct, u, classify.Agent{}, netip.MustParseAddr(ip))[item.DimCountry]; got != want {
			t.Errorf("country of %s = %q, want %q", ip, got, want)
		}
	}
	if _, err := New(filepath.Join(t.TempDir(), "missing.mmdb")); err == nil || !strings.Contains(err.Error(), "--geoip-db") {
		t.Errorf("a missing database: %v, want an error naming --geoip-db", err)
	}
}

// TestSpamListIsWhole guards against shipping a placeholder: the generated list holds Matomo's
// whole list (2,347 hosts at the pinned commit) and names the commit it came from.
func TestSpamListIsWhole(t *testing.T) {
	if n := len(spammers); n < 2000 {
		t.Errorf("the referrer spam list holds %d hosts, want the whole list (~2,300): run go generate ./internal/dimension", n)
	}
	if !strings.Contains(spamList, "# Matomo referrer spam list, commit ") {
		t.Error("referrer_spam.txt does not name the commit it was generated from")
	}
}
