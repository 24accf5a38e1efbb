import { call, errorMessage } from './page-api.js';
import { client } from './page-client.js';
import { byId } from './page-dom.js';
import { announce } from './page-status.js';
import { ago } from './page-time.js';

interface Profile {
  id: string;
  email: string;
  name: string;
  permissions: string[];
}

/** `atm` claim values (JTS.md, "BearerPass"), in words. */
const AUTH_METHODS: Record<string, string> = {
  pwd: 'Password',
  'mfa:totp': 'Password + authenticator app',
  sso: 'Single sign-on',
  passkey: 'Passkey',
};

function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  return ((parts[0]?.[0] ?? '?') + (parts.length > 1 ? (parts.at(-1)?.[0] ?? '') : '')).toUpperCase();
}

/** Fills the profile card and the account email in the top bar from `GET /api/profile`. */
export async function loadProfile(): Promise<void> {
  const res = await call('/api/profile');
  if (!res) return;
  if (!res.ok) {
    announce(`Could not load the profile: ${await errorMessage(res)}`, 'error');
    return;
  }
  const profile = (await res.json()) as Profile;
  byId('welcome-name').textContent = profile.name.split(' ')[0] ?? profile.name;
  byId('profile-name').textContent = profile.name;
  byId('profile-email').textContent = profile.email;
  byId('profile-id').textContent = profile.id;
  byId('account-email').textContent = profile.email;
  byId('profile-avatar').textContent = initials(profile.name);
  const claims = client.claims;
  const method = typeof claims?.atm === 'string' ? claims.atm : '–';
  byId('profile-method').textContent = AUTH_METHODS[method] ?? method;
  if (typeof claims?.ath === 'number') {
    const at = new Date(claims.ath * 1000).toISOString();
    byId('profile-auth-time').textContent = ago(at);
    byId('profile-auth-time').setAttribute('datetime', at);
  }
  byId('profile-permissions').replaceChildren(
    ...profile.permissions.map((permission) => {
      const chip = document.createElement('span');
      chip.className = permission.startsWith('admin') ? 'chip chip--admin' : 'chip';
      chip.textContent = permission;
      return chip;
    }),
  );
}

/** Wires the "Refresh profile" button. */
export function bindProfile(): void {
  byId('refresh-profile').addEventListener('click', () => void loadProfile());
}
