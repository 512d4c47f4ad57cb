-- Deletes the tenant's finished job unless a queued or running job starts from its
-- weights (and, with `finished_before`, unless it finished at or after that time): its
-- record and every key of it (metrics, events, feed, acks, lease, and the weights and
-- state an older Cornu kept in Redis), its entries in the tenant's jobs, in the users
-- sets it is in and in the indexes of its tags. Its objects go on the garbage list: its
-- whole object prefix (`objects`, ending in `/`), and the Redis blobs of its checkpoints
-- (`${LEGACY_BLOB}…`, read from its record: `Blobs.collect` deletes them from Redis).
-- `rest`: the records (`job_prefix .. id`) of the `users` jobs in its users set, as the
-- caller read it, then the users sets it leaves (its datasets', its initial-weights
-- job's), then the tenant's indexes of its `tags` tags.
-- → {'deleted'}, {'missing'}, {'active', status}, {'in_use', ids...}, {'recent'}, or
--   {'retry'} when its users set changed since the caller read it
-- KEYS: job jobs users checkpoints garbage metrics events feed acks lease weights state ...rest
-- ARGV: tenant job_id job_prefix objects finished_before users_count tags
-- USES: users
if redis.call('HGET', job, 'tenant') ~= tenant then return {'missing'} end
local status = redis.call('HGET', job, 'status')
if status == 'queued' or status == 'running' then return {'active', status} end
local user_count, tag_count = tonumber(users_count), tonumber(tags)
local records = {}
for i = 1, user_count do records[i] = rest[i] end
local busy = users_of(users, job_prefix, records)
if not busy then return {'retry'} end
if #busy > 0 then return {'in_use', unpack(busy)} end
if finished_before ~= '' then
  local finished = redis.call('HGET', job, 'finished_at')
  if not finished or finished >= finished_before then return {'recent'} end
end
redis.call('RPUSH', garbage, objects)  -- every object of the job is under its prefix
local legacy = {redis.call('HGET', job, 'checkpoint')}
for _, meta in ipairs(redis.call('LRANGE', checkpoints, 0, -1)) do
  table.insert(legacy, cjson.decode(meta)['key'])
end
for _, key in pairs(legacy) do
  if key and string.sub(key, 1, ${LEGACY_BLOB_LEN}) == '${LEGACY_BLOB}' then
    redis.call('RPUSH', garbage, key)
  end
end
redis.call('DEL', metrics, events, feed, acks, lease, weights, state)
redis.call('DEL', job, users, checkpoints)
redis.call('ZREM', jobs, job_id)
for i = user_count + 1, #rest - tag_count do redis.call('SREM', rest[i], job_id) end
for i = #rest - tag_count + 1, #rest do redis.call('ZREM', rest[i], job_id) end
return {'deleted'}
