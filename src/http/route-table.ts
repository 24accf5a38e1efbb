import type { Express } from 'express';
import { match } from 'path-to-regexp';

/** One route the app serves, in Express path syntax (`/jts/sessions/:aid`). */
export interface RouteEntry {
  method: string;
  path: string;
}

/**
 * Every route registered on the app, mount prefixes included (`/jts/sessions/:aid`). Used for
 * bounded metric labels and to check the OpenAPI document against what is really served.
 *
 * Express has no public way to list routes, so this reads its private router stack, as Express 5
 * (router 2.x) lays it out: `app.router.stack` holds layers with `handle`, `rawPath` (the mount or
 * route path) and `route` (undefined but for route layers); a route has `path` (a string or an
 * array of strings) and `methods`; a mounted router is a `handle` with a `stack` of its own. Any
 * other shape throws rather than leaving routes out: test/http/route-table.test.ts pins the
 * routes of the real app and the refusals, so an Express upgrade that changes the layout fails
 * there, not in the metrics.
 */
export function listRoutes(app: Express): RouteEntry[] {
  const router: unknown = (app as { router?: unknown }).router;
  const stack = (router as { stack?: unknown } | undefined)?.stack;
  if (!Array.isArray(stack)) throw new RouteTableError('the app has no router.stack array');
  const routes: RouteEntry[] = [];
  walk(stack, '', routes);
  return routes;
}

/** Express's router no longer looks the way `listRoutes` reads it. */
export class RouteTableError extends Error {
  override readonly name = 'RouteTableError';

  constructor(problem: string) {
    super(`cannot list the app's routes: ${problem} (route-table.ts reads Express 5's private router stack)`);
  }
}

function walk(stack: unknown[], prefix: string, out: RouteEntry[]): void {
  for (const item of stack) {
    const layer = item as Record<string, unknown>;
    if (typeof layer.handle !== 'function' || !('route' in layer) || !('rawPath' in layer)) {
      throw new RouteTableError(`a layer without handle, route and rawPath (keys: ${Object.keys(layer).join(', ')})`);
    }
    const handle = layer.handle as unknown as Record<string, unknown>;
    if (layer.route !== undefined) {
      for (const path of routePaths(layer.route)) {
        for (const method of routeMethods(layer.route)) out.push({ method, path: joinPath(prefix, path) });
      }
    } else if ('stack' in handle) {
      if (!Array.isArray(handle.stack)) throw new RouteTableError('a mounted router whose stack is not an array');
      if (typeof layer.rawPath !== 'string') throw new RouteTableError(`a router mounted on a non-string path: ${String(layer.rawPath)}`);
      walk(handle.stack, layer.rawPath === '/' ? prefix : `${prefix}${layer.rawPath}`, out);
    } else if (handle.name === 'mounted_app') {
      // An Express app mounted with app.use() (Express wraps it in `mounted_app`): its routes would be missed.
      throw new RouteTableError(`an Express app mounted at ${String(layer.rawPath)}; mount a Router instead`);
    }
    // Otherwise plain middleware, with no routes below it.
  }
}

function routePaths(route: unknown): string[] {
  const path = (route as { path?: unknown }).path;
  // A route may serve several paths (`router.route([...])`).
  const paths: unknown[] = Array.isArray(path) ? path : [path];
  if (paths.length === 0 || !paths.every((p): p is string => typeof p === 'string')) throw new RouteTableError(`a route whose path is not a string or strings: ${String(path)}`);
  return paths;
}

function routeMethods(route: unknown): string[] {
  const methods = (route as { methods?: unknown }).methods;
  if (typeof methods !== 'object' || methods === null) throw new RouteTableError('a route without a methods object');
  return Object.entries(methods)
    .filter(([, on]) => on === true)
    .map(([method]) => (method === '_all' ? '*' : method.toUpperCase()));
}

function joinPath(prefix: string, path: string): string {
  if (path === '/' || path === '') return prefix === '' ? '/' : prefix;
  return `${prefix}${path}`;
}

/**
 * A function from a request path to the template of the route serving it (`/jts/sessions/:aid`),
 * or `undefined`. Matching uses path-to-regexp, the matcher Express itself uses, with Express's
 * defaults (case-insensitive, optional trailing slash).
 */
export function routeTemplateMatcher(routes: readonly RouteEntry[]): (path: string) => string | undefined {
  const templates = [...new Set(routes.map((r) => r.path))].map((template) => ({ template, test: match(template, { decode: false }) }));
  // Every request asks; trying ~30 patterns each time showed up in CPU profiles. Only paths that
  // match a route, and only short ones, are remembered, so a scanner's junk paths neither grow the
  // cache nor push the real routes out of it; when full it starts over.
  const known = new Map<string, string>();
  return (path) => {
    const cached = known.get(path);
    if (cached !== undefined) return cached;
    const template = templates.find(({ test }) => test(path) !== false)?.template;
    if (template !== undefined && path.length <= ROUTE_CACHE_MAX_PATH) {
      if (known.size >= ROUTE_CACHE_SIZE) known.clear();
      known.set(path, template);
    }
    return template;
  };
}

const ROUTE_CACHE_SIZE = 1024;
const ROUTE_CACHE_MAX_PATH = 256;

/**
 * A function from a request path to the methods its routes take (`['POST']` for `/jts/login`), in
 * the order registered; empty for a path no route serves. Only the not-found handler asks, so it
 * is not cached. `*` (a route for every method) never reaches the not-found handler.
 */
export function routeMethodsMatcher(routes: readonly RouteEntry[]): (path: string) => string[] {
  const tests = routes.filter((route) => route.method !== '*').map((route) => ({ method: route.method, test: match(route.path, { decode: false }) }));
  return (path) => [...new Set(tests.filter(({ test }) => test(path) !== false).map(({ method }) => method))];
}
