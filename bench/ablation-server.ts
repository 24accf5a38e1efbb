/**
 * Our built server with some middleware replaced by pass-throughs, to measure what each layer
 * of src/app.ts costs per request without copying its wiring (the real createApp runs; only the
 * named modules are swapped when it requires them). ABLATE is a comma list of:
 *
 *   metrics      http/middleware/request-metrics.js: the prom-client duration histogram
 *   pino-http    the per-request logger (request id and X-Request-Id are still set)
 *   helmet       the security headers
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

const STUBS: Record<string, { matches: (request: string) => boolean; exports: unknown }> = {
  metrics: { matches: (request) => request.endsWith('/request-metrics.js'), exports: { requestMetrics: () => pass } },
  'pino-http': {
    matches: (request) => request === 'pino-http',
    exports: {
      pinoHttp: (options: { genReqId?: (req: unknown, res: unknown) => string }): RequestHandler =>
        function requestIdOnly(req, res, next) {
          (req as { id?: string }).id = options.genReqId ? options.genReqId(req, res) : randomUUID();
          next();
        },
    },
  },
  helmet: { matches: (request) => request === 'helmet', exports: { __esModule: true, default: () => pass } },
  cors: { matches: (request) => request === 'cors', exports: () => pass },
};

const ablate = (process.env.ABLATE ?? '').split(',').filter((name) => name !== '');
for (const name of ablate) if (!(name in STUBS)) throw new Error(`ABLATE: unknown layer "${name}" (known: ${Object.keys(STUBS).join(', ')})`);
const active = ablate.map((name) => STUBS[name]!);

type Loader = (request: string, parent: unknown, isMain: boolean) => unknown;
const internals = Module as unknown as { _load: Loader };
const originalLoad = internals._load;
internals._load = function load(request, parent, isMain) {
  const stub = active.find((candidate) => candidate.matches(request));
  return stub ? stub.exports : originalLoad.call(Module, request, parent, isMain);
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
