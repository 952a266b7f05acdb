package redis

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/tallyhq/tally/internal/item"
	"github.com/tallyhq/tally/internal/session"
)

// after is the exclusive lower bound of a lexical range starting after it ("-": the start).
func after(it item.Item) string {
	if it == (item.Item{}) {
		return "-"
	}
	return "(" + string(it.Key())
}

// byKey returns up to limit item keys of a sorted set (dirty or items), in key order after from.
func (s *Store) byKey(ctx context.Context, set string, from item.Item, limit int) ([]string, error) {
	return s.rdb.ZRangeArgs(ctx, goredis.ZRangeArgs{Key: s.p + set, Start: after(from), Stop: "+", ByLex: true, Count: int64(limit)}).Result()
}

// records reads the items' hashes in one round trip: u, t, l, d, v each.
func (s *Store) records(ctx context.Context, members []string) ([][]any, error) {
	pipe := s.rdb.Pipeline()
	cmds := make([]*goredis.SliceCmd, len(members))
	for i, m := range members {
		cmds[i] = pipe.HMGet(ctx, s.p+"i:"+m, "u", "t", "l", "d", "v")
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, err
	}
	out := make([][]any, len(members))
	for i, c := range cmds {
		out[i] = c.Val()
	}
	return out, nil
}

// Dirty returns up to limit items changed since they were last flushed, in key order after the
// item after, with the mark (version) each was read at.
func (s *Store) Dirty(ctx context.Context, from item.Item, limit int) ([]item.Change, error) {
	members, err := s.byKey(ctx, "dirty", from, limit)
	if err != nil {
		return nil, fmt.Errorf("read dirty items in %s: %w", s.where, err)
	}
	recs, err := s.records(ctx, members)
	if err != nil {
		return nil, fmt.Errorf("read dirty items in %s: %w", s.where, err)
	}
	out := make([]item.Change, 0, len(members))
	for i, m := range members {
		it, err := item.ParseKey([]byte(m))
		if err != nil {
			return nil, err
		}
		r := recs[i]
		out = append(out, item.Change{Counted: item.Counted{Item: it, Counts: item.Counts{Unique: num(r[0]), Total: num(r[1]), Likes: num(r[2])}},
			Mark: uint64(num(r[4]))})
	}
	return out, nil
}

// Clean clears the dirty marks of flushed items, except where the item changed since it was
// read: that one stays dirty for the next flush.
func (s *Store) Clean(ctx context.Context, flushed []item.Change) error {
	args := make([]any, 0, 1+3*len(flushed))
	args = append(args, "v")
	for _, ch := range flushed {
		m := string(ch.Item.Key())
		args = append(args, s.p+"i:"+m, m, strconv.FormatUint(ch.Mark, 10))
	}
	if err := cleanScript.Run(ctx, s.rdb, []string{s.p + "dirty"}, args...).Err(); err != nil && !errors.Is(err, goredis.Nil) {
		return fmt.Errorf("clear dirty marks in %s: %w", s.where, err)
	}
	return nil
}

// DirtyLen returns how many items wait for the next flush.
func (s *Store) DirtyLen(ctx context.Context) (int, error) {
	n, err := s.rdb.ZCard(ctx, s.p+"dirty").Result()
	if err != nil {
		return 0, fmt.Errorf("count dirty items in %s: %w", s.where, err)
	}
	return int(n), nil
}

// MarkAllDirty marks every item for the next flush, to rebuild a read model.
func (s *Store) MarkAllDirty(ctx context.Context) (int, error) {
	n, err := s.rdb.ZUnionStore(ctx, s.p+"dirty", &goredis.ZStore{Keys: []string{s.p + "dirty", s.p + "items"}}).Result()
	if err != nil {
		return 0, fmt.Errorf("mark all dirty in %s: %w", s.where, err)
	}
	// The dimension rows still held (today's and yesterday's) go to the new read model too.
	days, err := s.rdb.SMembers(ctx, s.p+"ddays").Result()
	if err != nil {
		return 0, fmt.Errorf("mark all dirty in %s: %w", s.where, err)
	}
	for _, d := range days {
		owners, err := s.rdb.SMembers(ctx, s.p+"dmo:"+d).Result()
		if err != nil {
			return 0, fmt.Errorf("mark all dirty in %s: %w", s.where, err)
		}
		for chunk := range slices.Chunk(owners, 500) {
			members := make([]goredis.Z, len(chunk))
			for i, o := range chunk {
				members[i] = goredis.Z{Member: d + ":" + o}
			}
			if err := s.rdb.ZAdd(ctx, s.p+"ddirty", members...).Err(); err != nil {
				return 0, fmt.Errorf("mark all dirty in %s: %w", s.where, err)
			}
		}
	}
	return int(n), nil
}

// ChangedOn returns up to limit items, in key order after the item after, whose counts changed
// on the UTC day of date, with their cumulative counts at the end of that day: what a sparse
// snapshot of the day writes. For today, these are the items changed so far.
func (s *Store) ChangedOn(ctx context.Context, date time.Time, from item.Item, limit int) ([]item.Counted, error) {
	d := day(date)
	prefix := changedPrefix(d)
	start := "[" + prefix
	if from != (item.Item{}) {
		start = "(" + prefix + string(from.Key())
	}
	var out []item.Counted
	for len(out) < limit {
		members, err := s.rdb.ZRangeArgs(ctx, goredis.ZRangeArgs{Key: s.p + "changed", Start: start, Stop: "(" + changedPrefix(d+1),
			ByLex: true, Count: int64(limit - len(out))}).Result()
		if err != nil {
			return nil, fmt.Errorf("read items changed on %s in %s: %w", session.FormatDay(date), s.where, err)
		}
		if len(members) == 0 {
			break
		}
		for i := range members {
			members[i] = strings.TrimPrefix(members[i], prefix)
		}
		got, err := s.countsOn(ctx, members, d)
		if err != nil {
			return nil, fmt.Errorf("read items changed on %s in %s: %w", session.FormatDay(date), s.where, err)
		}
		out = append(out, got...)
		start = "(" + prefix + members[len(members)-1]
	}
	return out, nil
}

