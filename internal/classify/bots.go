package classify

import (
	"regexp"
	"strings"

	"github.com/mssola/useragent"
	"github.com/x-way/crawlerdetect"

	"github.com/tallyhq/tally/internal/cache"
)

// maxUALength is longer than any browser's User-Agent (real ones stay under 300 bytes); longer
// ones are bots or attacks, and are judged without being cached or parsed.
const maxUALength = 512

// crawlerScan is how much of a User-Agent crawlerdetect reads: its patterns are one large
// regular expression costing ~2.5 µs a byte, so a long User-Agent is read as its first and last
// crawlerScan/2 (96) bytes, which keeps an uncached verdict under 1 ms whatever a client sends.
// Crawlers name themselves at either end ("compatible; Googlebot/2.1" near the start, "PTST/2.3"
// at the end), and all of a User-Agent still meets isbot's list, our own words and
// mssola/useragent.
const crawlerScan = 192

// crawlerText is what crawlerdetect reads of ua.
func crawlerText(ua string) string {
	if len(ua) <= crawlerScan {
		return ua
	}
	return ua[:crawlerScan/2] + " " + ua[len(ua)-crawlerScan/2:]
}

// Overrides are the owner's own rules, matched against the whole User-Agent before any list.
type Overrides struct {
	Count  *regexp.Regexp // count these even if a list says bot (a reader app the owner likes)
	Ignore *regexp.Regexp // never count these; wins over Count
}

// Bots tells bots from browsers by User-Agent. A User-Agent is a bot when the isbot list,
// x-way/crawlerdetect, mssola/useragent or our own words say so, or when nothing in it shows a
// web browser (app HTTP stacks, scripts). Verdicts are cached: crawlerdetect alone costs tens of
// microseconds per call.
type Bots struct {
	verdicts *cache.Cache[verdict]
	over     Overrides
}

type verdict struct {
	bot   bool
	token string // the bot's product token, "Googlebot"; never the whole User-Agent
	agent Agent
}

// Verdict is what Inspect read in a User-Agent.
type Verdict struct {
	Bot   bool
	Token string // a bot's product token ("Googlebot", "curl"; "" when it names none)
	Agent Agent  // the reader's browser, OS and device, for a page view's dimensions
}

// NewBots returns a detector that caches up to about 2×limit verdicts.
func NewBots(limit int, over Overrides) *Bots {
	if limit <= 0 {
		limit = 10_000
	}
	return &Bots{verdicts: cache.New[verdict](limit), over: over}
}

// IsBot reports whether ua belongs to a crawler, a headless browser or a script.
func (b *Bots) IsBot(ua string) bool {
	bot, _ := b.Check(ua)
	return bot
}

// Check reports whether ua is a bot and, for a bot, the product token it names itself by
// ("Googlebot", "curl"; "" when it names none), for the owner's "Not counted" panel.
func (b *Bots) Check(ua string) (bot bool, token string) {
	v := b.Inspect(ua)
	return v.Bot, v.Token
}

// Inspect is Check and the reader's Agent at once: one parse per distinct User-Agent, one cache
// for the bot verdict and the dimensions alike.
func (b *Bots) Inspect(ua string) Verdict {
	if len(ua) > maxUALength {
		// Cloned: the token outlives the request in the owner's per-day counts.
		return Verdict{Bot: true, Token: strings.Clone(ProductToken(ua[:maxUALength]))}
	}
	v, ok := b.verdicts.Get(ua)
	if !ok {
		v = b.detect(ua)
		b.verdicts.Put(ua, v)
	}
	return Verdict{Bot: v.bot, Token: v.token, Agent: v.agent}
}

func (b *Bots) detect(ua string) verdict {
	p := useragent.New(ua)
	v := verdict{agent: parseAgent(ua, p)}
	ignored := b.over.Ignore != nil && b.over.Ignore.MatchString(ua)
	counted := b.over.Count != nil && b.over.Count.MatchString(ua)
	if !ignored && (counted || !detectBot(ua, p)) {
		return v
	}
	v.bot, v.token = true, strings.Clone(ProductToken(ua))
	return v
}

// Len returns how many verdicts are cached.
func (b *Bots) Len() int { return b.verdicts.Len() }

