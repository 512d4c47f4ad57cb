-- Holds `bytes` of a device's `capacity` for `job` until `now_ms + ttl_ms` (again: renews
-- the hold), dropping lapsed holds first; admitted only beside what the others hold, or
-- when the device holds nothing at all (a job bigger than its share still runs, alone).
-- `holds`: job → when its hold lapses (ms); `held`: job → its bytes.
-- → 1 admitted (or already held), 0 not now
-- KEYS: holds held
-- ARGV: job bytes capacity now_ms ttl_ms
local expired = redis.call('ZRANGEBYSCORE', holds, '-inf', now_ms)
for _, lapsed in ipairs(expired) do
  redis.call('ZREM', holds, lapsed)
  redis.call('HDEL', held, lapsed)
end
if redis.call('ZSCORE', holds, job) then
  redis.call('ZADD', holds, now_ms + ttl_ms, job)
  return 1
end
local total = 0
for _, value in ipairs(redis.call('HVALS', held)) do total = total + tonumber(value) end
if total > 0 and total + tonumber(bytes) > tonumber(capacity) then return 0 end
redis.call('ZADD', holds, now_ms + ttl_ms, job)
redis.call('HSET', held, job, bytes)
return 1
