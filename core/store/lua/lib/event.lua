-- `event(events, feed, now, kind, ...)`: appends one event to a job's events stream
-- (what happened, when, and details as field/value pairs) and to its live feed, which
-- the SSE stream reads. Both are trimmed approximately (`MAXLEN ~`).
local function event(events, feed, now, kind, ...)
  redis.call('XADD', events, 'MAXLEN', '~', ${EVENTS_MAXLEN}, '*', 'type', kind, 'time', now, ...)
  local data = {type = kind, time = now}
  local details = {...}
  for i = 1, #details, 2 do data[details[i]] = details[i + 1] end
  redis.call('XADD', feed, 'MAXLEN', '~', ${FEED_MAXLEN}, '*',
             'event', kind, 'data', cjson.encode(data))
end
