package redis

import (
	"strconv"

	goredis "github.com/redis/go-redis/v9"

	"github.com/tallyhq/tally/internal/item"
)

// Every change to an item is one Lua script, so it is atomic on the server whatever the number
// of nodes: the counts, the sliding dedup window, the day history that keeps snapshots exact,
// the dirty set, and the caps.
//
// Keys (P is the prefix): P i:<item> hash of u (unique), t (total), l (likes), d (UTC day of
// the last change), v (version); P h:<item> hash of day → "u t l" at the end of that day;
// P dirty and P items sorted sets of item keys (score 0, ordered by key); P v the version
// counter; P lastday the latest day written, so a clock that steps back cannot reopen a day;
// P sites hash of site → its items, for the bounds on sites and items per site.

// touch is the prelude of the scripts that change an item: it files the item's counts of an
// earlier day in its history, adds du, dt, dl (likes floored at zero), stamps the day and a new
// version, and marks it dirty. KEYS[1..6] are the item, its history, dirty, items, the version
// counter and lastday; it returns the day used.
const touch = `
local function today(day)
	local last = tonumber(redis.call('GET', KEYS[6]) or '0')
	if day < last then return last end
	if day > last then redis.call('SET', KEYS[6], day) end
	return day
end
-- admit lets a change create its item only within the bounds: 0 when the item exists or may be
-- created (and then counts it in its site), 2 for a new site past the bound on sites, 3 for a
-- new item past the bound on items per site. The last key is the sites hash; the last three
-- ARGV are the site, the bound on sites and the bound on items per site. It runs before a
-- script writes anything, so what it refuses leaves nothing behind.
local function admit()
	if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
	local sites, site = KEYS[#KEYS], ARGV[#ARGV - 2]
	local n = redis.call('HGET', sites, site)
	if not n then
		if redis.call('HLEN', sites) >= tonumber(ARGV[#ARGV - 1]) then return 2 end
	elseif tonumber(n) >= tonumber(ARGV[#ARGV]) then
		return 3
	end
	redis.call('HINCRBY', sites, site, 1)
	return 0
end
local function touch(member, day, du, dt, dl)
	local r = redis.call('HMGET', KEYS[1], 'u', 't', 'l', 'd')
	local u, t, l, d = tonumber(r[1] or '0'), tonumber(r[2] or '0'), tonumber(r[3] or '0'), tonumber(r[4] or '0')
	if d ~= 0 and d < day then
		redis.call('HSET', KEYS[2], d, u .. ' ' .. t .. ' ' .. l)
	end
	local v = redis.call('INCR', KEYS[5])
	redis.call('HSET', KEYS[1], 'u', math.max(0, u + du), 't', math.max(0, t + dt), 'l', math.max(0, l + dl), 'd', day, 'v', v)
	redis.call('ZADD', KEYS[3], 0, member)
	redis.call('ZADD', KEYS[4], 0, member)
	return v
end
`

// recordScript counts one view. KEYS[7] and KEYS[8] are the dedup keys of today's and
// yesterday's session id for the item (the same key twice when there is no yesterday's id);
// each holds the expiry (unix ms) of its window, compared with the caller's clock. KEYS[9]
// counts the session's views of the item this minute, for the cap ARGV[5] (0: none); over it,
// nothing is counted and the script returns -1; past a bound (see admit) it returns -2 or -3.
// ARGV: item key, day, now ms, window ms, cap, the dimensions' (see dimsPart), the bounds'.
var recordScript = goredis.NewScript(touch + `
local refused = admit()
if refused ~= 0 then return -refused end
local now, window, cap = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
if cap > 0 then
	local n = redis.call('INCR', KEYS[9])
	if n == 1 then redis.call('PEXPIRE', KEYS[9], 120000) end
	if n > cap then return -1 end
end
local function open(k)
	local exp = redis.call('GET', k)
	return exp and tonumber(exp) > now
end
local unique = not open(KEYS[7]) and not open(KEYS[8])
redis.call('SET', KEYS[7], now + window, 'PX', window + 60000)
local du = 0
if unique then du = 1 end
local mark = touch(ARGV[1], today(tonumber(ARGV[2])), du, 1, 0)
` + dimsPart + `
return du
`)

