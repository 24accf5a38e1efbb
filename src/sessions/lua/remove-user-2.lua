--[[
  Deletes a user's security mirror (the account is gone). The aid of the user's only session, kept
  in the mirror's field s1 instead of an index (create-3.lua), moves into the index first: the
  caller ends the user's sessions after this, and revoke-all-2.lua must still find that one.

  KEYS[1] the user's security mirror     KEYS[2] the user's session index
  ARGV[1] session key prefix
  Returns: 1
]]
local slot = redis.call('HGET', KEYS[1], 's1')
if slot then
  local session = ARGV[1] .. slot
  local ttl = redis.call('PTTL', session)
  if ttl > 0 then
    redis.call('ZADD', KEYS[2], redis.call('HGET', session, 'c') or '0', slot)
    if redis.call('PTTL', KEYS[2]) < ttl then redis.call('PEXPIRE', KEYS[2], ttl) end
  end
end
redis.call('DEL', KEYS[1])
return 1
