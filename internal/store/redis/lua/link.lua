-- link.lua sets a site's link only for a site the store keeps (one in the sites hash that the
-- bounds maintain). KEYS: the links hash, the sites hash; ARGV: site, link.
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
return 0
