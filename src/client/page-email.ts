import { JtsRequestError, SignedOutError } from './jts-client.js';
import { client } from './page-client.js';
import { byId } from './page-dom.js';
import { announce } from './page-status.js';
import { openEmailChangeLink } from './page-account-email.js';

/**
 * The email flows on the demo page: "Forgot password?", "Email me a sign-in code", the reset form
 * and the verification opened from a mailed link (`/#reset=…`, `/#verify=…`: the token is in the
 * fragment, never sent to the server by the browser), and a "verify your email" banner after
 * registration. Its elements are built here, below the sign-in form, so index.html stays as it is.
 */
export function bindEmailFlows(): void {
  const signIn = byId('panel-sign-in', HTMLFormElement);
  const box = element('div', { id: 'email-flows', className: 'form' });
  box.append(
    form('forgot-form', 'Forgot password?', [input('forgot-email', 'email', 'Email', 'email')], 'Email me a reset link', async (data) => {
      await post('/jts/password/forgot', { email: field(data, 'email') });
      announce('If an account uses this address, a reset link is on its way.', 'success');
    }),
    codeForms(),
  );
  signIn.after(box);
  // Shown with the sign-in tab only (page-auth-tabs.ts toggles the panel's `hidden`).
  new MutationObserver(() => {
    box.hidden = signIn.hidden;
  }).observe(signIn, { attributes: true, attributeFilter: ['hidden'] });
  client.on((event) => {
    if (event.type === 'signed-in' && event.via === 'register') showVerifyBanner();
  });
  openMailedLink();
  // A link opened in a tab already showing the page changes only the fragment: no reload.
  window.addEventListener('hashchange', () => {
    openMailedLink();
  });
}

/** "Email me a sign-in code": asks for the code, then shows the field to type it in. */
function codeForms(): HTMLElement {
  const wrapper = element('div', {});
  const verify = form('code-verify-form', 'Enter the code', [input('code-value', 'code', '6-digit code', 'text')], 'Sign in', async (data) => {
    await client.signInWithCode(byId('code-email', HTMLInputElement).value.trim(), field(data, 'code'));
  });
  verify.hidden = true;
  const request = form('code-request-form', 'Email me a sign-in code', [input('code-email', 'email', 'Email', 'email')], 'Send code', async (data) => {
    await post('/jts/login/code', { email: field(data, 'email') });
    verify.hidden = false;
    announce('If an account uses this address, a code is on its way.', 'success');
  });
  wrapper.append(request, verify);
  return wrapper;
}

/**
 * Acts on `#reset=<token>` (shows the reset form), `#verify=<token>` (shows a "Confirm my email
 * address" button), `#not-me=<token>` (a notice's link: shows a "sign out everywhere" button) or
 * `#email-change=<token>` (page-account-email.ts), then forgets the fragment. Nothing is sent before the user acts: a mail scanner that
 * opens links and runs their scripts must not verify an address, spend a link or end sessions.
 */
function openMailedLink(): void {
  const match = /^#(reset|verify|not-me|email-change)=([A-Za-z0-9_-]{1,256})$/.exec(location.hash);
  if (!match) return;
  const [, kind, token = ''] = match;
  // The token leaves the address bar and the history entry at once.
  history.replaceState(null, '', location.pathname + location.search);
  if (kind === 'verify') showVerifyForm(token);
  else if (kind === 'not-me') showNotMeForm(token);
  else if (kind === 'email-change') openEmailChangeLink(token);
  else showResetForm(token);
}

/**
 * "This wasn't me": one click ends every session of the account and voids its password; the answer's
 * reset token opens the new-password form at once.
 */
function showNotMeForm(token: string): void {
  document.getElementById('not-me-form')?.remove();
  const confirm = form('not-me-form', 'This was not you?', [], 'Sign out everywhere and choose a new password', async () => {
    const body = (await post('/jts/not-me', { token })) as { revokedSessions?: number; resetToken?: string };
    confirm.remove();
    // No reset token when the password changed since the notice: "forgot password" mails a fresh link.
    const next = body.resetToken ? 'Choose a new password now.' : 'Use "forgot password" to choose a new one.';
    announce(`Every device was signed out (${body.revokedSessions ?? 0} session(s)). ${next}`, 'success');
    if (body.resetToken) showResetForm(body.resetToken);
  });
  byId('status').after(confirm);
  confirm.querySelector('button')?.focus();
}

function showResetForm(token: string): void {
  document.getElementById('reset-form')?.remove();
  const reset = form('reset-form', 'Choose a new password', [input('reset-password', 'newPassword', 'New password', 'password')], 'Set password', async (data) => {
    const body = (await post('/jts/password/reset', { token, newPassword: field(data, 'newPassword', false) })) as { revokedSessions?: number };
    reset.remove();
    announce(`Password changed; ${body.revokedSessions ?? 0} session(s) signed out. Sign in with the new password.`, 'success');
  });
  byId('panel-sign-in').before(reset);
  byId('reset-password', HTMLInputElement).focus();
}

