package migrations

import (
	"fmt"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/tallyhq/tally/internal/item"
)

func TestLoadMigrationsRejectsBadNames(t *testing.T) {
	for name, fsys := range map[string]fstest.MapFS{
		"no number": {"init.sql": {Data: []byte("")}},
		"duplicate": {"0001_a.sql": {Data: []byte("")}, "0001_b.sql": {Data: []byte("")}},
	} {
		if _, err := Load(fsys); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	ms, err := Load(fstest.MapFS{"0010_b.sql": {}, "0002_a.sql": {}})
	if err != nil || ms[0].Version != 2 || ms[1].Version != 10 {
		t.Errorf("not in numeric order: %+v %v", ms, err)
	}
}

// TestDialectsAgree: both dialects end at the same number, so a later migration takes the next
// number in both folders.
func TestDialectsAgree(t *testing.T) {
	sq, err := Load(SQLite)
	if err != nil {
		t.Fatal(err)
	}
	pg, err := Load(Postgres)
	if err != nil {
		t.Fatal(err)
	}
	if len(sq) == 0 || len(pg) == 0 || sq[len(sq)-1].Version != pg[len(pg)-1].Version {
		t.Errorf("SQLite ends at %v, PostgreSQL at %v: add the missing migration to the other dialect", sq[len(sq)-1], pg[len(pg)-1])
	}
}

// TestDimensionNumbers: migration 0008 turns dimension names into the numbers internal/item
// gives them; the two must agree, or a migrated breakdown would read another dimension.
func TestDimensionNumbers(t *testing.T) {
	for _, dialect := range []fs.FS{SQLite, Postgres} {
		b, err := fs.ReadFile(dialect, "0008_sparse_history.sql")
		if err != nil {
			t.Fatal(err)
		}
		for d := item.DimTotal; d < item.NumDims; d++ {
			if want := fmt.Sprintf("WHEN '%s' THEN %d", d, d); !strings.Contains(string(b), want) {
				t.Errorf("0008 lacks %q", want)
			}
		}
	}
}
