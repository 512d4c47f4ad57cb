-- Records a dataset whose object (`object`) is still pending (its writer is alive), in
-- one step, within the tenant's quota (`limit_bytes`, `limit_datasets`). The first
-- upload of a content stays its index entry (a duplicate may be removed). `fields`: the
-- record's field/value pairs.
-- → 1 recorded, 0 no longer pending, -1 past the quota (nothing recorded)
-- KEYS: dataset datasets pending usage
-- ARGV: object sha256 dataset_id bytes limit_bytes limit_datasets ...fields
-- USES: usage
if not redis.call('ZSCORE', pending, object) then return 0 end
if not count(usage, dataset, tonumber(bytes), tonumber(limit_bytes), tonumber(limit_datasets)) then
  return -1  -- still pending: deleted by the caller, or by the reaper should it die
end
redis.call('ZREM', pending, object)
redis.call('HSET', dataset, unpack(fields))
redis.call('HSETNX', datasets, sha256, dataset_id)
return 1
