/**
 * Every Redis key the server uses, built here and nowhere else.
 *
 * All keys of one user — the user record, each of their sessions, the grace slot of each
 * session and the index of their sessions — share the hash tag `{u:<prn>}`, so they live in one
 * Redis Cluster slot. That is a deliberate widening of "one session, one slot": it lets a single
 * Lua script enforce a session policy (evict the oldest), revoke every session of a principal on
 * replay, or list sessions, atomically, on a single Redis, Sentinel or Cluster alike.
 */
export interface RedisKeys {
  user(prn: string): string;
  email(normalisedEmail: string): string;
  /** Set of every user id, for the admin CLI. */
  allUsers(): string;
  session(prn: string, aid: string): string;
  grace(prn: string, aid: string): string;
  sessionIndex(prn: string): string;
  /** Prefixes the Lua scripts append an aid to (same slot as the index). */
  sessionPrefix(prn: string): string;
  gracePrefix(prn: string): string;
  rateLimitPrefix(): string;
}

export function redisKeys(prefix: string): RedisKeys {
  const tag = (prn: string) => `${prefix}{u:${prn}}`;
  return {
    user: (prn) => `${tag(prn)}:user`,
    email: (email) => `${prefix}email:${email}`,
    allUsers: () => `${prefix}users`,
    session: (prn, aid) => `${tag(prn)}:s:${aid}`,
    grace: (prn, aid) => `${tag(prn)}:g:${aid}`,
    sessionIndex: (prn) => `${tag(prn)}:sessions`,
    sessionPrefix: (prn) => `${tag(prn)}:s:`,
    gracePrefix: (prn) => `${tag(prn)}:g:`,
    rateLimitPrefix: () => `${prefix}rl:`,
  };
}
