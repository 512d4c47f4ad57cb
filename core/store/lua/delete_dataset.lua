-- Deletes the tenant's dataset unless a queued or running job was submitted on it (and,
-- with `since`, unless it or a job on it was in use at or after `since`): its record,
-- its users set, its content index entry if that names it, its bytes in the tenant's
-- usage, and its Redis blob (`legacy`, as an older Cornu stored it). Its object goes on
-- the garbage list. `records`: the records (`job_prefix .. id`) of the jobs in its users
-- set, as the caller read it.
-- → {'deleted'}, {'missing'}, {'in_use', ids...}, {'recent'}, or {'retry'} when the users
--   set changed since the caller read it
-- KEYS: dataset users datasets garbage usage legacy ...records
-- ARGV: tenant dataset_id job_prefix object since now
-- USES: users usage
if redis.call('HGET', dataset, 'tenant') ~= tenant then return {'missing'} end
local busy = users_of(users, job_prefix, records)
if not busy then return {'retry'} end
if #busy > 0 then return {'in_use', unpack(busy)} end
if since ~= '' then
  local used = redis.call('HGET', dataset, 'used_at')
  if not used then  -- recorded before retention: its period starts now
    redis.call('HSET', dataset, 'used_at', now)
    return {'recent'}
  end
  if used >= since or used_since(records, since) then return {'recent'} end
end
local meta = redis.call('HGET', dataset, 'meta')
if meta then
  local sha = cjson.decode(meta)['sha256']
  if redis.call('HGET', datasets, sha) == dataset_id then redis.call('HDEL', datasets, sha) end
end
local blob = redis.call('HGET', dataset, 'blob')
if blob then redis.call('RPUSH', garbage, cjson.decode(blob)['key']) end
redis.call('RPUSH', garbage, object)
uncount(usage, dataset)
redis.call('DEL', dataset, users, legacy)
return {'deleted'}
