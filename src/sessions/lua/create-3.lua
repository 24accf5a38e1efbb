--[[
  Creates a session and enforces the session policy in the same atomic step, so two
  concurrent logins can never leave more sessions than the policy allows.

  KEYS[1] session hash            KEYS[2] the user's session index (zset aid -> created ms)
  KEYS[3] the user's security mirror: it must outlive every session it guards; its field s1 holds
          the aid of a user's only session, who then has no index key (redis-keys.ts, SESSION_SLOT)
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
-- A user's sessions: the one in the mirror's slot (s1), if any, then the index's, oldest first.
-- A user is in one mode at a time (below); an index from before the slot existed is read as well.
local slot = redis.call('HGET', KEYS[3], 's1')
local aids = redis.call('ZRANGE', KEYS[2], 0, -1)
if slot then table.insert(aids, 1, slot) end
local live = {}
local gone = {}
for _, aid in ipairs(aids) do
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
  if aid == slot then slot = false; redis.call('HDEL', KEYS[3], 's1') else redis.call('ZREM', KEYS[2], aid) end
end
for _, victim in ipairs(evicted) do
  redis.call('DEL', ARGV[5] .. victim, ARGV[6] .. victim)
  if victim == slot then slot = false; redis.call('HDEL', KEYS[3], 's1') else redis.call('ZREM', KEYS[2], victim) end
end

-- g: 2^23 + the generation (rotate-4.lua), a fixed-size integer in the hash.
redis.call('HSET', KEYS[1], 'st', 'a', 'g', '8388609', 'c', ARGV[2], 'r', ARGV[2], 'dv', ARGV[7], 'ip', ARGV[8], 'am', ARGV[11], 'ep', ARGV[12])
if ARGV[9] ~= '' then
  redis.call('HSET', KEYS[1], 'dh', ARGV[9])
end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
-- PTTL is -2 without a mirror and -1 for one written without a TTL.
local mirrorTtl = redis.call('PTTL', KEYS[3])
if #live == 0 and mirrorTtl ~= -2 then
  -- The user's only session: its aid in the mirror's slot, no index key (~170 B less per such
  -- user). The mirror outlives the session (below), so the slot does too.
  redis.call('HSET', KEYS[3], 's1', ARGV[1])
else
  -- A second session (or no mirror to hold the slot): the index, with the slot's session moved
  -- into it, so list, revoke-all and replay see every session in one place.
  local lifetime = tonumber(ARGV[3])
  if slot then
    redis.call('ZADD', KEYS[2], redis.call('HGET', ARGV[5] .. slot, 'c') or ARGV[2], slot)
    redis.call('HDEL', KEYS[3], 's1')
    lifetime = math.max(lifetime, redis.call('PTTL', ARGV[5] .. slot))
  end
  redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
  -- The index lives as long as its longest-lived session: never shorten it (a session created with a
  -- shorter lifetime, e.g. after JTS_STATE_PROOF_LIFETIME was lowered, would hide older ones from
  -- list and revoke-all). PEXPIRE GT cannot say it: a new index has no TTL, which GT counts as infinite.
  if redis.call('PTTL', KEYS[2]) < lifetime then redis.call('PEXPIRE', KEYS[2], lifetime) end
end
-- The mirror outlives every session it guards: a renewal that finds no mirror ends the session as
-- the user's deletion. (PEXPIRE does nothing without a mirror.)
if mirrorTtl ~= -1 and mirrorTtl < tonumber(ARGV[3]) then redis.call('PEXPIRE', KEYS[3], ARGV[3]) end
return evicted
