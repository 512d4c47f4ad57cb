-- Counts one request of a tenant against its request rate (GCRA: `rate` holds the time,
-- in µs, its next request is due at the sustained rate), by its own quota's rate and
-- burst, else the defaults (`rate_default` requests per second, `burst_default`).
-- → 0 when the request may pass, else the µs to wait until it would (and the request is
--   not counted)
-- KEYS: rate quota
-- ARGV: rate_default burst_default
local own = redis.call('HMGET', quota, 'requests_per_second', 'request_burst')
local interval = 1000000 / tonumber(own[1] or rate_default)
local tolerance = interval * tonumber(own[2] or burst_default)
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local due = tonumber(redis.call('GET', rate) or '0')
if due < now then due = now end
local wait = due + interval - tolerance - now
if wait > 0 then return math.ceil(wait) end
redis.call('SET', rate, string.format('%.0f', due + interval),
           'PX', math.ceil((due + interval - now) / 1000) + 1000)
return 0
