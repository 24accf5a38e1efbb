import { applyPatch, demotes, holds } from './changes.js';
import { normaliseEmail, type User, type UserChange, type UserPatch, type UserSearch, type UserStore, type WriteOptions, type WriteResult } from './types.js';

/**
 * In-process users for development and tests. A write reads, checks and stores without another
 * user's write in between (the awaited `beforeWrite` is serialised by a queue), as the SQL store's
 * row locks do.
 */
export class MemoryUserStore implements UserStore {
  private readonly byId = new Map<string, User>();
  private readonly idByEmail = new Map<string, string>();
  private queue: Promise<unknown> = Promise.resolve();

  create(user: User): Promise<'created' | 'email_taken'> {
    const email = normaliseEmail(user.email);
    if (this.idByEmail.has(email)) return Promise.resolve('email_taken');
    this.idByEmail.set(email, user.id);
    this.byId.set(user.id, { ...user, email, permissions: [...user.permissions] });
    return Promise.resolve('created');
  }

  get(id: string): Promise<User | undefined> {
    return Promise.resolve(this.copy(id));
  }

  findByEmail(email: string): Promise<User | undefined> {
    const id = this.idByEmail.get(normaliseEmail(email));
    return Promise.resolve(id === undefined ? undefined : this.copy(id));
  }

  async update(id: string, patch: UserPatch, now: number): Promise<User | undefined> {
    const result = await this.write(id, { patch, now }, {});
    return result.outcome === 'written' ? result.after : undefined;
  }

  write(id: string, change: UserChange, options: WriteOptions): Promise<WriteResult> {
    const run = this.queue.then(() => this.writeNow(id, change, options));
    this.queue = run.catch(() => undefined);
    return run;
  }

  upgradePasswordHash(id: string, from: string, to: string): Promise<boolean> {
    const user = this.byId.get(id);
    if (user?.passwordHash !== from) return Promise.resolve(false);
    user.passwordHash = to;
    return Promise.resolve(true);
  }

  discardNew(id: string, version: number): Promise<boolean> {
    const run = this.queue.then(() => {
      const user = this.byId.get(id);
      if (user?.version !== version) return false;
      this.byId.delete(id);
      this.idByEmail.delete(user.email);
      return true;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  list(): Promise<User[]> {
    const users = [...this.byId.keys()].map((id) => this.copy(id) as User);
    return Promise.resolve(users.sort((a, b) => a.createdAt - b.createdAt || byteOrder(a.id, b.id)));
  }

  search(query: UserSearch): Promise<User[]> {
    const { after } = query;
    const users = [...this.byId.keys()]
      .map((id) => this.copy(id) as User)
      .filter((user) => user.email.startsWith(query.emailPrefix))
      .filter((user) => after === undefined || byteOrder(user.email, after.email) > 0 || (user.email === after.email && byteOrder(user.id, after.id) > 0))
      .sort((a, b) => byteOrder(a.email, b.email) || byteOrder(a.id, b.id));
    return Promise.resolve(users.slice(0, query.limit));
  }

  private async writeNow(id: string, change: UserChange, options: WriteOptions): Promise<WriteResult> {
    const before = this.copy(id);
    if (!before) return { outcome: 'missing' };
    const { keepHolderOf } = options;
    if (keepHolderOf !== undefined && demotes(before, change, keepHolderOf) && [...this.byId.values()].filter((user) => holds(user, keepHolderOf)).length <= 1) {
      return { outcome: 'last_holder' };
    }
    const email = change === 'delete' || change.patch.email === undefined ? undefined : normaliseEmail(change.patch.email);
    const holder = email === undefined ? undefined : this.idByEmail.get(email);
    if (holder !== undefined && holder !== id) return { outcome: 'email_taken' };
    await options.beforeWrite?.(before);
    if (change === 'delete') {
      this.byId.delete(id);
      this.idByEmail.delete(before.email);
      return { outcome: 'written', before, after: undefined };
    }
    this.byId.set(id, applyPatch(before, change.patch, change.now));
    if (email !== undefined && email !== before.email) {
      this.idByEmail.delete(before.email);
      this.idByEmail.set(email, id);
    }
    return { outcome: 'written', before, after: this.copy(id) };
  }

  private copy(id: string): User | undefined {
    const user = this.byId.get(id);
    return user && { ...user, permissions: [...user.permissions] };
  }
}

/** PostgreSQL's "C" collation for the ASCII of emails and ids: code-unit order. */
function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
