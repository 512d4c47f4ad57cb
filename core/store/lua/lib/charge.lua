-- Shared by the scripts that move a job's `run_seconds` on: what the new training time
-- is charged. `charge(job, usage, days, run_seconds, now)` adds it to the tenant's
-- `compute_seconds`, and, times the job's devices, to its `device_seconds`, the job's own
-- and the tenant's day for the class its attempt runs on; at that class's price (the
-- attempt's `rate_price`, per device-hour, set when it was claimed) to their `cost` too.
local function fmt(x) return string.format('%.17g', x) end
local function charge(job, usage, days, run_seconds, now)
  local f = redis.call('HMGET', job, 'run_seconds', 'devices', 'rate_accelerator', 'rate_price')
  local spent = tonumber(run_seconds) - tonumber(f[1] or '0')
  if spent <= 0 then return end
  local device_seconds = spent * tonumber(f[2] or '1')
  local day = string.sub(now, 1, 10) .. ' ' .. (f[3] or 'unknown') .. ' '
  redis.call('HINCRBYFLOAT', usage, 'compute_seconds', fmt(spent))
  redis.call('HINCRBYFLOAT', usage, 'device_seconds', fmt(device_seconds))
  redis.call('HINCRBYFLOAT', job, 'device_seconds', fmt(device_seconds))
  redis.call('HINCRBYFLOAT', days, day .. 'device_seconds', fmt(device_seconds))
  if f[4] then
    local cost = device_seconds * tonumber(f[4]) / 3600
    redis.call('HINCRBYFLOAT', usage, 'cost', fmt(cost))
    redis.call('HINCRBYFLOAT', job, 'cost', fmt(cost))
    redis.call('HINCRBYFLOAT', days, day .. 'cost', fmt(cost))
  end
end
