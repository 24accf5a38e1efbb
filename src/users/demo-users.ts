import type { Logger } from 'pino';
import { newUser } from './new-user.js';
import type { PasswordHasher } from './password.js';
import type { UserStore } from './types.js';

/** Two well-known accounts for trying the server out. Never created in production (see config). */
export const DEMO_USERS = [
  { email: 'admin@example.com', password: 'admin123', name: 'Demo Admin', permissions: ['read:profile', 'write:profile', 'admin:access', 'admin:users', 'admin:clients'] },
  { email: 'user@example.com', password: 'user123', name: 'Demo User', permissions: ['read:profile'] },
] as const;

export async function seedDemoUsers(users: UserStore, hasher: PasswordHasher, options: { now: number; logger: Logger }): Promise<void> {
  for (const demo of DEMO_USERS) {
    if (await users.findByEmail(demo.email)) continue;
    await users.create(newUser({ email: demo.email, name: demo.name, passwordHash: await hasher.hash(demo.password), permissions: demo.permissions }, options.now));
    options.logger.warn({ email: demo.email }, 'created a demo user with a well-known password (JTS_DEMO_USERS)');
  }
}
