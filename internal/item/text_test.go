package item

import (
	"strings"
	"testing"
)

func TestValidText(t *testing.T) {
	for _, tc := range []struct {
		s    string
		want bool
	}{
		{"", true},
		{"/blogs/hello-world", true},
		{"/über/café", true},
		{"/日本語/ページ", true},
		{"/emoji/👩‍💻", true}, // a zero-width joiner inside an emoji sequence
		{"\xff\xfe", false},  // invalid UTF-8
		{"a\x00b", false},    // NUL, the key separator
		{"a\nb", false},      // C0
		{"a\x1b[31mred", false},
		{"a\x7fb", false},
		{"a\u0085b", false}, // C1
		{"a\u202eb", false}, // right-to-left override
		{"a\u200bb", false}, // zero-width space
		{"\ufeffbom", false},
		{"a\u00adb", false}, // soft hyphen (Cf)
		{"\u3164", false},   // Hangul filler: a letter that draws nothing
		{"a\u2800b", false}, // braille blank
		{"a\ufffdb", false}, // the replacement character: what a bad byte became
	} {
		if got := ValidText(tc.s); got != tc.want {
			t.Errorf("ValidText(%q) = %v, want %v", tc.s, got, tc.want)
		}
	}
}

func TestValidItemBounds(t *testing.T) {
	for _, tc := range []struct {
		it   Item
		want bool
	}{
		{Item{"example.com", "blog", "hello"}, true},
		{Item{strings.Repeat("a", MaxSiteBytes), "blog", ""}, true},
		{Item{strings.Repeat("a", MaxSiteBytes+1), "blog", ""}, false},
		{Item{"example.com", strings.Repeat("t", MaxTypeBytes+1), ""}, false},
		{Item{"example.com", "page", strings.Repeat("s", MaxSlugBytes)}, true},
		{Item{"example.com", "page", strings.Repeat("s", MaxSlugBytes+1)}, false},
		{Item{"example.com", "page", "a\u202eb"}, false},
		{Item{"", "page", "x"}, false},
	} {
		if got := tc.it.Valid(); got != tc.want {
			t.Errorf("%.60v Valid() = %v, want %v", tc.it, got, tc.want)
		}
	}
}
