import { AsyncLocalStorage } from 'node:async_hooks';

/** What every log line written while serving a request may name: its id and the client address. */
export interface RequestScope {
  /** The `X-Request-Id` answered (request-observer.ts). */
  requestId: string;
  /**
   * Canonical client address (auth/client-info.ts `canonicalIp`), honouring `trust proxy`. A
   * getter: parsing the address cost ~1.5 % of a verify's CPU, and most requests write no line
   * that names it.
   */
  readonly ip: string | undefined;
}

/**
 * The scope of the request being served, carried through its awaits by Node's AsyncLocalStorage,
 * so the audit log (written deep in the use cases, which know nothing of HTTP) can name the
 * request and the client without every call passing them down.
 */
const storage = new AsyncLocalStorage<RequestScope>();

/** Runs `work` (the rest of the middleware chain) inside `scope`. */
export function runInRequestScope(scope: RequestScope, work: () => void): void {
  storage.run(scope, work);
}

/** The scope of the request being served, or undefined outside one (start-up, timers). */
export function currentRequestScope(): RequestScope | undefined {
  return storage.getStore();
}
