package seed

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/tallyhq/tally/internal/classify"
	"github.com/tallyhq/tally/internal/item"
)

// CSV reads rows of url,views,likes (a header row names the columns, in any order; other
// columns are ignored; an empty number is 0). name is used in messages.
func CSV(r io.Reader, name string, rules *classify.Rules) ([]Row, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: read header: %w", name, err)
	}
	col := map[string]int{}
	// (A column the file lacks keeps what an earlier import set.)
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	_, hasURL := col["url"]
	_, hasViews := col["views"]
	_, hasLikes := col["likes"]
	if !hasURL || !hasViews && !hasLikes {
		return nil, fmt.Errorf("%s:1: the header needs a url column and a views or likes column, in any order (it has %s)", name, strings.Join(header, ","))
	}
	var rows []Row
	var bad BadRows
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		line, _ := cr.FieldPos(0)
		where := fmt.Sprintf("%s:%d", name, line)
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				where = fmt.Sprintf("%s:%d", name, pe.Line)
			}
			bad = append(bad, BadRow{Where: where, Err: err})
			continue
		}
		row, err := csvRow(rec, col, rules)
		if err != nil {
			bad = append(bad, BadRow{Where: where, Err: err})
			continue
		}
		row.Where = where
		rows = append(rows, row)
	}
	if bad = dedupe(rows, bad); len(bad) > 0 {
		return nil, bad
	}
	return rows, nil
}

func csvRow(rec []string, col map[string]int, rules *classify.Rules) (Row, error) {
	field := func(name string) string {
		if i := col[name]; i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	it, err := itemOf(rules, field("url"))
	if err != nil {
		return Row{}, err
	}
	row := Row{URL: field("url")}
	row.Seed.Item = it
	for name, dst := range map[string]*int64{"views": &row.Seed.Views, "likes": &row.Seed.Likes} {
		if _, ok := col[name]; !ok {
			*dst = item.Keep // not in this file: what was imported before stays
			continue
		}
		s := field(name)
		if s == "" {
			continue
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return Row{}, fmt.Errorf("%s %q: %w", name, s, errNegative)
		}
		*dst = n
	}
	return row, nil
}

// CSVFile is CSV over the file at path.
func CSVFile(path string, rules *classify.Rules) ([]Row, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return CSV(f, filepath.Base(path), rules)
}
