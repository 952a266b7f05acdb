package dimension

import (
	_ "embed"
	"strings"
)

// The referrer spam list is Matomo's community list (public domain), fetched at a pinned
// commit by `go generate ./internal/dimension`; see generate/spam.sh.
//
//go:generate sh generate/spam.sh
//go:embed referrer_spam.txt
var spamList string

// spammers holds the list's hosts; a host is spam when it or a domain above it is listed.
var spammers = func() map[string]struct{} {
	m := make(map[string]struct{})
	for _, l := range strings.Split(spamList, "\n") {
		if l = strings.ToLower(strings.TrimSpace(l)); l != "" && !strings.HasPrefix(l, "#") {
			m[l] = struct{}{}
		}
	}
	return m
}()

func isSpam(host string) bool {
	for h := host; ; {
		if _, ok := spammers[h]; ok {
			return true
		}
		_, rest, ok := strings.Cut(h, ".")
		if !ok || !strings.Contains(rest, ".") {
			return false
		}
		h = rest
	}
}
