-- A checkpoint within an epoch (`epoch` done, `batch` of the next one done), fenced.
-- → 1 done, 0 the lease is lost
-- KEYS: job lease events feed checkpoints garbage usage days
-- ARGV: token checkpoint meta keep run_seconds now epoch batch
-- USES: event charge keep_checkpoint fence
if not holds(lease, token) then return 0 end
charge(job, usage, days, run_seconds, now)
redis.call('HSET', job, 'run_seconds', run_seconds)
keep_checkpoint(job, checkpoints, events, feed, checkpoint, meta, tonumber(keep), now, epoch,
                batch, garbage)
return 1
