-- One progress report (`data`, JSON) of a running job, for the live view; fenced.
-- → 1 done, 0 the lease is lost
-- KEYS: lease feed
-- ARGV: token data maxlen
-- USES: fence
if not holds(lease, token) then return 0 end
redis.call('XADD', feed, 'MAXLEN', '~', maxlen, '*', 'event', 'progress', 'data', data)
return 1
