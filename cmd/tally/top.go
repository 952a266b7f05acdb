package main

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/tallyhq/tally/internal/classify"
	"github.com/tallyhq/tally/internal/envflag"
	"github.com/tallyhq/tally/internal/item"
	"github.com/tallyhq/tally/internal/report"
	"github.com/tallyhq/tally/internal/store"
)

func runTop(ctx context.Context, e env, c command, args []string) error {
	flags := envflag.NewFlagSet(c.name, c.synopsis, e.stderr)
	data := flags.String("data", "./data", "data directory")
	readStore := readStoreFlag(flags)
	site := flags.String("site", "", "only this site")
	typ := flags.String("type", "", "only this type, e.g. blog, or an event's name; without it, pages only")
	limit := flags.Int("limit", 10, "how many items")
	routesFlag := flags.String("routes", classify.FormatRoutes(classify.DefaultRoutes()), "route rules as for serve: which types are pages (the rest are client events, not views)")
	if err := envflag.Parse(flags, args, e.getenv); err != nil {
		return err
	}
	routes, err := classify.ParseRoutes(*routesFlag)
	if err != nil {
		return fmt.Errorf("--routes: %w", err)
	}
	rules, err := classify.NewRules(routes, nil)
	if err != nil {
		return fmt.Errorf("--routes: %w", err)
	}
	if *limit < 1 || *limit > 10_000 {
		return fmt.Errorf("--limit must be from 1 to 10000")
	}
	if err := sameStores(*data, "", *readStore, false, true); err != nil {
		return err
	}
	db, err := store.OpenRead(ctx, *data, store.Options{ReadStore: *readStore, ReadOnly: true})
	if err != nil {
		return err
	}
	defer db.Close()
	items, err := db.Top(ctx, report.TopFilter{Site: item.NormalizeSite(*site), Type: *typ, Limit: *limit, Types: rules.PageTypes()})
	if err != nil {
		return err
	}
	if len(items) == 0 {
		fmt.Fprintln(e.stdout, noItems(ctx, db, *site, *typ))
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "#\tTOTAL\tUNIQUE\t SITE\t TYPE\t SLUG\t")
	for i, it := range items {
		slug := it.Slug
		if slug == "" {
			slug = "/" // the home page
		}
		fmt.Fprintf(tw, "%d\t%d\t%d\t %s\t %s\t %s\t\n", i+1, it.Total, it.Unique, terminalSafe(it.Site), terminalSafe(it.Type), terminalSafe(slug))
	}
	return tw.Flush()
}

// noItems says why a top list is empty: nothing flushed at all, or what matched nothing.
func noItems(ctx context.Context, db store.ReadModel, site, typ string) string {
	sites, err := db.Sites(ctx)
	switch {
	case err == nil && len(sites) == 0:
		return "no views flushed yet"
	case site != "" && !slices.Contains(sites, item.NormalizeSite(site)):
		return fmt.Sprintf("no site %q in the read model; sites: %s", site, terminalSafe(strings.Join(sites, ", ")))
	case typ != "":
		return fmt.Sprintf("no items of type %q%s", typ, map[bool]string{true: " on " + site}[site != ""])
	}
	return "no items match"
}

// terminalSafe escapes what a visitor could have put into a stored value to move the cursor,
// change colours or retitle the owner's terminal: control, format and invisible characters
// and invalid UTF-8 are written as Go escapes (\x1b, \u202e). The gate keeps new values clean;
// this holds for rows stored before it and for a read model someone else wrote.
func terminalSafe(s string) string {
	if item.ValidText(s) {
		return s
	}
	q := strconv.Quote(s)
	return q[1 : len(q)-1]
}
