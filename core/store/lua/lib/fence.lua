-- `holds(lease, token)`: whether the job's lease still holds the writer's token. Every
-- write a worker makes checks it first: a worker that lost its lease (it stalled, Redis
-- restarted without it, the reaper gave the job to another worker) writes nothing.
local function holds(lease, token)
  return redis.call('GET', lease) == token
end
