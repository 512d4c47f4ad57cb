-- Takes a slot (`stream`) of the tenant's open streams if it holds fewer than `limit`
-- (lapsed ones dropped first); the slot lapses at `lapse` (Unix seconds) unless renewed.
-- → how many it holds then, or 0
-- KEYS: streams
-- ARGV: stream now lapse limit
redis.call('ZREMRANGEBYSCORE', streams, '-inf', now)
if redis.call('ZCARD', streams) >= tonumber(limit) then
    return 0
end
redis.call('ZADD', streams, lapse, stream)
redis.call('PEXPIRE', streams, math.floor((tonumber(lapse) - tonumber(now)) * 1000))
return redis.call('ZCARD', streams)
