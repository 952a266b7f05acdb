package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// docSnippet returns the html block of docs/tracking.md after the marker <!-- snippet: name -->:
// the code the docs tell site owners to paste, so that the test runs exactly that.
func docSnippet(t *testing.T, name string) string {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "tracking.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "<!-- snippet: "+name+" -->\n```html\n")
	if !ok {
		t.Fatalf("docs/tracking.md has no html block marked snippet: %s", name)
	}
	block, _, _ := strings.Cut(rest, "```")
	return block
}

// TestTrackerSnippetsInBrowser serves the docs' own snippet as a page of a test site (tally's
// address for stats.example.com, and data-allow-local, since the site runs on 127.0.0.1) and
// checks what it promises: an event called inline before t.js has loaded is counted, the
// counter reads "1 view" and then "2 views", and it still fills when the view itself is
// blocked, as an ad blocker would.
func TestTrackerSnippetsInBrowser(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, t.TempDir())
	snippet := strings.ReplaceAll(docSnippet(t, "page"), "https://stats.example.com", app.URL())
	snippet = strings.Replace(snippet, "<script defer src=", "<script defer data-allow-local src=", 1)
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`<!doctype html><html><head><meta charset="utf-8"><title>Post</title></head><body>` + snippet + `</body></html>`))
	}))
	t.Cleanup(site.Close)

	tab := newBrowser(t)
	if err := chromedp.Do(tab, chromedp.Navigate(site.URL+"/blogs/hello"), poll(`document.querySelector('#views').textContent === '1 view'`)); err != nil {
		text, _ := chromedp.Run(tab, chromedp.Evaluate[string](`document.querySelector('#views').textContent`))
		t.Fatalf("the counter after the first view reads %q, want \"1 view\": %v", text, err)
	}
	waitTotal(t, app, "gallery_open", "sunset.jpg", 1) // called inline, before t.js ran
	if err := chromedp.Do(tab, chromedp.Reload(), poll(`document.querySelector('#views').textContent === '2 views'`)); err != nil {
		t.Fatalf("the counter after the second view: %v", err)
	}

	blocked := newBrowser(t)
	err := chromedp.Do(blocked,
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			if _, err := cdp.Call(ctx, tg, network.Enable, network.EnableParams{}); err != nil {
				return err
			}
			_, err := cdp.Call(ctx, tg, network.SetBlockedURLs, network.SetBlockedURLsParams{
				URLPatterns: []*network.BlockPattern{{URLPattern: app.URL() + "/api/view", Block: true}}})
			return err
		}),
		chromedp.Navigate(site.URL+"/blogs/hello"),
		poll(`document.querySelector('#views').textContent === '2 views'`),
	)
	if err != nil {
		text, _ := chromedp.Run(blocked, chromedp.Evaluate[string](`document.querySelector('#views').textContent`))
		t.Fatalf("with the view blocked the counter reads %q, want \"2 views\": %v", text, err)
	}
	waitTotal(t, app, "blog", "hello", 2) // the blocked view never arrived
}
