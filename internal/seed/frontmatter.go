package seed

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/BurntSushi/toml"
	"github.com/tallyhq/tally/internal/classify"
	"github.com/tallyhq/tally/internal/item"
)

// Skipped is a Markdown file that had nothing to import, and why.
type Skipped struct {
	Where  string
	Reason string
}

// Frontmatter reads every Markdown file under dir (.md, .markdown, .mdx) and returns a row for
// each one whose YAML frontmatter has views or likes. The page URL is urlPattern with {slug}
// replaced by the slug: the frontmatter's slug field, else the file name without extension.
func Frontmatter(dir, urlPattern string, rules *classify.Rules) ([]Row, []Skipped, error) {
	if !strings.Contains(urlPattern, "{slug}") {
		return nil, nil, fmt.Errorf("--url-pattern %q must contain {slug}", urlPattern)
	}
	if _, err := itemOf(rules, strings.ReplaceAll(urlPattern, "{slug}", "x")); err != nil {
		return nil, nil, fmt.Errorf("--url-pattern: %w", err)
	}
	var rows []Row
	var skipped []Skipped
	var bad BadRows
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch strings.ToLower(filepath.Ext(path)) {
		case ".md", ".markdown", ".mdx":
		default:
			return nil
		}
		if d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(dir, path)
		row, skip, err := readFile(path, rel, urlPattern, rules)
		switch {
		case err != nil:
			var br BadRow
			if !errors.As(err, &br) {
				br = BadRow{Where: rel, Err: err}
			}
			bad = append(bad, br)
		case skip != "":
			skipped = append(skipped, Skipped{Where: rel, Reason: skip})
		default:
			rows = append(rows, row)
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", dir, err)
	}
	if bad = dedupe(rows, bad); len(bad) > 0 {
		return nil, nil, bad
	}
	return rows, skipped, nil
}

// readFile parses one file's frontmatter. It returns the row, or why the file has nothing to
// import, or an error naming the file and the line of the bad value.
func readFile(path, rel, urlPattern string, rules *classify.Rules) (row Row, skip string, err error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return Row{}, "", err
	}
	src = bytes.ReplaceAll(src, []byte("\r\n"), []byte("\n"))
	if bytes.HasPrefix(src, []byte("+++\n")) { // Hugo's TOML frontmatter
		return readTOML(src, path, rel, urlPattern, rules)
	}
	if !bytes.HasPrefix(src, []byte("---\n")) {
		return Row{}, "no frontmatter (neither --- YAML nor +++ TOML)", nil
	}
	end := bytes.Index(src[4:], []byte("\n---"))
	if end < 0 {
		return Row{}, "", BadRow{Where: rel + ":1", Err: fmt.Errorf("frontmatter opened with --- is never closed")}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(src[4:4+end+1], &doc); err != nil {
		return Row{}, "", BadRow{Where: rel, Err: fmt.Errorf("frontmatter: %w", err)}
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return Row{}, "no views or likes in its frontmatter", nil
	}
	slug := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	sd := item.Seed{Views: item.Keep, Likes: item.Keep} // a count the frontmatter lacks keeps its earlier import
	found := false
	m := doc.Content[0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		where := fmt.Sprintf("%s:%d", rel, v.Line+1) // +1: the opening --- is line 1
		switch k.Value {
		case "slug":
			if v.Kind != yaml.ScalarNode || strings.TrimSpace(v.Value) == "" || strings.ContainsAny(v.Value, "/?#") {
				return Row{}, "", BadRow{Where: where, Err: fmt.Errorf("slug %q: want a plain non-empty slug", v.Value)}
			}
			slug = strings.TrimSpace(v.Value)
		case "views", "likes":
			n, err := strconv.ParseInt(v.Value, 10, 64)
			if v.Kind != yaml.ScalarNode || err != nil || n < 0 {
				return Row{}, "", BadRow{Where: where, Err: fmt.Errorf("%s %q: %w", k.Value, v.Value, errNegative)}
			}
			if k.Value == "views" {
				sd.Views = n
			} else {
				sd.Likes = n
			}
			found = true
		}
	}
	if !found {
		return Row{}, "no views or likes in its frontmatter", nil
	}
	u := strings.ReplaceAll(urlPattern, "{slug}", slug)
	it, err := itemOf(rules, u)
	if err != nil {
		return Row{}, "", BadRow{Where: rel, Err: err}
	}
	sd.Item = it
	return Row{Where: rel, URL: u, Seed: sd}, "", nil
}

// readTOML parses TOML frontmatter between +++ lines, as Hugo writes it: views, likes, slug.
func readTOML(src []byte, path, rel, urlPattern string, rules *classify.Rules) (Row, string, error) {
	end := bytes.Index(src[4:], []byte("\n+++"))
	if end < 0 {
		return Row{}, "", BadRow{Where: rel + ":1", Err: fmt.Errorf("frontmatter opened with +++ is never closed")}
	}
	var fm struct {
		Slug  *string `toml:"slug"`
		Views *int64  `toml:"views"`
		Likes *int64  `toml:"likes"`
	}
	if _, err := toml.Decode(string(src[4:4+end+1]), &fm); err != nil {
		return Row{}, "", BadRow{Where: rel, Err: fmt.Errorf("frontmatter: %w", err)}
	}
	if fm.Views == nil && fm.Likes == nil {
		return Row{}, "no views or likes in its frontmatter", nil
	}
	slug := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	if fm.Slug != nil {
		if strings.TrimSpace(*fm.Slug) == "" || strings.ContainsAny(*fm.Slug, "/?#") {
			return Row{}, "", BadRow{Where: rel, Err: fmt.Errorf("slug %q: want a plain non-empty slug", *fm.Slug)}
		}
		slug = strings.TrimSpace(*fm.Slug)
	}
	sd := item.Seed{Views: item.Keep, Likes: item.Keep}
	for name, pair := range map[string][2]*int64{"views": {fm.Views, &sd.Views}, "likes": {fm.Likes, &sd.Likes}} {
		if v := pair[0]; v != nil {
			if *v < 0 {
				return Row{}, "", BadRow{Where: rel, Err: fmt.Errorf("%s %d: %w", name, *v, errNegative)}
			}
			*pair[1] = *v
		}
	}
	u := strings.ReplaceAll(urlPattern, "{slug}", slug)
	it, err := itemOf(rules, u)
	if err != nil {
		return Row{}, "", BadRow{Where: rel, Err: err}
	}
	sd.Item = it
	return Row{Where: rel, URL: u, Seed: sd}, "", nil
}
