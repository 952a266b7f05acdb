package classify

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/tallyhq/tally/internal/item"
)

func TestItem(t *testing.T) {
	rules, err := NewRules(nil, []string{"/drafts/**", "/preview-*", "/tags/*/feed"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		url    string
		want   item.Item
		reason Reason
	}{
		{"https://blog.example.com/blogs/hello", mk("blog.example.com", "blog", "hello"), Countable},
		{"https://blog.example.com/blogs/hello/", mk("blog.example.com", "blog", "hello"), Countable},
		{"https://www.Blog.Example.com:8443/blogs/hello?utm=x#top", mk("blog.example.com", "blog", "hello"), Countable},
		{"https://example.com/projects/tally", mk("example.com", "project", "tally"), Countable},
		{"https://example.com/", mk("example.com", "home", ""), Countable},
		{"https://example.com", mk("example.com", "home", ""), Countable},
		{"https://example.com/about/", mk("example.com", "page", "/about"), Countable},
		{"https://example.com/blogs", mk("example.com", "page", "/blogs"), Countable},
		{"https://example.com/blogs/", mk("example.com", "page", "/blogs"), Countable},
		{"https://example.com/blogs/2024/post", mk("example.com", "page", "/blogs/2024/post"), Countable},
		{"https://example.com/apiary", mk("example.com", "page", "/apiary"), Countable},
		{"https://example.com/admin", item.Item{}, AdminPath},
		{"https://example.com/admin/users", item.Item{}, AdminPath},
		{"https://example.com/ops/views", item.Item{}, AdminPath},
		{"https://example.com/api/view", item.Item{}, AdminPath},
		{"https://example.com/API/x", item.Item{}, AdminPath},
		{"https://example.com//api/x", item.Item{}, AdminPath},
		{"https://example.com/Admin/y", item.Item{}, AdminPath},
		{"https://example.com/./ops/z", item.Item{}, AdminPath},
		{"https://example.com/blogs/../api/x", item.Item{}, AdminPath},
		{"https://example.com/%61pi/x", item.Item{}, AdminPath},
		{"https://example.com/assets/app.js", item.Item{}, StaticAsset},
		{"https://example.com/img/Logo.PNG", item.Item{}, StaticAsset},
		{"https://example.com/fonts/a.woff2", item.Item{}, StaticAsset},
		{"https://example.com/feed.xml", item.Item{}, StaticAsset},
		{"https://example.com/drafts/secret", item.Item{}, IgnoredPath},
		{"https://example.com/drafts", item.Item{}, IgnoredPath},
		{"https://example.com/preview-42", item.Item{}, IgnoredPath},
		{"https://example.com/tags/go/feed", item.Item{}, IgnoredPath},
		{"https://example.com/tags/go/feed/", item.Item{}, IgnoredPath},
		{"https://example.com/draftsman", mk("example.com", "page", "/draftsman"), Countable},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			u, err := url.Parse(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			got, reason := rules.Item(u)
			if reason != tt.reason || got != tt.want {
				t.Errorf("Item = %+v, %q; want %+v, %q", got, reason, tt.want, tt.reason)
			}
		})
	}
}

func TestRequest(t *testing.T) {
	tests := []struct {
		name   string
		method string
		header map[string]string
		want   Reason
	}{
		{"post", http.MethodPost, nil, Countable},
		{"head", http.MethodHead, nil, Head},
		{"sec-purpose prefetch", http.MethodPost, map[string]string{"Sec-Purpose": "prefetch"}, Prefetch},
		{"sec-purpose prerender", http.MethodPost, map[string]string{"Sec-Purpose": "prefetch;prerender"}, Prefetch},
		{"purpose prefetch", http.MethodPost, map[string]string{"Purpose": "prefetch"}, Prefetch},
		{"firefox prefetch", http.MethodPost, map[string]string{"X-Moz": "prefetch"}, Prefetch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, "/api/view", nil)
			for k, v := range tt.header {
				r.Header.Set(k, v)
			}
			if got := Request(r); got != tt.want {
				t.Errorf("Request = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseRoutes(t *testing.T) {
	routes, err := ParseRoutes("/posts/{slug}=post, /docs/{slug...}=doc")
	if err != nil {
		t.Fatal(err)
	}
	if got := FormatRoutes(routes); got != "/posts/{slug}=post,/docs/{slug...}=doc" {
		t.Errorf("FormatRoutes = %q", got)
	}
	rules, err := NewRules(routes, nil)
	if err != nil {
		t.Fatal(err)
	}
	for in, want := range map[string]item.Item{
		"https://x.org/posts/a":     mk("x.org", "post", "a"),
		"https://x.org/docs/a/b/c/": mk("x.org", "doc", "a/b/c"),
		"https://x.org/blogs/a":     mk("x.org", "page", "/blogs/a"),
	} {
		u, _ := url.Parse(in)
		if got, _ := rules.Item(u); got != want {
			t.Errorf("Item(%s) = %+v, want %+v", in, got, want)
		}
	}
	for _, bad := range []string{"/posts=post", "/posts/{slug}", "/posts/{slug}=Bad Type", "posts/{slug}=post", "/a/*/{slug}=x"} {
		if _, err := ParseRoutes(bad); err == nil {
			t.Errorf("ParseRoutes(%q) succeeded", bad)
		}
	}
}

func TestNewRulesRejectsBadGlob(t *testing.T) {
	for _, g := range []string{"drafts/*", "/[", ""} {
		if _, err := NewRules(nil, []string{g}); err == nil {
			t.Errorf("NewRules accepted ignore glob %q", g)
		}
	}
}

func BenchmarkItem(b *testing.B) {
	rules, _ := NewRules(nil, []string{"/drafts/**"})
	u, _ := url.Parse("https://blog.example.com/blogs/hello-world")
	b.ReportAllocs()
	for b.Loop() {
		rules.Item(u)
	}
}

func mk(site, typ, slug string) item.Item { return item.Item{Site: site, Type: typ, Slug: slug} }
