-- queued → running: claims a queued job for one attempt under a new lease (`token`, for
-- `lease_ms`), on `device` of class `accelerator`, its training time charged at `price`
-- per device-hour ('' when it has none).
-- → {spec, checkpoint, run_seconds, tenant, attempt, epoch, device_seconds, cost}, or nil
--   when the job is not queued
-- KEYS: job lease running events feed
-- ARGV: token worker lease_ms now job_id device accelerator price
-- USES: event
if redis.call('HGET', job, 'status') ~= 'queued' then return false end
local attempt = redis.call('HINCRBY', job, 'attempts', 1)
redis.call('HSET', job, 'status', 'running', 'lease_token', token, 'worker', worker,
           'device', device, 'rate_accelerator', accelerator)
if price == '' then
  redis.call('HDEL', job, 'rate_price')
else
  redis.call('HSET', job, 'rate_price', price)
end
if not redis.call('HGET', job, 'started_at') then
  redis.call('HSET', job, 'started_at', now)
end
redis.call('SET', lease, token, 'PX', lease_ms)
redis.call('SADD', running, job_id)
event(events, feed, now, 'started', 'worker', worker, 'attempt', attempt, 'device', device)
local f = redis.call('HMGET', job, 'spec', 'checkpoint', 'run_seconds', 'tenant', 'epoch',
                     'device_seconds', 'cost')
return {f[1], f[2] or '', f[3] or '0', f[4], attempt, f[5] or '0', f[6] or '', f[7] or ''}
