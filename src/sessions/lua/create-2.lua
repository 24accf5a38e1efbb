--[[
  Creates a session and enforces the session policy in the same atomic step, so two
  concurrent logins can never leave more sessions than the policy allows.

  KEYS[1] session hash            KEYS[2] the user's session index (zset aid -> created ms)
  ARGV[1] aid        ARGV[2] now (ms)          ARGV[3] lifetime (ms)
  ARGV[4] limit (live sessions the user may keep, the new one included)         ARGV[5] session key prefix   ARGV[6] grace key prefix
  ARGV[7] device     ARGV[8] ip prefix         ARGV[9] device hash ('' = none)

  Returns: the list of evicted aids (oldest first).
]]
local live = {}
for _, aid in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  local st = redis.call('HGET', ARGV[5] .. aid, 'st')
  if st == 'a' then
    live[#live + 1] = aid
  else
    -- expired, or a tombstone left by replay detection: no longer a live session
    redis.call('ZREM', KEYS[2], aid)
  end
end

local evicted = {}
local limit = tonumber(ARGV[4])
while #live >= limit do
  local victim = table.remove(live, 1)
  redis.call('DEL', ARGV[5] .. victim, ARGV[6] .. victim)
  redis.call('ZREM', KEYS[2], victim)
  evicted[#evicted + 1] = victim
end

redis.call('HSET', KEYS[1], 'st', 'a', 'g', string.format('%015d', 1), 'c', ARGV[2], 'r', ARGV[2], 'dv', ARGV[7], 'ip', ARGV[8])
if ARGV[9] ~= '' then
  redis.call('HSET', KEYS[1], 'dh', ARGV[9])
end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return evicted
