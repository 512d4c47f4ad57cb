-- Reserves an Idempotency-Key's record for a request with `fingerprint`, for `ttl_s`.
-- → '' (reserved), 'mismatch' (another request's key), 'pending', or 'done:<id>'
-- KEYS: record
-- ARGV: fingerprint ttl_s
local found = redis.call('GET', record)
if not found then
  redis.call('SET', record, cjson.encode({fp = fingerprint, state = 'pending'}), 'EX', ttl_s)
  return ''
end
local kept = cjson.decode(found)
if kept['fp'] ~= fingerprint then return 'mismatch' end
if kept['state'] == 'pending' then return 'pending' end
return 'done:' .. kept['id']
