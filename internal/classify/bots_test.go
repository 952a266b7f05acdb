package classify

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// labelled is one fixture list: User-Agents with isbot's verdict on each.
type labelled struct {
	ua    string
	isbot bool
}

func readList(t testing.TB, name string) []labelled {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "lists", name+".tsv"))
	if err != nil {
		t.Fatal(err)
	}
	var out []labelled
	for _, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		verdict, ua, ok := strings.Cut(line, "\t")
		if !ok || (verdict != "0" && verdict != "1") {
			t.Fatalf("%s: bad line %q", name, line)
		}
		out = append(out, labelled{ua: ua, isbot: verdict == "1"})
	}
	return out
}

// fixtureLists are public User-Agent lists (see generate/lists.sh): crawlerdetect's own
// fixtures and lists from other projects, which can show where any one library is weak.
// Crawler lists hold only bots: what isbot lets through there, we may catch too.
var fixtureLists = []struct {
	name     string
	browsers bool
}{
	{"crawlerdetect-crawlers", false}, {"crawler-user-agents", false},
	{"crawlerdetect-devices", true}, {"user-agents", true},
}

// TestBotsAgainstPublicLists holds tally to the goal against isbot, the most used bot list, on
// every public list: every crawler isbot catches in a crawler list is a bot for us too, and of
// the web browsers in a browser list we drop no more than isbot does (not always the same ones:
// isbot drops phones whose model is called "BOT", we drop a few browsers nobody has used since
// the 2000s). Apps' HTTP stacks, media players and
// automation (see notBrowser) are not browsers: dropping them is right even where isbot counts
// them.
func TestBotsAgainstPublicLists(t *testing.T) {
	for _, list := range fixtureLists {
		t.Run(list.name, func(t *testing.T) {
			b := NewBots(0, Overrides{})
			var missed, extra []string
			isbotDrops, ourDrops, browsers := 0, 0, 0
			for _, l := range readList(t, list.name) {
				bot := b.IsBot(l.ua)
				if l.isbot && !bot && !list.browsers {
					missed = append(missed, l.ua)
				}
				if !list.browsers || notBrowser(l.ua) {
					continue
				}
				browsers++
				if l.isbot {
					isbotDrops++
				}
				if bot {
					ourDrops++
				}
				if bot && !l.isbot {
					extra = append(extra, l.ua)
				}
			}
			if len(missed) > 0 {
				t.Errorf("%d bots that isbot catches were taken for people, e.g.:\n%s", len(missed), strings.Join(missed[:min(10, len(missed))], "\n"))
			}
			if !list.browsers {
				return
			}
			t.Logf("%d web browsers: isbot drops %d, tally %d (%d that isbot counts)", browsers, isbotDrops, ourDrops, len(extra))
			if ourDrops > isbotDrops {
				t.Errorf("tally drops %d web browsers, isbot %d; these only tally drops:\n%s", ourDrops, isbotDrops, strings.Join(extra, "\n"))
			}
		})
	}
}

// notBrowser reports whether ua is not a web browser, so dropping it is right although isbot
// counts it: an app's HTTP library or media player (no page view comes from one), an app shell
// or automation that the issue names, or no User-Agent at all (markup, placeholders). The
// test's own list, so the classifier cannot grade itself.
func notBrowser(ua string) bool {
	return notBrowserUA.MatchString(ua)
}

