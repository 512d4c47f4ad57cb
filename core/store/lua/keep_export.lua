-- Points a succeeded job at one of its exports (a model file built once, kept for the
-- next download): 1, or 0 when the job is not succeeded (the caller deletes the file).
-- KEYS: job
-- ARGV: field pointer
if redis.call('HGET', job, 'status') ~= 'succeeded' then return 0 end
redis.call('HSET', job, field, pointer)
return 1
