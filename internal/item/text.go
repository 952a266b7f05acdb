package item

import (
	"unicode"
	"unicode/utf8"
)

// The gate for visitor-chosen text. Every string a visitor chooses — site, type, slug, referrer
// host, campaign values, event names, targets and properties, bot tokens, page links — passes
// ValidText (and a host ValidHost) before any store sees it, so that every store, PostgreSQL's
// strict UTF-8 included, takes what one store took, and the dashboard and the CLI never show a
// visitor's control or invisible characters.

// Byte bounds of the parts of a key. They keep the widest key of every table under
// PostgreSQL's B-tree limit (2,704 bytes a row): dimension_daily's key holds a site, a slug, a
// dimension value (at most a host), a type, a dimension name and a date.
const (
	MaxSiteBytes  = 253  // a DNS name's limit
	MaxTypeBytes  = 64   // route types and event names
	MaxSlugBytes  = 2048 // a page URL's limit, and the slug is part of it
	MaxValueBytes = 253  // a dimension value: a referrer host, a campaign value, a browser
)

// ValidText reports whether s may be stored and shown: valid UTF-8 without C0 or C1 control
// characters, Unicode format characters (category Cf: bidirectional overrides, zero-width
// spaces, byte-order marks; the zero-width joiner and non-joiner that emoji and some scripts
// need excepted) or characters that render as blanks (Hangul fillers and the like).
func ValidText(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf { // ASCII: the common case, without decoding
			if c < 0x20 || c == 0x7f {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || invisible(r) {
			return false
		}
		i += size
	}
	return true
}

// invisible reports a rune that is a control or format character, or a letter that shows as
// nothing at all.
func invisible(r rune) bool {
	switch r {
	case 0x200c, 0x200d: // zero-width non-joiner and joiner: part of emoji and scripts
		return false
	case 0x115f, 0x1160, 0x3164, 0xffa0, // Hangul fillers (letters that draw nothing)
		0x2800,         // braille pattern blank
		0x180e,         // Mongolian vowel separator
		0x2028, 0x2029, // line and paragraph separators
		0xfffc, 0xfffd: // object replacement, and the replacement character itself
		return true
	}
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r)
}

// ValidKeyPart reports whether s fits a key part of at most max bytes and passes ValidText.
func ValidKeyPart(s string, max int) bool { return len(s) <= max && ValidText(s) }
