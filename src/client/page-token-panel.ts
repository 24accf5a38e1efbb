import { failureMessage } from './page-failure.js';
import { client } from './page-client.js';
import { byId } from './page-dom.js';
import { announce } from './page-status.js';
import { dashboardShown } from './page-views.js';

let renewals = 0;

/** Shows the BearerPass's time left, its session and policy, from the client's in-memory token. */
export function renderToken(): void {
  const claims = client.claims;
  const left = client.secondsLeft;
  const progress = byId('token-progress', HTMLProgressElement);
  if (!claims || left === undefined) {
    byId('token-left').textContent = '–';
    progress.value = 0;
    return;
  }
  const lifetime = Number(claims.exp) - Number(claims.iat);
  byId('token-left').textContent = left >= 60 ? `${Math.floor(left / 60)} min ${Math.floor(left % 60)} s` : `${left.toFixed(1)} s`;
  progress.value = lifetime > 0 ? Math.round((left / lifetime) * 1000) : 0;
  const aid = typeof claims.aid === 'string' ? claims.aid : '–';
  byId('token-aid').textContent = aid.length > 14 ? `${aid.slice(0, 6)}…${aid.slice(-6)}` : aid;
  byId('token-aid').title = aid;
  byId('token-spl').textContent = typeof claims.spl === 'string' ? claims.spl : '–';
}

/** Counts a renewal this tab saw, its own or a sibling's. */
export function countRenewal(): void {
  renewals += 1;
  byId('token-renewals').textContent = String(renewals);
}

/** Starts the count again for the next session. */
export function resetRenewals(): void {
  renewals = 0;
  byId('token-renewals').textContent = '0';
}

/** Keeps the countdown moving while signed in, and wires "Renew now". */
export function bindTokenPanel(): void {
  setInterval(() => {
    if (dashboardShown()) renderToken();
  }, 200);

  byId('renew-now').addEventListener('click', () => {
    void client.renew().then(
      (bearer) => {
        if (bearer) announce('BearerPass renewed; the StateProof cookie was rotated.', 'success');
      },
      (error: unknown) => {
        announce(`Renewal failed: ${failureMessage(error)}`, 'error');
      },
    );
  });
}
