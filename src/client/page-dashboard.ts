import type { AuthEvent, SignOutReason } from './jts-client.js';
import { hideAdminResult } from './page-admin.js';
import { client } from './page-client.js';
import { byId } from './page-dom.js';
import { loadProfile } from './page-profile.js';
import { clearSessions, loadSessions } from './page-sessions.js';
import { loadSecondFactor } from './page-mfa.js';
import { loadPasskeys } from './page-passkeys.js';
import { announce } from './page-status.js';
import { countRenewal, renderToken, resetRenewals } from './page-token-panel.js';
import { dashboardShown, show } from './page-views.js';

const SIGN_OUT_MESSAGES: Record<SignOutReason, string> = {
  logout: 'You are signed out.',
  'JTS-401-03': 'Your session is no longer valid. Please sign in again.',
  'JTS-401-04': 'Your session has ended (signed out or revoked elsewhere). Please sign in again.',
  'JTS-401-05': 'Your session was revoked: its StateProof was used twice, which looks like theft. Please sign in again.',
  'JTS-401-06': 'This session is bound to another device. Please sign in again.',
};

function enterDashboard(): void {
  show('dashboard');
  renderToken();
  void loadProfile();
  void loadSessions();
  void loadSecondFactor();
  void loadPasskeys();
}

/** Leaves nothing of the previous user on the page. */
function leaveDashboard(): void {
  show('auth');
  hideAdminResult();
  clearSessions();
  byId('account-email').textContent = '';
  resetRenewals();
}

/**
 * Follows the client's events: the page shows the dashboard while signed in and the sign-in view
 * otherwise, whether this tab, a sibling tab or the server started or ended the session.
 */
export function followSession(): void {
  client.on((event: AuthEvent) => {
    switch (event.type) {
      case 'signed-in':
        enterDashboard();
        if (event.via === 'sibling') announce('Signed in from another tab.', 'success');
        return;
      case 'renewed':
        countRenewal();
        return;
      case 'signed-out': {
        const wasSignedIn = dashboardShown();
        leaveDashboard();
        // No cookie at all while nobody was signed in (first visit, after a sign-out) is not news.
        if (!wasSignedIn && event.reason === 'JTS-401-03') return;
        if (event.reason === 'logout') announce(event.via === 'sibling' ? 'You signed out in another tab.' : SIGN_OUT_MESSAGES.logout, 'info');
        else announce(SIGN_OUT_MESSAGES[event.reason], 'error');
        return;
      }
    }
  });
}
