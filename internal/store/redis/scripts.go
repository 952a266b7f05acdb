package redis

import (
	"embed"

	goredis "github.com/redis/go-redis/v9"
)

// Every change to an item is one Lua script, so it is atomic on the server whatever the number
// of nodes: the counts, the sliding dedup window, the day history that keeps snapshots exact,
// the dirty set, and the caps.
//
// Keys (P is the prefix): P i:<item> hash of u (unique), t (total), l (likes), d (UTC day of
// the last change), v (version); P h:<item> hash of day → "u t l" at the end of that day;
// P dirty and P items sorted sets of item keys (score 0, ordered by key); P v the version
// counter; P lastday the latest day written, so a clock that steps back cannot reopen a day;
// P sites hash of site → its items, for the bounds on sites and items per site; P changed
// sorted set of "<day, 8 digits>:<item>" (score 0), the items whose counts changed on each UTC
// day, so a snapshot reads only those.
//
// The scripts are the .lua files in lua/, embedded: prelude.lua holds the functions the scripts
// that change an item share (today, admit, touch), and each script's own file says its KEYS
// and ARGV.

//go:embed lua/*.lua
var luaFiles embed.FS

// script is the Lua script made of the named files, in order.
func script(names ...string) *goredis.Script {
	var src []byte
	for _, n := range names {
		b, err := luaFiles.ReadFile("lua/" + n)
		if err != nil {
			panic(err) // embedded: a missing file is a build mistake
		}
		src = append(append(src, b...), '\n')
	}
	return goredis.NewScript(string(src))
}

var (
	recordScript = script("prelude.lua", "record.lua")
	likeScript   = script("prelude.lua", "like.lua")
	seedScript   = script("prelude.lua", "seed.lua")
	cleanScript  = script("clean.lua")
	linkScript   = script("link.lua")
)
