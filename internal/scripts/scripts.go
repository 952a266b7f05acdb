// Package scripts serves the scripts a site embeds: /t.js, the page-view tracker, and
// /like.js, the like button. They are written by hand in plain JavaScript (t.js, like.js) and
// shipped minified (t.min.js, like.min.js, committed, so building tally never needs Node). The
// minifier is esbuild, pinned as a Go tool in go.mod, so neither generating nor testing needs npm.
package scripts

//go:generate go tool esbuild t.js --minify --target=es2017 --legal-comments=none --outfile=t.min.js
//go:generate go tool esbuild like.js --minify --target=es2017 --legal-comments=none --outfile=like.min.js

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"net/http"
	"strings"
)

//go:embed t.min.js
var trackerJS []byte

//go:embed like.min.js
var likeJS []byte

// Handler serves the embedded scripts.
type Handler struct {
	tracker, like asset
}

type asset struct {
	body, gzipped []byte
	etag          string
}

// newAsset compresses the script once, at start: browsers get the gzip (about a third of the
// size), anything else the plain text.
func newAsset(b []byte) asset {
	sum := sha256.Sum256(b)
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(b)
	zw.Close()
	return asset{body: b, gzipped: buf.Bytes(), etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
}

// New returns a Handler for the embedded scripts.
func New() *Handler {
	return &Handler{tracker: newAsset(trackerJS), like: newAsset(likeJS)}
}

// Register adds GET /t.js, GET /like.js and GET /favicon.ico to mux.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.Handle("GET /t.js", h.tracker)
	mux.Handle("GET /like.js", h.like)
	mux.HandleFunc("GET /favicon.ico", noIcon)
}

// noIcon answers the browser's request for the dashboard's icon with "no content", cached for a
// day, instead of a 404 (and a log line) on every page of the dashboard.
func noIcon(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Cache-Control", "public, max-age=86400")
	w.WriteHeader(http.StatusNoContent)
}

// ServeHTTP sends the script with a short public cache lifetime, so a new tally version
// reaches pages within the hour, and an ETag, so revalidation costs no body.
func (a asset) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Header().Set("ETag", a.etag)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	// Sites on other origins load it with <script src>; nothing here is secret.
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Header().Set("Vary", "Accept-Encoding")
	if r.Header.Get("If-None-Match") == a.etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if acceptsGzip(r) {
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(a.gzipped)
		return
	}
	w.Write(a.body)
}

// acceptsGzip reports whether the client takes gzip (Accept-Encoding: gzip, not with q=0).
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			return !strings.Contains(strings.ReplaceAll(params, " ", ""), "q=0") || strings.Contains(params, "q=0.")
		}
	}
	return false
}
