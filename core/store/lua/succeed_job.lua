-- Publishes the attempt's weights and state (pointers to its objects), fenced; the
-- checkpoints, and weights or state an earlier attempt published, are dropped.
-- → 1 done, 0 the lease is lost
-- KEYS: job lease running events feed active checkpoints garbage
-- ARGV: token now job_id weights state
-- USES: event drop fence
if not holds(lease, token) then return 0 end
local new = {[cjson.decode(weights)['key']] = true, [cjson.decode(state)['key']] = true}
for _, field in ipairs({'weights_blob', 'state_blob'}) do
  local old = redis.call('HGET', job, field)
  if old and not new[cjson.decode(old)['key']] then drop(cjson.decode(old)['key'], garbage) end
end
redis.call('HSET', job, 'weights_blob', weights, 'state_blob', state)
for _, meta in ipairs(redis.call('LRANGE', checkpoints, 0, -1)) do
  drop(cjson.decode(meta)['key'], garbage)
end
redis.call('DEL', checkpoints, lease)
redis.call('HSET', job, 'status', 'succeeded', 'finished_at', now)
redis.call('HDEL', job, 'lease_token', 'checkpoint')
redis.call('SREM', running, job_id)
redis.call('SREM', active, job_id)
event(events, feed, now, 'succeeded')
return 1