var notBrowserUA = regexp.MustCompile(strings.Join([]string{
	// app HTTP stacks and frameworks
	`^Dalvik/`, `Dalvik/\d`, `CFNetwork/`, `^com\.apple\.`, `Darwin/`, `Alamofire/`, `Scale/\d`,
	`^Appcelerator Titanium/`, `^AppleCoreMedia/`, `\(iPhone; iPhone OS [\d.]+; \w+\)$`,
	`\(iPad; iPhone OS [\d.]+\)`, `^libhttp/`,
	// media players
	`^iTunes/`, `^NSPlayer/`, `^Windows-Media-Player/`, `^QuickTime`, `WMFSDK/`,
	// app shells and automation the issue names: Electron apps, SlimerJS
	`Electron/`, `SlimerJS/`,
	// not a User-Agent
	`[<>]`, `^\$`, `^@`, `^\W*$`,
}, "|"))

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
		// What the first round missed: agents fetching pages for a person, synthetic monitors,
		// auditors, desktop app shells.
		{"Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; Perplexity-User/1.0; +https://perplexity.ai/perplexity-user)", true},
		{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 PerplexityUser", true},
		{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Gemini-Deep-Research", true},
		{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 (compatible; Google-Agent)", true},
		{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 GoogleAgent-Mariner", true},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/132.0.0.0 Safari/537.36 Manus-User/1.0", true},
		{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 newsai/1.0", true},
		{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 NewRelicSynthetics/1.0", true},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 ThousandEyes-Dragonfly-x1", true},
		{"Mozilla/5.0 (compatible; MSIE 9.0; Windows NT 6.1; Trident/5.0; AppInsights)", true},
		{"Mozilla/5.0 (compatible; Cloudflare-Traffic-Manager/1.0; +https://www.cloudflare.com/traffic-manager/)", true},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Sitebulb/1.0 Chrome/131.0.0.0 Safari/537.36", true},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Scope3", true},
		{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 SQWatcher", true},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Code/1.95.0 Chrome/128.0.6613.186 Electron/32.2.1 Safari/537.36", true},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Trae/1.0.0 Chrome/132.0.0.0 Electron/34.0.0 Safari/537.36", true},
		{"Dalvik/2.1.0 (Linux; U; Android 14; Pixel 8 Build/UQ1A.240105.004)", true},
		{"MyApp/1.0 CFNetwork/1494.0.7 Darwin/23.4.0", true},
		// Real browsers without a Mozilla/ token.
		{"UCWEB/2.0 (MIDP-2.0; U; Adr 9.0.0; en-US; SM-J250F) U2/1.0.0 UCBrowser/11.3.2.1140 U2/1.0.0 Mobile", false},
		{"Opera/9.80 (J2ME/MIDP; Opera Mini/4.5.40318/191.308; U; en) Presto/2.12.423 Version/12.16", false},
		{"SAMSUNG-SGH-E250/1.0 Profile/MIDP-2.0 Configuration/CLDC-1.1 UP.Browser/6.2.3.3.c.1.101 (GUI) MMP/2.0", false},
		{"NokiaC3-00/5.0 (08.63) Profile/MIDP-2.1 Configuration/CLDC-1.1 Mozilla/5.0 AppleWebKit/420+ (KHTML, like Gecko) Safari/420+", false},
		{"BlackBerry8520/5.0.0.681 Profile/MIDP-2.1 Configuration/CLDC-1.1 VendorID/600", false},
		{"TECNO-T528/1.0 Release/01.01.2020 Browser/AppleWebKit537.36 Profile/MIDP-2.0 Configuration/CLDC-1.1", false},
		// A phone whose model is called "bot" is a phone.
		{"Mozilla/5.0 (Linux; Android 6.0; M BOT 551 Build/MRA58K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/54.0.2840.85 Mobile Safari/537.36", false},
	}
	b := NewBots(0, Overrides{})
	for _, tt := range tests {
		if got := b.IsBot(tt.ua); got != tt.bot {
			t.Errorf("IsBot(%.80q) = %v, want %v", tt.ua, got, tt.bot)
		}
	}
}

func TestProductToken(t *testing.T) {
	tests := []struct{ ua, token string }{
		{"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "Googlebot"},
		{"Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)", "GPTBot"},
		{"Mozilla/5.0 (compatible; Perplexity-User/1.0; +https://perplexity.ai/perplexity-user)", "Perplexity-User"},
		{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36", "HeadlessChrome"},
		{"curl/8.5.0", "curl"},
		{"python-requests/2.32.3", "python-requests"},
		{"Dalvik/2.1.0 (Linux; U; Android 14; Pixel 8 Build/UQ1A.240105.004)", "Dalvik"},
		{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/117.0.0.0 Safari/537.36 GTmetrix", "GTmetrix"},
		{"MyCrawler (contact: joe@example.com)", "MyCrawler"},
		{"Scanner (mailto:joe@example.com) https://example.com/about", "Scanner"},
		{"", ""},
		{"()", ""},
		{strings.Repeat("x", 100) + "bot/1", strings.Repeat("x", maxTokenLength)},
	}
	for _, tt := range tests {
		if got := ProductToken(tt.ua); got != tt.token {
			t.Errorf("ProductToken(%.60q) = %q, want %q", tt.ua, got, tt.token)
		}
	}
}

func TestOverrides(t *testing.T) {
	b := NewBots(0, Overrides{
		Count:  regexp.MustCompile(`FriendlyReader/`),
		Ignore: regexp.MustCompile(`Edg/|FriendlyReader/9`),
	})
	tests := []struct {
		ua    string
		bot   bool
		token string
	}{
		{"FriendlyReader/2.0 (compatible; feedbot)", false, ""},
		{"FriendlyReader/9.1 (compatible; feedbot)", true, "feedbot"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0", true, "Edg"},
		{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", false, ""},
		{"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", true, "Googlebot"},
	}
	for _, tt := range tests {
		for range 2 { // the cached verdict too
			if bot, token := b.Check(tt.ua); bot != tt.bot || token != tt.token {
				t.Errorf("Check(%.60q) = %v, %q; want %v, %q", tt.ua, bot, token, tt.bot, tt.token)
			}
		}
	}
}

func TestBotsCacheIsBounded(t *testing.T) {
	const limit = 100
	b := NewBots(limit, Overrides{})
	for i := range 10 * limit {
		b.IsBot(fmt.Sprintf("Mozilla/5.0 (X11; Linux x86_64) Chrome/%d.0 Safari/537.36", i))
	}
	if n := b.Len(); n > 2*limit {
		t.Errorf("cache holds %d verdicts after a flood of distinct UAs, want at most %d", n, 2*limit)
	}
}

func BenchmarkIsBotCached(b *testing.B) {
	bots := NewBots(0, Overrides{})
	ua := "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	bots.IsBot(ua)
	b.ReportAllocs()
	for b.Loop() {
		bots.IsBot(ua)
	}
}

// BenchmarkIsBotWorstCase is the cost of an uncached verdict on the most expensive
// User-Agents a client can send: as long as is still parsed, made of what makes the pattern
// lists work hardest. The goal is under 1 ms each (see docs/performance.md).
func BenchmarkIsBotWorstCase(b *testing.B) {
	for _, fill := range []string{"a", "x/1.0 ", "; ", "(KHTML, like Gecko) ", "Mozilla/5.0 "} {
		b.Run(strings.TrimSpace(fill), func(b *testing.B) {
			ua := ("Mozilla/5.0 (X11; Linux x86_64) " + strings.Repeat(fill, maxUALength))[:maxUALength]
			i := 0
			for b.Loop() {
				i++
				NewBots(1, Overrides{}).IsBot(ua[:maxUALength-8] + fmt.Sprintf("%08d", i)) // never cached
			}
		})
	}
}

func BenchmarkIsBotUncachedBrowsers(b *testing.B) {
	var uas []string
	for _, l := range readList(b, "user-agents") {
		uas = append(uas, l.ua)
	}
	i := 0
	for b.Loop() {
		NewBots(1, Overrides{}).IsBot(uas[i%len(uas)])
		i++
	}
}
