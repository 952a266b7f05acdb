// Package redis is tally's write model on Redis, for many stateless nodes behind a load
// balancer: the same promises as the bbolt write model (internal/bolt) — every view, like and
// import atomic, sliding 30-minute dedup, exact day history, a dirty set for the flush — kept
// by one Lua script per change, so nodes never race. What nodes must share lives here too: the
// salt, dashboard sessions, the like budget.
//
// # Caveats
//
// Durability is Redis's: a view is acknowledged once Redis has it, and survives a Redis crash
// only as far as appendonly/appendfsync allow (Open reports what they are). The scripts touch
// keys beyond those they declare, so Redis Cluster is not supported; one primary (with replicas)
// is.
package redis

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/tallyhq/tally/internal/item"
	"github.com/tallyhq/tally/internal/session"
)

// Options configure a Store. Zero values mean the defaults.
type Options struct {
	Prefix  string           // of every key; default "tally:"
	Window  time.Duration    // dedup window; default 30 minutes
	Now     func() time.Time // clock for days and windows; default time.Now
	Logger  *slog.Logger
	Timeout time.Duration // for dialling and for each command; default 1 s, so beacons never hang
	// MaxDimValues bounds the distinct values of one dimension per site and day; past it, a
	// new value counts as item.Other. Zero: item.DefaultMaxDimValues.
	MaxDimValues int
	// MaxSites and MaxItemsPerSite bound what visitors can make the store keep, as on bbolt:
	// past them nothing new is created and OnRefused hears the reason (item.RefusedSite,
	// item.RefusedItem). Zero: item.DefaultMaxSites, item.DefaultMaxItemsPerSite.
	MaxSites, MaxItemsPerSite int
	OnRefused                 func(reason string)
}

// Store is the write model on Redis.
type Store struct {
	rdb    *goredis.Client
	p      string
	window time.Duration
	now    func() time.Time
	log    *slog.Logger
	where  string
	// maxValues bounds the distinct values of a dimension per site and day.
	maxValues int
	// maxSites and maxItems bound the sites and each site's items (see Options).
	maxSites, maxItems int
	onRefused          func(string)
	refusedOnce        sync.Map // reason → true once logged
}

// Open connects to the Redis at rawURL (redis://[:password@]host:6379/0, or rediss:// for TLS)
// and checks that it answers.
func Open(ctx context.Context, rawURL string, opts Options) (*Store, error) {
	if opts.Prefix == "" {
		opts.Prefix = "tally:"
	}
	if opts.Window <= 0 {
		opts.Window = 30 * time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Timeout <= 0 {
		opts.Timeout = time.Second
	}
	if opts.MaxDimValues <= 0 {
		opts.MaxDimValues = item.DefaultMaxDimValues
	}
	if opts.MaxSites <= 0 {
		opts.MaxSites = item.DefaultMaxSites
	}
	if opts.MaxItemsPerSite <= 0 {
		opts.MaxItemsPerSite = item.DefaultMaxItemsPerSite
	}
	// go-redis has one logger for the process; its lines (a server that cannot be dialled) go
	// to tally's log as warnings instead of to standard error.
	goredis.SetLogger(slogger{opts.Logger})
	where := Redact(rawURL)
	o, err := goredis.ParseURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("write model %s: not a valid redis:// URL", where)
	}
	o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.PoolTimeout = opts.Timeout, opts.Timeout, opts.Timeout, opts.Timeout
	o.MaxRetries = 1
	s := &Store{rdb: goredis.NewClient(o), p: opts.Prefix, window: opts.Window, now: opts.Now, log: opts.Logger, where: where, maxValues: opts.MaxDimValues,
		maxSites: opts.MaxSites, maxItems: opts.MaxItemsPerSite, onRefused: opts.OnRefused}
	if err := s.rdb.Ping(ctx).Err(); err != nil {
		s.rdb.Close()
		return nil, fmt.Errorf("write model %s: cannot connect: %w", where, err)
	}
	if err := s.buildChanged(ctx); err != nil {
		s.rdb.Close()
		return nil, fmt.Errorf("write model %s: index the days items changed: %w", where, err)
	}
	return s, nil
}

