-- Takes a call to run it. → its fields (HGETALL), or nil when it is gone or taken (HSETNX:
-- one taker)
-- KEYS: call
-- ARGV:
if redis.call('EXISTS', call) == 0 then return false end
if redis.call('HSETNX', call, 'taken', '1') == 0 then return false end
return redis.call('HGETALL', call)
