package scripts

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/evanw/esbuild/pkg/api"
)

const maxGzipped = 1536 // 1.5 KB

func TestTrackerIsSmall(t *testing.T) {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(trackerJS)
	zw.Close()
	t.Logf("t.js: %d bytes, %d gzipped", len(trackerJS), buf.Len())
	if buf.Len() > maxGzipped {
		t.Errorf("t.js is %d bytes gzipped, over the %d-byte budget", buf.Len(), maxGzipped)
	}
}

// TestMinifiedIsUpToDate rebuilds the .min.js files from their sources with the esbuild that
// go.mod pins (the one `go generate` runs) and compares: the committed files are what ship, so
// they must never drift from the source.
func TestMinifiedIsUpToDate(t *testing.T) {
	t.Parallel()
	for src, shipped := range map[string][]byte{"t.js": trackerJS, "like.js": likeJS} {
		code, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		res := api.Transform(string(code), api.TransformOptions{
			MinifyWhitespace: true, MinifyIdentifiers: true, MinifySyntax: true,
			Target: api.ES2017, LegalComments: api.LegalCommentsNone, Sourcefile: src,
		})
		if len(res.Errors) > 0 {
			t.Fatalf("esbuild %s: %v", src, res.Errors)
		}
		if !bytes.Equal(res.Code, shipped) {
			t.Errorf("the minified %s is stale: run go generate ./internal/scripts and commit it", src)
		}
	}
}

func TestServe(t *testing.T) {
	mux := http.NewServeMux()
	New().Register(mux)
	icon := httptest.NewRecorder()
	mux.ServeHTTP(icon, httptest.NewRequest("GET", "/favicon.ico", nil))
	if icon.Code != http.StatusNoContent || icon.Header().Get("Cache-Control") == "" {
		t.Errorf("GET /favicon.ico: %d %v, want 204, cached", icon.Code, icon.Header())
	}
	for path, body := range map[string][]byte{"/t.js": trackerJS, "/like.js": likeJS} {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != 200 || !bytes.Equal(rec.Body.Bytes(), body) || rec.Header().Get("Content-Type") != "text/javascript; charset=utf-8" {
			t.Errorf("GET %s: %d, %d bytes, %q", path, rec.Code, rec.Body.Len(), rec.Header().Get("Content-Type"))
		}
	}
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", "/t.js", nil))
	for k, want := range map[string]string{
		"Content-Type":  "text/javascript; charset=utf-8",
		"Cache-Control": "public, max-age=3600",
	} {
		if got := rec.Header().Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	etag := rec.Header().Get("ETag")
	req := httptest.NewRequest("GET", "/t.js", nil)
	req.Header.Set("If-None-Match", etag)
	rec = httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotModified || rec.Body.Len() != 0 {
		t.Errorf("revalidation with the ETag: %d, %d bytes; want 304 and no body", rec.Code, rec.Body.Len())
	}
}

// TestServedCompressed: browsers (Accept-Encoding: gzip) get the scripts gzipped, about a third
// of their size, with Vary; other clients the plain script.
func TestServedCompressed(t *testing.T) {
	mux := http.NewServeMux()
	New().Register(mux)
	for _, path := range []string{"/t.js", "/like.js"} {
		for _, enc := range []string{"gzip, deflate, br", "identity", "gzip;q=0", ""} {
			req := httptest.NewRequest("GET", path, nil)
			if enc != "" {
				req.Header.Set("Accept-Encoding", enc)
			}
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, req)
			body := rec.Body.Bytes()
			gz := rec.Header().Get("Content-Encoding") == "gzip"
			if want := enc == "gzip, deflate, br"; gz != want {
				t.Errorf("%s with Accept-Encoding %q: gzipped=%v, want %v", path, enc, gz, want)
			}
			if rec.Header().Get("Vary") != "Accept-Encoding" {
				t.Errorf("%s: Vary %q", path, rec.Header().Get("Vary"))
			}
			if gz {
				zr, err := gzip.NewReader(bytes.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				plain, _ := io.ReadAll(zr)
				if len(body) >= len(plain)*6/10 || !bytes.Contains(plain, []byte("function")) && !bytes.Contains(plain, []byte("=>")) {
					t.Errorf("%s: %d bytes gzipped for %d plain", path, len(body), len(plain))
				}
			}
		}
	}
}
