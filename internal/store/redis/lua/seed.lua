-- seed.lua, after prelude.lua, moves an item by the difference between its new and its last imported counts.
-- KEYS[7] is the hash of imported counts. ARGV: item key, day, views, likes (-1: keep the
-- imported count), the bounds'. It returns the seed it replaced (nothing past a bound).

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
