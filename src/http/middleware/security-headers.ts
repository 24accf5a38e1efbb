import type { RequestHandler } from 'express';
import helmet, { type HelmetOptions } from 'helmet';

/**
 * Paths that only ever answer JSON (or Prometheus text). Everything else may be a page of the
 * demo app served from public/ and gets the page policy.
 */
const API_PREFIXES = ['/jts', '/api', '/admin', '/.well-known', '/healthz', '/readyz', '/metrics', '/openapi.json', '/openapi.yaml', '/dev/outbox'];

const API_FOLDERS = API_PREFIXES.map((prefix) => `${prefix}/`);

export function isApiPath(path: string): boolean {
  return API_PREFIXES.includes(path) || API_FOLDERS.some((folder) => path.startsWith(folder));
}

/** The API reference page (/docs) and its files: the page policy plus `data:` images. */
export function isDocsPath(path: string): boolean {
  return path === '/docs' || path.startsWith('/docs/');
}

/**
 * The helmet options of the three policies, chosen by path:
 * - the JSON API loads nothing and may be framed by nobody: `default-src 'none'; frame-ancestors 'none'`,
 *   so a JSON body a browser is tricked into rendering can never run script;
 * - pages may load scripts, styles, images, fonts and fetch only from this origin, with no inline
 *   script (the demo keeps all of its code in files) and no framing (clickjacking);
 * - the API reference (/docs) has the page policy with `data:` images added.
 * HSTS only in production: on plain-http localhost it would pin the browser to https for a year.
 */
export function helmetPolicies(options: { production: boolean }): { api: HelmetOptions; page: HelmetOptions; docs: HelmetOptions } {
  const common: HelmetOptions = {
    hsts: options.production ? { maxAge: 31_536_000, includeSubDomains: true } : false,
    // Other origins may read the JWKS with CORS; no-cors embedding stays same-site.
    crossOriginResourcePolicy: { policy: 'same-site' },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
  };
  const pageDirectives = {
    defaultSrc: ["'none'"],
    scriptSrc: ["'self'"],
    styleSrc: ["'self'"],
    imgSrc: ["'self'"],
    fontSrc: ["'self'"],
    connectSrc: ["'self'"],
    manifestSrc: ["'self'"],
    baseUri: ["'none'"],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
    objectSrc: ["'none'"],
    ...(options.production ? { upgradeInsecureRequests: [] } : {}),
  };
  return {
    api: { ...common, contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } } },
    page: { ...common, contentSecurityPolicy: { useDefaults: false, directives: pageDirectives } },
    // Swagger UI's stylesheet draws its icons as data: SVG and PNG images; still no inline script
    // or style, and only on /docs, where no credential is ever typed into the page.
    docs: { ...common, contentSecurityPolicy: { useDefaults: false, directives: { ...pageDirectives, imgSrc: ["'self'", 'data:'] } } },
  };
}

/**
 * helmet's headers for the policy of each path (see {@link helmetPolicies}), set from a recording
 * made at start-up rather than by running helmet on every request: with these options helmet's
 * answer never depends on the request, and its dozen small middlewares cost ~10 µs of CPU per
 * request (bench `--only stack`). test/http/security-headers-recording.test.ts compares the
 * recording with what helmet itself sets on a real response, for both policies, so a helmet
 * upgrade cannot change the headers silently.
 */
export function securityHeaders(options: { production: boolean }): RequestHandler {
  const policies = helmetPolicies(options);
  const apiHeaders = recordHeaders(helmet(policies.api));
  const pageHeaders = recordHeaders(helmet(policies.page));
  const docsHeaders = recordHeaders(helmet(policies.docs));
  return function setSecurityHeaders(req, res, next) {
    const headers = isApiPath(req.path) ? apiHeaders : isDocsPath(req.path) ? docsHeaders : pageHeaders;
    for (const [name, value] of headers) res.setHeader(name, value);
    next();
  };
}

/**
 * The headers a helmet instance sets, as [name, value] pairs, from one run against a stand-in
 * response that has only what helmet 8 calls (`setHeader`, `removeHeader`). Anything else helmet
 * might do (a non-string value, an asynchronous step, another method) throws here, at start-up.
 */
function recordHeaders(middleware: RequestHandler): [string, string][] {
  const headers = new Map<string, string>();
  const recorder = {
    setHeader(name: string, value: unknown) {
      if (typeof value !== 'string') throw new Error(`helmet set ${name} to a non-string; the recording cannot replay it`);
      headers.set(name, value);
    },
    // helmet removes X-Powered-By; the app never sets it (app.disable('x-powered-by')).
    removeHeader(name: string) {
      headers.delete(name);
    },
  };
  let finished = false as boolean;
  let failure: unknown;
  middleware({ method: 'GET', url: '/', headers: {} } as never, recorder as never, (error?: unknown) => {
    finished = true;
    failure = error;
  });
  if (!finished || failure !== undefined) throw new Error('helmet did not finish synchronously; its headers cannot be recorded', { cause: failure });
  return [...headers];
}
