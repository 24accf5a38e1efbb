import type { Express } from 'express';
import { match } from 'path-to-regexp';

/** One route the app serves, in Express path syntax (`/jts/sessions/:aid`). */
export interface RouteEntry {
  method: string;
  path: string;
}

interface LayerLike {
  rawPath?: unknown;
  route?: { path: unknown; methods: Record<string, boolean> };
  handle?: { stack?: unknown };
}

/**
 * Every route registered on the app, mount prefixes included, read from Express 5's router
 * stack (router 2.x keeps each layer's `rawPath`). Used for bounded metric labels and to check
 * the OpenAPI document against what is really served.
 */
export function listRoutes(app: Express): RouteEntry[] {
  const routes: RouteEntry[] = [];
  walk(app.router.stack, '', routes);
  return routes;
}

function walk(stack: unknown[], prefix: string, out: RouteEntry[]): void {
  for (const item of stack) {
    const layer = item as LayerLike;
    if (layer.route) {
      // A route may serve several paths (`router.route([...])`).
      const paths = Array.isArray(layer.route.path) ? (layer.route.path as unknown[]) : [layer.route.path];
      for (const routePath of paths) {
        const path = joinPath(prefix, String(routePath));
        for (const [method, on] of Object.entries(layer.route.methods)) {
          if (on) out.push({ method: method === '_all' ? '*' : method.toUpperCase(), path });
        }
      }
    } else if (Array.isArray(layer.handle?.stack)) {
      if (typeof layer.rawPath !== 'string') throw new Error(`cannot list routes under a non-string mount path: ${String(layer.rawPath)}`);
      walk(layer.handle.stack as unknown[], layer.rawPath === '/' ? prefix : `${prefix}${layer.rawPath}`, out);
    }
  }
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