// Redact writes a Redis URL without its password.
func Redact(rawURL string) string {
	i := strings.Index(rawURL, "://")
	j := strings.LastIndex(rawURL, "@")
	if i < 0 || j < i {
		return rawURL
	}
	return rawURL[:i+3] + "xxxxx" + rawURL[j:]
}

// Close closes the connections.
func (s *Store) Close() error { return s.rdb.Close() }

// Ping reports whether Redis answers, for /healthz.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("write model %s: %w", s.where, err)
	}
	return nil
}

// Durability says, in one plain sentence, what an acknowledged view survives, from Redis's
// appendonly and appendfsync settings (where CONFIG GET is allowed).
func (s *Store) Durability(ctx context.Context) string {
	cfg, err := s.rdb.ConfigGet(ctx, "append*").Result()
	if err != nil {
		return "unknown: CONFIG GET is not allowed here; check appendonly and appendfsync on the Redis server"
	}
	switch {
	case cfg["appendonly"] != "yes":
		return "appendonly no: a Redis crash or restart loses every view since its last RDB snapshot"
	case cfg["appendfsync"] == "always":
		return "appendfsync always: every acknowledged view is on Redis's disk"
	case cfg["appendfsync"] == "everysec":
		return "appendfsync everysec: a Redis crash can lose up to 1 s of acknowledged views"
	default:
		return "appendfsync " + cfg["appendfsync"] + ": a Redis crash can lose what the operating system had not yet written"
	}
}

// keys of an item: its hash and its history, then the shared ones the scripts' prelude expects.
func (s *Store) itemKeys(member string) []string {
	return []string{s.p + "i:" + member, s.p + "h:" + member, s.p + "dirty", s.p + "items", s.p + "v", s.p + "lastday"}
}

// pairHash names a (session or client, item) pair in a key: a hash of a salted hash, kept only
// as long as its window or day.
func pairHash(id session.ID, member string) string {
	h := sha256.New()
	h.Write(id[:])
	h.Write([]byte(member))
	return hex.EncodeToString(h.Sum(nil)[:12])
}

func day(t time.Time) int64 { return session.DayNumber(t) }

// Record adds one view, atomically, and returns once Redis has it.
func (s *Store) Record(ctx context.Context, v item.View) error {
	if !v.Item.Valid() {
		return fmt.Errorf("record view: invalid item %q", v.Item)
	}
	member := string(v.Item.Key())
	now := s.now()
	cur := s.p + "dd:" + pairHash(v.Session, member)
	prev := cur
	if !v.Previous.IsZero() {
		prev = s.p + "dd:" + pairHash(v.Previous, member)
	}
	capKey := s.p + "cap:" + strconv.FormatInt(now.Unix()/60, 10) + ":" + pairHash(v.Session, member)
	keys := append(s.itemKeys(member), cur, prev, capKey)
	keys, dimArgs := s.dimsOf(keys, v, member, now)
	args := append([]any{member, day(now), now.UnixMilli(), s.window.Milliseconds(), v.Cap}, dimArgs...)
	keys, args = s.withBounds(keys, args, v.Item.Site)
	res, err := recordScript.Run(ctx, s.rdb, keys, args...).Int()
	if err != nil {
		return fmt.Errorf("record view in %s: %w", s.where, err)
	}
	switch {
	case res == -1:
		return item.ErrCapped
	case res < -1:
		s.refuse(int64(-res))
	}
	return nil
}

// withBounds adds what the scripts' admit reads: the sites hash last among the keys, and the
// site and both bounds last among the arguments.
func (s *Store) withBounds(keys []string, args []any, site string) ([]string, []any) {
	return append(keys, s.p+"changed", s.p+"sites"), append(args, site, s.maxSites, s.maxItems)
}

