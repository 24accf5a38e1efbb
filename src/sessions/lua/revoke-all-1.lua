--[[
  Ends every live session of a user except one (password change, "sign out elsewhere").

  KEYS[1] the user's session index
  ARGV[1] aid to keep ('' = none)     ARGV[2] session key prefix     ARGV[3] grace key prefix
  Returns: the ended aids.
]]
local ended = {}
for _, aid in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if aid ~= ARGV[1] then
    if redis.call('HGET', ARGV[2] .. aid, 'st') == 'a' then
      redis.call('DEL', ARGV[2] .. aid, ARGV[3] .. aid)
      ended[#ended + 1] = aid
    end
    redis.call('ZREM', KEYS[1], aid)
  end
end
return ended
