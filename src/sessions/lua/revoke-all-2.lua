--[[
  Ends every live session of a user except one (password change, "sign out elsewhere").

  KEYS[1] the user's session index     KEYS[2] the user's security mirror (field s1: the aid of a
          user's only session, who then has no index: create-3.lua)
  ARGV[1] aid to keep ('' = none)     ARGV[2] session key prefix     ARGV[3] grace key prefix
  ARGV[4] deadline (ms on Redis's clock, 0 = none)
  ARGV[5] '' or the credential epoch the kept session is signed in under from now on (field ep)
  ARGV[6] publish spec (include/publish.lua): one event per ended session (and the credential change)
  Returns: the ended aids, or -1 (nothing written) past the deadline.
]]
-- The caller answers 503 once its command timeout fires; a script that starts after the
-- caller's deadline (on Redis's own clock) must not write what the caller reported as not done.
-- TIME before writes is allowed: Redis >= 5 replicates a script's effects, not the script.
local clock = redis.call('TIME')
local redisNow = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local deadline = tonumber(ARGV[4])
if deadline > 0 and redisNow > deadline then return -1 end
local aids = redis.call('ZRANGE', KEYS[1], 0, -1)
local slot = redis.call('HGET', KEYS[2], 's1')
if slot then table.insert(aids, 1, slot) end
local ended = {}
local others = {}
for _, aid in ipairs(aids) do
  if aid ~= ARGV[1] then
    others[#others + 1] = aid
    if redis.call('HGET', ARGV[2] .. aid, 'st') == 'a' then ended[#ended + 1] = aid end
  end
end
-- The events before any write: a script stops at its first failing command and keeps what it
-- wrote, so a refused XADD (ACL, out of memory) must leave every session as it was.
publishEnds(ARGV[6], redisNow, ended)
if ARGV[5] ~= '' and ARGV[1] ~= '' and redis.call('HGET', ARGV[2] .. ARGV[1], 'st') == 'a' then
  redis.call('HSET', ARGV[2] .. ARGV[1], 'ep', ARGV[5])
end
for _, aid in ipairs(ended) do
  redis.call('DEL', ARGV[2] .. aid, ARGV[3] .. aid)
end
for _, aid in ipairs(others) do
  if aid == slot then redis.call('HDEL', KEYS[2], 's1') else redis.call('ZREM', KEYS[1], aid) end
end
return ended
