package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// TestDashboardInBrowser logs in with a real browser, reads the tiles, sorts the table, opens
// an item's trend and presses Flush now after new views.
func TestDashboardInBrowser(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, t.TempDir())
	seedDashboard(t, app)

	tab := newBrowser(t)
	var total, unique, today string
	err := chromedp.Do(tab,
		chromedp.EmulateViewport(1200, 1000),
		logInToDashboard(app),
	)
	if err != nil {
		t.Fatalf("log in: %v", err)
	}
	total, _ = chromedp.Run(tab, chromedp.Text(chromedp.ID("kpi-total")))
	unique, _ = chromedp.Run(tab, chromedp.Text(chromedp.ID("kpi-unique")))
	today, _ = chromedp.Run(tab, chromedp.Text(chromedp.ID("kpi-today")))

	var s struct {
		Total, Unique int64
		Today         int64 `json:"views_today"`
	}
	apiGet(t, app, "/ops/api/summary", &s)
	if total != strconv.FormatInt(s.Total, 10) || unique != strconv.FormatInt(s.Unique, 10) || today != strconv.FormatInt(s.Today, 10) {
		t.Errorf("tiles total=%s unique=%s today=%s; the API says %+v", total, unique, today, s)
	}
	if s.Total != 6+5+6+5+3+2+3+2+1+0+1+0 {
		t.Errorf("total %d, want every view sent", s.Total)
	}
	screenshot(t, tab, "dashboard")
	docScreenshot(t, tab, "dashboard")

	// Sort by unique: the table follows the API's order.
	var items struct{ Items []struct{ Slug string } }
	apiGet(t, app, "/ops/api/items?sort=unique", &items)
	if err := chromedp.Do(tab, chromedp.Click(chromedp.ID("sort-unique")), chromedp.WaitVisible(chromedp.CSS("#sort-unique[aria-current]"))); err != nil {
		t.Fatal(err)
	}
	firstSlug, err := chromedp.Run(tab, chromedp.Text(chromedp.CSS("#items tbody tr:first-child td.slug")))
	if err != nil || firstSlug != items.Items[0].Slug {
		t.Errorf("first row after sorting by unique: %q (%v), API: %q", firstSlug, err, items.Items[0].Slug)
	}

	// Open the first item's trend in the dialog.
	if err := chromedp.Do(tab,
		chromedp.Click(chromedp.CSS("#items tbody tr:first-child a.trend-link")),
		chromedp.WaitVisible(chromedp.ID("trend-total")),
	); err != nil {
		t.Fatalf("trend dialog: %v", err)
	}
	open, _ := chromedp.Run(tab, chromedp.Evaluate[bool](`document.getElementById('trend').open`))
	if !open {
		t.Error("the trend opened, but not in the dialog")
	}
	// The dialog shows the 30 days it promises, whatever the dashboard's period, and the likes.
	dialogText, _ := chromedp.Run(tab, chromedp.Evaluate[string](`document.querySelector('#trend figcaption').textContent + ' | ' +
		(document.getElementById('trend-likes') ? document.getElementById('trend-likes').textContent : 'no likes')`))
	if !strings.Contains(dialogText, "last 30 days") || strings.Contains(dialogText, "no likes") {
		t.Errorf("the trend dialog: %q, want the last 30 days and the item's likes", dialogText)
	}
	screenshot(t, tab, "dashboard-trend")
	if err := chromedp.Do(tab, chromedp.Click(chromedp.CSS("#trend .close")), chromedp.WaitNotVisible(chromedp.ID("trend"))); err != nil {
		t.Fatal(err)
	}

	// New views and a crawler's, then Flush now: the tiles move, and the crawler shows in
	// "Not counted" by name.
	for v := range 4 {
		app.beacon(t, "https://blog.example.com/blogs/new-post", fmt.Sprintf("203.0.113.%d", v), chromeUA)
	}
	for v := range 3 {
		app.beacon(t, "https://blog.example.com/blogs/new-post", fmt.Sprintf("203.0.113.%d", 50+v), "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)")
	}
	if err := chromedp.Do(tab,
		chromedp.Click(chromedp.ID("flush-now")),
		chromedp.WaitVisible(chromedp.ID("flushed")),
	); err != nil {
		t.Fatalf("Flush now: %v", err)
	}
	after, _ := chromedp.Run(tab, chromedp.Text(chromedp.ID("kpi-total")))
	if after != strconv.FormatInt(s.Total+4, 10) {
		t.Errorf("total after Flush now = %s, want %d", after, s.Total+4)
	}
	todayAfter, _ := chromedp.Run(tab, chromedp.Text(chromedp.ID("kpi-today")))
	if todayAfter != strconv.FormatInt(s.Today+4, 10) {
		t.Errorf("today after Flush now = %s, want %d", todayAfter, s.Today+4)
	}
	bots, err := chromedp.Run(tab, chromedp.Text(chromedp.CSS(`#excluded-reasons tr[data-reason="bot"] td.num`)))
	if err != nil || bots != "3" {
		t.Errorf("Not counted: bots %q (%v), want 3", bots, err)
	}
	botName, _ := chromedp.Run(tab, chromedp.Text(chromedp.CSS(`#excluded-bots tbody tr:first-child`)))
	if !strings.Contains(botName, "Googlebot") {
		t.Errorf("Not counted names the bot %q, want Googlebot", botName)
	}
	if err := chromedp.Do(tab, chromedp.ScrollIntoView(chromedp.ID("not-counted"))); err == nil {
		screenshot(t, tab, "dashboard-not-counted")
	}

	// Readers from Hacker News in Firefox: the "now" tile shows them before any flush, the
	// panels after it; clicking the source narrows the dashboard to the posts it sent them to.
	for v := range 3 {
		app.sendView(t, "https://blog.example.com/blogs/hn-post", "https://news.ycombinator.com/item?id=1", fmt.Sprintf("198.51.100.%d", 80+v), firefoxUA)
	}
	if err := chromedp.Do(tab, chromedp.Navigate(app.URL()+"/ops/views"), poll(`document.getElementById('kpi-now').textContent === '7'`)); err != nil {
		now, _ := chromedp.Run(tab, chromedp.Text(chromedp.ID("now")))
		t.Errorf("the now tile says %q, want the 7 views of the last 30 minutes: %v", now, err)
	}
	if err := chromedp.Do(tab,
		chromedp.Click(chromedp.ID("flush-now")),
		chromedp.WaitVisible(chromedp.ID("flushed")), // the page before had no such note
		chromedp.ScrollIntoView(chromedp.ID("sources")),
	); err != nil {
		t.Fatalf("Flush now: %v", err)
	}
	browsers, _ := chromedp.Run(tab, chromedp.Text(chromedp.ID("browsers")))
	if !strings.Contains(browsers, "Firefox") || !strings.Contains(browsers, "Chrome") {
		t.Errorf("Browsers panel: %q, want Firefox and Chrome", browsers)
	}
	screenshot(t, tab, "dashboard-sources")
	if err := chromedp.Do(tab,
		chromedp.Click(chromedp.CSS(`#referrers a[data-filter][href*="news.ycombinator.com"]`)),
		chromedp.WaitVisible(chromedp.ID("filter")),
	); err != nil {
		t.Fatalf("filter by Hacker News: %v", err)
	}
	filtered, _ := chromedp.Run(tab, chromedp.Text(chromedp.ID("filter-items")))
	note, _ := chromedp.Run(tab, chromedp.Text(chromedp.ID("filter")))
	if !strings.Contains(filtered, "hn-post") || strings.Contains(filtered, "new-post") || !strings.Contains(note, "3 views by 3 visitors") {
		t.Errorf("filtered by Hacker News: %q / %q, want hn-post's 3 views by 3 visitors alone", note, filtered)
	}
	caption, _ := chromedp.Run(tab, chromedp.Text(chromedp.CSS(".pulse figcaption")))
	if !strings.Contains(caption, "referrer = news.ycombinator.com") {
		t.Errorf("the chart of a filtered dashboard is captioned %q", caption)
	}
	screenshot(t, tab, "dashboard-filtered")
	if err := chromedp.Do(tab, chromedp.Click(chromedp.ID("filter-clear")), chromedp.WaitVisible(chromedp.ID("items"))); err != nil {
		t.Fatal(err)
	}
	if n, _ := chromedp.Run(tab, chromedp.Evaluate[int](`document.querySelectorAll('#filter').length`)); n != 0 {
		t.Error("the filter stayed after Show everyone")
	}

	// A phone-sized screen in dark mode, for the record.
	chromedp.Do(tab, chromedp.EmulateViewport(390, 844))
	chromedp.Do(tab, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}},
		})
		return err
	}))
	screenshot(t, tab, "dashboard-phone-dark")
}

