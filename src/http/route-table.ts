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
      const path = joinPath(prefix, String(layer.route.path));
      for (const [method, on] of Object.entries(layer.route.methods)) {
        if (on) out.push({ method: method === '_all' ? '*' : method.toUpperCase(), path });
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
  return (path) => templates.find(({ test }) => test(path) !== false)?.template;
}
