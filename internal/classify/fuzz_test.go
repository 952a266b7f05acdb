package classify

import (
	"net/url"
	"strings"
	"testing"

	"github.com/tallyhq/tally/internal/item"
)

// FuzzItem maps arbitrary URLs to items: never a panic, and every countable item can be stored
// and reads the way the contract says (lower-case site, no trailing slash on the slug).
func FuzzItem(f *testing.F) {
	for _, seed := range []string{
		"https://blog.example.com/blogs/hello", "https://WWW.Example.com:8443/blogs/hello/?q#f",
		"https://example.com/", "https://example.com//", "https://example.com/a/b/c/", "http://x/%00",
		"https://example.com/blogs/%2F", "https://example.com/api/view", "https://example.com/drafts/x",
	} {
		f.Add(seed)
	}
	rules, err := NewRules(nil, []string{"/drafts/**"})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := url.Parse(raw)
		if err != nil {
			return
		}
		it, reason := rules.Item(u)
		if reason != Countable {
			return
		}
		if !item.ValidHost(it.Site) || !item.ValidText(u.Path) {
			return // the beacon handlers answer 400 before asking for an item
		}
		host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
		ascii := strings.IndexFunc(host, func(r rune) bool { return r >= 0x80 }) < 0
		if it.Site != strings.ToLower(it.Site) || ascii && host != it.Site && host != "www."+it.Site {
			t.Fatalf("site %q from host %q: want the host lower-cased without one leading www.", it.Site, u.Hostname())
		}
		if len(it.Slug) > 1 && strings.HasSuffix(it.Slug, "/") {
			t.Fatalf("slug %q keeps a trailing slash (from %q)", it.Slug, raw)
		}
		if len(raw) <= 2048 && !it.Valid() {
			t.Fatalf("countable item %+v is not storable (from %q)", it, raw)
		}
	})
}

// FuzzIsBot classifies arbitrary User-Agents: never a panic, and the cached verdict always
// equals a fresh one.
func FuzzIsBot(f *testing.F) {
	for _, seed := range []string{
		"", "curl/8.5.0", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
		"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "Mozilla/5.0 \x00\xff",
	} {
		f.Add(seed)
	}
	cached := NewBots(100, Overrides{})
	f.Fuzz(func(t *testing.T, ua string) {
		first, token := cached.Check(ua)
		if again, againToken := cached.Check(ua); again != first || againToken != token {
			t.Fatalf("cached verdict %v %q, first %v %q for %q", again, againToken, first, token, ua)
		}
		if fresh, freshToken := NewBots(1, Overrides{}).Check(ua); fresh != first || freshToken != token {
			t.Fatalf("fresh verdict %v %q, cached %v %q for %q", fresh, freshToken, first, token, ua)
		}
		if len(token) > maxTokenLength || (token != "" && !tokenChars(token)) || (len(ua) > 0 && len(token) == len(ua) && len(ua) > maxTokenLength) {
			t.Fatalf("token %q for %q is not a short product name", token, ua)
		}
	})
}