func apiGet(t *testing.T, app *testApp, path string, v any) {
	t.Helper()
	req, _ := http.NewRequest("GET", app.URL()+path, nil)
	req.SetBasicAuth("admin", testPassword)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("%s: %d", path, resp.StatusCode)
	}
	if err := jsonDecode(resp, v); err != nil {
		t.Fatal(err)
	}
}

func jsonDecode(resp *http.Response, v any) error { return json.NewDecoder(resp.Body).Decode(v) }

// seedDashboard gives app four days of history on three posts, snapshotted and flushed.
func seedDashboard(t *testing.T, app *testApp) {
	t.Helper()
	// Four days of history: the clock starts before any view, so days can be lived in order.
	start := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	app.clk.Set(start)
	views := map[string]int{"popular": 6, "second": 3, "third": 1}
	for day := range 4 {
		app.clk.Set(start.AddDate(0, 0, day))
		for slug, n := range views {
			for v := range n - day%2 {
				app.beacon(t, "https://blog.example.com/blogs/"+slug, fmt.Sprintf("198.51.100.%d", v+10*day), chromeUA)
			}
		}
	}
	app.clk.Set(time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC))
	for _, d := range []string{"2026-11-20", "2026-11-21", "2026-11-22", "2026-11-23"} {
		if code, body := app.admin(t, "/ops/api/snapshot?date="+d, testPassword); code != 200 {
			t.Fatalf("snapshot %s: %d %s", d, code, body)
		}
	}
	if code, _ := app.admin(t, "/ops/api/flush", testPassword); code != 200 {
		t.Fatal("flush failed")
	}
}

