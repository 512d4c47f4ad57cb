-- Moves an upload from status `was` to `now`, once: a second complete (or a part arriving
-- now) is refused. → 1 moved, 0 not in `was`
-- KEYS: upload
-- ARGV: was now
if redis.call('HGET', upload, 'status') ~= was then return 0 end
redis.call('HSET', upload, 'status', now)
return 1
