-- `drop(key, garbage)`: an object no record points at any more goes onto the garbage
-- list, deleted after the script (`Blobs.collect`). A Redis blob an older Cornu wrote
-- (`${LEGACY_BLOB}…`) goes there too: `Blobs.collect` deletes it from Redis, since the
-- script was not given it as a key.
local function drop(key, garbage)
  redis.call('RPUSH', garbage, key)
end
