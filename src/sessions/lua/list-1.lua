--[[
  Lists a user's live sessions in one round trip, dropping index entries whose session expired.

  KEYS[1] the user's session index     ARGV[1] session key prefix
  Returns: a flat list of {aid, generation, created, last active, device, ip prefix, device hash}
]]
local out = {}
for _, aid in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local s = redis.call('HMGET', ARGV[1] .. aid, 'st', 'g', 'c', 'r', 'dv', 'ip', 'dh')
  if s[1] == 'a' then
    out[#out + 1] = aid
    for i = 2, 7 do out[#out + 1] = s[i] or '' end
  else
    redis.call('ZREM', KEYS[1], aid)
  end
end
return out
