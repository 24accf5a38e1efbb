/**
 * Our built server with some middleware replaced by pass-throughs, to measure what each layer
 * of src/app.ts costs per request without copying its wiring (the real createApp runs; only the
 * named modules are swapped when it requires them). ABLATE is a comma list of:
 *
 *   observe      observability/request-observer.js: the duration metric and the log line
 *                (X-Request-Id still set)
 *   helmet       the security headers (helmet's output is recorded at start-up; without it, none)
 *   cors         the cors package
 *
 * Only for `npm run bench -- --only stack`; never a way to run the server.
 */
import Module, { createRequire } from 'node:module';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { RequestHandler } from 'express';
import type * as ServerModule from '../src/server.js';
import type * as LoadModule from '../src/config/load.js';
import type * as LoggerModule from '../src/observability/logger.js';

const pass: RequestHandler = (_req, _res, next) => {
  next();
};

type Loader = (request: string, parent: unknown, isMain: boolean) => unknown;
const internals = Module as unknown as { _load: Loader };
const originalLoad = internals._load;
const STUBS: Record<string, { matches: (request: string) => boolean; exports: () => unknown }> = {
  observe: {
    matches: (request) => request.endsWith('/request-observer.js'),
    exports: () => ({
      observeRequests: (): RequestHandler =>
        function requestIdOnly(_req, res, next) {
          res.setHeader('X-Request-Id', randomUUID());
          next();
        },
      requestIdOf: () => undefined,
    }),
  },
  helmet: { matches: (request) => request === 'helmet', exports: () => ({ __esModule: true, default: () => pass }) },
  cors: { matches: (request) => request === 'cors', exports: () => () => pass },
};

const ablate = (process.env.ABLATE ?? '').split(',').filter((name) => name !== '');
for (const name of ablate) if (!(name in STUBS)) throw new Error(`ABLATE: unknown layer "${name}" (known: ${Object.keys(STUBS).join(', ')})`);
const active: { matches: (request: string) => boolean; exports: () => unknown; loaded?: unknown }[] = ablate.map((name) => ({ ...STUBS[name]! }));

internals._load = function load(request, parent, isMain) {
  const stub = active.find((candidate) => candidate.matches(request));
  if (!stub) return originalLoad.call(Module, request, parent, isMain);
  stub.loaded ??= stub.exports();
  return stub.loaded;
};

async function main(): Promise<void> {
  const load = createRequire(__filename);
  const dist = join(__dirname, '..', 'dist');
  const { loadConfig } = load(join(dist, 'config', 'load.js')) as typeof LoadModule;
  const { createLogger } = load(join(dist, 'observability', 'logger.js')) as typeof LoggerModule;
  const { start } = load(join(dist, 'server.js')) as typeof ServerModule;
  const config = loadConfig();
  const running = await start(config, createLogger({ level: config.logLevel, pretty: false }));
  process.once('SIGTERM', () => {
    void running.shutdown('SIGTERM').then(() => process.exit(0));
  });
}

void main();
