-- A running job ends `failed` (`message` its error) or `cancelled`, fenced; its
-- checkpoints are kept. → 1 done, 0 the lease is lost
-- KEYS: job lease running events feed active
-- ARGV: token status message now job_id
-- USES: event fence
if not holds(lease, token) then return 0 end
redis.call('HSET', job, 'status', status, 'finished_at', now, 'error', message)
redis.call('HDEL', job, 'lease_token')
redis.call('DEL', lease)
redis.call('SREM', running, job_id)
redis.call('SREM', active, job_id)
if status == 'failed' then
  event(events, feed, now, 'failed', 'reason', message)
else
  event(events, feed, now, status)
end
return 1
