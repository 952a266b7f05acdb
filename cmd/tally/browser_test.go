package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/tallyhq/tally/internal/store/storetest"
)

// chromiumPath finds Debian's chromium (or another Chrome) for browser tests.
func chromiumPath(t *testing.T) string {
	t.Helper()
	storetest.ShortSkip(t, "Chromium")
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is missing in CI; .ci/run installs it (apt-get install chromium)")
	}
	t.Skip("chromium not installed (apt-get install chromium); skipping browser test")
	return ""
}

// newBrowser starts headless Chromium with a normal Chrome User-Agent (HeadlessChrome is a bot
// and rightly never counted) and without the automation flag, which would set
// navigator.webdriver and make every view a webdriver view, rightly not counted either.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	return startBrowser(t, chromedp.Flag("disable-blink-features", "AutomationControlled"))
}

// newAutomatedBrowser starts Chromium as automation tools do: navigator.webdriver is set.
func newAutomatedBrowser(t *testing.T) context.Context {
	t.Helper()
	return startBrowser(t)
}

func startBrowser(t *testing.T, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.UserAgent(chromeUA),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	opts = append(opts, extra...)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// catchWarnings is an action that makes every page the tab loads keep its console warnings in
// window.__warns, for tests of what t.js and like.js tell the site's owner.
func catchWarnings() chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: `window.__warns = [];
(function (warn) { console.warn = function () { window.__warns.push(Array.prototype.join.call(arguments, ' ')); warn.apply(console, arguments); }; })(console.warn);`})
		return err
	})
}

// poll waits up to 10 s for a JavaScript condition in the page.
func poll(expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(10*time.Second))
}

// newTab opens another tab in the same browser, sharing its cookies and storage.
func newTab(t *testing.T, browser context.Context) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser)
	t.Cleanup(cancel)
	return ctx
}

// screenshot saves the tab as a PNG in $TALLY_ARTIFACTS (default: artifacts/ at the repository
// root) for a person to look at.
// updateScreenshots rewrites the README's pictures in docs/img from the browser tests that take
// them: go test ./cmd/tally -run TestDashboardInBrowser -update-screenshots.
var updateScreenshots = flag.Bool("update-screenshots", false, "rewrite docs/img/*.png from the browser tests")

// docScreenshot writes what the tab shows (its viewport) to docs/img/NAME.png under
// -update-screenshots, so the README's picture is always of the dashboard as it is.
func docScreenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	if !*updateScreenshots {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot for docs/img/%s.png: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join("..", "..", "docs", "img", name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("TALLY_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("..", "..", "artifacts")
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return
	}
	if err := os.MkdirAll(dir, 0o755); err == nil {
		os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644)
	}
}

