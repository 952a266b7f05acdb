package node

import (
	"time"

	"github.com/tallyhq/tally/internal/classify"
	"github.com/tallyhq/tally/internal/clientip"
	"github.com/tallyhq/tally/internal/sites"
)

// Config is tally serve's configuration, validated once and passed down.
type Config struct {
	Addr             string
	MetricsAddr      string // "": /metrics on Addr, behind the admin's credentials
	DataDir          string
	ReadStore        string // "": SQLite in DataDir; postgres://…: PostgreSQL
	WriteStore       string // "": bbolt in DataDir; redis://…: Redis, shared by many nodes
	Node             string // this node's name in job_runs and in the jobs' locks
	TrustedProxies   *clientip.Resolver
	Sites            sites.List
	Salt             string
	SaltRotation     string // "none" or "daily"
	AdminPassword    string
	Rules            *classify.Rules
	Bots             classify.Overrides // the owner's User-Agents to count or ignore whatever the lists say
	FlushSchedule    string
	SnapshotSchedule string
	ShutdownTimeout  time.Duration
	LikeCap          int
	LikeBudget       int // likes one address may give one item per UTC day; 0: 4 × LikeCap
	// VisitorsPerClient bounds the visitors one client network adds to a site a day; 0: none.
	VisitorsPerClient int
	RateLimit         float64 // requests per second per client address; 0 disables
	RateBurst         int
	SessionCap        int // views one session may add to one item per minute; 0 disables
	MaxSites          int
	MaxItemsPerSite   int
	GeoIPDB           string // MaxMind DB file giving views a country; "": no countries
	MaxDimValues      int    // distinct values per site, dimension and day; then "(other)"
	RetentionDays     int    // days of dimension rows the snapshot job keeps; 0: all
}
