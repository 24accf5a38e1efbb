import { call, errorMessage } from './page-api.js';
import { client } from './page-client.js';
import { byId } from './page-dom.js';
import { loadProfile } from './page-profile.js';
import { announce } from './page-status.js';

/**
 * "Change email address" on the profile card, and the confirmation opened from the link mailed to
 * the new address (`/#email-change=…`, README "Changing the address"). The confirmation needs a
 * session of the account that asked, so a link opened where nobody is signed in waits for the
 * sign-in (with the current address, still the account's) and is only then offered.
 */
export function bindEmailChange(): void {
  const card = byId('profile-title').closest('article');
  if (!card) return;
  const form = document.createElement('form');
  form.id = 'email-change-form';
  form.className = 'form';
  form.noValidate = true;
  const label = Object.assign(document.createElement('label'), { htmlFor: 'email-change-new', textContent: 'New email address' });
  const field = Object.assign(document.createElement('input'), { id: 'email-change-new', name: 'newEmail', type: 'email', autocomplete: 'email', spellcheck: false });
  const wrapper = Object.assign(document.createElement('div'), { className: 'field' });
  wrapper.append(label, field);
  const button = Object.assign(document.createElement('button'), { className: 'btn', textContent: 'Send a confirmation link' });
  button.type = 'submit';
  form.append(wrapper, button);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    button.disabled = true;
    void requestChange(field.value.trim()).finally(() => {
      button.disabled = false;
    });
  });
  card.append(form);
}

async function requestChange(newEmail: string): Promise<void> {
  const res = await call('/jts/account/email', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ newEmail }) });
  if (!res) return;
  if (res.ok) {
    announce('Open the link we sent to the new address, in a browser where you are signed in. Your address stays as it is until then.', 'success');
    return;
  }
  // A sign-in older than JTS_FRESH_AUTH_MAX_AGE: the server asks for a recent one.
  const stale = res.status === 401 && (res.headers.get('www-authenticate') ?? '').includes('insufficient_user_authentication');
  announce(stale ? 'For your safety, changing the address needs a recent sign-in: sign out, sign in again, then retry.' : await errorMessage(res), 'error');
}

/** `#email-change=<token>`: offers the confirmation now, or once this browser is signed in. */
export function openEmailChangeLink(token: string): void {
  if (client.signedIn) {
    showConfirm(token);
    return;
  }
  announce('Sign in (with your current address) to confirm your new email address.', 'info');
  const stop = client.on((event) => {
    if (event.type !== 'signed-in') return;
    stop();
    showConfirm(token);
  });
}

/** A button, so that a mail scanner opening the link confirms nothing. */
function showConfirm(token: string): void {
  document.getElementById('email-change-confirm')?.remove();
  const button = Object.assign(document.createElement('button'), { id: 'email-change-confirm', className: 'btn btn--primary', textContent: 'Use my new email address' });
  button.type = 'button';
  button.addEventListener('click', () => {
    button.disabled = true;
    void confirmChange(token).finally(() => {
      button.remove();
    });
  });
  byId('status').after(button);
  button.focus();
}

async function confirmChange(token: string): Promise<void> {
  const res = await call('/jts/account/email/confirm', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ token }) });
  if (!res) return;
  if (!res.ok) {
    announce(await errorMessage(res), 'error');
    return;
  }
  const body = (await res.json()) as { email: string };
  announce(`Your account now uses ${body.email}. Sign in with it from now on.`, 'success');
  await loadProfile();
}
