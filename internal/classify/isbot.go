package classify

import (
	_ "embed"
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"
)

// isbot_patterns.txt is the pattern list of the isbot npm package (the most used bot list on
// the web; Unlicense, see isbot_LICENSE), one JavaScript regular expression per line, matched
// case-insensitively. `go generate` rewrites it from the pinned package version.
//
//go:generate sh generate/lists.sh
//go:embed isbot_patterns.txt
var isbotPatterns string

// isbotList is the isbot list compiled once at start, split by what each pattern needs so that
// an uncached verdict stays cheap: most patterns are plain words (one strings.Contains each)
// or words at the start; the few with lookaround, which Go's RE2 lacks, are matched by hand;
// only the rest are regular expressions.
var isbotList = mustCompilePatterns(isbotPatterns)

type patterns struct {
	words    []string // anywhere in the User-Agent
	prefixes []string // at its start
	guarded  []guarded
	regexps  []literalRegexp // the rest, one each: each keeps its own fast path (a literal prefix, an anchor)
}

// literalRegexp is a regular expression with a word any match contains ("/1.0;" in
// `\b\w+/1\.0;`): strings.Contains rules most User-Agents out far faster than the regexp.
type literalRegexp struct {
	literal string
	re      *regexp.Regexp
}

func (l *literalRegexp) match(s string) bool {
	return strings.Contains(s, l.literal) && l.re.MatchString(s)
}

// guarded is a pattern with a negative lookbehind and/or lookahead of literal alternatives,
// such as "(?<!cam)scan" or "java(?!;)".
type guarded struct {
	literal       string // in every match of core
	core          *regexp.Regexp
	notPrecededBy []string
	notFollowedBy []string
}

// match reports whether p matches lower, an ASCII-lower-cased User-Agent.
func (p *patterns) match(lower string) bool {
	for _, w := range p.words {
		if strings.Contains(lower, w) {
			return true
		}
	}
	for _, w := range p.prefixes {
		if strings.HasPrefix(lower, w) {
			return true
		}
	}
	for i := range p.guarded {
		if p.guarded[i].match(lower) {
			return true
		}
	}
	for i := range p.regexps {
		if p.regexps[i].match(lower) {
			return true
		}
	}
	return false
}

func (g *guarded) match(s string) bool {
	// The cores cannot overlap themselves ("scan", "bots?"), so the non-overlapping matches are
	// every place the pattern could match.
	if !strings.Contains(s, g.literal) {
		return false
	}
	for _, loc := range g.core.FindAllStringIndex(s, -1) {
		if !hasSuffixAny(s[:loc[0]], g.notPrecededBy) && !hasPrefixAny(s[loc[1]:], g.notFollowedBy) {
			return true
		}
	}
	return false
}

func hasSuffixAny(s string, alts []string) bool {
	for _, a := range alts {
		if strings.HasSuffix(s, a) {
			return true
		}
	}
	return false
}

func hasPrefixAny(s string, alts []string) bool {
	for _, a := range alts {
		if strings.HasPrefix(s, a) {
			return true
		}
	}
	return false
}

// regexpMeta are the characters that make a pattern more than a plain word.
const regexpMeta = `\.+*?()|[]{}^$`

// lookaround splits "(?<!a|b)core(?!c|d)" (either guard optional; the lookahead's alternatives
// may sit in a "(?:…)") into its parts.
var lookaround = regexp.MustCompile(`^(?:\(\?<!([^()]*)\))?(.*?)(?:\(\?!(?:\(\?:)?([^()]*?)\)?\))?$`)

// compilePatterns compiles a list of JavaScript patterns written for case-insensitive matching.
// It refuses what it cannot translate faithfully, so a new isbot version with a new kind of
// pattern fails the tests instead of silently catching less.
func compilePatterns(list string) (*patterns, error) {
	p := &patterns{}
	for _, pat := range strings.Split(strings.TrimSpace(list), "\n") {
		pat = strings.ToLower(strings.TrimSpace(pat))
		switch {
		case pat == "":
		case !strings.ContainsAny(pat, regexpMeta):
			p.words = append(p.words, pat)
		case strings.HasPrefix(pat, "^") && !strings.ContainsAny(pat[1:], regexpMeta):
			p.prefixes = append(p.prefixes, pat[1:])
		case strings.Contains(pat, "(?<") || strings.Contains(pat, "(?!") || strings.Contains(pat, "(?="):
			g, err := compileGuarded(pat)
			if err != nil {
				return nil, err
			}
			p.guarded = append(p.guarded, g)
		default:
			re, err := regexp.Compile(pat)
			if err != nil {
				return nil, fmt.Errorf("classify: bot pattern %q: %w", pat, err)
			}
			p.regexps = append(p.regexps, literalRegexp{literal: requiredLiteral(pat), re: re})
		}
	}
	return p, nil
}

func compileGuarded(pat string) (guarded, error) {
	m := lookaround.FindStringSubmatch(pat)
	if m == nil || strings.Contains(m[2], "(?<") || strings.Contains(m[2], "(?!") || strings.Contains(m[2], "(?=") {
		return guarded{}, fmt.Errorf("classify: bot pattern %q: unsupported lookaround", pat)
	}
	before, core, after := splitAlts(m[1]), m[2], splitAlts(m[3])
	for _, a := range append(append([]string{}, before...), after...) {
		if strings.ContainsAny(a, regexpMeta) {
			return guarded{}, fmt.Errorf("classify: bot pattern %q: lookaround %q is not plain text", pat, a)
		}
	}
	if len(after) > 0 && strings.ContainsAny(startOrNot.ReplaceAllString(core, ""), regexpMeta) {
		// A lookahead after a core of varying length could make JavaScript backtrack to a
		// shorter match that we would not try.
		return guarded{}, fmt.Errorf("classify: bot pattern %q: lookahead after a pattern of varying length", pat)
	}
	re, err := regexp.Compile(core)
	if err != nil {
		return guarded{}, fmt.Errorf("classify: bot pattern %q: %w", pat, err)
	}
	return guarded{literal: requiredLiteral(core), core: re, notPrecededBy: before, notFollowedBy: after}, nil
}

// startOrNot is a leading "(?:^|[^x])": a start that varies by one character before a fixed word.
var startOrNot = regexp.MustCompile(`^\(\?:\^\|\[\^[^\]]+\]\)`)

// requiredLiteral returns the longest plain text that every match of pattern contains, or "".
func requiredLiteral(pattern string) string {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return ""
	}
	re = re.Simplify()
	parts := []*syntax.Regexp{re}
	if re.Op == syntax.OpConcat {
		parts = re.Sub
	}
	best := ""
	for _, p := range parts {
		if p.Op == syntax.OpLiteral && p.Flags&syntax.FoldCase == 0 && len(string(p.Rune)) > len(best) {
			best = string(p.Rune)
		}
	}
	return best
}

func splitAlts(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "|")
}

func mustCompilePatterns(list string) *patterns {
	p, err := compilePatterns(list)
	if err != nil {
		// The list is embedded at build time and TestIsbotPatternsCompile checks it.
		panic(err)
	}
	return p
}

// asciiLower lower-cases ASCII letters only, so byte offsets stay those of the original.
func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if c := b[j]; 'A' <= c && c <= 'Z' {
					b[j] = c + 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}
