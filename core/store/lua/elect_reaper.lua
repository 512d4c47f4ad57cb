-- Holds (or takes) the reaper's office for `ttl_ms`. → 1 while `node` holds it, else 0
-- KEYS: reaper
-- ARGV: node ttl_ms
local holder = redis.call('GET', reaper)
if holder == node then redis.call('PEXPIRE', reaper, ttl_ms) return 1 end
if holder then return 0 end
redis.call('SET', reaper, node, 'PX', ttl_ms)
return 1
