import { call, errorMessage } from './page-api.js';
import { byId } from './page-dom.js';
import { announce } from './page-status.js';

/** `GET /jts/mfa`. */
interface FactorsView {
  factors: { type: 'totp'; confirmed: boolean }[];
  recoveryCodesLeft: number;
}

const json = (body: object): RequestInit => ({ method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });

/** Shows whether the account has an authenticator, and the button that fits. */
export async function loadSecondFactor(): Promise<void> {
  const res = await call('/jts/mfa');
  if (!res?.ok) return;
  const view = (await res.json()) as FactorsView;
  const confirmed = view.factors.some((factor) => factor.confirmed);
  byId('mfa-state').textContent = confirmed ? `On · ${view.recoveryCodesLeft} recovery codes left` : 'Off';
  byId('mfa-enrol').hidden = confirmed;
  byId('mfa-remove').hidden = !confirmed;
}

/**
 * The authenticator card: set up (QR code, then a first code), the ten recovery codes shown once,
 * and removal. Enrolling and removing need a recent sign-in; the server's refusal says so.
 */
export function bindSecondFactor(): void {
  const setup = byId('mfa-setup');
  byId('mfa-enrol').addEventListener('click', () => {
    void (async () => {
      const res = await call('/jts/mfa/totp', { method: 'POST' });
      if (!res) return;
      if (!res.ok) {
        announce(`Could not start the set-up: ${await errorMessage(res)}`, 'error');
        return;
      }
      const { secret, qrSvg } = (await res.json()) as { secret: string; qrSvg: string };
      // The SVG is the server's own rendering of the otpauth:// URI (paths only); parsed, not injected as HTML.
      const svg = new DOMParser().parseFromString(qrSvg, 'image/svg+xml').documentElement;
      byId('mfa-qr').replaceChildren(document.importNode(svg, true));
      byId('mfa-secret').textContent = secret;
      byId('mfa-codes').hidden = true;
      setup.hidden = false;
      byId('mfa-confirm-code').focus();
    })();
  });

  const confirm = byId('mfa-confirm', HTMLFormElement);
  confirm.addEventListener('submit', (event) => {
    event.preventDefault();
    const code = byId('mfa-confirm-code', HTMLInputElement).value.trim();
    void (async () => {
      const res = await call('/jts/mfa/totp/confirm', json({ code }));
      if (!res) return;
      if (!res.ok) {
        announce(`Not confirmed: ${await errorMessage(res)}`, 'error');
        return;
      }
      const { recoveryCodes } = (await res.json()) as { recoveryCodes: string[] };
      setup.hidden = true;
      confirm.reset();
      const list = byId('mfa-code-list');
      list.replaceChildren(
        ...recoveryCodes.map((code) => {
          const item = document.createElement('li');
          item.textContent = code;
          return item;
        }),
      );
      byId('mfa-codes').hidden = false;
      announce('Authenticator on. Save the recovery codes now: they are shown only once.', 'success');
      await loadSecondFactor();
    })();
  });

  byId('mfa-codes-saved').addEventListener('click', () => {
    byId('mfa-code-list').replaceChildren();
    byId('mfa-codes').hidden = true;
  });

  byId('mfa-remove').addEventListener('click', () => {
    void (async () => {
      const res = await call('/jts/mfa/totp', { method: 'DELETE' });
      if (!res) return;
      if (!res.ok) {
        announce(`Could not remove it: ${await errorMessage(res)}`, 'error');
        return;
      }
      announce('Authenticator removed: the password alone signs in again.', 'success');
      await loadSecondFactor();
    })();
  });
}
