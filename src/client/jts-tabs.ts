import type { Bearer } from './jts-bearer.js';
import type { SignOutReason } from './jts-errors.js';

/** What one tab tells the others on the BroadcastChannel `jts`; `at` is when it happened (epoch ms). */
export type ChannelMessage =
  | { type: 'signed-in'; bearer: Bearer; at: number }
  | { type: 'renewed'; bearer: Bearer; at: number }
  | { type: 'signed-out'; reason: SignOutReason; at: number };

/** Anything on the channel is checked before use; only this client's own messages are acted on. */
function isChannelMessage(value: unknown): value is ChannelMessage {
  if (typeof value !== 'object' || value === null) return false;
  const message = value as Partial<Record<string, unknown>>;
  if (typeof message.at !== 'number') return false;
  if (message.type === 'signed-out') return typeof message.reason === 'string';
  if (message.type !== 'signed-in' && message.type !== 'renewed') return false;
  const bearer = message.bearer as Partial<Record<string, unknown>> | undefined;
  return typeof bearer?.token === 'string' && typeof bearer.expiresAt === 'number' && typeof bearer.renewAt === 'number';
}

/**
 * The other tabs of this browser, reached through the BroadcastChannel `jts`. Without
 * BroadcastChannel each tab is on its own: it renews with the shared cookie when it needs to.
 */
export class SiblingTabs {
  private readonly channel: BroadcastChannel | undefined;

  /** @param onMessage called with each well-formed message from another tab. */
  constructor(onMessage: (message: ChannelMessage) => void) {
    this.channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel('jts') : undefined;
    this.channel?.addEventListener('message', (event: MessageEvent<unknown>) => {
      if (isChannelMessage(event.data)) onMessage(event.data);
    });
  }

  /** Tells every other tab; this tab does not receive its own message. */
  post(message: ChannelMessage): void {
    this.channel?.postMessage(message);
  }
}

/**
 * Runs `task` under the cross-tab Web Lock `jts-renew` when the browser has Web Locks, else
 * directly. Every call that sends or replaces the StateProof cookie runs under it, so the cookie a
 * call sends is always the one the previous call set: two tabs renewing with one StateProof would
 * look like theft to the server.
 */
export async function withRenewLock<T>(task: () => Promise<T>): Promise<T> {
  if ('locks' in navigator) return await navigator.locks.request('jts-renew', task);
  return await task();
}

/**
 * A BearerPass a sibling tab obtained, with a later renewal point for this tab. The tab that
 * renewed renews next time too: siblings wait a little longer (15–35% of the time between the
 * renewal point and expiry), so their timers do not fire together with its timer and race it for
 * the lock before its broadcast arrives.
 */
export function withSiblingDelay(bearer: Bearer): Bearer {
  const margin = bearer.expiresAt - bearer.renewAt;
  return { ...bearer, renewAt: bearer.renewAt + margin * (0.15 + Math.random() * 0.2) };
}
