package main

import (
	"flag"
	"fmt"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/tallyhq/tally/internal/classify"
	"github.com/tallyhq/tally/internal/clientip"
	"github.com/tallyhq/tally/internal/ingest"
	"github.com/tallyhq/tally/internal/item"
	"github.com/tallyhq/tally/internal/node"
	"github.com/tallyhq/tally/internal/schedule"
	"github.com/tallyhq/tally/internal/sites"
)

// serveFlags binds the flags: plain values straight into the Config, the rest as text that
// config parses.
type serveFlags struct {
	c                                             node.Config
	trusted, ipHeader, sites, ignorePaths, routes string
	countUAs, ignoreUAs                           string
}

func (f *serveFlags) register(fs *flag.FlagSet) {
	c := &f.c
	fs.StringVar(&c.Addr, "addr", "127.0.0.1:8080", "address to listen on (use 0.0.0.0:8080 to accept other hosts)")
	fs.StringVar(&c.MetricsAddr, "metrics-addr", "", "serve /metrics on this address alone, without credentials (empty: on --addr, for the admin only)")
	fs.StringVar(&c.DataDir, "data", "./data", "data directory: write model, read model, salt, admin password hash")
	fs.StringVar(&c.ReadStore, "read-store", "", readStoreUsage)
	fs.StringVar(&c.WriteStore, "write-store", "", writeStoreUsage)
	fs.StringVar(&c.Node, "node", hostname(), "this node's name, in job_runs and the jobs' locks (default: the host name)")
	fs.StringVar(&f.trusted, "trusted-proxies", "", "comma-separated CIDRs of reverse proxies whose --client-ip-header is believed")
	fs.StringVar(&f.ipHeader, "client-ip-header", clientip.DefaultHeader, "the header trusted proxies name the client in: X-Forwarded-For, or e.g. CF-Connecting-IP behind Cloudflare")
	fs.StringVar(&f.sites, "sites", "", "comma-separated sites (host names) to count; empty counts any site")
	fs.StringVar(&c.Salt, "salt", "", "secret salt for session ids; empty: generated once and kept in DATA/salt")
	fs.StringVar(&c.SaltRotation, "salt-rotation", "none", "none: one salt kept for good; daily: a new random salt each UTC day, destroyed at 00:30 the next day")
	fs.StringVar(&c.AdminPassword, "admin-password", "", "admin password; empty: generated on first start and printed once")
	fs.StringVar(&f.ignorePaths, "ignore-paths", "", "comma-separated path globs never counted, e.g. /drafts/**,/preview-*")
	fs.StringVar(&f.countUAs, "count-user-agents", "", "regular expression (Go syntax) of User-Agents to count even if a bot list says bot, e.g. a reader app you like")
	fs.StringVar(&f.ignoreUAs, "ignore-user-agents", "", "regular expression (Go syntax) of User-Agents never to count; wins over --count-user-agents")
	fs.StringVar(&f.routes, "routes", classify.FormatRoutes(classify.DefaultRoutes()), "route rules PATTERN=TYPE; / is always home, other paths are page")
	fs.StringVar(&c.FlushSchedule, "flush-schedule", "*/15 * * * *", "cron schedule (UTC) of the write → read model flush")
	fs.StringVar(&c.SnapshotSchedule, "snapshot-schedule", "5 0 * * *", "cron schedule (UTC) of the daily snapshot of yesterday")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", 10*time.Second, "how long SIGTERM waits for in-flight requests and the final flush")
	fs.IntVar(&c.LikeCap, "like-cap", ingest.DefaultLikeCap, "likes one visitor may give one item per UTC day (1-255)")
	fs.IntVar(&c.LikeBudget, "like-budget", 0, "likes all visitors of one address (IPv6: /64) may give one item per UTC day (0: 4 × --like-cap)")
	fs.IntVar(&c.VisitorsPerClient, "visitors-per-client", 0, "visitors one client network (IPv4 /24, IPv6 /48) may add to a site per UTC day, since each new User-Agent is a new visitor; 0: no bound")
	fs.Float64Var(&c.RateLimit, "rate-limit", 20, "beacon and like requests per second per client address (IPv6: per /64); 0 disables")
	fs.IntVar(&c.RateBurst, "rate-burst", 40, "requests one client address may make at once above --rate-limit")
	fs.IntVar(&c.SessionCap, "session-cap", 10, "views one visitor may add to one item per minute; 0 disables")
	fs.IntVar(&c.MaxSites, "max-sites", item.DefaultMaxSites, "sites the write model keeps at most; views of further sites are answered but not kept")
	fs.IntVar(&c.MaxItemsPerSite, "max-items-per-site", item.DefaultMaxItemsPerSite, "items one site keeps at most; views of further paths are answered but not kept")
	fs.StringVar(&c.GeoIPDB, "geoip-db", "", "GeoLite2, GeoIP2 or DB-IP country or city database (.mmdb) giving views a country; empty: no countries")
	fs.IntVar(&c.MaxDimValues, "dimension-values", item.DefaultMaxDimValues, "distinct referrers, campaigns, browsers… kept per site, dimension and UTC day; the rest count as (other)")
	fs.IntVar(&c.RetentionDays, "retention-days", 0, "days of sources, devices, countries and Not counted rows the daily snapshot keeps; 0 keeps all (views and likes are always kept)")
}

