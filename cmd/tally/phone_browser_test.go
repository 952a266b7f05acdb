package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// fitsScreen reports what of the page does not fit a phone: how much wider than the screen it
// is, and the smallest computed font size of any text shown.
const fitsScreen = `(function () {
	var small = 1e9, where = '';
	document.querySelectorAll('body *').forEach(function (el) {
		if (!el.offsetParent && el.tagName !== 'BODY') return;
		var text = Array.from(el.childNodes).some(n => n.nodeType === 3 && n.textContent.trim());
		if (!text) return;
		var size = parseFloat(getComputedStyle(el).fontSize);
		if (size < small) { small = size; where = el.tagName + '.' + el.className + ': ' + el.textContent.trim().slice(0, 30); }
	});
	// Text in an SVG chart is scaled with the chart: what counts is how tall it is drawn.
	document.querySelectorAll('svg text').forEach(function (el) {
		var h = el.getBoundingClientRect().height / 1.15;
		if (el.textContent.trim() && h > 0 && h < small) { small = h; where = 'svg text: ' + el.textContent.trim(); }
	});
	// What sticks out: the outermost element past the screen's edge.
	var wide = '';
	document.querySelectorAll('body *').forEach(function (el) {
		if (!wide && el.getBoundingClientRect().right > window.innerWidth + 1) {
			wide = el.tagName + '#' + el.id + '.' + el.className + ' "' + el.textContent.trim().slice(0, 40) + '"';
		}
	});
	return JSON.stringify({over: document.documentElement.scrollWidth - window.innerWidth, font: small, where: where, wide: wide});
})()`

// TestEveryOwnerPageFitsAPhone opens every page the owner sees — the login, a fresh install,
// the dashboard with every panel filled (long slugs, long referrers, many events), a filtered
// dashboard and an item's page — at 360 and 390 px, and fails when one scrolls sideways or
// shows text under 11 px.
func TestEveryOwnerPageFitsAPhone(t *testing.T) {
	t.Parallel()
	fresh := newTestApp(t, t.TempDir())
	app := newTestApp(t, t.TempDir())
	long := strings.Repeat("a-very-long-slug-without-spaces-", 4)
	for i := range 6 {
		ref := fmt.Sprintf("https://%s%d.example.org/", strings.Repeat("a-long-referrer-host-name-", 3)[:60], i)
		app.sendView(t, "https://blog.example.com/blogs/"+long+fmt.Sprint(i)+"?utm_source=newsletter-"+strings.Repeat("x", 40)+"&utm_campaign=winter-"+strings.Repeat("y", 40),
			ref, fmt.Sprintf("198.51.100.%d", 30+i), chromeUA)
		req, _ := http.NewRequest("GET", app.URL()+"/api/sid", nil)
		req.Header.Set("User-Agent", chromeUA)
		req.Header.Set("X-Forwarded-For", fmt.Sprintf("198.51.100.%d", 30+i))
		_, body := fetch(t, req)
		var sid struct{ SID string }
		json.Unmarshal([]byte(body), &sid)
		b, _ := json.Marshal(map[string]any{"url": "https://blog.example.com/", "name": fmt.Sprintf("download_of_a_long_event_name_%d", i),
			"target": strings.Repeat("a-long-target-file-name-", 5) + ".pdf", "sid": sid.SID})
		req, _ = http.NewRequest("POST", app.URL()+"/api/event", strings.NewReader(string(b)))
		req.Header.Set("User-Agent", chromeUA)
		req.Header.Set("X-Forwarded-For", fmt.Sprintf("198.51.100.%d", 30+i))
		if code, body := fetch(t, req); code != 204 {
			t.Fatalf("event: %d %s", code, body)
		}
	}
	if code, body := app.admin(t, "/ops/api/flush", testPassword); code != 200 {
		t.Fatalf("flush: %d %s", code, body)
	}
	var ev struct{ Events []struct{ Name string } }
	apiGet(t, app, "/ops/api/events?site=blog.example.com", &ev)
	if len(ev.Events) != 6 {
		t.Fatalf("%d events recorded, want the 6 the panel is to show", len(ev.Events))
	}
	pages := []struct {
		app  *testApp
		path string
	}{
		{app, "/ops/views"},
		{app, "/ops/views?dim=referrer&value=" + url.QueryEscape(fmt.Sprintf("%s0.example.org", strings.Repeat("a-long-referrer-host-name-", 3)[:60]))},
		{app, "/ops/views/item?site=blog.example.com&type=blog&slug=" + url.QueryEscape(long+"0")},
		{fresh, "/ops/views"},
	}
	for _, width := range []int64{360, 390} {
		n := 0
		tab := newBrowser(t)
		if err := chromedp.Do(tab, chromedp.EmulateViewport(width, 800), chromedp.Navigate(app.URL()+"/ops/login")); err != nil {
			t.Fatal(err)
		}
		check := func(what string) {
			t.Helper()
			raw, err := chromedp.Run(tab, chromedp.Evaluate[string](fitsScreen))
			if err != nil {
				t.Fatal(err)
			}
			var got struct {
				Over, Font  float64
				Where, Wide string
			}
			if err := json.Unmarshal([]byte(raw), &got); err != nil {
				t.Fatal(err)
			}
			if got.Over > 0 {
				t.Errorf("%s at %d px scrolls sideways by %.0f px (past the screen: %s)", what, width, got.Over, got.Wide)
			}
			if got.Font < 11 {
				t.Errorf("%s at %d px shows text at %.1f px (%s)", what, width, got.Font, got.Where)
			}
		}
		check("the login page")
		if err := chromedp.Do(tab, logInToDashboard(app)); err != nil {
			t.Fatal(err)
		}
		for _, p := range pages {
			if p.app == fresh { // a fresh install: the page that shows the script tag to paste
				if err := chromedp.Do(tab, chromedp.Navigate(fresh.URL()+"/ops/views"), chromedp.WaitVisible(chromedp.ID("password")),
					chromedp.SendKeys(chromedp.ID("password"), testPassword), chromedp.Submit(chromedp.ID("password")),
					chromedp.WaitVisible(chromedp.ID("script-tag"))); err != nil {
					t.Fatal(err)
				}
			} else if err := chromedp.Do(tab, chromedp.Navigate(p.app.URL()+p.path)); err != nil {
				t.Fatal(err)
			}
			check(p.path)
			n++
			screenshot(t, tab, fmt.Sprintf("phone-%d-%d", width, n))
		}
	}
}
