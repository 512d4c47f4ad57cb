-- After the fact: an Idempotency-Key's record is done with resource `id`, unless it was
-- done already. → the id to answer with (`id`, or the one the key made first), or
-- 'mismatch'
-- KEYS: record
-- ARGV: fingerprint id ttl_s
local found = redis.call('GET', record)
if found then
  local kept = cjson.decode(found)
  if kept['fp'] ~= fingerprint then return 'mismatch' end
  if kept['state'] == 'done' then return kept['id'] end
end
local done = cjson.encode({fp = fingerprint, state = 'done', id = id})
redis.call('SET', record, done, 'EX', ttl_s)
return id
