import { byId } from './page-dom.js';

/** How a status message is styled. */
export type Tone = 'info' | 'success' | 'error';

let statusTimer: ReturnType<typeof setTimeout> | undefined;

/**
 * Shows `text` in the page's one polite live region, so screen readers read it without moving
 * focus. A newer message replaces the current one; errors stay longer, as they ask for action.
 */
export function announce(text: string, tone: Tone = 'info'): void {
  const status = byId('status');
  status.textContent = text;
  status.className = `status status--${tone}`;
  status.hidden = false;
  if (statusTimer !== undefined) clearTimeout(statusTimer);
  statusTimer = setTimeout(() => {
    status.hidden = true;
  }, tone === 'error' ? 12_000 : 6_000);
}
