// Package seed reads starting counts to import: the likes and views in Markdown frontmatter
// (a blog moving to tally from a counter that kept them there) or in a spreadsheet. It only
// reads and checks; the write model applies the seeds so a re-import never doubles anything.
package seed

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/tallyhq/tally/internal/classify"
	"github.com/tallyhq/tally/internal/item"
)

// Row is one item to seed and where it came from.
type Row struct {
	Where string // "posts/hello.md" or "counts.csv:4"
	URL   string
	Seed  item.Seed
}

// BadRow is a row that cannot be imported.
type BadRow struct {
	Where string // file and line
	Err   error
}

func (b BadRow) Error() string { return b.Where + ": " + b.Err.Error() }

// BadRows lists every row that cannot be imported. Nothing is imported while any remains.
type BadRows []BadRow

func (b BadRows) Error() string {
	lines := make([]string, len(b))
	for i, r := range b {
		lines[i] = r.Error()
	}
	rows := "rows"
	if len(b) == 1 {
		rows = "row"
	}
	return fmt.Sprintf("%d bad %s, nothing imported:\n  %s", len(b), rows, strings.Join(lines, "\n  "))
}

// itemOf maps a page URL to its item with the route rules serve uses.
func itemOf(rules *classify.Rules, raw string) (item.Item, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return item.Item{}, fmt.Errorf("url %q: must be an absolute http(s) URL", raw)
	}
	it := rules.Route(u)
	if !it.Valid() {
		return item.Item{}, fmt.Errorf("url %q: not a countable page", raw)
	}
	return it, nil
}

// dedupe refuses two rows for one item: which of them should win is not ours to guess.
func dedupe(rows []Row, bad BadRows) BadRows {
	first := map[item.Item]string{}
	for _, r := range rows {
		if w, ok := first[r.Seed.Item]; ok {
			bad = append(bad, BadRow{Where: r.Where, Err: fmt.Errorf("%s is already set by %s", r.URL, w)})
			continue
		}
		first[r.Seed.Item] = r.Where
	}
	return bad
}

var errNegative = errors.New("must be a whole number, 0 or more")
