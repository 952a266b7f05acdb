package redis

import (
	"context"
	"encoding/hex"
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

// Dimensions and visitors (see dimsPart in scripts.go). Keys, for day D (days since the epoch):
// P dm:D:<owner> hash of "n<dim>|<value>" → views, "u<dim>|<value>" → visitors, "_m" → mark;
// P ddirty sorted set of "D:<owner>" to flush; P dmo:D set of the day's owners; P ddays set of
// days held; P vis:D set of (session, owner) hashes counted as visitors; P dv:D:<site>:<dim>
// set of the site's distinct values; P dc:D:<site> hash of the fair-share counters (new values
// per network, referrer hosts per registrable domain); P dp:D:<site>:<dim> set of the site's
// page rows of a source dimension ("<item>|<value>"); P rt:<site>:<minute> sorted set of items
// by live views and P rv:<site>:<minute> HyperLogLog of live visitors. Every day key expires
// after dayTTL.

const (
	liveTTL = (liveMinutes + 2) * time.Minute
	dayTTL  = 72 * time.Hour // visitors and values outlive their day everywhere
)

// liveMinutes is how far back Realtime looks.
const liveMinutes = 30

func (s *Store) dayKey(d int64) string { return strconv.FormatInt(d, 10) }

// dimsOf adds the keys and arguments of dimsPart for view v of item member at now.
func (s *Store) dimsOf(keys []string, v item.View, member string, now time.Time) ([]string, []any) {
	d := s.dayKey(day(now))
	site := string(item.SiteOwner(v.Item.Site).Key())
	minute := strconv.FormatInt(now.Unix()/60, 10)
	keys = append(keys, s.p+"vis:"+d, s.p+"dm:"+d+":"+member, s.p+"dm:"+d+":"+site, s.p+"ddirty",
		s.p+"dmo:"+d, s.p+"ddays", s.p+"rt:"+v.Item.Site+":"+minute, s.p+"rv:"+v.Item.Site+":"+minute)
	for dim := item.DimTotal + 1; dim < item.NumDims; dim++ {
		keys = append(keys, s.p+"dv:"+d+":"+v.Item.Site+":"+strconv.Itoa(int(dim)))
	}
	keys = append(keys, s.p+"dc:"+d+":"+v.Item.Site)
	for dim := item.DimReferrer; dim <= item.DimUTMCampaign; dim++ {
		keys = append(keys, s.p+"dp:"+d+":"+v.Item.Site+":"+strconv.Itoa(int(dim)))
	}
	page := "0"
	if v.Page {
		page = "1"
	}
	args := []any{page, site, d, pairHash(v.Session, member), pairHash(v.Session, site), s.maxValues,
		liveTTL.Milliseconds(), dayTTL.Milliseconds()}
	for dim := item.DimTotal + 1; dim < item.NumDims; dim++ {
		args = append(args, v.Dims[dim])
	}
	network, domain := "", ""
	if !v.Network.IsZero() {
		network = hex.EncodeToString(v.Network[:8])
	}
	if ref := v.Dims[item.DimReferrer]; ref != "" && ref != item.Direct {
		if domain = item.RegistrableDomain(ref); domain == ref {
			domain = ""
		}
	}
	return keys, append(args, network, domain, v.VisitorCap, item.MaxNewValuesPerNetwork, item.MaxHostsPerDomain)
}

// DimsDirty returns up to limit (owner, day) pairs whose rows changed since the last flush,
// each with all its rows, in key order after after (zero: from the start).
func (s *Store) DimsDirty(ctx context.Context, after item.DimChange, limit int) ([]item.DimChange, error) {
	start := "-"
	if after.Day != "" {
		start = "(" + s.pairOf(after)
	}
	pairs, err := s.rdb.ZRangeArgs(ctx, goredis.ZRangeArgs{Key: s.p + "ddirty", Start: start, Stop: "+", ByLex: true, Count: int64(limit)}).Result()
	if err != nil {
		return nil, fmt.Errorf("read changed dimensions in %s: %w", s.where, err)
	}
	pipe := s.rdb.Pipeline()
	cmds := make([]*goredis.MapStringStringCmd, len(pairs))
	for i, p := range pairs {
		cmds[i] = pipe.HGetAll(ctx, s.p+"dm:"+p)
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, goredis.Nil) {
		return nil, fmt.Errorf("read changed dimensions in %s: %w", s.where, err)
	}
	out := make([]item.DimChange, 0, len(pairs))
	for i, p := range pairs {
		ch, err := parsePair(p)
		if err != nil {
			return nil, err
		}
		fields := cmds[i].Val()
		mark, _ := strconv.ParseUint(fields["_m"], 10, 64)
		ch.Mark = mark
		for f, n := range fields {
			if !strings.HasPrefix(f, "n") || len(f) < 3 || f[2] != '|' {
				continue
			}
			views, _ := strconv.ParseInt(n, 10, 64)
			visitors, _ := strconv.ParseInt(fields["u"+f[1:]], 10, 64)
			ch.Rows = append(ch.Rows, item.DimCount{Owner: ch.Owner, Day: ch.Day, Dim: item.Dim(f[1] - '0'),
				Value: f[3:], Views: views, Visitors: visitors})
		}
		slices.SortFunc(ch.Rows, func(a, b item.DimCount) int {
			if a.Dim != b.Dim {
				return int(a.Dim) - int(b.Dim)
			}
			return strings.Compare(a.Value, b.Value)
		})
		out = append(out, ch)
	}
	return out, nil
}

// pairOf is the flush set's member for an (owner, day) pair.
func (s *Store) pairOf(ch item.DimChange) string {
	t, _ := session.ParseDay(ch.Day)
	return s.dayKey(day(t)) + ":" + string(ch.Owner.Key())
}

func parsePair(p string) (item.DimChange, error) {
	d, member, ok := strings.Cut(p, ":")
	n, err := strconv.ParseInt(d, 10, 64)
	if !ok || err != nil {
		return item.DimChange{}, fmt.Errorf("malformed dimension pair %q", p)
	}
	owner, err := item.ParseKey([]byte(member))
	if err != nil {
		return item.DimChange{}, err
	}
	return item.DimChange{Owner: owner, Day: session.FormatDay(time.Unix(n*86400, 0))}, nil
}

// CleanDims clears the marks of flushed (owner, day) pairs that no write changed since.
func (s *Store) CleanDims(ctx context.Context, flushed []item.DimChange) error {
	args := make([]any, 0, 1+3*len(flushed))
	args = append(args, "_m")
	for _, ch := range flushed {
		p := s.pairOf(ch)
		args = append(args, s.p+"dm:"+p, p, strconv.FormatUint(ch.Mark, 10))
	}
	if err := cleanScript.Run(ctx, s.rdb, []string{s.p + "ddirty"}, args...).Err(); err != nil && !errors.Is(err, goredis.Nil) {
		return fmt.Errorf("clear changed dimensions in %s: %w", s.where, err)
	}
	return nil
}

// PruneDims deletes the rows of days before yesterday, except a day with rows still to flush.
func (s *Store) PruneDims(ctx context.Context) error {
	days, err := s.rdb.SMembers(ctx, s.p+"ddays").Result()
	if err != nil {
		return fmt.Errorf("prune dimensions in %s: %w", s.where, err)
	}
	end := day(s.now()) - 1
	for _, d := range days {
		n, err := strconv.ParseInt(d, 10, 64)
		if err != nil || n >= end {
			continue
		}
		left, err := s.rdb.ZLexCount(ctx, s.p+"ddirty", "["+d+":", "["+d+";").Result()
		if err != nil {
			return fmt.Errorf("prune dimensions in %s: %w", s.where, err)
		}
		if left > 0 {
			continue // a failed flush left that day
		}
		owners, err := s.rdb.SMembers(ctx, s.p+"dmo:"+d).Result()
		if err != nil {
			return fmt.Errorf("prune dimensions in %s: %w", s.where, err)
		}
		for chunk := range slices.Chunk(owners, 500) {
			keys := make([]string, len(chunk))
			for i, o := range chunk {
				keys[i] = s.p + "dm:" + d + ":" + o
			}
			if err := s.rdb.Del(ctx, keys...).Err(); err != nil {
				return fmt.Errorf("prune dimensions in %s: %w", s.where, err)
			}
		}
		if err := s.rdb.Del(ctx, s.p+"dmo:"+d).Err(); err != nil {
			return fmt.Errorf("prune dimensions in %s: %w", s.where, err)
		}
		if err := s.rdb.SRem(ctx, s.p+"ddays", d).Err(); err != nil {
			return fmt.Errorf("prune dimensions in %s: %w", s.where, err)
		}
	}
	return nil
}

// Realtime returns the site's page views and visitors of the last 30 minutes, from every node.
func (s *Store) Realtime(ctx context.Context, site string) (item.Live, error) {
	m := s.now().Unix() / 60
	pipe := s.rdb.Pipeline()
	cmds := make([]*goredis.ZSliceCmd, liveMinutes)
	hll := make([]string, liveMinutes)
	for i := range liveMinutes {
		minute := strconv.FormatInt(m-int64(i), 10)
		cmds[i] = pipe.ZRangeWithScores(ctx, s.p+"rt:"+site+":"+minute, 0, -1)
		hll[i] = s.p + "rv:" + site + ":" + minute
	}
	visitors := pipe.PFCount(ctx, hll...)
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, goredis.Nil) {
		return item.Live{}, fmt.Errorf("read live views in %s: %w", s.where, err)
	}
	var out item.Live
	pages := map[string]int64{}
	for _, c := range cmds {
		for _, z := range c.Val() {
			pages[z.Member.(string)] += int64(z.Score)
			out.Views += int64(z.Score)
		}
	}
	out.Visitors = visitors.Val()
	for k, n := range pages {
		it, err := item.ParseKey([]byte(k))
		if err != nil {
			continue
		}
		out.Pages = append(out.Pages, item.LivePage{Item: it, Views: n})
	}
	item.SortLive(out.Pages)
	return out, nil
}
