package classify

import "testing"

func TestIsbotPatternsCompile(t *testing.T) {
	p, err := compilePatterns(isbotPatterns)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(p.words) + len(p.prefixes) + len(p.guarded) + len(p.regexps); n < 100 {
		t.Errorf("only %d isbot patterns compiled; is isbot_patterns.txt complete?", n)
	}
}

// TestGuardedPatterns checks the hand translation of JavaScript lookarounds against what
// JavaScript's own engine answers for the same pattern and text (checked with Node: new
// RegExp(pattern, "i").test(ua)).
func TestGuardedPatterns(t *testing.T) {
	tests := []struct {
		pattern, ua string
		match       bool
	}{
		{`(?<!cam)scan`, "virusscan/1.0", true},
		{`(?<!cam)scan`, "camscanner", false},
		{`(?<!cam)scan`, "camscanner scan", true},
		{`java(?!;)`, "java/1.8", true},
		{`java(?!;)`, "(java; u)", false},
		{`(?<! cu)bots?(?:\b|_)`, "mozilla (compatible; googlebot/2.1)", true},
		{`(?<! cu)bots?(?:\b|_)`, "android; cubot x17", false},
		{`(?<! cu)bots?(?:\b|_)`, "cubot x", true}, // no space before "cu"
		{`(?<! cu)bots?(?:\b|_)`, "a cubot and a bot", true},
		{`(?<! cu)bots?(?:\b|_)`, "robotics", false},
		{`(?<! cu)bots?(?:\b|_)`, "my_bots_", true},
		{`(?<! channel/|google/)google(?!(?:wv|app|/google| pixel))`, "google-inspectiontool", true},
		{`(?<! channel/|google/)google(?!(?:wv|app|/google| pixel))`, "googleapp/1", false},
		{`(?<! channel/|google/)google(?!(?:wv|app|/google| pixel))`, "x channel/google", false},
		{`(?<! channel/|google/)google(?!(?:wv|app|/google| pixel))`, "google pixel 7", false},
		{`(?:^|[^g])news(?!sapphire)`, "newsbot", true},
		{`(?:^|[^g])news(?!sapphire)`, "gnews", false},
		{`(?:^|[^g])news(?!sapphire)`, "a newssapphire", false},
	}
	for _, tt := range tests {
		p, err := compilePatterns(tt.pattern)
		if err != nil {
			t.Fatalf("%s: %v", tt.pattern, err)
		}
		if got := p.match(tt.ua); got != tt.match {
			t.Errorf("%s on %q = %v, want %v", tt.pattern, tt.ua, got, tt.match)
		}
	}
}

// TestUnsupportedPatternsAreRefused: a new isbot version with a pattern we cannot translate
// must fail here, not catch less in production.
func TestUnsupportedPatternsAreRefused(t *testing.T) {
	for _, pat := range []string{`(?<=x)y`, `a+(?!b)`, `x(?=y)`, `(?<!a+)b`, `(?<!a)b(?!c)(?!d)`} {
		if _, err := compilePatterns(pat); err == nil {
			t.Errorf("compilePatterns(%q) accepted a pattern it cannot match faithfully", pat)
		}
	}
}
