package ingest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/tallyhq/tally/internal/item"
)

type likeReq struct {
	method, query, body string
	ip, ua              string
	header              map[string]string
}

func (ts *testServer) like(t *testing.T, lr likeReq) (int, item.LikeCounts) {
	t.Helper()
	if lr.ip == "" {
		lr.ip = "203.0.113.10"
	}
	if lr.ua == "" {
		lr.ua = browserUA
	}
	req, _ := http.NewRequest(lr.method, ts.url+"/api/like"+lr.query, strings.NewReader(lr.body))
	req.Header.Set("X-Forwarded-For", lr.ip)
	req.Header.Set("User-Agent", lr.ua)
	for k, v := range lr.header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var lc item.LikeCounts
	if resp.StatusCode == 200 {
		if err := json.Unmarshal(b, &lc); err != nil {
			t.Fatalf("like response %s: %v", b, err)
		}
	}
	return resp.StatusCode, lc
}

func likeBodyJSON(count int) string {
	if count == 0 {
		return `{"url":"` + helloURL + `"}`
	}
	return fmt.Sprintf(`{"url":%q,"count":%d}`, helloURL, count)
}

func TestLikeAPI(t *testing.T) {
	ts := newTestServer(t)
	steps := []struct {
		name   string
		req    likeReq
		status int
		want   item.LikeCounts
	}{
		{"read before any like", likeReq{method: "GET", query: "?url=" + helloURL}, 200, item.LikeCounts{}},
		{"unlike at zero", likeReq{method: "DELETE", body: likeBodyJSON(0)}, 200, item.LikeCounts{}},
		{"one like", likeReq{method: "POST", body: likeBodyJSON(0)}, 200, item.LikeCounts{User: 1, Total: 1}},
		{"item in the query", likeReq{method: "POST", query: "?url=" + helloURL}, 200, item.LikeCounts{User: 2, Total: 2}},
		{"a batch of presses", likeReq{method: "POST", body: likeBodyJSON(10)}, 200, item.LikeCounts{User: 12, Total: 12}},
		{"past the cap", likeReq{method: "POST", body: likeBodyJSON(10)}, 200, item.LikeCounts{User: 16, Total: 16}},
		{"over the cap", likeReq{method: "POST", body: likeBodyJSON(1)}, 200, item.LikeCounts{User: 16, Total: 16}},
		{"another visitor", likeReq{method: "POST", body: likeBodyJSON(2), ip: "203.0.113.11"}, 200, item.LikeCounts{User: 2, Total: 18}},
		{"unlike one", likeReq{method: "DELETE", query: "?url=" + helloURL}, 200, item.LikeCounts{User: 15, Total: 17}},
		{"a bot adds nothing", likeReq{method: "POST", body: likeBodyJSON(5), ua: "Googlebot/2.1"}, 200, item.LikeCounts{User: 0, Total: 17}},
		{"prefetch adds nothing", likeReq{method: "POST", body: likeBodyJSON(1), header: map[string]string{"Sec-Purpose": "prefetch"}}, 200, item.LikeCounts{User: 15, Total: 17}},
		{"read", likeReq{method: "GET", query: "?url=" + helloURL}, 200, item.LikeCounts{User: 15, Total: 17}},
		{"count 0", likeReq{method: "POST", body: `{"url":"` + helloURL + `","count":0}`}, 400, item.LikeCounts{}},
		{"count over the cap", likeReq{method: "POST", body: likeBodyJSON(17)}, 400, item.LikeCounts{}},
		{"no url", likeReq{method: "POST", body: `{}`}, 400, item.LikeCounts{}},
		{"not json", likeReq{method: "POST", body: `like`}, 400, item.LikeCounts{}},
		{"foreign origin", likeReq{method: "POST", body: likeBodyJSON(1), header: map[string]string{"Origin": "https://evil.example.net"}}, 403, item.LikeCounts{}},
	}
	for _, st := range steps {
		code, got := ts.like(t, st.req)
		if code != st.status || (code == 200 && got != st.want) {
			t.Errorf("%s: %d %+v, want %d %+v", st.name, code, got, st.status, st.want)
		}
	}
	// Excluded pages: the current numbers, nothing added.
	code, got := ts.like(t, likeReq{method: "POST", body: `{"url":"https://blog.example.com/admin/x"}`})
	if code != 200 || got.Total != 0 {
		t.Errorf("like on an admin page: %d %+v", code, got)
	}
	// /api/counts shows the likes too.
	resp, _ := http.Get(ts.url + "/api/counts?url=" + helloURL)
	var c countsResponse
	json.NewDecoder(resp.Body).Decode(&c)
	resp.Body.Close()
	if c.Likes != 17 {
		t.Errorf("/api/counts likes = %d, want 17", c.Likes)
	}
}

func TestConcurrentLikesOverHTTP(t *testing.T) {
	ts := newTestServer(t)
	var wg sync.WaitGroup
	for v := range 200 {
		wg.Go(func() {
			req, _ := http.NewRequest("POST", ts.url+"/api/like", strings.NewReader(likeBodyJSON(0)))
			req.Header.Set("X-Forwarded-For", fmt.Sprintf("198.51.%d.%d", v/200, v%200))
			req.Header.Set("User-Agent", browserUA)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
		})
	}
	wg.Wait()
	_, got := ts.like(t, likeReq{method: "GET", query: "?url=" + helloURL})
	if got.Total != 200 {
		t.Errorf("200 concurrent likes gave %d", got.Total)
	}
}

// TestLikeBudgetPerAddress: the cap is per visitor, and a new User-Agent is a new visitor; one
// address (an IPv6 /64) may still add at most the budget, 4 × the cap, to one item per day.
func TestLikeBudgetPerAddress(t *testing.T) {
	ts := newTestServer(t)
	ua := func(i int) string {
		return fmt.Sprintf("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/%d.0.0.0 Safari/537.36", 100+i)
	}
	total := int64(0)
	for i := range 30 {
		code, lc := ts.like(t, likeReq{method: "POST", body: likeBodyJSON(16), ip: "203.0.113.66", ua: ua(i)})
		if code != 200 {
			t.Fatalf("press %d: %d", i, code)
		}
		total = lc.Total
	}
	if want := int64(4 * DefaultLikeCap); total != want {
		t.Errorf("30 User-Agents × 16 likes from one address: total %d, want the budget %d", total, want)
	}
	// Rotating through a /64 is the same address.
	for i := range 5 {
		ts.like(t, likeReq{method: "POST", body: likeBodyJSON(16), ip: fmt.Sprintf("2001:db8:7:7::%x", i+1), ua: ua(i)})
	}
	if _, lc := ts.like(t, likeReq{method: "GET", query: "?url=" + helloURL}); lc.Total != 2*4*DefaultLikeCap {
		t.Errorf("after one /64's presses: total %d, want %d", lc.Total, 2*4*DefaultLikeCap)
	}
	// Another address still likes freely.
	if _, lc := ts.like(t, likeReq{method: "POST", body: likeBodyJSON(3), ip: "198.51.100.9"}); lc.User != 3 {
		t.Errorf("a visitor from another address: %+v, want 3 likes", lc)
	}
}
