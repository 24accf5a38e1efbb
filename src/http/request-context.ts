import type { AuthenticatedBearerPass } from '../auth/resource-server.js';

declare module 'express-serve-static-core' {
  interface Request {
    /** Set by `authenticate()`: the verified BearerPass of this request. */
    jts?: AuthenticatedBearerPass;
  }
}

export {};
