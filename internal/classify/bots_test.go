package classify

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"testing"
)

func readLines(t testing.TB, name string) []string {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	s := bufio.NewScanner(f)
	s.Buffer(make([]byte, 64*1024), 64*1024)
	for s.Scan() {
		if s.Text() != "" {
			lines = append(lines, s.Text())
		}
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

// TestBotsCatchWhatIsbotCatches holds us to the bar the issue sets: every crawler that the isbot
// npm package flags in crawlerdetect's public crawler list is a bot for us too.
func TestBotsCatchWhatIsbotCatches(t *testing.T) {
	b := NewBots(0)
	var missed []string
	for _, ua := range readLines(t, "testdata/isbot_crawlers.txt") {
		if !b.IsBot(ua) {
			missed = append(missed, ua)
		}
	}
	if len(missed) > 0 {
		t.Errorf("%d crawlers that isbot catches were taken for people, e.g.:", len(missed))
		for _, ua := range missed[:min(10, len(missed))] {
			t.Log(ua)
		}
	}
}

// TestBotsNeverDropABrowser runs real browsers' User-Agents that isbot also passes.
func TestBotsNeverDropABrowser(t *testing.T) {
	b := NewBots(0)
	var dropped []string
	for _, ua := range readLines(t, "testdata/browsers.txt") {
		if b.IsBot(ua) {
			dropped = append(dropped, ua)
		}
	}
	if len(dropped) > 0 {
		t.Errorf("%d real browsers were taken for bots, e.g.:", len(dropped))
		for _, ua := range dropped[:min(10, len(dropped))] {
			t.Log(ua)
		}
	}
}

func TestBotsSpecialCases(t *testing.T) {
	tests := []struct {
		ua  string
		bot bool
	}{
		{"", true},
		{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36", true},
		{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", false},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15", false},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0", false},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1", false},
		{"curl/8.5.0", true},
		{"python-requests/2.32.3", true},
		{"Go-http-client/1.1", true},
		{"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", true},
		{"Mozilla/5.0 (Unknown; Linux x86_64) AppleWebKit/538.1 (KHTML, like Gecko) PhantomJS/2.1.1 Safari/538.1", true},
		{"Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)", true},
		{string(make([]byte, maxUALength+1)), true},
	}
	b := NewBots(0)
	for _, tt := range tests {
		if got := b.IsBot(tt.ua); got != tt.bot {
			t.Errorf("IsBot(%.80q) = %v, want %v", tt.ua, got, tt.bot)
		}
	}
}

func TestBotsCacheIsBounded(t *testing.T) {
	const limit = 100
	b := NewBots(limit)
	for i := range 10 * limit {
		b.IsBot(fmt.Sprintf("Mozilla/5.0 (X11; Linux x86_64) Chrome/%d.0 Safari/537.36", i))
	}
	if n := b.Len(); n > 2*limit {
		t.Errorf("cache holds %d verdicts after a flood of distinct UAs, want at most %d", n, 2*limit)
	}
}

func BenchmarkIsBotCached(b *testing.B) {
	bots := NewBots(0)
	ua := "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	bots.IsBot(ua)
	b.ReportAllocs()
	for b.Loop() {
		bots.IsBot(ua)
	}
}

// BenchmarkIsBotWorstCase is the cost of an uncached verdict on the most expensive
// User-Agents a client can send: as long as is still parsed, made of what makes the pattern
// lists work hardest. The goal is under 1 ms each (see README, Performance).
func BenchmarkIsBotWorstCase(b *testing.B) {
	for _, fill := range []string{"a", "x/1.0 ", "; ", "(KHTML, like Gecko) ", "Mozilla/5.0 "} {
		b.Run(strings.TrimSpace(fill), func(b *testing.B) {
			ua := ("Mozilla/5.0 (X11; Linux x86_64) " + strings.Repeat(fill, maxUALength))[:maxUALength]
			i := 0
			for b.Loop() {
				i++
				NewBots(1).IsBot(ua[:maxUALength-8] + fmt.Sprintf("%08d", i)) // never cached
			}
		})
	}
}
