-- record.lua, after prelude.lua, counts one view. KEYS[7] and KEYS[8] are the dedup keys of today's and
-- yesterday's session id for the item (the same key twice when there is no yesterday's id);
-- each holds the expiry (unix ms) of its window, compared with the caller's clock. KEYS[9]
-- counts the session's views of the item this minute, for the cap ARGV[5] (0: none); over it,
-- nothing is counted and the script returns -1; past a bound (see admit) it returns -2 or -3.
-- ARGV: item key, day, now ms, window ms, cap, the dimensions' (below), the bounds'.

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

-- Then it counts the view's visitors and dimensions (see dims.go). KEYS[10] is the
-- day's set of (session, owner) hashes already counted as visitors, KEYS[11] and KEYS[12] the
-- item's and the site's dimension hashes of the day, KEYS[13] the set of (day, owner) pairs to
-- flush, KEYS[14] the day's owners (for pruning), KEYS[15] the set of days held, KEYS[16] and
-- KEYS[17] the site's live views (sorted set) and visitors (HyperLogLog) of this minute,
-- KEYS[18..26] the day's distinct values of dimensions 1..9 of the site, KEYS[27] the site's
-- fair-share counters of the day (fields "n<dim>|<network>": new values a network brought,
-- "d|<domain>": referrer hosts of a registrable domain), KEYS[28..31] the site's page rows of
-- the source dimensions 1..4 of the day ("<item>|<value>").
-- ARGV[6..]: page (1 or 0), site member, day key, item visitor hash, site visitor hash, cap on
-- distinct values, live ttl ms, day ttl ms, then the 9 values ("" for none), the network ("" for
-- none), the referrer's registrable domain ("" when it is the host itself) and the view's
-- VisitorCap (0: none; "v|<network>" counts the network's visitors in KEYS[27]), then
-- item.MaxNewValuesPerNetwork and item.MaxHostsPerDomain.

local page, siteMember, dayKey = ARGV[6] == '1', ARGV[7], ARGV[8]
local maxValues, liveTTL, dayTTL = tonumber(ARGV[11]), tonumber(ARGV[12]), tonumber(ARGV[13])
local network, refDomain, visitorCap = ARGV[23], ARGV[24], tonumber(ARGV[25])
local maxPerNetwork, maxHosts = tonumber(ARGV[26]), tonumber(ARGV[27])
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
return du
