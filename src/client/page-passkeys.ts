import type * as WebAuthnBrowser from '@simplewebauthn/browser';
import { call, errorMessage } from './page-api.js';
import { client } from './page-client.js';
import { byId } from './page-dom.js';
import { failureMessage } from './page-failure.js';
import { announce } from './page-status.js';

/** `GET /jts/passkeys`. */
interface PasskeyView {
  id: string;
  name: string;
  createdAt: string;
  lastUsedAt?: string;
}

/**
 * @simplewebauthn/browser as the server serves it (home.ts, /assets/vendor): loaded on first use,
 * by URL, since the page's modules are not bundled. Its types come from the package itself.
 */
let library: Promise<typeof WebAuthnBrowser> | undefined;
const VENDOR_URL = '/assets/vendor/simplewebauthn-browser/index.js';
function webauthn(): Promise<typeof WebAuthnBrowser> {
  library ??= import(VENDOR_URL) as Promise<typeof WebAuthnBrowser>;
  return library;
}

/** The browser's get() ceremony on the server's options, as JtsClient asks for it. */
async function sign(options: unknown): Promise<unknown> {
  const { startAuthentication } = await webauthn();
  return startAuthentication({ optionsJSON: options as Parameters<typeof startAuthentication>[0]['optionsJSON'] });
}

const json = (method: string, body: object): RequestInit => ({ method, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });

/** Lists the account's passkeys, each with rename and remove. */
export async function loadPasskeys(): Promise<void> {
  const res = await call('/jts/passkeys');
  if (!res?.ok) return;
  const { passkeys } = (await res.json()) as { passkeys: PasskeyView[] };
  byId('passkey-state').textContent = passkeys.length === 0 ? 'None' : `${passkeys.length}`;
  byId('passkey-list').replaceChildren(...passkeys.map(passkeyItem));
}

function passkeyItem(passkey: PasskeyView): HTMLLIElement {
  const item = document.createElement('li');
  item.className = 'passkeys__item';
  item.dataset.passkeyId = passkey.id;
  const name = document.createElement('input');
  name.type = 'text';
  name.value = passkey.name;
  name.maxLength = 100;
  name.setAttribute('aria-label', 'Passkey name');
  const used = document.createElement('span');
  used.className = 'muted';
  used.textContent = passkey.lastUsedAt === undefined ? 'never used' : `last used ${new Date(passkey.lastUsedAt).toLocaleString()}`;
  const rename = button('Rename', 'btn btn--ghost btn--sm', async () => {
    const res = await call(`/jts/passkeys/${encodeURIComponent(passkey.id)}`, json('PATCH', { name: name.value.trim() }));
    if (res) announce(res.ok ? 'Passkey renamed.' : `Not renamed: ${await errorMessage(res)}`, res.ok ? 'success' : 'error');
  });
  const remove = button('Remove', 'btn btn--danger-ghost btn--sm', async () => {
    const res = await call(`/jts/passkeys/${encodeURIComponent(passkey.id)}`, { method: 'DELETE' });
    if (!res) return;
    announce(res.ok ? 'Passkey removed.' : `Not removed: ${await errorMessage(res)}`, res.ok ? 'success' : 'error');
    await loadPasskeys();
  });
  item.append(name, used, rename, remove);
  return item;
}

function button(label: string, className: string, onClick: () => Promise<void>): HTMLButtonElement {
  const element = document.createElement('button');
  element.type = 'button';
  element.className = className;
  element.textContent = label;
  element.addEventListener('click', () => void onClick());
  return element;
}

/** Adds a passkey: options (a recent sign-in needed), the browser's create(), then the server's check. */
async function addPasskey(): Promise<void> {
  const options = await call('/jts/passkeys/register/options', { method: 'POST' });
  if (!options) return;
  if (!options.ok) {
    announce(`Could not add a passkey: ${await errorMessage(options)}`, 'error');
    return;
  }
  const { startRegistration } = await webauthn();
  let credential: unknown;
  try {
    credential = await startRegistration({ optionsJSON: (await options.json()) as Parameters<typeof startRegistration>[0]['optionsJSON'] });
  } catch (error) {
    announce(`No passkey was created: ${error instanceof Error ? error.message : String(error)}`, 'error');
    return;
  }
  const name = byId('passkey-name', HTMLInputElement).value.trim();
  const res = await call('/jts/passkeys/register/verify', json('POST', { credential, ...(name === '' ? {} : { name }) }));
  if (!res) return;
  announce(res.ok ? 'Passkey added: it signs you in without a password.' : `Not added: ${await errorMessage(res)}`, res.ok ? 'success' : 'error');
  await loadPasskeys();
}

/** The passkey card on the dashboard, "Sign in with a passkey", and the passkey as the second step. */
export function bindPasskeys(currentTicket: () => string): void {
  byId('passkey-add').addEventListener('click', () => void addPasskey());

  const loginError = byId('login-error');
  byId('passkey-sign-in').addEventListener('click', () => {
    loginError.hidden = true;
    client.loginWithPasskey(sign).catch((failure: unknown) => {
      loginError.hidden = false;
      loginError.textContent = failureMessage(failure);
    });
  });

  const mfaError = byId('mfa-error');
  byId('mfa-passkey').addEventListener('click', () => {
    mfaError.hidden = true;
    client
      .completeSecondFactorWithPasskey(currentTicket(), sign)
      .then(() => {
        byId('panel-mfa').hidden = true;
      })
      .catch((failure: unknown) => {
        mfaError.hidden = false;
        mfaError.textContent = failureMessage(failure);
      });
  });
}
