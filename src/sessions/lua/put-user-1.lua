--[[
  Writes a user's security mirror (redis-keys.ts, USER_MIRROR_FIELDS), never an older version over
  a newer one: two account changes whose mirror writes reach Redis in the opposite order of their
  SQL commits leave the later commit's state (review finding F5).

  KEYS[1] the user mirror hash
  ARGV[1] 'absent': only when there is no mirror yet (the rebuild at sign-in)
          'newer':  unless the mirror holds a higher version
          'repair': as 'newer', and over a restriction of any version (resync)
  ARGV[2] permissions (JSON, as encodePermissions)   ARGV[3] disabled '0' | '1'   ARGV[4] epoch
  ARGV[5] version (users.version)   ARGV[6] restriction '1' (written before the SQL write) | '0'
  ARGV[7] email verified '0' | '1' (field ev)
  ARGV[8] email   ARGV[9] name   (the profile; email '' = none given: the stored one is kept)
  ARGV[10] ms the mirror lives at least from now ('0': its TTL is left as it is)

  Returns: 1 written, 0 left as it was
]]
local ttl = tonumber(ARGV[10])
if redis.call('EXISTS', KEYS[1]) == 1 then
  if ARGV[1] == 'absent' then
    -- The sign-in's rebuild leaves the mirror as it is but keeps it for the session about to open:
    -- one whose TTL ran out between this and create-3.lua would leave that session without a
    -- mirror, which its first renewal takes for a deleted account (security review).
    if ttl > 0 and redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
    return 0
  end
  -- A mirror from before versions existed has none: version 0, older than every row.
  local stored = redis.call('HMGET', KEYS[1], 'version', 'restriction')
  local repairable = ARGV[1] == 'repair' and stored[2] == '1'
  if not repairable and tonumber(ARGV[5]) < tonumber(stored[1] or '0') then return 0 end
end
redis.call('HSET', KEYS[1], 'permissions', ARGV[2], 'disabled', ARGV[3], 'epoch', ARGV[4], 'version', ARGV[5], 'restriction', ARGV[6], 'ev', ARGV[7])
if ARGV[8] ~= '' then redis.call('HSET', KEYS[1], 'email', ARGV[8], 'name', ARGV[9]) end
-- A mirror guards sessions only: it lives as long as the longest session could (the caller's
-- ARGV[10]; create-3.lua extends it with every new session), never shortened, so the mirrors of
-- accounts nobody signs in to leave Redis, and a deletion's restriction whose removal failed too.
if ttl > 0 and redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
return 1
