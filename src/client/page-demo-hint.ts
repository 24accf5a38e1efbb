import { byId, meta } from './page-dom.js';

/**
 * Shows the demo accounts (and their "Use" buttons) only when the server says they exist: the
 * hint is hidden in index.html and GET / as JSON names `demoUsers` (JTS_DEMO_USERS). A server that
 * cannot be asked, or one without them, keeps it hidden, so a production page never offers
 * well-known passwords.
 */
export async function revealDemoHint(): Promise<void> {
  const server = meta('jts-server').replace(/\/+$/, '');
  try {
    const res = await fetch(`${server}/`, { headers: { accept: 'application/json' }, credentials: 'omit' });
    if (!res.ok) return;
    const description = (await res.json()) as { demoUsers?: unknown };
    byId('demo-hint').hidden = description.demoUsers !== true;
  } catch {
    // No description, no hint: the sign-in form works without it.
  }
}
