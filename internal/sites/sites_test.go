package sites

import (
	"net/http/httptest"
	"testing"
)

func TestParse(t *testing.T) {
	l, err := Parse(" Blog.Example.com, www.example.org:8080 ,")
	if err != nil {
		t.Fatal(err)
	}
	if got := l.String(); got != "blog.example.com,example.org" {
		t.Errorf("String = %q", got)
	}
	for site, want := range map[string]bool{"blog.example.com": true, "example.org": true, "evil.example": false} {
		if got := l.Allowed(site); got != want {
			t.Errorf("Allowed(%s) = %v", site, got)
		}
	}
	if empty, _ := Parse(""); !empty.Any() || !empty.Allowed("anything.example") {
		t.Error("an empty list must allow any site")
	}
	for _, bad := range []string{"https://x.com/path", "x.com/blog"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) succeeded", bad)
		}
	}
}

func TestOriginSite(t *testing.T) {
	tests := []struct {
		origin, site string
		ok           bool
	}{
		{"", "", true},
		{"https://www.Example.com", "example.com", true},
		{"null", "", false},
		{"http://example.com:8080", "example.com", true},
		// Same host, but not a web page of it: an extension or a file is not the site.
		{"chrome-extension://example.com", "", false},
		{"file://example.com", "", false},
		{"ftp://example.com", "", false},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/", nil)
		if tt.origin != "" {
			r.Header.Set("Origin", tt.origin)
		}
		site, ok := OriginSite(r)
		if site != tt.site || ok != tt.ok {
			t.Errorf("OriginSite(%q) = %q, %v", tt.origin, site, ok)
		}
	}
}