/** The button that verifies; placed above the views so it shows whether or not the user is signed in. */
function showVerifyForm(token: string): void {
  document.getElementById('verify-form')?.remove();
  const password = input('verify-password', 'password', 'Your password, if you created this account (not needed where you are signed in)', 'password');
  const confirm = form('verify-form', 'Confirm your email address', [password], 'Confirm my email address', async (data) => {
    const body = (await verifyAddress(token, field(data, 'password', false))) as { passwordReset?: string };
    confirm.remove();
    document.getElementById('verify-banner')?.remove();
    if (body.passwordReset === 'required') announce('Your email address is verified. For your safety, choose a password with "Forgot password?" (or sign in with a code).', 'success');
    else announce('Your email address is verified.', 'success');
  });
  byId('status').after(confirm);
  confirm.querySelector('button')?.focus();
}

/**
 * POST /jts/email/verify with the BearerPass when this browser is signed in, and the password when
 * typed: either shows that whoever chose the password reads the mailbox, so it is kept. Without
 * both the server voids the password (someone else may have registered the address).
 */
async function verifyAddress(token: string, password: string): Promise<unknown> {
  const body = password === '' ? { token } : { token, password };
  if (!client.signedIn) return post('/jts/email/verify', body);
  try {
    const res = await client.fetch('/jts/email/verify', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    return await bodyOf(res);
  } catch (failure) {
    if (failure instanceof SignedOutError) return post('/jts/email/verify', body);
    throw failure;
  }
}

function showVerifyBanner(): void {
  if (document.getElementById('verify-banner')) return;
  const banner = element('div', { id: 'verify-banner', className: 'status status--info' });
  banner.setAttribute('role', 'status');
  const resend = element('button', { className: 'btn', textContent: 'Send the link again' });
  resend.setAttribute('type', 'button');
  resend.addEventListener('click', () => {
    void client.fetch('/jts/email/verify/resend', { method: 'POST' }).then((res) => {
      announce(res.ok ? 'A new link is on its way.' : 'Could not send a new link; try again later.', res.ok ? 'success' : 'error');
    });
  });
  banner.append(element('span', { textContent: 'Verify your email address: we sent you a link. ' }), resend);
  byId('view-dashboard').prepend(banner);
}

/** POSTs JSON to a /jts route with the CSRF header; resolves to the body, rejects with JtsRequestError on refusal. */
async function post(path: string, body: object): Promise<unknown> {
  const res = await fetch(path, { method: 'POST', credentials: 'same-origin', headers: { 'Content-Type': 'application/json', 'X-JTS-Request': '1' }, body: JSON.stringify(body) });
  return bodyOf(res);
}

/** The JSON body of an answer; rejects with the server's message when it is a refusal. */
async function bodyOf(res: Response): Promise<unknown> {
  const parsed: unknown = await res.json().catch(() => undefined);
  if (!res.ok) {
    const message = (parsed as { message?: unknown } | undefined)?.message;
    throw new Error(typeof message === 'string' ? message : `The server answered ${res.status}.`);
  }
  return parsed;
}

function messageOf(failure: unknown): string {
  return failure instanceof JtsRequestError || failure instanceof Error ? failure.message : 'Something went wrong. Please try again.';
}

function form(id: string, legend: string, fields: HTMLElement[], submitText: string, submit: (data: FormData) => Promise<void>): HTMLFormElement {
  const node = element('form', { id, className: 'form' });
  node.noValidate = true;
  const error = element('p', { className: 'form__error', hidden: true });
  error.setAttribute('role', 'alert');
  const button = element('button', { className: 'btn btn--block', textContent: submitText });
  button.setAttribute('type', 'submit');
  const body = element('div', {});
  body.append(...fields, error, button);
  node.append(element('h3', { textContent: legend }), body);
  node.addEventListener('submit', (event) => {
    event.preventDefault();
    button.disabled = true;
    error.hidden = true;
    submit(new FormData(node))
      .catch((failure: unknown) => {
        error.hidden = false;
        error.textContent = messageOf(failure);
      })
      .finally(() => {
        button.disabled = false;
      });
  });
  return node;
}

function input(id: string, name: string, label: string, type: string): HTMLElement {
  const wrapper = element('div', { className: 'field' });
  const labelNode = element('label', { textContent: label });
  labelNode.htmlFor = id;
  const node = element('input', { id, name, type });
  wrapper.append(labelNode, node);
  return wrapper;
}

/** A form field's text; trimmed unless it is a password. */
function field(data: FormData, name: string, trim = true): string {
  const value = data.get(name);
  if (typeof value !== 'string') return '';
  return trim ? value.trim() : value;
}

function element<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]>): HTMLElementTagNameMap[K] {
  return Object.assign(document.createElement(tag), props);
}
