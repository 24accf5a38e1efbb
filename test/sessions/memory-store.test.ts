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
