--[[
  Creates a session and enforces the session policy in the same atomic step, so two
  concurrent logins can never leave more sessions than the policy allows.

  KEYS[1] session hash            KEYS[2] the user's session index (zset aid -> created ms)
  KEYS[3] the user's security mirror (only its TTL: it must outlive every session it guards)
  ARGV[1] aid        ARGV[2] now (ms)          ARGV[3] lifetime (ms)
  ARGV[4] limit (live sessions the user may keep, the new one included)         ARGV[5] session key prefix   ARGV[6] grace key prefix
  ARGV[7] device     ARGV[8] ip prefix         ARGV[9] device hash ('' = none)
  ARGV[10] deadline (ms on Redis's clock, 0 = none)
  ARGV[11] amr: how the user signed in (RFC 8176 values, comma-separated)
  ARGV[12] the credential epoch the sign-in was checked under (rotate-4.lua refuses the session
           once the user's mirror holds a higher one)
  ARGV[13] publish spec for the evicted sessions (include/publish.lua)

  Returns: the list of evicted aids (oldest first), or -1 (nothing written) past the deadline.
]]
-- The caller answers 503 once its command timeout fires; a script that starts after the
-- caller's deadline (on Redis's own clock) must not write what the caller reported as not done.
-- TIME before writes is allowed: Redis >= 5 replicates a script's effects, not the script.
local clock = redis.call('TIME')
local redisNow = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local deadline = tonumber(ARGV[10])
if deadline > 0 and redisNow > deadline then return -1 end
local live = {}
local gone = {}
for _, aid in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  local st = redis.call('HGET', ARGV[5] .. aid, 'st')
  if st == 'a' then
    live[#live + 1] = aid
  else
    -- expired, or a tombstone left by replay detection: no longer a live session
    gone[#gone + 1] = aid
  end
end

local evicted = {}
local limit = tonumber(ARGV[4])
while #live >= limit do
  evicted[#evicted + 1] = table.remove(live, 1)
end
-- The events before any write: a script stops at its first failing command and keeps what it
-- wrote, so a refused XADD (ACL, out of memory) must leave every session as it was.
publishEnds(ARGV[13], redisNow, evicted)
for _, aid in ipairs(gone) do
  redis.call('ZREM', KEYS[2], aid)
end
for _, victim in ipairs(evicted) do
  redis.call('DEL', ARGV[5] .. victim, ARGV[6] .. victim)
  redis.call('ZREM', KEYS[2], victim)
end

redis.call('HSET', KEYS[1], 'st', 'a', 'g', string.format('%015d', 1), 'c', ARGV[2], 'r', ARGV[2], 'dv', ARGV[7], 'ip', ARGV[8], 'am', ARGV[11], 'ep', ARGV[12])
if ARGV[9] ~= '' then
  redis.call('HSET', KEYS[1], 'dh', ARGV[9])
end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
-- The index lives as long as its longest-lived session: never shorten it (a session created with a
-- shorter lifetime, e.g. after JTS_STATE_PROOF_LIFETIME was lowered, would hide older ones from
-- list and revoke-all). PEXPIRE GT cannot say it: a new index has no TTL, which GT counts as infinite.
if redis.call('PTTL', KEYS[2]) < tonumber(ARGV[3]) then redis.call('PEXPIRE', KEYS[2], ARGV[3]) end
-- So does the mirror: a renewal that finds no mirror ends the session as the user's deletion.
-- PTTL is -2 without a mirror (PEXPIRE then does nothing) and -1 for one written without a TTL.
local mirrorTtl = redis.call('PTTL', KEYS[3])
if mirrorTtl ~= -1 and mirrorTtl < tonumber(ARGV[3]) then redis.call('PEXPIRE', KEYS[3], ARGV[3]) end
return evicted
