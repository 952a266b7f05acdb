package seed

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tallyhq/tally/internal/classify"
	"github.com/tallyhq/tally/internal/item"
)

func rules(t *testing.T) *classify.Rules {
	t.Helper()
	r, err := classify.NewRules(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func write(t *testing.T, dir, name, content string) {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

const pattern = "https://blog.example.com/blogs/{slug}"

func blog(slug string) item.Item {
	return item.Item{Site: "blog.example.com", Type: "blog", Slug: slug}
}

func TestFrontmatter(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "hello-world.md", "---\ntitle: Hello\nviews: 120\nlikes: 7\n---\n# Hello\n")
	write(t, dir, "2024/renamed.markdown", "---\ntitle: Old name\nslug: new-name\nviews: 5\n---\ntext\n")
	write(t, dir, "drafts/no-counts.md", "---\ntitle: Draft\n---\n")
	write(t, dir, "plain.md", "# No frontmatter\n")
	write(t, dir, "windows.md", "---\r\nlikes: 3\r\n---\r\n")
	write(t, dir, "notes.txt", "---\nviews: 99\n---\n")
	write(t, dir, "hugo.md", "+++\ntitle = \"Hugo\"\nslug = \"from-hugo\"\nviews = 42\nlikes = 4\n+++\nbody\n")
	write(t, dir, "hugo-views.md", "+++\nviews = 8\n+++\n")
	rows, skipped, err := Frontmatter(dir, pattern, rules(t))
	if err != nil {
		t.Fatal(err)
	}
	got := map[item.Item]item.Seed{}
	for _, r := range rows {
		got[r.Seed.Item] = r.Seed
	}
	want := map[item.Item]item.Seed{
		blog("hello-world"): {Item: blog("hello-world"), Views: 120, Likes: 7},
		blog("new-name"):    {Item: blog("new-name"), Views: 5, Likes: item.Keep}, // no likes: keep an earlier import's
		blog("windows"):     {Item: blog("windows"), Views: item.Keep, Likes: 3},
		blog("from-hugo"):   {Item: blog("from-hugo"), Views: 42, Likes: 4}, // TOML, as Hugo writes it
		blog("hugo-views"):  {Item: blog("hugo-views"), Views: 8, Likes: item.Keep},
	}
	if len(got) != len(want) {
		t.Errorf("rows %+v, want %+v", got, want)
	}
	for it, sd := range want {
		if got[it] != sd {
			t.Errorf("%s: %+v, want %+v", it.Slug, got[it], sd)
		}
	}
	wantSkipped := "[{drafts/no-counts.md no views or likes in its frontmatter} {plain.md no frontmatter (neither --- YAML nor +++ TOML)}]"
	if got := fmt.Sprint(skipped); got != wantSkipped {
		t.Errorf("skipped %s, want %s", got, wantSkipped)
	}
}

func TestFrontmatterRefusesBadRows(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "a.md", "---\ntitle: A\nviews: lots\n---\n")
	write(t, dir, "b.md", "---\nlikes: -3\n---\n")
	write(t, dir, "c.md", "---\nslug: a/b\nviews: 1\n---\n")
	write(t, dir, "d.md", "---\nviews: 1\n")
	write(t, dir, "e.md", "---\nslug: same\nviews: 1\n---\n")
	write(t, dir, "f.md", "---\nslug: same\nviews: 2\n---\n")
	write(t, dir, "ok.md", "---\nviews: 1\n---\n")
	_, _, err := Frontmatter(dir, pattern, rules(t))
	var bad BadRows
	if !errors.As(err, &bad) {
		t.Fatalf("err = %v, want BadRows", err)
	}
	msg := err.Error()
	for _, want := range []string{"a.md:3: views \"lots\"", "b.md:2: likes \"-3\"", "c.md:2: slug", "d.md:1: frontmatter opened", "f.md: https://blog.example.com/blogs/same is already set by e.md", "nothing imported"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "ok.md") {
		t.Errorf("a good file is listed as bad:\n%s", msg)
	}
}

func TestFrontmatterPattern(t *testing.T) {
	for _, p := range []string{"https://blog.example.com/blogs/", "/blogs/{slug}", "ftp://x/{slug}"} {
		if _, _, err := Frontmatter(t.TempDir(), p, rules(t)); err == nil {
			t.Errorf("pattern %q accepted", p)
		}
	}
}

func TestCSV(t *testing.T) {
	in := "\ufeffURL,views,likes,title\n" +
		"https://blog.example.com/blogs/a,10,2,A\n" +
		"https://www.blog.example.com/blogs/b/,,5,B\n" +
		"https://blog.example.com/,7,,Home\n"
	rows, err := CSV(strings.NewReader(in), "counts.csv", rules(t))
	if err != nil {
		t.Fatal(err)
	}
	want := []item.Seed{
		{Item: blog("a"), Views: 10, Likes: 2},
		{Item: blog("b"), Likes: 5},
		{Item: item.Item{Site: "blog.example.com", Type: "home"}, Views: 7},
	}
	for i, r := range rows {
		if r.Seed != want[i] {
			t.Errorf("row %d: %+v, want %+v", i, r.Seed, want[i])
		}
	}
	if rows[1].Where != "counts.csv:3" {
		t.Errorf("where = %q", rows[1].Where)
	}
}

// TestCSVColumnsOptional: url and either count, in any order; a missing column keeps what an
// earlier import set.
func TestCSVColumnsOptional(t *testing.T) {
	for in, want := range map[string]item.Seed{
		"url,views\nhttps://blog.example.com/blogs/a,10\n": {Item: blog("a"), Views: 10, Likes: item.Keep},
		"likes,url\n3,https://blog.example.com/blogs/a\n":  {Item: blog("a"), Views: item.Keep, Likes: 3},
	} {
		rows, err := CSV(strings.NewReader(in), "c.csv", rules(t))
		if err != nil || len(rows) != 1 || rows[0].Seed != want {
			t.Errorf("%q: %+v %v, want %+v", in, rows, err, want)
		}
	}
	if _, err := CSV(strings.NewReader("url,title\nhttps://blog.example.com/blogs/a,A\n"), "c.csv", rules(t)); err == nil ||
		!strings.Contains(err.Error(), "a url column and a views or likes column") {
		t.Errorf("no count column: %v", err)
	}
}

func TestCSVRefusesBadRows(t *testing.T) {
	in := "url,views,likes\n" +
		"https://blog.example.com/blogs/a,10,2\n" +
		"not a url,1,1\n" +
		"https://blog.example.com/blogs/c,-1,0\n" +
		"https://blog.example.com/blogs/d,1.5,0\n" +
		"https://blog.example.com/blogs/a,3,3\n"
	_, err := CSV(strings.NewReader(in), "counts.csv", rules(t))
	if err == nil {
		t.Fatal("bad rows accepted")
	}
	for _, want := range []string{"counts.csv:3: url", "counts.csv:4: views \"-1\"", "counts.csv:5: views \"1.5\"", "counts.csv:6: https://blog.example.com/blogs/a is already set by counts.csv:2"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%s", want, err)
		}
	}
	if _, err := CSV(strings.NewReader("link,count\nx,1\n"), "x.csv", rules(t)); err == nil || !strings.Contains(err.Error(), "x.csv:1") {
		t.Errorf("missing columns: %v", err)
	}
}

func TestBadRowsCountsInWords(t *testing.T) {
	one := BadRows{{Where: "counts.csv:3", Err: errors.New("views must be a whole number")}}
	two := append(one, BadRow{Where: "counts.csv:4", Err: errors.New("url is not absolute")})
	if msg := one.Error(); !strings.HasPrefix(msg, "1 bad row, nothing imported") {
		t.Errorf("one bad row: %q", msg)
	}
	if msg := two.Error(); !strings.HasPrefix(msg, "2 bad rows, nothing imported") {
		t.Errorf("two bad rows: %q", msg)
	}
}
