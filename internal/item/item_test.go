package item

import (
	"net/url"
	"strings"
	"testing"
)

func TestSite(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://blog.example.com/x", "blog.example.com"},
		{"https://WWW.Example.COM:8443/x", "example.com"},
		{"http://www.example.com./", "example.com"},
		{"http://wwwexample.com/", "wwwexample.com"},
		{"http://[2001:db8::1]:8080/", "2001:db8::1"},
	}
	for _, tt := range tests {
		u, err := url.Parse(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := Site(u); got != tt.want {
			t.Errorf("Site(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestNormalizeSite(t *testing.T) {
	for in, want := range map[string]string{" WWW.Example.com. ": "example.com", "blog.example.com": "blog.example.com", "": "",
		"Bücher.Example": "xn--bcher-kva.example", "www.例え.テスト": "xn--r8jz45g.xn--zckzah"} {
		if got := NormalizeSite(in); got != want {
			t.Errorf("NormalizeSite(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestKeyRoundTrip(t *testing.T) {
	for _, it := range []Item{
		{"example.com", "blog", "hello"},
		{"example.com", "home", ""},
		{"example.com", "page", "/a/b"},
	} {
		got, err := ParseKey(it.Key())
		if err != nil || got != it {
			t.Errorf("ParseKey(Key(%v)) = %v, %v", it, got, err)
		}
	}
	if _, err := ParseKey([]byte("no-separators")); err == nil {
		t.Error("ParseKey accepted a key without separators")
	}
}

func TestValidHost(t *testing.T) {
	for h, want := range map[string]bool{
		"blog.example.com": true, "localhost": true, "xn--bcher-kva.de": true, "example.com.": true,
		"127.0.0.1": true, "2001:db8::1": true, "my_host.internal": true,
		`=hyperlink("evil.example","x")`: false, "-evil.com": false, "a..b": false, "": false,
		"bücher.de": false, "+1.example": false, "@sum(a1)": false, "a b.com": false,
		strings.Repeat("a", 64) + ".com": false,
		"fe80::1%eth0":                   false, "fe80::1%<b>x</b>": false, "fe80::1": true,
		strings.Repeat("a.", 126) + "com": false, // 255 bytes
	} {
		if got := ValidHost(h); got != want {
			t.Errorf("ValidHost(%q) = %v, want %v", h, got, want)
		}
	}
}
