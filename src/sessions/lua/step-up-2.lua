--[[
  Records a step-up (POST /jts/reauth) on a live session: the session's BearerPasses carry its
  time and methods from now on. The generation, the grace slot and every StateProof stay as they
  are, so the step-up cannot fork the StateProof chain, whatever renewal runs at the same time.

  KEYS[1] session hash     KEYS[2] the user's security mirror (fields disabled, epoch)
  ARGV[1] the step-up as field sa stores it ('<ms>:<amr>')
  ARGV[2] the credential epoch the credential was checked under
  ARGV[3] deadline (ms on Redis's clock, 0 = none)

  Returns: 1 recorded   0 no such session   4 compromised (replay tombstone)
           6 superseded: the mirror's epoch is above the session's (field ep); left to renewal to delete
           7 the mirror is absent, disabled, or its epoch is not ARGV[2] (a change raced the check)
           -1 past the deadline; nothing written
]]
local clock = redis.call('TIME')
local redisNow = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local deadline = tonumber(ARGV[3])
if deadline > 0 and redisNow > deadline then return -1 end
local state = redis.call('HMGET', KEYS[1], 'st', 'ep')
if not state[1] then return 0 end
if state[1] == 'c' then return 4 end
local user = redis.call('HMGET', KEYS[2], 'disabled', 'epoch')
local mirrorEpoch = tonumber(user[2] or '0')
if state[2] and mirrorEpoch > tonumber(state[2]) then return 6 end
if user[1] ~= '0' or mirrorEpoch ~= tonumber(ARGV[2]) then return 7 end
redis.call('HSET', KEYS[1], 'sa', ARGV[1])
return 1
