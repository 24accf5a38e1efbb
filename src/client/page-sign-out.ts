import { client } from './page-client.js';
import { byId } from './page-dom.js';
import { failureMessage } from './page-failure.js';
import { announce } from './page-status.js';

/** Signs out everywhere; the client's 'signed-out' event switches the view. */
export async function signOut(): Promise<void> {
  try {
    await client.logout();
  } catch (error) {
    announce(`Sign-out failed: ${failureMessage(error)} You are still signed in; try again.`, 'error');
  }
}

/** Wires the top bar's "Sign out" button. */
export function bindSignOut(): void {
  byId('sign-out').addEventListener('click', () => void signOut());
}
