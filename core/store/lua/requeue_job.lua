-- The reaper's step for one running job whose lease may have expired: requeued, or
-- finished when it was asked to cancel (cancelled) or has been lost `max_attempts` times
-- (failed, its last checkpoint kept).
-- → 'requeued', 'failed', 'cancelled', 'alive' (its lease holds) or 'gone' (not running)
-- KEYS: job lease running events feed dispatch active
-- ARGV: max_attempts now now_ms job_id
-- USES: event
if redis.call('HGET', job, 'status') ~= 'running' then
  redis.call('SREM', running, job_id)
  return 'gone'
end
if redis.call('EXISTS', lease) == 1 then return 'alive' end
local worker = redis.call('HGET', job, 'worker') or '?'
event(events, feed, now, 'lease_lost', 'worker', worker)
redis.call('SREM', running, job_id)
redis.call('HDEL', job, 'lease_token', 'worker')
local attempts = tonumber(redis.call('HGET', job, 'attempts') or '0')
local finished = nil
if redis.call('HGET', job, 'cancel') == '1' then
  finished = {'cancelled', ''}
elseif attempts >= tonumber(max_attempts) then
  finished = {'failed', 'the worker running this job was lost ' .. attempts ..
    ' times (killed, out of memory, or cut off from Redis); the last checkpoint is kept'}
end
if finished then
  redis.call('HSET', job, 'status', finished[1], 'finished_at', now, 'error', finished[2])
  redis.call('SREM', active, job_id)
  if finished[1] == 'failed' then
    event(events, feed, now, 'failed', 'reason', finished[2])
  else
    event(events, feed, now, 'cancelled')
  end
  return finished[1]
end
redis.call('HSET', job, 'status', 'queued')
redis.call('ZADD', dispatch, now_ms, job_id)
event(events, feed, now, 'requeued', 'attempt', attempts)
return 'requeued'
