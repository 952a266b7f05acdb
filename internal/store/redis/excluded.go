package redis

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/tallyhq/tally/internal/item"
)

// What was not counted lives in one hash per UTC day, "x:YYYY-MM-DD" with fields
// "site\x00kind\x00name" → count, and the set "x:days" names the days held. Only days the
// flush has not yet seen stay: PruneExcluded drops the rest.

func (s *Store) excludedDay(day string) string { return s.p + "x:" + day }

// AddExcluded adds rows' counts to the per-day totals, in one round trip.
func (s *Store) AddExcluded(ctx context.Context, rows []item.Excluded) error {
	pipe := s.rdb.TxPipeline()
	days := map[string]bool{}
	for _, r := range rows {
		pipe.HIncrBy(ctx, s.excludedDay(r.Day), r.Site+"\x00"+r.Kind+"\x00"+r.Name, r.Count)
		days[r.Day] = true
	}
	for d := range days {
		pipe.SAdd(ctx, s.p+"x:days", d)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("add exclusions in %s: %w", s.where, err)
	}
	return nil
}

// Excluded returns about limit per-day totals after cursor ("": from the first day), and the
// cursor of the next page ("" after the last): the days in order, each day's hash scanned with
// HSCAN, so the flush copies them in bounded pages. The cursor is "<day> <HSCAN cursor>".
func (s *Store) Excluded(ctx context.Context, cursor string, limit int) ([]item.Excluded, string, error) {
	days, err := s.rdb.SMembers(ctx, s.p+"x:days").Result()
	if err != nil {
		return nil, "", fmt.Errorf("read exclusions in %s: %w", s.where, err)
	}
	slices.Sort(days)
	day, scan := "", uint64(0)
	if cursor != "" {
		d, c, _ := strings.Cut(cursor, " ")
		n, err := strconv.ParseUint(c, 10, 64)
		if err != nil {
			return nil, "", fmt.Errorf("read exclusions in %s: bad cursor %q", s.where, cursor)
		}
		day, scan = d, n
	}
	var rows []item.Excluded
	for _, d := range days {
		if d < day {
			continue
		}
		if d > day {
			scan = 0
		}
		for {
			fields, next, err := s.rdb.HScan(ctx, s.excludedDay(d), scan, "", int64(limit)).Result()
			if err != nil {
				return nil, "", fmt.Errorf("read exclusions of %s in %s: %w", d, s.where, err)
			}
			for i := 0; i+1 < len(fields); i += 2 {
				parts := strings.SplitN(fields[i], "\x00", 3)
				n, err := strconv.ParseInt(fields[i+1], 10, 64)
				if err != nil || len(parts) != 3 {
					return nil, "", fmt.Errorf("bad exclusion row %q=%q in %s", fields[i], fields[i+1], s.where)
				}
				rows = append(rows, item.Excluded{Day: d, Site: parts[0], Kind: parts[1], Name: parts[2], Count: n})
			}
			if scan = next; scan == 0 {
				break
			}
			if len(rows) >= limit {
				return rows, d + " " + strconv.FormatUint(scan, 10), nil
			}
		}
		day = d
		if len(rows) >= limit && d != days[len(days)-1] {
			return rows, nextDay(days, d) + " 0", nil
		}
	}
	return rows, "", nil
}

// nextDay returns the day after d among the sorted days.
func nextDay(days []string, d string) string {
	i, _ := slices.BinarySearch(days, d)
	return days[i+1]
}

// PruneExcluded drops the totals of days before day (YYYY-MM-DD), which can no longer change.
func (s *Store) PruneExcluded(ctx context.Context, day string) error {
	days, err := s.rdb.SMembers(ctx, s.p+"x:days").Result()
	if err != nil {
		return fmt.Errorf("prune exclusions in %s: %w", s.where, err)
	}
	for _, d := range days {
		if d >= day {
			continue
		}
		pipe := s.rdb.TxPipeline()
		pipe.Del(ctx, s.excludedDay(d))
		pipe.SRem(ctx, s.p+"x:days", d)
		if _, err := pipe.Exec(ctx); err != nil {
			return fmt.Errorf("prune exclusions of %s in %s: %w", d, s.where, err)
		}
	}
	return nil
}

// KeptSites reports which of sites the store keeps: those in the sites hash of the bounds.
func (s *Store) KeptSites(ctx context.Context, sites []string) (map[string]bool, error) {
	kept := make(map[string]bool, len(sites))
	for chunk := range slices.Chunk(sites, 1000) {
		vals, err := s.rdb.HMGet(ctx, s.p+"sites", chunk...).Result()
		if err != nil {
			return nil, fmt.Errorf("read kept sites in %s: %w", s.where, err)
		}
		for i, v := range vals {
			if v != nil {
				kept[chunk[i]] = true
			}
		}
	}
	return kept, nil
}
