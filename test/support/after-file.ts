import { afterAll } from '@jest/globals';
import { closeSharedPglite } from './accounts';

// The shared PGlite of a test file (accounts.ts) holds handles that keep a single-file jest run from
// ever exiting, and made workers "fail to exit gracefully" in full runs. Registered before the
// file's own hooks, so it runs after them: jest-circus runs afterAll hooks in reverse order.
afterAll(async () => {
  await closeSharedPglite();
});