// refuse reports a refusal by admit's code, and logs its kind the first time.
func (s *Store) refuse(code int64) {
	reason := item.RefusedSite
	if code == 3 {
		reason = item.RefusedItem
	}
	if s.onRefused != nil {
		s.onRefused(reason)
	}
	if _, logged := s.refusedOnce.LoadOrStore(reason, true); !logged {
		s.log.Warn("write model bound reached: nothing new of this kind is kept (logged once per node)", "bound", reason,
			"max_sites", s.maxSites, "max_items_per_site", s.maxItems)
	}
}

// likeTTL keeps the day's like counters until the day is surely over everywhere.
const likeTTL = 48 * time.Hour

// Like applies a visitor's like or unlike and returns the numbers after it.
func (s *Store) Like(ctx context.Context, l item.Like) (item.LikeCounts, error) {
	if !l.Item.Valid() {
		return item.LikeCounts{}, fmt.Errorf("like: invalid item %q", l.Item)
	}
	member := string(l.Item.Key())
	d := day(s.now())
	keys := append(s.itemKeys(member), s.likeKey(d, l.Session, member), s.p+"lb:"+strconv.FormatInt(d, 10)+":"+pairHash(l.Client, member))
	keys, args := s.withBounds(keys, []any{member, d, l.Delta, l.Cap, l.Budget, likeTTL.Milliseconds()}, l.Item.Site)
	res, err := likeScript.Run(ctx, s.rdb, keys, args...).Int64Slice()
	if err != nil || len(res) != 3 {
		return item.LikeCounts{}, fmt.Errorf("like in %s: %w", s.where, err)
	}
	if res[2] != 0 {
		s.refuse(res[2])
	}
	return item.LikeCounts{User: int(res[0]), Total: res[1]}, nil
}

func (s *Store) likeKey(d int64, sid session.ID, member string) string {
	return s.p + "lk:" + strconv.FormatInt(d, 10) + ":" + pairHash(sid, member)
}

// Likes returns a visitor's likes of an item today and the item's total.
func (s *Store) Likes(ctx context.Context, it item.Item, sid session.ID) (item.LikeCounts, error) {
	member := string(it.Key())
	pipe := s.rdb.Pipeline()
	user := pipe.Get(ctx, s.likeKey(day(s.now()), sid, member))
	total := pipe.HGet(ctx, s.p+"i:"+member, "l")
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, goredis.Nil) {
		return item.LikeCounts{}, fmt.Errorf("read likes in %s: %w", s.where, err)
	}
	u, _ := user.Int()
	t, _ := total.Int64()
	return item.LikeCounts{User: u, Total: t}, nil
}

// Counts returns an item's live counts; zeros for an item never seen.
func (s *Store) Counts(ctx context.Context, it item.Item) (item.Counts, error) {
	vals, err := s.rdb.HMGet(ctx, s.p+"i:"+string(it.Key()), "u", "t", "l").Result()
	if err != nil {
		return item.Counts{}, fmt.Errorf("read counts in %s: %w", s.where, err)
	}
	return item.Counts{Unique: num(vals[0]), Total: num(vals[1]), Likes: num(vals[2])}, nil
}

