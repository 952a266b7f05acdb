-- clean.lua clears the dirty marks of what has not changed since it was read: items (whose
-- hashes hold their mark in field v) or (day, owner) pairs of dimension rows (field _m).
-- KEYS[1] is the dirty set; ARGV[1] the field; then triples of hash key, member, mark.

for i = 2, #ARGV, 3 do
	if redis.call('HGET', ARGV[i], ARGV[1]) == ARGV[i + 2] then
		redis.call('ZREM', KEYS[1], ARGV[i + 1])
	end
end
return 0
