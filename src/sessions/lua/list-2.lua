--[[
  Lists a user's live sessions in one round trip, dropping index entries whose session expired.

  KEYS[1] the user's session index     KEYS[2] the user's security mirror (field s1: the aid of a
          user's only session, who then has no index: create-3.lua)
  ARGV[1] session key prefix
  Returns: a flat list of {aid, generation, created, last active, device, ip prefix, device hash}
]]
local aids = redis.call('ZRANGE', KEYS[1], 0, -1)
local slot = redis.call('HGET', KEYS[2], 's1')
if slot then table.insert(aids, 1, slot) end
local out = {}
for _, aid in ipairs(aids) do
  local s = redis.call('HMGET', ARGV[1] .. aid, 'st', 'g', 'c', 'r', 'dv', 'ip', 'dh')
  if s[1] == 'a' then
    out[#out + 1] = aid
    for i = 2, 7 do out[#out + 1] = s[i] or '' end
  elseif aid == slot then
    redis.call('HDEL', KEYS[2], 's1')
  else
    redis.call('ZREM', KEYS[1], aid)
  end
end
return out
