-- `cornu migrate-blobs`: a checkpoint's legacy Redis blob (`legacy_key`) was copied to
-- `object`: its entry in the job's list and the job's resume pointer name the object now,
-- and the Redis copy is deleted. → 'moved', or 'gone' when nothing names the blob
-- KEYS: job checkpoints legacy
-- ARGV: legacy_key object sha256
local found = false
for i, meta in ipairs(redis.call('LRANGE', checkpoints, 0, -1)) do
  local entry = cjson.decode(meta)
  if entry['key'] == legacy_key then
    entry['key'] = object
    entry['sha256'] = sha256
    redis.call('LSET', checkpoints, i - 1, cjson.encode(entry))
    found = true
  end
end
if redis.call('HGET', job, 'checkpoint') == legacy_key then
  redis.call('HSET', job, 'checkpoint', object)
  found = true
end
if not found then return 'gone' end
redis.call('DEL', legacy)
return 'moved'
