package classify

import (
	"strings"
	"unicode"

	"github.com/mssola/useragent"
)

// Agent is what a User-Agent says about the reader's software and device, for the dimensions:
// the browser family (Chrome, Firefox, Safari, …, or Other), its major version, the OS family
// and the device class (desktop, phone, tablet). Bots.Inspect reads it in the same parse and
// cache as the bot verdict.
type Agent struct {
	Browser, Version, OS, Device string
}

// parseAgent reads the reader's software and device from ua, parsed once into p.
func parseAgent(ua string, p *useragent.UserAgent) Agent {
	name, version := p.Browser()
	a := Agent{Browser: label(name, "Other"), OS: osFamily(p), Device: deviceClass(ua, p)}
	if major, _, _ := strings.Cut(version, "."); a.Browser != "Other" && isDigits(major) && len(major) <= 5 {
		a.Version = major
	}
	return a
}

// osFamily names the operating system as owners know it, without its version.
func osFamily(p *useragent.UserAgent) string {
	info := p.OSInfo()
	switch name := info.Name; {
	case p.Platform() == "iPad" || p.Platform() == "iPhone" || p.Platform() == "iPod" || name == "iPhone OS":
		return "iOS"
	case name == "Mac OS X" || strings.HasPrefix(name, "Macintosh"):
		return "macOS"
	case strings.HasPrefix(name, "Windows Phone"):
		return "Windows Phone"
	case strings.HasPrefix(name, "Windows"):
		return "Windows"
	case strings.HasPrefix(name, "Android"):
		return "Android"
	case strings.HasPrefix(name, "CrOS"):
		return "ChromeOS"
	case strings.HasPrefix(name, "Linux") || strings.Contains(info.FullName, "Linux"):
		return "Linux"
	default:
		first, _, _ := strings.Cut(name, " ")
		return label(first, "Other")
	}
}

// deviceClass tells a tablet from a phone from a desktop by the User-Agent's own words.
func deviceClass(ua string, p *useragent.UserAgent) string {
	switch {
	case strings.Contains(ua, "iPad") || strings.Contains(ua, "Tablet") ||
		strings.Contains(ua, "Android") && !strings.Contains(ua, "Mobile"):
		return "tablet"
	case p.Mobile() || strings.Contains(ua, "Mobile") || strings.Contains(ua, "iPhone"):
		return "phone"
	default:
		return "desktop"
	}
}

// label keeps a name a parser found if it is short plain text, else fallback.
func label(s, fallback string) string {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 32 {
		return fallback
	}
	for _, r := range s {
		if !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == ' ' || r == '-' || r == '.' || r == '_') {
			return fallback
		}
	}
	return s
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