// siteServer serves a small blog on 127.0.0.1 whose pages load t.js from tally.
func siteServer(t *testing.T, tallyURL string) string {
	t.Helper()
	pageHTML := func(title, scriptAttrs, body string) string {
		return `<!doctype html><html><head><meta charset="utf-8"><title>` + title + `</title>
<script defer ` + scriptAttrs + ` src="` + tallyURL + `/t.js"></script></head>
<body><h1>` + title + `</h1>` + body + `</body></html>`
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/blogs/first", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, pageHTML("First post", "data-allow-local", `
<p><span id="count" data-tally-count></span> views</p>
<p><a id="cv" href="#cv" data-tally-event="resume_download" data-tally-target="cv.pdf">Download my CV</a></p>
<button id="next" onclick="history.pushState({}, '', '/blogs/second')">Next post</button>`))
	})
	mux.HandleFunc("/elsewhere", func(w http.ResponseWriter, r *http.Request) { // another site, without t.js
		fmt.Fprintf(w, `<!doctype html><html><head><meta charset="utf-8"><title>Elsewhere</title></head>
<body><a id="to-site" href="%s/blogs/first?utm_source=Newsletter">a post</a></body></html>`, r.URL.Query().Get("to"))
	})
	mux.HandleFunc("/blogs/dnt", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, pageHTML("Private", "data-allow-local data-respect-dnt", `<p><span id="count" data-tally-count></span> views</p>`))
	})
	mux.HandleFunc("/blogs/local", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, pageHTML("Local", "", `<p><span id="count" data-tally-count></span> views</p>`))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

// waitTotal polls tally's live count of a blog post on site 127.0.0.1 until it equals want.
func waitTotal(t *testing.T, app *testApp, typ, slug string, want int64) {
	t.Helper()
	var c counts
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		app.getJSON(t, "/api/counts?site=127.0.0.1&type="+typ+"&slug="+slug, &c)
		if c.Total == want {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s/%s total = %d, want %d", typ, slug, c.Total, want)
}

func TestTrackerInBrowser(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, t.TempDir())
	site := siteServer(t, app.URL())
	tab := newBrowser(t)

	// One view on load, and the counter on the page shows it.
	if err := chromedp.Do(tab,
		chromedp.Navigate(site+"/blogs/first"),
		poll(`document.querySelector('#count').textContent === '1'`),
	); err != nil {
		t.Fatalf("the view counter never read 1: %v", err)
	}
	waitTotal(t, app, "blog", "first", 1)

	// A single-page navigation counts once; going back counts the first page again.
	if err := chromedp.Do(tab, chromedp.Click(chromedp.ID("next"))); err != nil {
		t.Fatal(err)
	}
	waitTotal(t, app, "blog", "second", 1)
	if err := chromedp.Do(tab, chromedp.Evaluate[chromedp.Void](`history.back()`)); err != nil {
		t.Fatal(err)
	}
	waitTotal(t, app, "blog", "first", 2)

	// A declarative click event, checked against the server-derived session id.
	if err := chromedp.Do(tab, chromedp.Click(chromedp.ID("cv"))); err != nil {
		t.Fatal(err)
	}
	waitTotal(t, app, "resume_download", "cv.pdf", 1)

	// Nothing more arrives late: exactly one view per navigation.
	time.Sleep(500 * time.Millisecond)
	waitTotal(t, app, "blog", "first", 2)
	waitTotal(t, app, "blog", "second", 1)
	screenshot(t, tab, "tracker-page")

	// tally.event from the page's own code.
	if err := chromedp.Do(tab, chromedp.Evaluate[chromedp.Void](`tally.event("gallery_open", "sunset.jpg")`)); err != nil {
		t.Fatal(err)
	}
	waitTotal(t, app, "gallery_open", "sunset.jpg", 1)

	// A link from another site: its host is the source, and the campaign comes from the URL;
	// the page's own navigations were no source at all.
	elsewhere := strings.Replace(site, "127.0.0.1", "localhost", 1) + "/elsewhere?to=" + url.QueryEscape(site)
	if err := chromedp.Do(tab, chromedp.Navigate(elsewhere), chromedp.Click(chromedp.ID("to-site"))); err != nil {
		t.Fatal(err)
	}
	waitTotal(t, app, "blog", "first", 3)
	if code, body := app.admin(t, "/ops/api/flush", testPassword); code != 200 {
		t.Fatalf("flush: %d %s", code, body)
	}
	for query, want := range map[string]string{
		"dim=referrer":   "(direct) 1/1, localhost 1/0", // one visitor, who came directly first
		"dim=utm_source": "newsletter 1/0",
		"dim=browser":    "Chrome 4/1",
	} {
		var b breakdown
		apiGet(t, app, "/ops/api/breakdown?site=127.0.0.1&"+query, &b)
		if b.String() != want {
			t.Errorf("%s: %s, want %s", query, b, want)
		}
	}
}

// TestWebdriverViewIsNotCounted: a browser under automation says so through
// navigator.webdriver; t.js passes it on, and the view is answered as any other but not
// counted, and the owner sees it under "Not counted".
func TestWebdriverViewIsNotCounted(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, t.TempDir())
	site := siteServer(t, app.URL())
	tab := newAutomatedBrowser(t)
	if err := chromedp.Do(tab,
		chromedp.Navigate(site+"/blogs/first"),
		poll(`navigator.webdriver === true && document.querySelector('#count').textContent === '0'`),
	); err != nil {
		t.Fatalf("the counter of an automated browser never read 0: %v", err)
	}
	// The same page in a browser that is not automated counts.
	if err := chromedp.Do(newBrowser(t), chromedp.Navigate(site+"/blogs/first"), poll(`document.querySelector('#count').textContent === '1'`)); err != nil {
		t.Fatalf("a person's view after the automated one: %v", err)
	}
	if code, body := app.admin(t, "/ops/api/flush", testPassword); code != 200 {
		t.Fatalf("flush: %d %s", code, body)
	}
	var ex struct {
		Reasons []struct {
			Reason string
			Count  int
		}
	}
	apiGet(t, app, "/ops/api/excluded?site=127.0.0.1&days=7", &ex)
	if fmt.Sprint(ex.Reasons) != "[{webdriver 1}]" {
		t.Errorf("not counted: %+v, want one webdriver view", ex.Reasons)
	}
}

func TestTrackerHonoursDoNotTrack(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, t.TempDir())
	site := siteServer(t, app.URL())
	tab := newBrowser(t)
	err := chromedp.Do(tab,
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
				Source: `Object.defineProperty(Navigator.prototype, 'doNotTrack', {get: () => '1'})`,
			})
			return err
		}),
		chromedp.Navigate(site+"/blogs/dnt"),
		// The counter is still filled in (reading is fine), which proves t.js ran.
		poll(`document.querySelector('#count').textContent === '0'`),
	)
	if err != nil {
		t.Fatalf("t.js did not run on the DNT page: %v", err)
	}
	time.Sleep(500 * time.Millisecond)
	waitTotal(t, app, "blog", "dnt", 0)
}

func TestTrackerSkipsLocalhostAndTheOwner(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, t.TempDir())
	site := siteServer(t, app.URL())
	browser := newBrowser(t)

	// Without data-allow-local, a page on 127.0.0.1 is a developer's preview.
	if err := chromedp.Do(browser,
		chromedp.Navigate(site+"/blogs/local"),
		poll(`document.querySelector('#count').textContent === '0'`),
	); err != nil {
		t.Fatalf("t.js did not run: %v", err)
	}

	// The owner opts out once with #tally-ignore, and the console says so; later visits in this
	// browser are not counted.
	tab := newTab(t, browser)
	if err := chromedp.Do(tab,
		catchWarnings(),
		chromedp.Navigate(site+"/blogs/first#tally-ignore"),
		poll(`document.querySelector('#count').textContent === '0'`),
		poll(`window.__warns.some(w => w.includes('this browser is now ignored'))`),
		chromedp.Navigate(site+"/blogs/first"),
		poll(`document.querySelector('#count').textContent === '0'`),
	); err != nil {
		t.Fatalf("owner opt-out: %v", err)
	}
	time.Sleep(300 * time.Millisecond)
	waitTotal(t, app, "blog", "local", 0)
	waitTotal(t, app, "blog", "first", 0)

	// And #tally-unignore turns counting back on.
	// Arriving afresh, as from the dashboard's link (a change of fragment alone would not load
	// the page again).
	if err := chromedp.Do(newTab(t, browser),
		chromedp.Navigate(site+"/blogs/first#tally-unignore"),
		poll(`document.querySelector('#count').textContent === '1'`),
	); err != nil {
		t.Fatalf("#tally-unignore: %v", err)
	}
}

// TestLikeButtonInBrowser presses the like button 17 times, sees it stop at 16 and reach the
// summit, then reloads and sees the visitor's count at once (from localStorage) and the total
// from the server.
func TestLikeButtonInBrowser(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, t.TempDir())
	site := serveHTML(t, map[string]string{
		"/blogs/liked": `<!doctype html><html><head><meta charset="utf-8"><title>Liked</title>
<script defer src="` + app.URL() + `/like.js"></script></head>
<body style="font: 24px sans-serif; padding: 40px"><h1>A post worth liking</h1><tally-like sound></tally-like></body></html>`,
	})

	tab := newBrowser(t)
	firstUser := `window.__firstUser = null;
new MutationObserver(function (ms) {
  ms.forEach(function (m) {
    if (window.__firstUser === null) window.__firstUser = m.target.getAttribute('data-user');
  });
}).observe(document, {attributes: true, subtree: true, attributeFilter: ['data-user']});`
	if err := chromedp.Do(tab,
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: firstUser})
			return err
		}),
		chromedp.Navigate(site.URL+"/blogs/liked"),
		poll(`document.querySelector('tally-like').getAttribute('data-total') === '0'`),
	); err != nil {
		t.Fatalf("the button did not load: %v", err)
	}

	box, err := chromedp.Run(tab, chromedp.Evaluate[[]float64](`(function () {
		var r = document.querySelector('tally-like').shadowRoot.querySelector('.like').getBoundingClientRect();
		return [r.x + r.width / 2, r.y + r.height / 2];
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	for range 17 {
		if err := chromedp.Do(tab, chromedp.MouseClickXY(box[0], box[1])); err != nil {
			t.Fatal(err)
		}
	}
	if err := chromedp.Do(tab,
		poll(`document.querySelector('tally-like').getAttribute('data-user') === '16'`),
		poll(`document.querySelector('tally-like').getAttribute('data-state') === 'summit'`),
	); err != nil {
		t.Fatalf("after 17 presses: %v", err)
	}
	label, _ := chromedp.Run(tab, chromedp.Evaluate[string](`document.querySelector('tally-like').shadowRoot.querySelector('.like').getAttribute('aria-label') + ' ' +
		document.querySelector('tally-like').shadowRoot.querySelector('.like').getAttribute('aria-pressed')`))
	if !strings.Contains(label, "16 of 16") || !strings.HasSuffix(label, "true") {
		t.Errorf("accessible label %q", label)
	}
	screenshot(t, tab, "like-summit")

	// The presses reach the server as batches: exactly 16 likes.
	var c counts
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		app.getJSON(t, "/api/counts?site=127.0.0.1&type=blog&slug=liked", &c)
		if c.Likes == 16 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if c.Likes != 16 {
		t.Fatalf("server likes = %d, want 16", c.Likes)
	}
	// Another visitor's like: after the reload the total must come from the server.
	req, _ := http.NewRequest("POST", app.URL()+"/api/like", strings.NewReader(`{"url":"`+site.URL+`/blogs/liked"}`))
	req.Header.Set("User-Agent", chromeUA+" Other/1")
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	}

	if err := chromedp.Do(tab,
		chromedp.Reload(),
		poll(`document.querySelector('tally-like').getAttribute('data-total') === '17'`),
	); err != nil {
		t.Fatalf("after reload, the total did not come from the server: %v", err)
	}
	first, _ := chromedp.Run(tab, chromedp.Evaluate[string](`String(window.__firstUser)`))
	if first != "16" {
		t.Errorf("on reload the button first showed user %q, want 16 from localStorage", first)
	}
	user, _ := chromedp.Run(tab, chromedp.Evaluate[string](`document.querySelector('tally-like').getAttribute('data-user')`))
	if user != "16" {
		t.Errorf("after the server answered, user = %q, want 16", user)
	}
}

// TestScriptsSayWhatIsWrong: on a site tally refuses, t.js and like.js say so in the console
// with what to change, the like button takes back the likes the server did not take (also after
// a reload), and a local preview says how to count it.
func TestScriptsSayWhatIsWrong(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, t.TempDir(), "--sites", "blog.example.org")
	site := serveHTML(t, map[string]string{
		"/blogs/refused": `<!doctype html><html><head><meta charset="utf-8"><title>Refused</title>
<script defer data-allow-local src="` + app.URL() + `/t.js"></script><script defer src="` + app.URL() + `/like.js"></script></head>
<body><h1>Refused</h1><tally-like></tally-like></body></html>`,
		"/blogs/local": `<!doctype html><html><head><meta charset="utf-8"><title>Local</title>
<script defer src="` + app.URL() + `/t.js"></script></head><body><h1>Local</h1></body></html>`,
	})

	tab := newBrowser(t)
	if err := chromedp.Do(tab,
		catchWarnings(),
		chromedp.Navigate(site.URL+"/blogs/refused"),
		poll(`window.__warns.some(w => w.includes('add 127.0.0.1 to --sites'))`),
	); err != nil {
		warns, _ := chromedp.Run(tab, chromedp.Evaluate[string](`JSON.stringify(window.__warns)`))
		t.Fatalf("t.js on a refused site: %v; console: %s", err, warns)
	}
	box, err := chromedp.Run(tab, chromedp.Evaluate[[]float64](`(function () {
		var r = document.querySelector('tally-like').shadowRoot.querySelector('.like').getBoundingClientRect();
		return [r.x + r.width / 2, r.y + r.height / 2];
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		chromedp.Do(tab, chromedp.MouseClickXY(box[0], box[1]))
	}
	if err := chromedp.Do(tab,
		poll(`window.__warns.some(w => w.includes('the like was not recorded'))`),
		poll(`document.querySelector('tally-like').getAttribute('data-user') === '0'`),
		chromedp.Reload(),
		poll(`document.querySelector('tally-like') && document.querySelector('tally-like').getAttribute('data-user') === '0'`),
	); err != nil {
		warns, _ := chromedp.Run(tab, chromedp.Evaluate[string](`JSON.stringify(window.__warns)`))
		t.Fatalf("likes the server refused: %v; console: %s", err, warns)
	}
	if err := chromedp.Do(tab,
		chromedp.Navigate(site.URL+"/blogs/local"),
		poll(`window.__warns.some(w => w.includes('add data-allow-local'))`),
	); err != nil {
		t.Fatalf("a local preview: %v", err)
	}
}

// TestLikeButtonLooks: the pill sits on the line of the text around it; the take-back button is
// at least 24×24 px and labelled; the visitor's "n/16" shows whose number is whose; screenshots
// of 0, 8 and 16 presses land in artifacts/.
func TestLikeButtonLooks(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, t.TempDir())
	site := serveHTML(t, map[string]string{
		"/blogs/looks": `<!doctype html><html><head><meta charset="utf-8"><title>Looks</title>
<script defer src="` + app.URL() + `/like.js"></script></head>
<body style="font: 20px sans-serif; padding: 40px"><p>Liked it? <tally-like></tally-like> <span id="after">thanks</span></p></body></html>`,
	})
	tab := newBrowser(t)
	if err := chromedp.Do(tab,
		chromedp.EmulateViewport(600, 200),
		chromedp.Navigate(site.URL+"/blogs/looks"),
		poll(`document.querySelector('tally-like').getAttribute('data-total') === '0'`),
	); err != nil {
		t.Fatal(err)
	}
	screenshot(t, tab, "like-0")
	geometry := `(function () {
		var root = document.querySelector('tally-like').shadowRoot, b = root.querySelector('.like').getBoundingClientRect(),
			u = root.querySelector('.undo').getBoundingClientRect(), a = document.querySelector('#after').getBoundingClientRect();
		return [b.x + b.width / 2, b.y + b.height / 2, a.y + a.height / 2, u.width, u.height];
	})()`
	g, err := chromedp.Run(tab, chromedp.Evaluate[[]float64](geometry))
	if err != nil {
		t.Fatal(err)
	}
	if d := g[1] - g[2]; d < -4 || d > 4 {
		t.Errorf("the pill's middle is %.1f px off the text's", d)
	}
	press := func(n int) {
		for range n {
			chromedp.Do(tab, chromedp.MouseClickXY(g[0], g[1]))
		}
	}
	press(8)
	if err := chromedp.Do(tab, poll(`document.querySelector('tally-like').shadowRoot.querySelector('.mine').textContent === 'you 8/16'`)); err != nil {
		t.Fatalf("after 8 presses: %v", err)
	}
	time.Sleep(300 * time.Millisecond) // let the fill's transition end
	screenshot(t, tab, "like-8")
	g, _ = chromedp.Run(tab, chromedp.Evaluate[[]float64](geometry))
	if g[3] < 24 || g[4] < 24 {
		t.Errorf("the take-back button is %.0f×%.0f px, want at least 24×24", g[3], g[4])
	}
	label, _ := chromedp.Run(tab, chromedp.Evaluate[string](`document.querySelector('tally-like').shadowRoot.querySelector('.undo').getAttribute('aria-label')`))
	if !strings.Contains(label, "Take back") {
		t.Errorf("the take-back button's label is %q", label)
	}
	press(8)
	if err := chromedp.Do(tab, poll(`document.querySelector('tally-like').getAttribute('data-state') === 'summit'`)); err != nil {
		t.Fatalf("after 16 presses: %v", err)
	}
	screenshot(t, tab, "like-16")
}

// serveHTML serves each page's HTML at its path on 127.0.0.1: a site with tally's scripts.
func serveHTML(t *testing.T, pages map[string]string) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	for path, html := range pages {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, html) })
	}
	site := httptest.NewServer(mux)
	t.Cleanup(site.Close)
	return site
}

// TestLikeHeartFillsEveryPress renders the heart at 0 to 16 of 16 likes, at the button's own
// size, and checks that every press changes what the visitor sees (once, presses 1–3 looked
// empty and 13–15 full: the fill rose through the whole 24-unit box, not the heart).
func TestLikeHeartFillsEveryPress(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, t.TempDir())
	site := serveHTML(t, map[string]string{
		"/blogs/heart": `<!doctype html><html><head><meta charset="utf-8"><title>Heart</title>
<script defer src="` + app.URL() + `/like.js"></script></head>
<body style="font: 16px sans-serif; padding: 20px"><tally-like></tally-like></body></html>`,
	})
	tab := newBrowser(t)
	if err := chromedp.Do(tab,
		chromedp.EmulateViewport(400, 120),
		chromedp.Navigate(site.URL+"/blogs/heart"),
		poll(`document.querySelector('tally-like').getAttribute('data-total') === '0'`),
		// No transitions, so each render is final at once, and only the heart shows: the numbers
		// beside it change with every press and must not make two hearts differ.
		chromedp.Evaluate[chromedp.Void](`(function () { var s = document.createElement('style');
			s.textContent = '*{transition:none!important;animation:none!important}.count,.mine,.undo{visibility:hidden}';
			document.querySelector('tally-like').shadowRoot.appendChild(s); })()`),
	); err != nil {
		t.Fatal(err)
	}
	var last []byte
	for n := 0; n <= 16; n++ {
		if err := chromedp.Do(tab, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(
			`(function () { var el = document.querySelector('tally-like'); el.user = %d; el.render(false); })()`, n))); err != nil {
			t.Fatal(err)
		}
		shot, err := chromedp.Run(tab, chromedp.Screenshot(chromedp.CSS("tally-like")))
		if err != nil {
			t.Fatal(err)
		}
		if last != nil && bytes.Equal(shot, last) {
			t.Errorf("the heart at %d of 16 likes looks the same as at %d", n, n-1)
		}
		last = shot
	}
}

// TestLikesPastTheBudgetSayNotTaken: behind one address whose --like-budget is spent, the
// presses the server did not take are taken back, and the button and the console say why
// (a reader once saw 67 fall back to 64 without a word).
func TestLikesPastTheBudgetSayNotTaken(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, t.TempDir(), "--like-budget", "2")
	site := serveHTML(t, map[string]string{
		"/blogs/budget": `<!doctype html><html><head><meta charset="utf-8"><title>Budget</title>
<script defer src="` + app.URL() + `/like.js"></script></head><body><tally-like></tally-like></body></html>`,
	})
	tab := newBrowser(t)
	if err := chromedp.Do(tab,
		catchWarnings(),
		chromedp.Navigate(site.URL+"/blogs/budget"),
		poll(`document.querySelector('tally-like').getAttribute('data-total') === '0'`),
		// Three quick presses: one request for three likes, of which the budget takes two.
		chromedp.Evaluate[chromedp.Void](`(function () { var b = document.querySelector('tally-like').shadowRoot.querySelector('.like');
			b.click(); b.click(); b.click(); })()`),
		poll(`document.querySelector('tally-like').getAttribute('data-user') === '2'`),
		poll(`document.querySelector('tally-like').shadowRoot.querySelector('.note').textContent.includes('not taken')`),
		poll(`window.__warns.some(w => w.includes('not taken') && w.includes('--like-budget'))`),
	); err != nil {
		note, _ := chromedp.Run(tab, chromedp.Evaluate[string](`document.querySelector('tally-like').shadowRoot.querySelector('.note').textContent + ' | ' + JSON.stringify(window.__warns)`))
		t.Fatalf("likes past the budget: %v; note and console: %s", err, note)
	}
}