// dimsPart counts a recorded view's visitors and dimensions (see dims.go). KEYS[10] is the
// day's set of (session, owner) hashes already counted as visitors, KEYS[11] and KEYS[12] the
// item's and the site's dimension hashes of the day, KEYS[13] the set of (day, owner) pairs to
// flush, KEYS[14] the day's owners (for pruning), KEYS[15] the set of days held, KEYS[16] and
// KEYS[17] the site's live views (sorted set) and visitors (HyperLogLog) of this minute,
// KEYS[18..26] the day's distinct values of dimensions 1..9 of the site, KEYS[27] the site's
// fair-share counters of the day (fields "n<dim>|<network>": new values a network brought,
// "d|<domain>": referrer hosts of a registrable domain), KEYS[28..31] the site's page rows of
// the source dimensions 1..4 of the day ("<item>|<value>").
// ARGV[6..]: page (1 or 0), site member, day key, item visitor hash, site visitor hash, cap on
// distinct values, live ttl ms, day ttl ms, then the 9 values ("" for none), the network ("" for
// none), the referrer's registrable domain ("" when it is the host itself) and the view's
// VisitorCap (0: none; "v|<network>" counts the network's visitors in KEYS[27]).
var dimsPart = `
local page, siteMember, dayKey = ARGV[6] == '1', ARGV[7], ARGV[8]
local maxValues, liveTTL, dayTTL = tonumber(ARGV[11]), tonumber(ARGV[12]), tonumber(ARGV[13])
local network, refDomain, visitorCap = ARGV[23], ARGV[24], tonumber(ARGV[25])
local maxPerNetwork, maxHosts = ` + strconv.Itoa(item.MaxNewValuesPerNetwork) + `, ` + strconv.Itoa(item.MaxHostsPerDomain) + `
local function newVisitor(h) return redis.call('SADD', KEYS[10], h) == 1 end
local function add(hkey, dim, value, visitor)
	redis.call('HINCRBY', hkey, 'n' .. dim .. '|' .. value, 1)
	if visitor then redis.call('HINCRBY', hkey, 'u' .. dim .. '|' .. value, 1) end
end
local function owner(hkey, member)
	redis.call('HSET', hkey, '_m', mark)
	redis.call('ZADD', KEYS[13], 0, dayKey .. ':' .. member)
	redis.call('SADD', KEYS[14], member)
end
local function counter(field) return tonumber(redis.call('HGET', KEYS[27], field) or '0') end
-- capValue returns the value the view adds to the site's rows of dimension i (see bolt's).
local function capValue(i, value)
	local set = KEYS[17 + i]
	if redis.call('SISMEMBER', set, value) == 1 then return value end
	local domain = ''
	if i == 1 and refDomain ~= '' then
		domain = refDomain
		if counter('d|' .. domain) >= maxHosts then
			value, domain = domain, ''
			if redis.call('SISMEMBER', set, value) == 1 then return value end
		end
	end
	local netField = 'n' .. i .. '|' .. network
	if network ~= '' and counter(netField) >= maxPerNetwork or redis.call('SCARD', set) >= maxValues then
		return '(other)'
	end
	redis.call('SADD', set, value)
	redis.call('PEXPIRE', set, dayTTL)
	if network ~= '' then redis.call('HINCRBY', KEYS[27], netField, 1) end
	if domain ~= '' then redis.call('HINCRBY', KEYS[27], 'd|' .. domain, 1) end
	redis.call('PEXPIRE', KEYS[27], dayTTL)
	return value
end
-- capPageValue returns the value the view adds to its page's rows of source dimension i.
local function capPageValue(i, value)
	local set, member = KEYS[27 + i], ARGV[1] .. '|' .. value
	if redis.call('SISMEMBER', set, member) == 1 then return value end
	if redis.call('SCARD', set) >= maxValues then return '(other)' end
	redis.call('SADD', set, member)
	redis.call('PEXPIRE', set, dayTTL)
	return value
end
if not page then -- a client event: its own totals, its visitors once a day, for the events panel
	-- Only the site's visitors of the day count as the event's, so conversion is a share.
	local viewer = redis.call('SISMEMBER', KEYS[10], ARGV[10]) == 1
	add(KEYS[11], 0, '', viewer and newVisitor(ARGV[9]))
	owner(KEYS[11], ARGV[1])
else
	local siteNew, itemRows = false, false
	if network == '' or visitorCap == 0 then
		siteNew = newVisitor(ARGV[10])
	elseif redis.call('SISMEMBER', KEYS[10], ARGV[10]) == 0 and counter('v|' .. network) < visitorCap then
		-- within its network's visitors (--visitors-per-client); past it not remembered either
		siteNew = newVisitor(ARGV[10])
		redis.call('HINCRBY', KEYS[27], 'v|' .. network, 1)
		redis.call('PEXPIRE', KEYS[27], dayTTL)
	end
	add(KEYS[12], 0, '', siteNew)
	for i = 1, 9 do
		local value = ARGV[13 + i]
		if value ~= '' then
			value = capValue(i, value)
			add(KEYS[12], i, value, siteNew)
			if i <= 4 then -- sources are kept per item too, a unique view being a visitor
				add(KEYS[11], i, capPageValue(i, value), unique)
				itemRows = true
			end
		end
	end
	owner(KEYS[12], siteMember)
	if itemRows then owner(KEYS[11], ARGV[1]) end
	redis.call('ZINCRBY', KEYS[16], 1, ARGV[1])
	redis.call('PEXPIRE', KEYS[16], liveTTL)
	redis.call('PFADD', KEYS[17], ARGV[10])
	redis.call('PEXPIRE', KEYS[17], liveTTL)
end
redis.call('PEXPIRE', KEYS[10], dayTTL)
redis.call('SADD', KEYS[15], dayKey)
`

