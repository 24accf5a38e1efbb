import { ManualClock } from '../../src/jts/clock';
import { MemorySessionStore } from '../../src/sessions/memory-store';
import { MemoryUserStore } from '../../src/users/memory-store';
import { sessionStoreContract } from './contract';

sessionStoreContract('memory', () => {
  const clock = new ManualClock(Date.now());
  const users = new MemoryUserStore();
  return Promise.resolve({
    store: new MemorySessionStore(clock, (prn) => users.peek(prn)),
    users,
    clock,
    advance: (ms: number) => {
      clock.advance(ms);
      return Promise.resolve();
    },
    expire: (ms: number) => {
      clock.advance(ms);
      return Promise.resolve();
    },
    close: () => Promise.resolve(),
  });
});

describe('memory session store without a user lookup', () => {
  it('cannot confirm a user, so a rotation that must is stale and writes nothing', async () => {
    const clock = new ManualClock(Date.now());
    const store = new MemorySessionStore(clock);
    const session = { prn: 'p', aid: 'a', createdAt: clock.now(), device: 'curl', ipPrefix: '127.0.0.x', deviceHash: undefined };
    await store.create(session, { policy: { kind: 'allow_all' }, lifetimeMs: 60_000, now: clock.now() });
    const request = { prn: 'p', aid: 'a', presented: 1, sealedBearerPass: 's', now: clock.now(), graceMs: 0, tombstoneMs: 1000, replayRevoke: 'session' as const };
    await expect(store.rotate({ ...request, onlyIfUser: { permissions: [] } })).resolves.toEqual({ outcome: 'stale' });
    await expect(store.rotate(request)).resolves.toEqual({ outcome: 'rotated', generation: 2 });
  });
});
