package item

// What visitors choose (paths, and with --sites empty, hosts) must not make a write model grow
// with traffic: past a bound nothing new is created, existing items go on counting, and the
// beacon gets its usual answer. Every write model keeps the same bounds with the same names.

// Defaults of the bounds on sites and items.
const (
	DefaultMaxSites        = 1_000
	DefaultMaxItemsPerSite = 100_000
)

// Reasons a write model gives for a refusal (the label of tally_write_refused_total).
const (
	RefusedSite = "sites"          // a new site past the bound on sites
	RefusedItem = "items_per_site" // a new item past the bound on items per site
)
