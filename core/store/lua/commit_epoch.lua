-- One finished epoch: its metrics and its checkpoint, together or not at all (fenced).
-- `entry` is the metrics stream's log, `logs` the job's latest metrics; `checkpoint` the
-- new checkpoint's object key and `meta` its metadata, of which `keep` are kept.
-- → 1 done, 0 the lease is lost, -1 the epoch does not follow the last one
-- KEYS: job lease metrics events checkpoints feed garbage usage days
-- ARGV: token epoch entry logs checkpoint meta keep run_seconds now maxlen feed_maxlen
-- USES: event charge keep_checkpoint fence
if not holds(lease, token) then return 0 end
local done = tonumber(redis.call('HGET', job, 'epoch') or '0')
if tonumber(epoch) ~= done + 1 then return -1 end
redis.call('XADD', metrics, 'MAXLEN', '~', maxlen, '*', 'log', entry)
redis.call('XADD', feed, 'MAXLEN', '~', feed_maxlen, '*', 'event', 'epoch', 'data', entry)
charge(job, usage, days, run_seconds, now)
redis.call('HSET', job, 'epoch', epoch, 'metrics', logs, 'run_seconds', run_seconds)
keep_checkpoint(job, checkpoints, events, feed, checkpoint, meta, tonumber(keep), now, epoch, 0,
                garbage)
return 1
