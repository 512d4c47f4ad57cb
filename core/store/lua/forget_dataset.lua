-- Forgets a dataset: its record, its content index entry if that names it (a concurrent
-- upload may have indexed another id), and its bytes in the tenant's usage.
-- KEYS: dataset datasets usage
-- ARGV: sha256 dataset_id
-- USES: usage
if redis.call('HGET', datasets, sha256) == dataset_id then redis.call('HDEL', datasets, sha256) end
uncount(usage, dataset)
redis.call('DEL', dataset)
