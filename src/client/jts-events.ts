import type { SignOutReason } from './jts-errors.js';

/** What a JtsClient reports: `via` says whether this tab or a sibling tab caused it. */
export type AuthEvent =
  | { type: 'signed-in'; via: 'login' | 'register' | 'resume' | 'sibling' }
  | { type: 'renewed'; via: 'self' | 'sibling' }
  | { type: 'signed-out'; reason: SignOutReason; via: 'self' | 'sibling' };

/** The listeners of one JtsClient. */
export class AuthEvents {
  private readonly listeners = new Set<(event: AuthEvent) => void>();

  /** Adds `listener`; returns the function that removes it. */
  on(listener: (event: AuthEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Calls every listener, in the order they were added. */
  emit(event: AuthEvent): void {
    for (const listener of this.listeners) listener(event);
  }
}
