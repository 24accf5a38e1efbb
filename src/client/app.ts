/**
 * The demo page at `/`: sign in / register, profile, the admin call, the session list. All state
 * about the session lives in JtsClient; the page-* modules only render it. No inline scripts or
 * styles: the page runs under `script-src 'self'; style-src 'self'`.
 *
 * This module is the page's entry (`<script type="module" src="assets/app.js">`): it wires the
 * parts, then restores the session.
 */
import { bindAdminPanel } from './page-admin.js';
import { bindAuthForms, pendingSecondFactorTicket } from './page-auth-forms.js';
import { bindAuthTabs } from './page-auth-tabs.js';
import { bindEmailFlows } from './page-email.js';
import { client } from './page-client.js';
import { followSession } from './page-dashboard.js';
import { byId } from './page-dom.js';
import { bindProfile } from './page-profile.js';
import { bindEmailChange } from './page-account-email.js';
import { bindSessions } from './page-sessions.js';
import { bindSecondFactor } from './page-mfa.js';
import { bindPasskeys } from './page-passkeys.js';
import { bindSignOut } from './page-sign-out.js';
import { revealDemoHint } from './page-demo-hint.js';
import { failureMessage } from './page-failure.js';
import { announce } from './page-status.js';
import { bindTokenPanel } from './page-token-panel.js';
import { show } from './page-views.js';

/** Exported so that end-to-end tests can drive the same client instance the page uses. */
export { client };

// Subscribed before resume(), so the session it restores reaches the page as 'signed-in'.
followSession();
bindTokenPanel();
bindAdminPanel();
bindSessions();
bindSecondFactor();
bindPasskeys(pendingSecondFactorTicket);
bindProfile();
bindEmailChange();
bindSignOut();
bindAuthForms();
bindAuthTabs();
bindEmailFlows();

// A silent renewal restores the session after a reload.
void client.resume().then(
  (signedIn) => {
    if (!signedIn) {
      show('auth');
      byId('login-email').focus();
    }
  },
  (error: unknown) => {
    show('auth');
    announce(`Your session could not be restored: ${failureMessage(error)} Reload the page to try again.`, 'error');
  },
);
void revealDemoHint();