// detectBot is the verdict of the lists, cheapest first; p is ua parsed by mssola/useragent.
func detectBot(ua string, p *useragent.UserAgent) bool {
	if ua == "" {
		return true
	}
	lower := maskDeviceModel(asciiLower(ua))
	if isbotList.match(lower) || containsAny(lower, ownBotWords) {
		return true
	}
	if !looksLikeBrowser(lower) {
		return true
	}
	if crawlerdetect.IsCrawler(crawlerText(ua)) {
		return true
	}
	return p.Bot()
}

// maskDeviceModel replaces an Android device's model name ("M BOT 551" in "Android 6.0;
// M BOT 551 Build/MRA58K") with "model": makers name phones as they like, and a phone called
// "bot" is no crawler. Crawlers that pose as phones name themselves outside the model.
func maskDeviceModel(lower string) string {
	end := strings.Index(lower, " build/")
	if end < 0 {
		return lower
	}
	start := strings.LastIndex(lower[:end], "; ")
	if start < 0 || !strings.Contains(lower[:start], "android") || strings.ContainsAny(lower[start+2:end], "();/") {
		return lower
	}
	return lower[:start+2] + "model" + lower[end:]
}

// ownBotWords catch what the lists miss: automation, agents fetching pages for a person,
// synthetic monitors, auditors and desktop app shells that are not browsers. Matched as
// substrings of the lower-cased User-Agent.
var ownBotWords = []string{
	"headless", "phantomjs", "slimerjs", "puppeteer", "playwright", "selenium", "webdriver",
	"lighthouse", "pagespeed", "gtmetrix", "prerender",
	"python-", "curl/", "wget", "go-http-client", "okhttp", "java/", "node-fetch", "axios/",
	"undici", "libwww", "httpclient", "http_request", "scrapy", "guzzle", "ruby/", "perl/",
	"perplexity-user", "perplexityuser", "gemini-deep-research", "google-agent", "googleagent",
	"manus-user", "newsai", "chatgpt-user", "claude-user", "mistralai-user",
	"newrelicsynthetics", "thousandeyes", "appinsights", "cloudflare-traffic-manager", "site24x7",
	"uptimerobot", "sitebulb", "silktide", "rsiteauditor", "attracta", "collapsify", "scope3",
	"cookiehubverify", "sqwatcher", "sindup", "impact.com agent",
	"electron/",
}

// browserWords are signs of a web browser in a User-Agent, for the ones without "Mozilla/":
// UC Browser, Opera Mini, feature phones (Java ME profiles, WAP gateways, BlackBerry, Nokia,
// Japanese carriers), old desktop browsers and text browsers.
var browserWords = []string{
	"mozilla/", "opera", "ucweb", "ucbrowser", "ucmini", "blackberry", "nokia", "series40",
	"series60", "symbian", "netfront", "obigo", "dolfin", "openwave", "up.browser", "up.link",
	"up/", "teleca", "maui", "midp", "cldc", "browser", "applewebkit", "gecko", "presto",
	"trident", "msie", "internet explorer", "lynx", "links", "w3m", "konqueror", "dillo", "icab",
	"puffin", "samsung", "safari/", "chrome/", "firefox/", "icecat", "mosaic", "ibrowse",
	"aweb", "sleipnir", "cyberdog", "fresco", "sylera", "webox", "netcomplete", "sunrise/",
	"donut", "wannabe", "docomo", "portalmmm", "au-mic", "kddi", "softbank", "vodafone",
	"blazer", "sec-sgh", "sonyericsson", "lg/", "mot-", "sie-", "palm", "webos", "kindle",
	"silk/", "playstation", "nintendo",
}

// appStacks name HTTP stacks of apps, which are not browsers even where they borrow a browser's
// words ("Safari/605 CFNetwork/1406").
var appStacks = []string{"dalvik/", "cfnetwork/", "com.apple.", "darwin/"}

func looksLikeBrowser(lower string) bool {
	if strings.Contains(lower, "mozilla/") {
		return true
	}
	return containsAny(lower, browserWords) && !containsAny(lower, appStacks)
}

func containsAny(s string, words []string) bool {
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}
