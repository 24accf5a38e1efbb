--[[
  One renewal: rotate, answer from the grace slot, or detect a replay — decided and written
  in one atomic step, so concurrent renewals with one StateProof never fork the session.

  KEYS[1] session hash     KEYS[2] grace slot of the session     KEYS[3] the user's session index
  KEYS[4] the user's security mirror (fields permissions, disabled, epoch, ev; s1 the aid of a
          user's only session, who then has no index: create-3.lua)
  ARGV[1] presented generation     ARGV[2] sealed BearerPass of this rotation
  ARGV[3] now (ms)     ARGV[4] grace (ms)     ARGV[5] tombstone (ms)
  ARGV[6] 'session' | 'principal'   ARGV[7] session key prefix   ARGV[8] grace key prefix
  ARGV[9] aid
  ARGV[10] '' or the user's permissions (as stored) the BearerPass was minted with: then the
           mirror must exist, be enabled, hold exactly those and have epoch ARGV[13], or nothing happens
  ARGV[11] when the caller sent this (ms on Redis's clock as the caller estimates it, 0 = unknown)
  ARGV[12] deadline (ms on Redis's clock, 0 = none)
  ARGV[13] the credential epoch expected with ARGV[10] (a mirror without one counts as 0)
  ARGV[14] email verified '0' | '1' expected with ARGV[10] (a mirror without ev counts as '0')
  ARGV[15] publish spec of a replay (include/publish.lua); read only when a replay is detected
  ARGV[16] the session's step-up (field sa, '' = none) expected with ARGV[10]: a step-up recorded
           since the caller remembered the session makes it stale, so its BearerPass is re-minted

  Returns: {1, new generation}               rotated
           {2, current generation, sealed}   grace: the answer of the rotation that consumed it
           {3, revoked aid, ...}             replay: the session (or every session) is now a tombstone
           {4}                               already compromised
           {5}                               stale: the user or step-up is not as ARGV[10], [13], [14], [15] say; nothing written
           {6}                               superseded: the mirror's epoch is above the session's
                                             (field ep, the sign-in's): the session is deleted
           {0}                               no such session
           -1                                past the deadline; nothing written
]]
-- The caller answers 503 once its command timeout fires; a script that starts after the
-- caller's deadline (on Redis's own clock) must not write what the caller reported as not done.
-- TIME before writes is allowed: Redis >= 5 replicates a script's effects, not the script.
local clock = redis.call('TIME')
local redisNow = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local deadline = tonumber(ARGV[12])
if deadline > 0 and redisNow > deadline then return -1 end
local mirrorEpoch = false
if ARGV[10] ~= '' then
  local user = redis.call('HMGET', KEYS[4], 'permissions', 'disabled', 'epoch', 'ev')
  if user[1] ~= ARGV[10] or user[2] ~= '0' or (user[3] or '0') ~= ARGV[13] or (user[4] or '0') ~= ARGV[14] then return {5} end
  mirrorEpoch = user[3]
end

local state = redis.call('HMGET', KEYS[1], 'st', 'g', 'ep', 'sa')
if not state[1] then return {0} end
if state[1] == 'c' then return {4} end
if ARGV[10] ~= '' and (state[4] or '') ~= ARGV[16] then return {5} end
-- A sign-in with the old password that raced a password change or reset (and slipped past its
-- revocations) is still under the old epoch: it never renews past the change (review F2). A
-- session from before 'ep' was stored has none and is left to those revocations.
if state[3] then mirrorEpoch = mirrorEpoch or redis.call('HGET', KEYS[4], 'epoch') end
if state[3] and tonumber(mirrorEpoch or '0') > tonumber(state[3]) then
  redis.call('DEL', KEYS[1], KEYS[2])
  redis.call('ZREM', KEYS[3], ARGV[9])
  if redis.call('HGET', KEYS[4], 's1') == ARGV[9] then redis.call('HDEL', KEYS[4], 's1') end
  return {6}
end

-- Field g is 2^23 + the generation (redis-keys.ts, GENERATION_BASE); a session written before that
-- holds the generation itself, zero-padded to 15 digits (below 2^23), and is rewritten on rotation.
local current = tonumber(state[2])
if current >= 8388608 then current = current - 8388608 end
local presented = tonumber(ARGV[1])

if presented == current then
  local nextGeneration = current + 1
  -- Offset by 2^23: Redis stores the field as a 32-bit integer (6 bytes in the hash, where the
  -- 15-digit zero-padded string took 17) whatever the generation below ~2.1 billion, so the session
  -- takes the same memory after its 500th renewal as after its first.
  redis.call('HSET', KEYS[1], 'g', string.format('%d', 8388608 + nextGeneration), 'r', ARGV[3])
  -- No PEXPIRE: a session lives at most its lifetime from login, however often it renews.
  local grace = tonumber(ARGV[4])
  if grace > 0 then
    -- The window is judged by the caller's clock ("until|sealed"); the TTL only cleans up. It
    -- counts from when this rotation really happened: a command that waited in a slow Redis
    -- adds its wait (on Redis's clock), so a retry of a lost answer gets the full window.
    local sentAt = tonumber(ARGV[11])
    local waited = 0
    if sentAt > 0 and redisNow > sentAt then waited = redisNow - sentAt end
    local untilMs = string.format('%.0f', tonumber(ARGV[3]) + grace + waited)
    redis.call('SET', KEYS[2], untilMs .. '|' .. ARGV[2], 'PX', string.format('%.0f', grace + waited + 1000))
  else
    redis.call('DEL', KEYS[2])
  end
  return {1, nextGeneration}
end

if presented == current - 1 then
  local slot = redis.call('GET', KEYS[2])
  if slot then
    local sep = string.find(slot, '|', 1, true)
    if tonumber(ARGV[3]) <= tonumber(string.sub(slot, 1, sep - 1)) then
      return {2, current, string.sub(slot, sep + 1)}
    end
  end
end

if presented > current then return {0} end

-- An earlier StateProof after its window: token theft. Keep a small tombstone so the
-- session's BearerPasses and StateProofs are answered with JTS-401-05 until they expire.
local victims = { ARGV[9] }
local slot = redis.call('HGET', KEYS[4], 's1')
if ARGV[6] == 'principal' then
  victims = redis.call('ZRANGE', KEYS[3], 0, -1)
  if slot then table.insert(victims, 1, slot) end
end
local live = {}
for _, aid in ipairs(victims) do
  if redis.call('HGET', ARGV[7] .. aid, 'st') == 'a' then live[#live + 1] = aid end
end
-- Every session this replay ends is published in this same step, before any write (a refused
-- XADD then leaves the sessions as they were). The normal paths above never get here.
publishEnds(ARGV[15], redisNow, live)
local revoked = {3}
for _, aid in ipairs(live) do
  local key = ARGV[7] .. aid
  redis.call('DEL', key, ARGV[8] .. aid)
  redis.call('HSET', key, 'st', 'c')
  redis.call('PEXPIRE', key, ARGV[5])
  revoked[#revoked + 1] = aid
end
for _, aid in ipairs(victims) do
  if aid == slot then redis.call('HDEL', KEYS[4], 's1') else redis.call('ZREM', KEYS[3], aid) end
end
return revoked
