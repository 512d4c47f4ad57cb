-- Back to the queue (a worker shutting down, for `reason`), fenced; it resumes elsewhere.
-- → 1 done, 0 the lease is lost
-- KEYS: job lease running events feed dispatch
-- ARGV: token now now_ms job_id reason
-- USES: event fence
if not holds(lease, token) then return 0 end
redis.call('HSET', job, 'status', 'queued')
redis.call('HDEL', job, 'lease_token', 'worker')
redis.call('DEL', lease)
redis.call('SREM', running, job_id)
redis.call('ZADD', dispatch, now_ms, job_id)
event(events, feed, now, 'released', 'reason', reason)
return 1