// likeScript applies a visitor's press within the visitor's cap and the address block's budget
// for the item and UTC day. KEYS[7] holds the visitor's likes of the day, KEYS[8] the block's.
// ARGV: item key, day, delta, cap, budget (0: none), ttl ms of the day's counters, the bounds'.
// It returns the visitor's likes after the press, the item's total and admit's answer.
var likeScript = goredis.NewScript(touch + `
local refused = admit()
if refused ~= 0 then return {0, 0, refused} end
local delta, cap, budget, ttl = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local cur = tonumber(redis.call('GET', KEYS[7]) or '0')
local left, spent = cap - cur, 0
if budget > 0 then
	spent = tonumber(redis.call('GET', KEYS[8]) or '0')
	left = math.min(left, budget - spent)
end
local change = 0
if delta > 0 then
	change = math.max(0, math.min(delta, left))
elseif delta < 0 and cur > 0 then
	change = -1
end
if change ~= 0 then
	redis.call('SET', KEYS[7], cur + change, 'PX', ttl)
	if budget > 0 then redis.call('SET', KEYS[8], math.max(0, spent + change), 'PX', ttl) end
	touch(ARGV[1], today(tonumber(ARGV[2])), 0, 0, change)
end
return {cur + change, tonumber(redis.call('HGET', KEYS[1], 'l') or '0'), 0}
`)

// seedScript moves an item by the difference between its new and its last imported counts.
// KEYS[7] is the hash of imported counts. ARGV: item key, day, views, likes (-1: keep the
// imported count), the bounds'. It returns the seed it replaced (nothing past a bound).
var seedScript = goredis.NewScript(touch + `
if admit() ~= 0 then return {0, 0} end
local old = redis.call('HGET', KEYS[7], ARGV[1])
local ov, ol = 0, 0
if old then
	local sp = string.find(old, ' ')
	ov, ol = tonumber(string.sub(old, 1, sp - 1)), tonumber(string.sub(old, sp + 1))
end
local views, likes = tonumber(ARGV[3]), tonumber(ARGV[4])
if views < 0 then views = ov end -- not in the import: keep
if likes < 0 then likes = ol end
redis.call('HSET', KEYS[7], ARGV[1], views .. ' ' .. likes)
if views ~= ov or likes ~= ol then
	touch(ARGV[1], today(tonumber(ARGV[2])), 0, views - ov, likes - ol)
end
return {ov, ol}
`)

// cleanScript clears the dirty marks of what has not changed since it was read: items (whose
// hashes hold their mark in field v) or (day, owner) pairs of dimension rows (field _m).
// KEYS[1] is the dirty set; ARGV[1] the field; then triples of hash key, member, mark.
var cleanScript = goredis.NewScript(`
for i = 2, #ARGV, 3 do
	if redis.call('HGET', ARGV[i], ARGV[1]) == ARGV[i + 2] then
		redis.call('ZREM', KEYS[1], ARGV[i + 1])
	end
end
return 0
`)
