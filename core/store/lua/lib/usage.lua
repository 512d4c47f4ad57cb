-- Shared by the scripts that record or delete a dataset: its usage, counted once.
-- `count(usage, record, bytes, limit_bytes, limit_datasets)` marks the record counted and
-- adds it, or returns false (nothing changed) past a limit; `uncount(usage, record)` takes
-- a counted record off.
local function count(usage, record, bytes, limit_bytes, limit_datasets)
  local u = redis.call('HMGET', usage, 'stored_bytes', 'datasets')
  local used, held = tonumber(u[1] or '0'), tonumber(u[2] or '0')
  if used + bytes > limit_bytes or held + 1 > limit_datasets then return false end
  redis.call('HINCRBY', usage, 'stored_bytes', bytes)
  redis.call('HINCRBY', usage, 'datasets', 1)
  redis.call('HSET', record, 'counted', bytes)
  return true
end
local function uncount(usage, record)
  local bytes = redis.call('HGET', record, 'counted')
  if not bytes then return end
  redis.call('HINCRBY', usage, 'stored_bytes', -tonumber(bytes))
  redis.call('HINCRBY', usage, 'datasets', -1)
  redis.call('HDEL', record, 'counted')
end
