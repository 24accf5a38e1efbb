--[[
  Ends one live session (logout, revocation). A replay tombstone is left alone.

  KEYS[1] session hash     KEYS[2] grace slot     KEYS[3] the user's session index
  KEYS[4] the user's security mirror (field s1: the aid of a user's only session, who then has no
          index: create-3.lua)
  ARGV[1] aid     ARGV[2] deadline (ms on Redis's clock, 0 = none)
  ARGV[3] publish spec (include/publish.lua): the ended session's event is written with it
  Returns: 1 when a live session was ended, else 0; -1 (nothing written) past the deadline.
]]
-- The caller answers 503 once its command timeout fires; a script that starts after the
-- caller's deadline (on Redis's own clock) must not write what the caller reported as not done.
-- TIME before writes is allowed: Redis >= 5 replicates a script's effects, not the script.
local clock = redis.call('TIME')
local redisNow = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local deadline = tonumber(ARGV[2])
if deadline > 0 and redisNow > deadline then return -1 end
local function unlist()
  redis.call('ZREM', KEYS[3], ARGV[1])
  if redis.call('HGET', KEYS[4], 's1') == ARGV[1] then redis.call('HDEL', KEYS[4], 's1') end
end
if redis.call('HGET', KEYS[1], 'st') ~= 'a' then
  unlist()
  return 0
end
-- The event before any write: a script stops at its first failing command and keeps what it
-- wrote, so a refused XADD (ACL, out of memory) must leave the session as it was.
publishEnds(ARGV[3], redisNow, { ARGV[1] })
unlist()
redis.call('DEL', KEYS[1], KEYS[2])
return 1
