import { JtsClient } from './jts-client.js';
import { meta } from './page-dom.js';

const credentialsMode = meta('jts-credentials');

/**
 * The page's one JtsClient, pointed at the server named by index.html's `jts-server` and
 * `jts-credentials` meta tags (README, "Hosting the page on another origin").
 */
export const client = new JtsClient({
  baseUrl: meta('jts-server'),
  credentials: credentialsMode === 'include' || credentialsMode === 'omit' ? credentialsMode : 'same-origin',
});
