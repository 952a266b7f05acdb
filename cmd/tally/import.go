package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/tallyhq/tally/internal/classify"
	"github.com/tallyhq/tally/internal/datadir"
	"github.com/tallyhq/tally/internal/envflag"
	"github.com/tallyhq/tally/internal/item"
	"github.com/tallyhq/tally/internal/seed"
	"github.com/tallyhq/tally/internal/store"
)

const importUsage = `Usage:
  tally import frontmatter DIR --url-pattern 'https://blog.example.com/blogs/{slug}' [--data DIR] [--routes …]
  tally import csv FILE [--data DIR] [--routes …]

Sets the starting views and likes of items: from the frontmatter, YAML (---) or TOML (+++),
of every Markdown file under DIR (views, likes, and slug or else the file name), or from a CSV
file whose header names url and views or likes or both, in any order. A count a file lacks keeps
what an earlier import set. Re-running an import never doubles anything: each item moves by the
difference from what was imported for it before. Imported views count towards the total only.
If any row is bad, nothing is imported and every bad row is listed with its line. The server
must be stopped while importing; counts reach the dashboard with the next flush.`

func runImport(ctx context.Context, e env, c command, args []string) error {
	kind := ""
	if len(args) > 0 {
		kind = args[0]
	}
	name := "import"
	if kind == "frontmatter" || kind == "csv" {
		name += " " + kind
	}
	fs := envflag.NewFlagSet(name, c.synopsis, e.stderr)
	data := fs.String("data", "./data", "data directory")
	writeStore := fs.String("write-store", "", writeStoreUsage)
	routes := fs.String("routes", classify.FormatRoutes(classify.DefaultRoutes()), "route rules, as for serve")
	pattern := fs.String("url-pattern", "", "frontmatter: page URL with {slug}, e.g. https://blog.example.com/blogs/{slug}")
	flagUsage := fs.Usage
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, importUsage)
		fmt.Fprintln(e.stderr)
		flagUsage()
	}
	if kind != "frontmatter" && kind != "csv" {
		fs.Usage()
		if kind == "-h" || kind == "--help" || kind == "help" {
			return flag.ErrHelp
		}
		return errors.New("import needs frontmatter DIR or csv FILE")
	}
	path, err := envflag.ParseWithArg(fs, args[1:], e.getenv)
	if err != nil {
		return err
	}
	rt, err := classify.ParseRoutes(*routes)
	if err != nil {
		return fmt.Errorf("--routes: %w", err)
	}
	rules, err := classify.NewRules(rt, nil)
	if err != nil {
		return err
	}

	var rows []seed.Row
	if kind == "csv" {
		rows, err = seed.CSVFile(path, rules)
	} else if *pattern == "" {
		return errors.New("import frontmatter needs --url-pattern, e.g. 'https://blog.example.com/blogs/{slug}'")
	} else {
		var skipped []seed.Skipped
		rows, skipped, err = seed.Frontmatter(path, *pattern, rules)
		for _, s := range skipped {
			fmt.Fprintf(e.stdout, "skipped  %s: %s\n", s.Where, s.Reason)
		}
	}
	if err != nil {
		return err
	}
	return applySeeds(ctx, e, *data, *writeStore, rows)
}

func applySeeds(ctx context.Context, e env, dataDir, writeStore string, rows []seed.Row) error {
	if len(rows) == 0 {
		fmt.Fprintln(e.stdout, "nothing to import")
		return nil
	}
	seeds := make([]item.Seed, len(rows))
	for i, r := range rows {
		seeds[i] = r.Seed
	}
	if err := sameStores(dataDir, writeStore, "", true, false); err != nil {
		return err
	}
	before, err := store.Import(ctx, dataDir, store.Options{WriteStore: writeStore}, seeds)
	if errors.Is(err, datadir.ErrInUse) {
		return fmt.Errorf("%w; stop it, import, and start it again", err)
	}
	if err != nil {
		return err
	}
	for i, r := range rows {
		fmt.Fprintf(e.stdout, "imported %s: %s, %s  [%s]\n", r.URL,
			change("views", r.Seed.Views, before[i].Views), change("likes", r.Seed.Likes, before[i].Likes), r.Where)
	}
	noun := "items"
	if len(rows) == 1 {
		noun = "item"
	}
	fmt.Fprintf(e.stdout, "%d %s imported; they reach the read model with the next flush\n", len(rows), noun)
	return nil
}

// change says what an import did to one count.
func change(what string, now, was int64) string {
	if now == item.Keep {
		return fmt.Sprintf("%s %d (kept: not in the file)", what, was)
	}
	return fmt.Sprintf("%s %d (was %d)", what, now, was)
}
