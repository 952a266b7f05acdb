package classify

import "strings"

// maxTokenLength bounds a product token: bots choose their User-Agent, and the token is shown
// to the owner and kept per day.
const maxTokenLength = 40

// ProductToken returns the name a bot gives itself in its User-Agent: the first product or
// comment word that calls itself a bot, crawler, spider or agent ("Googlebot" in "Mozilla/5.0
// (compatible; Googlebot/2.1; +http://…)"), else the last word that is not a browser's,
// preferring products with a version ("HeadlessChrome", "curl", "GTmetrix"), else the last
// product ("Edg" for a browser the owner chose to ignore), else "". Only letters, digits and ".-_" are kept, so a URL or
// contact address in a User-Agent never becomes part of the token.
func ProductToken(ua string) string {
	var own, ownVersioned, product string
	for _, w := range strings.FieldsFunc(ua, func(r rune) bool {
		return r == ' ' || r == ';' || r == '(' || r == ')' || r == ',' || r == '+'
	}) {
		name, _, hasVersion := strings.Cut(w, "/")
		if !tokenChars(name) || !hasLetter(name) {
			continue
		}
		lower := strings.ToLower(name)
		if containsAny(lower, botNameWords) && lower != "user-agent" {
			return clip(name)
		}
		if !browserProducts[lower] {
			own = name
			if hasVersion {
				ownVersioned = name
			}
		}
		if hasVersion {
			product = name
		}
	}
	for _, t := range []string{ownVersioned, own, product} {
		if t != "" {
			return clip(t)
		}
	}
	return ""
}

// botNameWords mark the word a bot calls itself by ("Googlebot", "Perplexity-User").
var botNameWords = []string{"bot", "crawl", "spider", "agent", "fetch", "user"}

// browserProducts are the words of browsers' own User-Agents, never a bot's name.
var browserProducts = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`mozilla applewebkit khtml like gecko chrome chromium safari
		mobile version firefox edg edge opr opera compatible linux windows nt win64 x64 x11 u
		macintosh intel mac os x iphone ipad cpu android wow64 msie trident rv ubuntu en-us
		build wv samsungbrowser yabrowser vivaldi brave x86_64 i686 amd64 arm64 aarch64 armv7l
		like-gecko mobile-safari`) {
		browserProducts[w] = true
	}
}

func tokenChars(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return s != ""
}

func hasLetter(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i] | 0x20; 'a' <= c && c <= 'z' {
			return true
		}
	}
	return false
}

func clip(s string) string {
	if len(s) > maxTokenLength {
		return s[:maxTokenLength]
	}
	return s
}