// config validates the flags into a Config.
func (f *serveFlags) config() (node.Config, error) {
	c := f.c
	var err error
	if c.TrustedProxies, err = clientip.Parse(f.trusted, f.ipHeader); err != nil {
		return node.Config{}, fmt.Errorf("--trusted-proxies: %w", err)
	}
	if c.Sites, err = sites.Parse(f.sites); err != nil {
		return node.Config{}, fmt.Errorf("--sites: %w", err)
	}
	routes, err := classify.ParseRoutes(f.routes)
	if err != nil {
		return node.Config{}, fmt.Errorf("--routes: %w", err)
	}
	if c.Rules, err = classify.NewRules(routes, splitList(f.ignorePaths)); err != nil {
		return node.Config{}, fmt.Errorf("--ignore-paths: %w", err)
	}
	for _, o := range []struct {
		flag, expr string
		re         **regexp.Regexp
	}{{"--count-user-agents", f.countUAs, &c.Bots.Count}, {"--ignore-user-agents", f.ignoreUAs, &c.Bots.Ignore}} {
		if o.expr == "" {
			continue
		}
		if *o.re, err = regexp.Compile(o.expr); err != nil {
			return node.Config{}, fmt.Errorf("%s: %w", o.flag, err)
		}
	}
	for name, spec := range map[string]string{"--flush-schedule": c.FlushSchedule, "--snapshot-schedule": c.SnapshotSchedule} {
		if err := schedule.Validate(spec); err != nil {
			return node.Config{}, fmt.Errorf("%s %q: %w", name, spec, err)
		}
	}
	switch {
	case c.SaltRotation != "none" && c.SaltRotation != "daily":
		return node.Config{}, fmt.Errorf("--salt-rotation must be none or daily, not %q", c.SaltRotation)
	case c.SaltRotation == "daily" && c.Salt != "":
		return node.Config{}, fmt.Errorf("--salt and --salt-rotation daily contradict each other: a daily salt is random and destroyed")
	case c.RateLimit < 0 || c.RateBurst < 1 || c.SessionCap < 0:
		return node.Config{}, fmt.Errorf("--rate-limit and --session-cap must be 0 or more, --rate-burst 1 or more")
	case c.LikeCap < 1 || c.LikeCap > 255:
		return node.Config{}, fmt.Errorf("--like-cap must be from 1 to 255")
	case c.LikeBudget < 0 || c.LikeBudget > 65535:
		return node.Config{}, fmt.Errorf("--like-budget must be from 0 to 65535")
	case c.MaxSites < 1 || c.MaxItemsPerSite < 1:
		return node.Config{}, fmt.Errorf("--max-sites and --max-items-per-site must be 1 or more")
	case c.MaxDimValues < 1 || c.RetentionDays < 0:
		return node.Config{}, fmt.Errorf("--dimension-values must be 1 or more, --retention-days 0 or more")
	case c.ShutdownTimeout <= 0:
		return node.Config{}, fmt.Errorf("--shutdown-timeout must be positive")
	case c.DataDir == "":
		return node.Config{}, fmt.Errorf("--data must not be empty")
	}
	return c, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func hostname() string {
	h, err := os.Hostname()
	if err != nil {
		return "tally"
	}
	return h
}
