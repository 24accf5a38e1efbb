--[[
  Writes a user's security mirror (redis-keys.ts, USER_MIRROR_FIELDS).

  KEYS[1] the user mirror hash
  ARGV[1] '1': only when there is no mirror yet (the rebuild at sign-in), '0': always
  ARGV[2] permissions (JSON, as encodePermissions)   ARGV[3] disabled '0' | '1'   ARGV[4] epoch

  Returns: 1 written, 0 left as it was (ARGV[1] = '1' and a mirror exists)
]]
if ARGV[1] == '1' and redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'permissions', ARGV[2], 'disabled', ARGV[3], 'epoch', ARGV[4])
return 1
