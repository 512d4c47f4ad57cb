-- Keras's `model.stop_training = True`, said by the client: a queued or running job
-- stops after its current batch (or between epochs) and succeeds with its weights.
-- → 'stopping', or the status of a job that has finished
-- KEYS: job events feed
-- ARGV: now
-- USES: event
local status = redis.call('HGET', job, 'status')
if status ~= 'queued' and status ~= 'running' then return status end
if redis.call('HGET', job, 'stop_training') ~= '1' then
  redis.call('HSET', job, 'stop_training', '1')
  event(events, feed, now, 'stop_training_requested')
end
return 'stopping'