func num(v any) int64 {
	s, _ := v.(string)
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

// Seed applies imported starting counts and returns the seeds they replaced.
func (s *Store) Seed(ctx context.Context, seeds []item.Seed) ([]item.Seed, error) {
	out := make([]item.Seed, len(seeds))
	d := day(s.now())
	for i, sd := range seeds {
		if !sd.Item.Valid() || sd.Views < item.Keep || sd.Likes < item.Keep {
			return nil, fmt.Errorf("seed: invalid seed %+v", sd)
		}
		member := string(sd.Item.Key())
		keys, args := s.withBounds(append(s.itemKeys(member), s.p+"seeds"), []any{member, d, sd.Views, sd.Likes}, sd.Item.Site)
		res, err := seedScript.Run(ctx, s.rdb, keys, args...).Int64Slice()
		if err != nil || len(res) != 2 {
			return nil, fmt.Errorf("seed in %s: %w", s.where, err)
		}
		out[i] = item.Seed{Item: sd.Item, Views: res[0], Likes: res[1]}
	}
	return out, nil
}

// Salt returns the salt every node shares, creating it once (SET NX) when there is none yet.
func (s *Store) Salt(ctx context.Context) (salt []byte, created bool, err error) {
	fresh := make([]byte, 32)
	rand.Read(fresh)
	ok, err := s.rdb.SetNX(ctx, s.p+"salt", hex.EncodeToString(fresh), 0).Result()
	if err != nil {
		return nil, false, fmt.Errorf("salt in %s: %w", s.where, err)
	}
	v, err := s.rdb.Get(ctx, s.p+"salt").Result()
	if err != nil || v == "" {
		return nil, false, fmt.Errorf("salt in %s: %w", s.where, err)
	}
	return []byte(v), ok, nil
}

// slogger writes go-redis's log lines to slog.
type slogger struct{ log *slog.Logger }

func (l slogger) Printf(ctx context.Context, format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	if !strings.HasPrefix(msg, "redis: ") { // go-redis starts most of its lines with it already
		msg = "redis: " + msg
	}
	l.log.Warn(msg)
}

// DaySalts returns the salts of --salt-rotation daily as every node shares them
// (session.DaySalts): each day's salt is created once (SET NX) and expires at 00:30 UTC the
// day after, so not even Redis keeps it past its grace period.
func (s *Store) DaySalts() session.DaySalts { return daySalts{s} }

type daySalts struct{ s *Store }

func (d daySalts) key(day int64) string { return d.s.p + "daysalt:" + strconv.FormatInt(day, 10) }

func (d daySalts) Salts(ctx context.Context) (map[int64][]byte, error) {
	out := map[int64][]byte{}
	iter := d.s.rdb.Scan(ctx, 0, d.s.p+"daysalt:*", 100).Iterator()
	for iter.Next(ctx) {
		day, err := strconv.ParseInt(strings.TrimPrefix(iter.Val(), d.s.p+"daysalt:"), 10, 64)
		if err != nil {
			continue
		}
		b, err := d.s.rdb.Get(ctx, iter.Val()).Bytes()
		if err == nil {
			out[day] = b
		}
	}
	if err := iter.Err(); err != nil {
		return nil, fmt.Errorf("read daily salts in %s: %w", d.s.where, err)
	}
	return out, nil
}

// Keep sets day's salt unless another node did; it expires at 00:30 UTC the day after, by the
// store's clock, so Redis forgets it even if no node is left to destroy it.
func (d daySalts) Keep(ctx context.Context, day int64, salt []byte) ([]byte, error) {
	gone := time.Unix((day+1)*86400, 0).Add(session.PreviousDayGrace)
	if _, err := d.s.rdb.SetNX(ctx, d.key(day), salt, max(gone.Sub(d.s.now()), time.Minute)).Result(); err != nil {
		return nil, fmt.Errorf("keep the daily salt in %s: %w", d.s.where, err)
	}
	kept, err := d.s.rdb.Get(ctx, d.key(day)).Bytes()
	if err != nil {
		return nil, fmt.Errorf("keep the daily salt in %s: %w", d.s.where, err)
	}
	return kept, nil
}

func (d daySalts) Destroy(ctx context.Context, day int64) error {
	if err := d.s.rdb.Del(ctx, d.key(day)).Err(); err != nil {
		return fmt.Errorf("destroy the daily salt in %s: %w", d.s.where, err)
	}
	return nil
}
