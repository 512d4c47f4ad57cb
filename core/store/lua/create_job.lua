-- A new queued job, unless the tenant already has `limit` queued or running ones. It joins
-- the users sets of the records it reads (its datasets, its initial-weights job), so that
-- a delete sees it (`core.store.lifecycle`); with `verify`, each must exist and be the
-- tenant's (the weights job succeeded) or nothing is created: a delete that ran first wins.
-- `records`: pairs of (record, its users set), datasets first (`datasets` pairs), then the
-- tenant's index of each of the job's `tags` tags. `now` is ISO 8601, `now_ms` the same in
-- ms; `fields`: the job hash's field/value pairs.
-- → 1 created, 0 past the active limit, -1 past the kept limit, or {'missing', record}
-- KEYS: job jobs active dispatch events feed ...records
-- ARGV: job_id limit now now_ms tenant verify datasets kept tags ...fields
-- USES: event
local tag_count = tonumber(tags)
local pairs_ = (#records - tag_count) / 2
for i = 1, pairs_ do
  local record = records[2 * i - 1]
  if verify == '1' and redis.call('HGET', records[2 * i - 1], 'tenant') ~= tenant then
    return {'missing', record}
  end
  if verify == '1' and i > tonumber(datasets)
     and redis.call('HGET', records[2 * i - 1], 'status') ~= 'succeeded' then
    return {'missing', record}
  end
end
if tonumber(limit) > 0 and redis.call('SCARD', active) >= tonumber(limit) then return 0 end
if redis.call('ZCARD', jobs) >= tonumber(kept) then return -1 end
for i = 1, pairs_ do
  if redis.call('EXISTS', records[2 * i - 1]) == 1 then
    redis.call('SADD', records[2 * i], job_id)
    if i <= tonumber(datasets) then
      redis.call('HSET', records[2 * i - 1], 'used_at', now)
    end
  end
end
redis.call('HSET', job, unpack(fields))
redis.call('ZADD', jobs, 0, job_id)
for i = #records - tag_count + 1, #records do redis.call('ZADD', records[i], 0, job_id) end
redis.call('SADD', active, job_id)
redis.call('ZADD', dispatch, now_ms, job_id)
event(events, feed, now, 'queued')
return 1