// TestDashboardFitsAPhone: at 390 px the dashboard and its trend dialog are no wider than the
// screen, and the items table shows the numbers.
func TestDashboardFitsAPhone(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, t.TempDir())
	seedDashboard(t, app)
	tab := newBrowser(t)
	if err := chromedp.Do(tab,
		chromedp.EmulateViewport(390, 844),
		logInToDashboard(app),
	); err != nil {
		t.Fatalf("log in: %v", err)
	}
	w, err := chromedp.Run(tab, chromedp.Evaluate[[]float64](`[document.documentElement.scrollWidth, window.innerWidth,
		document.querySelector('#items td.num').getBoundingClientRect().right]`))
	if err != nil {
		t.Fatal(err)
	}
	if w[0] > w[1] {
		t.Errorf("the page is %.0f px wide on a %.0f px screen: it scrolls sideways", w[0], w[1])
	}
	if w[2] > w[1] {
		t.Errorf("the first number column ends at %.0f px, off a %.0f px screen", w[2], w[1])
	}
	screenshot(t, tab, "dashboard-phone")
	if err := chromedp.Do(tab,
		chromedp.Click(chromedp.CSS("#items tbody tr .trend-link")),
		chromedp.WaitVisible(chromedp.CSS("#trend[open]")),
	); err != nil {
		t.Fatalf("open the trend dialog: %v", err)
	}
	box, err := chromedp.Run(tab, chromedp.Evaluate[[]float64](`(r => [r.left, r.right])(document.querySelector('#trend').getBoundingClientRect())`))
	if err != nil || box[0] < 0 || box[1] > w[1] {
		t.Errorf("the trend dialog spans %v px on a %.0f px screen (%v)", box, w[1], err)
	}
	screenshot(t, tab, "dashboard-phone-trend")
}

