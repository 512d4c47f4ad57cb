-- A queued job is cancelled at once; a running one is asked to stop (its worker polls).
-- → 'now_cancelled', 'stopping', or the status of a job that has finished
-- KEYS: job active dispatch events feed
-- ARGV: job_id now
-- USES: event
local status = redis.call('HGET', job, 'status')
if status == 'queued' then
  redis.call('HSET', job, 'status', 'cancelled', 'finished_at', now)
  redis.call('SREM', active, job_id)
  redis.call('ZREM', dispatch, job_id)
  event(events, feed, now, 'cancelled', 'detail', 'cancelled before it started')
  return 'now_cancelled'
end
if status == 'running' then
  if redis.call('HGET', job, 'cancel') ~= '1' then
    redis.call('HSET', job, 'cancel', '1')
    event(events, feed, now, 'cancel_requested')
  end
  return 'stopping'
end
return status
