-- The jobs in a users set (`keys.dataset_users`, `keys.job_users`: ids of jobs whose
-- records are `prefix .. id`). The caller read the set's members first and passed their
-- records as keys (`records`): `users_of(set, prefix, records)` is the ids of those that
-- are queued or running, sorted (ids of deleted jobs leave the set), or nil when the set
-- no longer holds exactly the ids passed (it changed meanwhile: the caller reads it again
-- and retries). `used_since(records, since)`: whether any of them finished at or after
-- `since` (ISO 8601 strings compare as the times they name).
local function users_of(set, prefix, records)
  local ids = redis.call('SMEMBERS', set)
  if #ids ~= #records then return nil end
  local passed = {}
  for i = 1, #records do passed[records[i]] = true end
  for _, id in ipairs(ids) do
    if not passed[prefix .. id] then return nil end
  end
  local busy = {}
  for i = 1, #records do
    local id = string.sub(records[i], #prefix + 1)
    local status = redis.call('HGET', records[i], 'status')
    if status == 'queued' or status == 'running' then
      table.insert(busy, id)
    elseif not status then
      redis.call('SREM', set, id)
    end
  end
  table.sort(busy)
  return busy
end
local function used_since(records, since)
  for i = 1, #records do
    local finished = redis.call('HGET', records[i], 'finished_at')
    if finished and finished >= since then return true end
  end
  return false
end
