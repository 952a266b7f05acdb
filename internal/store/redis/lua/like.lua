-- like.lua, after prelude.lua, applies a visitor's press within the visitor's cap and the address block's budget
-- for the item and UTC day. KEYS[7] holds the visitor's likes of the day, KEYS[8] the block's.
-- ARGV: item key, day, delta, cap, budget (0: none), ttl ms of the day's counters, the bounds'.
-- It returns the visitor's likes after the press, the item's total and admit's answer.

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
