import { ManualClock } from '../../src/jts/clock';
import { MemorySessionStore } from '../../src/sessions/memory-store';
import { sessionStoreContract } from './contract';

sessionStoreContract('memory', () => {
  const clock = new ManualClock(Date.now());
  return Promise.resolve({
    store: new MemorySessionStore(clock),
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
