-- Extends a running job's lease, if it still holds the worker's token.
-- → {owned, cancel requested, stop_training requested} (1/0 each)
-- KEYS: job lease
-- ARGV: token lease_ms
-- USES: fence
if not holds(lease, token) then return {0, 0, 0} end
redis.call('PEXPIRE', lease, lease_ms)
local f = redis.call('HMGET', job, 'cancel', 'stop_training')
return {1, f[1] == '1' and 1 or 0, f[2] == '1' and 1 or 0}
