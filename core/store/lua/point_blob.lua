-- `cornu migrate-blobs`: points a dataset's or a job's record at the object its legacy
-- Redis blob was copied to (`field` ← `pointer`) and deletes the Redis copy, if the record
-- does not point at an object already.
-- → 'moved', 'stale' (it did: the copy is deleted), or 'gone' (no record)
-- KEYS: record legacy
-- ARGV: field pointer
if redis.call('EXISTS', record) == 0 then return 'gone' end
if redis.call('HEXISTS', record, field) == 1 then
  redis.call('DEL', legacy)
  return 'stale'
end
redis.call('HSET', record, field, pointer)
redis.call('DEL', legacy)
return 'moved'
