--[[
  Ends one live session (logout, revocation). A replay tombstone is left alone.

  KEYS[1] session hash     KEYS[2] grace slot     KEYS[3] the user's session index
  ARGV[1] aid
  Returns: 1 when a live session was ended, else 0.
]]
redis.call('ZREM', KEYS[3], ARGV[1])
if redis.call('HGET', KEYS[1], 'st') ~= 'a' then return 0 end
redis.call('DEL', KEYS[1], KEYS[2])
return 1
