package classify

import (
	"strings"
	"sync"

	"github.com/mssola/useragent"
	"github.com/x-way/crawlerdetect"
)

// maxUALength is longer than any browser's User-Agent (real ones stay under 300 bytes); longer
// ones are bots or attacks, and are judged without being cached or parsed.
const maxUALength = 512

// crawlerScan is how much of a User-Agent crawlerdetect reads: its patterns are one large
// regular expression costing ~2.5 µs a byte, so a long User-Agent is read as its first and last
// crawlerScan/2 (96) bytes, which keeps an uncached verdict under 1 ms whatever a client sends.
// Crawlers name themselves at either end ("compatible; Googlebot/2.1" near the start, "PTST/2.3"
// at the end), and all of a User-Agent still meets our own words and mssola/useragent.
const crawlerScan = 192

// crawlerText is what crawlerdetect reads of ua.
func crawlerText(ua string) string {
	if len(ua) <= crawlerScan {
		return ua
	}
	return ua[:crawlerScan/2] + " " + ua[len(ua)-crawlerScan/2:]
}

// Bots tells bots from browsers by User-Agent. It combines mssola/useragent's bot check,
// x-way/crawlerdetect's maintained list and a few rules of our own for headless browsers and
// HTTP libraries. crawlerdetect costs tens of microseconds per call, so verdicts are cached.
type Bots struct {
	mu    sync.RWMutex
	cur   map[string]bool
	prev  map[string]bool
	limit int
}

// NewBots returns a detector that caches up to about 2×limit verdicts.
func NewBots(limit int) *Bots {
	if limit <= 0 {
		limit = 10_000
	}
	return &Bots{cur: make(map[string]bool, limit), limit: limit}
}

// IsBot reports whether ua belongs to a crawler, a headless browser or a script.
func (b *Bots) IsBot(ua string) bool {
	if ua == "" || len(ua) > maxUALength {
		return true
	}
	b.mu.RLock()
	v, ok := b.cur[ua]
	if !ok {
		v, ok = b.prev[ua]
	}
	b.mu.RUnlock()
	if ok {
		return v
	}
	v = detectBot(ua)
	b.remember(ua, v)
	return v
}

// remember keeps two generations: when the current one is full it becomes the previous one,
// so memory stays bounded under a flood of distinct User-Agents while common ones stay cached.
func (b *Bots) remember(ua string, v bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.cur) >= b.limit {
		b.prev = b.cur
		b.cur = make(map[string]bool, b.limit)
	}
	b.cur[strings.Clone(ua)] = v
}

// Len returns how many verdicts are cached.
func (b *Bots) Len() int {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return len(b.cur) + len(b.prev)
}

// ownBotWords catch what both libraries miss: automation and tools that do not call themselves
// bots. Matched case-insensitively as substrings.
var ownBotWords = []string{
	"headless", "phantomjs", "slimerjs", "puppeteer", "playwright", "selenium", "webdriver",
	"lighthouse", "pagespeed", "chrome-lighthouse", "gtmetrix", "prerender",
	"python", "curl/", "wget", "go-http-client", "okhttp", "java/", "node-fetch", "axios/",
	"undici", "libwww", "httpclient", "http_request", "scrapy", "guzzle", "ruby", "perl",
	"spider", "crawl", "bot", "preview", "fetch", "monitor", "scan", "check",
}

func detectBot(ua string) bool {
	lower := strings.ToLower(ua)
	for _, w := range ownBotWords {
		if strings.Contains(lower, w) {
			// "bot" and the like also occur in real browsers' UAs ("CUBOT" phones); the browser
			// list in testdata keeps these words honest.
			if !browserFalsePositive(lower) {
				return true
			}
		}
	}
	if !strings.Contains(ua, "Mozilla/") && !strings.HasPrefix(ua, "Opera/") {
		// Every current browser sends a Mozilla/5.0 token; tools and scripts usually do not.
		return true
	}
	if crawlerdetect.IsCrawler(crawlerText(ua)) {
		return true
	}
	return useragent.New(ua).Bot()
}

// browserFalsePositive lists phone models and apps whose names contain a bot word.
func browserFalsePositive(lower string) bool {
	for _, w := range []string{"cubot", "fetchsystem"} {
		if strings.Contains(lower, w) {
			return true
		}
	}
	return false
}
