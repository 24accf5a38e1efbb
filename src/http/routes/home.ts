import { dirname, join } from 'node:path';
import express, { Router, type RequestHandler } from 'express';
import { PreparedJson, sendJson } from '../../verifier/send-json.js';
import { describeServer } from './ops.js';

/** public/ at the repository root: three levels up from both src/http/routes and dist/http/routes. */
export const PUBLIC_DIR = join(__dirname, '..', '..', '..', 'public');

/**
 * Un-fingerprinted file names: a cached copy must be revalidated (a cheap 304 with the ETag) so
 * that the page and the client module it imports never come from two different releases.
 */
const REVALIDATE = 'no-cache';

export interface HomeOptions {
  /** DEMO_PAGE: serve the page and /assets; off, GET / is the JSON description for every client. */
  demoPage: boolean;
  /** Named in the description, so the page offers the demo accounts only when they exist. */
  demoUsers: boolean;
  publicDir?: string;
}

/**
 * GET / is the demo page for browsers and the JSON server description for everything else: a
 * browser's Accept prefers text/html, while curl (which accepts any type), a missing Accept or
 * `application/json` get JSON. /assets/ serves the page's script, styles and icon. With the demo
 * page off (production's default) nothing but the description is served: no HTML, no /assets.
 */
export function homeRoutes(options: HomeOptions): Router {
  const publicDir = options.publicDir ?? PUBLIC_DIR;
  const indexFile = join(publicDir, 'index.html');
  const router = Router();
  const description = new PreparedJson(describeServer({ demoUsers: options.demoUsers }));

  if (!options.demoPage) {
    router.get('/', function serverDescription(_req, res) {
      sendJson(res, 200, description);
    });
    return router;
  }

  const home: RequestHandler = function homePage(req, res, next) {
    res.vary('Accept');
    if (req.accepts(['json', 'html']) !== 'html') {
      sendJson(res, 200, description);
      return;
    }
    res.set('Cache-Control', REVALIDATE);
    res.sendFile(indexFile, { dotfiles: 'deny' }, (error) => {
      if (error) next(error);
    });
  };
  router.get('/', home);

  // Mounted under /assets, so API requests never pay for a file-system lookup.
  router.use(
    '/assets',
    express.static(join(publicDir, 'assets'), {
      index: false,
      redirect: false,
      fallthrough: true,
      cacheControl: false,
      setHeaders(res) {
        res.setHeader('Cache-Control', REVALIDATE);
      },
    }),
  );
  // @simplewebauthn/browser for the page's passkey buttons (page-passkeys.ts imports it by URL: the
  // page's modules are not bundled). Its ES modules import each other by relative paths.
  router.use(
    '/assets/vendor/simplewebauthn-browser',
    express.static(WEBAUTHN_BROWSER_DIR, {
      index: false,
      redirect: false,
      fallthrough: true,
      cacheControl: false,
      setHeaders(res) {
        res.setHeader('Cache-Control', REVALIDATE);
      },
    }),
  );
  return router;
}

/** The ES module build of @simplewebauthn/browser (its `require` entry is script/index.js, beside esm/). */
const WEBAUTHN_BROWSER_DIR = join(dirname(dirname(require.resolve('@simplewebauthn/browser'))), 'esm');
