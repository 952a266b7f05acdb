-- touch is the prelude of the scripts that change an item: it files the item's counts of an
-- earlier day in its history, adds du, dt, dl (likes floored at zero), stamps the day and a new
-- version, marks it dirty and, on its first change of a day, notes it among the day's changed
-- items. KEYS[1..6] are the item, its history, dirty, items, the version counter and lastday;
-- the key before the last is the changed set (the last is the sites hash); it returns the day
-- used.

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
	if d < day then -- the item's first change of the day: a snapshot of the day reads it
		redis.call('ZADD', KEYS[#KEYS - 1], 0, string.format('%08d', day) .. ':' .. member)
	end
	local v = redis.call('INCR', KEYS[5])
	redis.call('HSET', KEYS[1], 'u', math.max(0, u + du), 't', math.max(0, t + dt), 'l', math.max(0, l + dl), 'd', day, 'v', v)
	redis.call('ZADD', KEYS[3], 0, member)
	redis.call('ZADD', KEYS[4], 0, member)
	return v
end