// TestShareBarsShowTheirShare: the bar beside a source is as long as its share of the views
// (a 4 px <meter> once drew the same grey track for every value): three views of four draw a
// bar three times as long as one.
func TestShareBarsShowTheirShare(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, t.TempDir())
	for i, ref := range []string{"https://news.example/a", "https://news.example/b", "https://news.example/c", ""} {
		app.sendView(t, "https://blog.example.com/blogs/hello", ref, fmt.Sprintf("198.51.100.%d", 20+i), chromeUA)
	}
	if code, body := app.admin(t, "/ops/api/flush", testPassword); code != 200 {
		t.Fatalf("flush: %d %s", code, body)
	}
	tab := newBrowser(t)
	if err := chromedp.Do(tab,
		chromedp.EmulateViewport(1200, 1000),
		logInToDashboard(app),
	); err != nil {
		t.Fatalf("log in: %v", err)
	}
	widths, err := chromedp.Run(tab, chromedp.Evaluate[[]float64](`Array.from(document.querySelectorAll('svg.share')).slice(0, 2)
		.map(s => s.querySelector('.bar').getBoundingClientRect().width)`))
	if err != nil || len(widths) != 2 {
		t.Fatalf("share bars: %v %v", widths, err)
	}
	if widths[0] < 10 || widths[1] < 1 || widths[0] < 2.5*widths[1] || widths[0] > 3.5*widths[1] {
		t.Errorf("the bars of 75%% and 25%% are %.1f and %.1f px wide, want about 3:1", widths[0], widths[1])
	}
	screenshot(t, tab, "share-bars")
}

// logInToDashboard opens /ops/views, logs in with the test password and waits for the tiles.
func logInToDashboard(app *testApp) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		return chromedp.Do(ctx,
			chromedp.Navigate(app.URL()+"/ops/views"),
			chromedp.WaitVisible(chromedp.ID("password")),
			chromedp.SendKeys(chromedp.ID("password"), testPassword),
			chromedp.Submit(chromedp.ID("password")),
			chromedp.WaitVisible(chromedp.ID("kpi-total")),
		)
	})
}

// TestTilesSayWhatTheyCount: the tiles that do not follow the period say "all time", uniques
// are told from visitors where they stand, a date range in a label stays on one line on a
// phone, and a past period without traffic says so rather than "Nothing yet".
func TestTilesSayWhatTheyCount(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, t.TempDir())
	seedDashboard(t, app)
	tab := newBrowser(t)
	if err := chromedp.Do(tab, chromedp.EmulateViewport(390, 844), logInToDashboard(app),
		chromedp.Navigate(app.URL()+"/ops/views?from=2026-11-01&to=2026-11-05"), chromedp.WaitVisible(chromedp.ID("kpi-total"))); err != nil {
		t.Fatal(err)
	}
	got, err := chromedp.Run(tab, chromedp.Evaluate[[]string](`(function () {
		var label = id => document.getElementById(id).parentElement.querySelector('.label').textContent.replace(/\s+/g, ' ').trim();
		var dates = Array.from(document.querySelectorAll('.tile .nowrap')).map(e => String(e.getClientRects().length));
		return [label('kpi-total'), label('kpi-unique'), label('kpi-items'), label('kpi-likes'),
			document.getElementById('kpi-unique').parentElement.title, dates.join(','),
			document.querySelector('.panel p.muted') ? document.querySelector('.panel p.muted').textContent : ''];
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"Total views all time", "Unique views all time", "Items all time", "Likes all time"} {
		if got[i] != want {
			t.Errorf("tile label %q, want %q", got[i], want)
		}
	}
	if !strings.Contains(got[4], "30 minutes") || !strings.Contains(got[4], "visitor is one reader") {
		t.Errorf("the unique tile does not say how uniques differ from visitors: %q", got[4])
	}
	if got[5] != "1,1,1,1" {
		t.Errorf("the dates in labels take %s lines each, want one: a date never wraps", got[5])
	}
	if w, err := chromedp.Run(tab, chromedp.Evaluate[[]float64](`(function () {
		var worst = -1e9;
		document.querySelectorAll('.tile .nowrap').forEach(d => {
			worst = Math.max(worst, d.getBoundingClientRect().right - d.closest('.tile').getBoundingClientRect().right);
		});
		return [worst, document.documentElement.scrollWidth, window.innerWidth];
	})()`)); err != nil || w[0] > 0 || w[1] > w[2] {
		t.Errorf("a date in a tile label ends %.0f px past its tile, page %.0f px on a %.0f px screen (%v)", w[0], w[1], w[2], err)
	}
	if got[6] != "No views in this period." {
		t.Errorf("an empty past period's panels say %q", got[6])
	}
	screenshot(t, tab, "tiles-past-period-phone")
}
