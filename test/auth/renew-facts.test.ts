import { RenewFactsCache, type RenewFacts } from '../../src/auth/renew-facts';

const facts = (createdAt: number): RenewFacts => ({ createdAt, deviceHash: undefined, permissions: ['read:profile'], credentialEpoch: 0, amr: ['pwd'], emailVerified: false });

describe('RenewFactsCache', () => {
  it('remembers per principal and session', () => {
    const cache = new RenewFactsCache(10);
    cache.set('p1', 'a1', facts(1));
    cache.set('p2', 'a1', facts(2));
    expect(cache.get('p1', 'a1')?.createdAt).toBe(1);
    expect(cache.get('p2', 'a1')?.createdAt).toBe(2);
    expect(cache.get('p1', 'a2')).toBeUndefined();
  });

  it('stays within its capacity, dropping the least recently used session', () => {
    const cache = new RenewFactsCache(3);
    cache.set('p', 'a', facts(1));
    cache.set('p', 'b', facts(2));
    cache.set('p', 'c', facts(3));
    cache.get('p', 'a');
    cache.set('p', 'd', facts(4));
    expect(cache.size).toBe(3);
    expect(cache.get('p', 'b')).toBeUndefined();
    expect(cache.get('p', 'a')?.createdAt).toBe(1);
    expect(cache.get('p', 'd')?.createdAt).toBe(4);
  });

  it('replaces an entry without growing', () => {
    const cache = new RenewFactsCache(2);
    cache.set('p', 'a', facts(1));
    cache.set('p', 'a', facts(5));
    expect(cache.size).toBe(1);
    expect(cache.get('p', 'a')?.createdAt).toBe(5);
  });

  it('forgets a deleted session', () => {
    const cache = new RenewFactsCache(2);
    cache.set('p', 'a', facts(1));
    cache.delete('p', 'a');
    expect(cache.get('p', 'a')).toBeUndefined();
  });

  it('forgets the listed sessions of one principal only', () => {
    const cache = new RenewFactsCache(10);
    for (const aid of ['a', 'b', 'c']) cache.set('p', aid, facts(1));
    cache.set('q', 'a', facts(2));
    cache.forget('p', ['a', 'c', 'never-seen']);
    expect(cache.get('p', 'a')).toBeUndefined();
    expect(cache.get('p', 'c')).toBeUndefined();
    expect(cache.get('p', 'b')?.createdAt).toBe(1);
    expect(cache.get('q', 'a')?.createdAt).toBe(2);
    expect(cache.size).toBe(2);
  });

  it('remembers nothing at capacity 0', () => {
    const cache = new RenewFactsCache(0);
    cache.set('p', 'a', facts(1));
    expect(cache.size).toBe(0);
    expect(cache.get('p', 'a')).toBeUndefined();
  });
});