// changedPrefix starts the members of the changed set of day d (touch in prelude.lua writes
// them).
func changedPrefix(d int64) string { return fmt.Sprintf("%08d:", d) }

// buildChanged fills the changed set from the items' records and histories once, for a store
// written before the set existed; P changed:built says it is done. Nodes that start together
// may both build it: the members are the same.
func (s *Store) buildChanged(ctx context.Context) error {
	if n, err := s.rdb.Exists(ctx, s.p+"changed:built").Result(); err != nil || n == 1 {
		return err
	}
	var from item.Item
	for {
		members, err := s.byKey(ctx, "items", from, 1000)
		if err != nil || len(members) == 0 {
			if err == nil {
				err = s.rdb.Set(ctx, s.p+"changed:built", "1", 0).Err()
			}
			return err
		}
		recs, err := s.records(ctx, members)
		if err != nil {
			return err
		}
		pipe := s.rdb.Pipeline()
		hist := make([]*goredis.StringSliceCmd, len(members))
		for i, m := range members {
			hist[i] = pipe.HKeys(ctx, s.p+"h:"+m)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return err
		}
		var add []goredis.Z
		for i, m := range members {
			if d := num(recs[i][3]); d > 0 {
				add = append(add, goredis.Z{Member: changedPrefix(d) + m})
			}
			for _, k := range hist[i].Val() {
				if d, err := strconv.ParseInt(k, 10, 64); err == nil && d > 0 {
					add = append(add, goredis.Z{Member: changedPrefix(d) + m})
				}
			}
		}
		if len(add) > 0 {
			if err := s.rdb.ZAdd(ctx, s.p+"changed", add...).Err(); err != nil {
				return err
			}
		}
		if from, err = item.ParseKey([]byte(members[len(members)-1])); err != nil {
			return err
		}
	}
}

// countsOn returns each item's counts at the end of day d: the record's own if its last change
// was on d or before, else its history entry of the latest day on or before d.
func (s *Store) countsOn(ctx context.Context, members []string, d int64) ([]item.Counted, error) {
	recs, err := s.records(ctx, members)
	if err != nil {
		return nil, err
	}
	pipe := s.rdb.Pipeline()
	hist := map[int]*goredis.MapStringStringCmd{}
	for i, r := range recs {
		if rd := num(r[3]); rd == 0 || rd > d {
			hist[i] = pipe.HGetAll(ctx, s.p+"h:"+members[i])
		}
	}
	if len(hist) > 0 {
		if _, err := pipe.Exec(ctx); err != nil {
			return nil, err
		}
	}
	var out []item.Counted
	for i, m := range members {
		it, err := item.ParseKey([]byte(m))
		if err != nil {
			return nil, err
		}
		c := item.Counts{Unique: num(recs[i][0]), Total: num(recs[i][1]), Likes: num(recs[i][2])}
		if h, ok := hist[i]; ok {
			var found bool
			if c, found = latestOnOrBefore(h.Val(), d); !found {
				continue
			}
		}
		out = append(out, item.Counted{Item: it, Counts: c})
	}
	return out, nil
}

// latestOnOrBefore picks, from an item's history (day → "u t l"), the entry of the greatest day
// not after d.
func latestOnOrBefore(hist map[string]string, d int64) (item.Counts, bool) {
	best := int64(-1)
	var c item.Counts
	for k, v := range hist {
		hd, err := strconv.ParseInt(k, 10, 64)
		if err != nil || hd > d || hd <= best {
			continue
		}
		f := strings.Fields(v)
		if len(f) != 3 {
			continue
		}
		best = hd
		c = item.Counts{Unique: num(f[0]), Total: num(f[1]), Likes: num(f[2])}
	}
	return c, best >= 0
}

// FirstDay returns the earliest UTC day with counts: the first day any item changed; ok is
// false when nothing was ever counted.
func (s *Store) FirstDay(ctx context.Context) (time.Time, bool, error) {
	first, err := s.rdb.ZRangeArgs(ctx, goredis.ZRangeArgs{Key: s.p + "changed", Start: "-", Stop: "+", ByLex: true, Count: 1}).Result()
	if err != nil {
		return time.Time{}, false, fmt.Errorf("find the first day in %s: %w", s.where, err)
	}
	if len(first) == 0 {
		return time.Time{}, false, nil
	}
	d, err := strconv.ParseInt(strings.SplitN(first[0], ":", 2)[0], 10, 64)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("find the first day in %s: %q: %w", s.where, first[0], err)
	}
	return time.Unix(d*86400, 0).UTC(), true, nil
}

// Lock takes the lock of one scheduled run of a job (its name and the tick it was scheduled
// for), so that of all nodes whose cron fires for that tick one runs it. The lock is left to
// expire, not released: a node whose cron fires late cannot run the same tick again.
func (s *Store) Lock(ctx context.Context, job string, tick time.Time, node string, ttl time.Duration) (bool, error) {
	ok, err := s.rdb.SetNX(ctx, s.p+"lock:"+job+":"+tick.UTC().Format(time.RFC3339), node, ttl).Result()
	if err != nil {
		return false, fmt.Errorf("lock %s in %s: %w", job, s.where, err)
	}
	return ok, nil
}
