--[[
  Prepended to the scripts that end sessions (redis-scripts.ts). Publishes security events
  (src/sessions/security-events.ts) in the same atomic step as the ending: one stream entry per
  ended session, and a credential change when asked, trimming entries older than the retention.

  spec: the JSON of redis-keys.ts publishSpecFor {s stream key, m retention ms, n not-after ms,
        p prn, r reason, i initiating entity, c 1 = also a credential change}, or '' when the
        caller publishes itself (Redis Cluster: the stream lives in another slot).
]]
local function publishEnds(spec, nowMs, aids)
  if spec == '' then return end
  local p = cjson.decode(spec)
  local minId = string.format('%.0f', nowMs - p.m)
  local at = string.format('%.0f', nowMs)
  local na = string.format('%.0f', nowMs + p.n)
  for _, aid in ipairs(aids) do
    redis.call('XADD', p.s, 'MINID', '~', minId, '*', 'ty', 'sr', 'p', p.p, 'a', aid, 'rs', p.r, 'ie', p.i, 'at', at, 'na', na)
  end
  if p.c == 1 then
    redis.call('XADD', p.s, 'MINID', '~', minId, '*', 'ty', 'cc', 'p', p.p, 'ie', p.i, 'at', at)
  end
end
