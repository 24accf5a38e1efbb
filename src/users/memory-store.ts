import { normaliseEmail, type User, type UserPatch, type UserStore } from './types.js';

/** In-process users for development and tests. */
export class MemoryUserStore implements UserStore {
  private readonly byId = new Map<string, User>();
  private readonly idByEmail = new Map<string, string>();

  create(user: User): Promise<'created' | 'email_taken'> {
    const email = normaliseEmail(user.email);
    if (this.idByEmail.has(email)) return Promise.resolve('email_taken');
    this.idByEmail.set(email, user.id);
    this.byId.set(user.id, { ...user, email, permissions: [...user.permissions] });
    return Promise.resolve('created');
  }

  get(id: string): Promise<User | undefined> {
    const user = this.byId.get(id);
    return Promise.resolve(user && { ...user, permissions: [...user.permissions] });
  }

  findByEmail(email: string): Promise<User | undefined> {
    const id = this.idByEmail.get(normaliseEmail(email));
    return id === undefined ? Promise.resolve(undefined) : this.get(id);
  }

  update(id: string, patch: UserPatch, now: number): Promise<User | undefined> {
    const user = this.byId.get(id);
    if (!user) return Promise.resolve(undefined);
    Object.assign(user, patch, { updatedAt: now });
    if (patch.passwordHash !== undefined) user.credentialEpoch += 1;
    return this.get(id);
  }

  upgradePasswordHash(id: string, from: string, to: string): Promise<boolean> {
    const user = this.byId.get(id);
    if (user?.passwordHash !== from) return Promise.resolve(false);
    user.passwordHash = to;
    return Promise.resolve(true);
  }

  list(): Promise<User[]> {
    return Promise.all([...this.byId.keys()].map((id) => this.get(id))).then((users) =>
      users.filter((u) => u !== undefined).sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
    );
  }
}
