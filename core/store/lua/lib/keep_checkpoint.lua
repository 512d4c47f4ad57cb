-- `keep_checkpoint(job, list, events, feed, key, meta, keep, now, epoch, batch, garbage)`:
-- points the job at its new checkpoint and keeps the newest `keep` checkpoints: the list
-- holds their metadata (with the blob key); older ones are dropped.
-- USES: drop event
local function keep_checkpoint(job, list, events, feed, key, meta, keep, now, epoch, batch,
                               garbage)
  redis.call('HSET', job, 'checkpoint', key)
  redis.call('RPUSH', list, meta)
  while redis.call('LLEN', list) > keep do
    drop(cjson.decode(redis.call('LPOP', list))['key'], garbage)
  end
  event(events, feed, now, 'checkpoint', 'epoch', epoch, 'batch', batch)
end
