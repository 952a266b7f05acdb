package ingest

import (
	"bytes"
	"net/http/httptest"
	"testing"
)

// FuzzDecodeBeacon feeds arbitrary bodies to the beacon decoder: it must never panic, and
// whatever it accepts must be a JSON object with an absolute http(s) URL within the limits.
func FuzzDecodeBeacon(f *testing.F) {
	for _, seed := range []string{
		`{"url":"https://blog.example.com/blogs/hello"}`,
		`{"url":"https://blog.example.com/","referrer":"https://news.example.org/"}`,
		`{"url":42}`, `[]`, `{}`, `null`, `{"url":"javascript:alert(1)"}`, `{"url":"http://[::1]:8080/x"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r := httptest.NewRequest("POST", "/api/view", bytes.NewReader(body))
		var b viewBeacon
		if err := decodeBody(r, &b); err != nil {
			return
		}
		if len(body) > MaxBeaconBytes {
			t.Fatalf("accepted a body of %d bytes", len(body))
		}
		u, err := parsePageURL(b.URL)
		if err != nil {
			return
		}
		if (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || len(b.URL) > maxURLLength {
			t.Fatalf("accepted url %q", b.URL)
		}
	})
}
