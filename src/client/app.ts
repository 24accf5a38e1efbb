/**
 * The demo page at `/`: sign in / register, profile, the admin call, the session list. All state
 * about the session lives in JtsClient; this file only renders it. No inline scripts or styles:
 * the page runs under `script-src 'self'; style-src 'self'`.
 */
import { JtsClient, JtsRequestError, SignedOutError, type AuthEvent, type SignOutReason } from './jts-client.js';

interface Profile {
  id: string;
  email: string;
  name: string;
  permissions: string[];
}

interface SessionView {
  aid: string;
  device: string;
  ip_prefix: string;
  created_at: string;
  last_active: string;
  current: boolean;
}

function meta(name: string): string {
  return document.querySelector<HTMLMetaElement>(`meta[name="${name}"]`)?.content.trim() ?? '';
}

function byId(id: string): HTMLElement;
function byId<T extends HTMLElement>(id: string, kind: new () => T): T;
function byId(id: string, kind: new () => HTMLElement = HTMLElement): HTMLElement {
  const element = document.getElementById(id);
  if (!(element instanceof kind)) throw new Error(`#${id} is missing from the page or is not a ${kind.name}`);
  return element;
}

const credentialsMode = meta('jts-credentials');
/** Exported so that end-to-end tests can drive the same client instance the page uses. */
export const client = new JtsClient({
  baseUrl: meta('jts-server'),
  credentials: credentialsMode === 'include' || credentialsMode === 'omit' ? credentialsMode : 'same-origin',
});

const views = { loading: byId('view-loading'), auth: byId('view-auth'), dashboard: byId('view-dashboard') };
type ViewName = keyof typeof views;

function show(view: ViewName): void {
  for (const [name, element] of Object.entries(views)) element.hidden = name !== view;
  byId('account').hidden = view !== 'dashboard';
  document.body.dataset.view = view;
}

// ---- status messages (one polite live region) ----------------------------------------------

let statusTimer: ReturnType<typeof setTimeout> | undefined;

function announce(text: string, tone: 'info' | 'success' | 'error' = 'info'): void {
  const status = byId('status');
  status.textContent = text;
  status.className = `status status--${tone}`;
  status.hidden = false;
  if (statusTimer !== undefined) clearTimeout(statusTimer);
  statusTimer = setTimeout(() => {
    status.hidden = true;
  }, tone === 'error' ? 12_000 : 6_000);
}

const SIGN_OUT_MESSAGES: Record<SignOutReason, string> = {
  logout: 'You are signed out.',
  'JTS-401-03': 'Your session is no longer valid. Please sign in again.',
  'JTS-401-04': 'Your session has ended (signed out or revoked elsewhere). Please sign in again.',
  'JTS-401-05': 'Your session was revoked: its StateProof was used twice, which looks like theft. Please sign in again.',
  'JTS-401-06': 'This session is bound to another device. Please sign in again.',
};

// ---- session events -------------------------------------------------------------------------

let renewals = 0;

client.on((event: AuthEvent) => {
  switch (event.type) {
    case 'signed-in':
      enterDashboard();
      if (event.via === 'sibling') announce('Signed in from another tab.', 'success');
      return;
    case 'renewed':
      renewals += 1;
      byId('token-renewals').textContent = String(renewals);
      return;
    case 'signed-out': {
      const wasSignedIn = !views.dashboard.hidden;
      leaveDashboard();
      // No cookie at all while nobody was signed in (first visit, after a sign-out) is not news.
      if (!wasSignedIn && event.reason === 'JTS-401-03') return;
      if (event.reason === 'logout') announce(event.via === 'sibling' ? 'You signed out in another tab.' : SIGN_OUT_MESSAGES.logout, 'info');
      else announce(SIGN_OUT_MESSAGES[event.reason], 'error');
      return;
    }
  }
});

function enterDashboard(): void {
  show('dashboard');
  renderToken();
  void loadProfile();
  void loadSessions();
}

function leaveDashboard(): void {
  show('auth');
  byId('admin-result').hidden = true;
  byId('sessions').replaceChildren();
  byId('account-email').textContent = '';
  renewals = 0;
  byId('token-renewals').textContent = '0';
}

/** Runs an authenticated call; a SignedOutError needs no handling here because the event switches the view. */
async function call(input: string, init?: RequestInit): Promise<Response | undefined> {
  try {
    return await client.fetch(input, init);
  } catch (error) {
    if (error instanceof SignedOutError) return undefined;
    announce('The server could not be reached. Check your connection and try again.', 'error');
    return undefined;
  }
}

async function errorMessage(res: Response): Promise<string> {
  try {
    const body = (await res.json()) as { message?: string };
    return body.message ?? `HTTP ${res.status}`;
  } catch {
    return `HTTP ${res.status}`;
  }
}

// ---- profile ----------------------------------------------------------------------------------

async function loadProfile(): Promise<void> {
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

// ---- BearerPass panel -------------------------------------------------------------------------

function renderToken(): void {
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

setInterval(() => {
  if (!views.dashboard.hidden) renderToken();
}, 200);

byId('renew-now').addEventListener('click', () => {
  void client.renew().then(
    (bearer) => {
      if (bearer) announce('BearerPass renewed; the StateProof cookie was rotated.', 'success');
    },
    (error: unknown) => {
      announce(error instanceof JtsRequestError ? `Renewal failed: ${error.message}` : 'Renewal failed.', 'error');
    },
  );
});

// ---- admin ------------------------------------------------------------------------------------

byId('call-admin').addEventListener('click', () => {
  void (async () => {
    const result = byId('admin-result');
    const res = await call('/api/admin');
    if (!res) return;
    const body = (await res.json()) as { message?: string; error_code?: string; error?: string };
    result.hidden = false;
    result.replaceChildren();
    const heading = document.createElement('p');
    heading.className = 'result__title';
    const detail = document.createElement('p');
    detail.className = 'result__detail';
    if (res.ok) {
      result.className = 'result result--ok';
      heading.textContent = `${res.status} OK`;
      detail.textContent = body.message ?? 'Access granted.';
    } else {
      result.className = 'result result--denied';
      const code = document.createElement('code');
      code.textContent = body.error_code ?? body.error ?? '';
      heading.append(`${res.status} ${res.status === 403 ? 'Forbidden' : 'Error'} · `, code);
      detail.textContent = body.message ?? '';
    }
    result.append(heading, detail);
    announce(res.ok ? 'Admin endpoint: access granted.' : `Admin endpoint: ${res.status} ${body.error_code ?? body.error ?? ''}`.trim(), res.ok ? 'success' : 'error');
  })();
});

// ---- sessions ---------------------------------------------------------------------------------

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

function ago(iso: string): string {
  const seconds = Math.round((new Date(iso).getTime() - Date.now()) / 1000);
  if (Math.abs(seconds) < 60) return relative.format(Math.min(0, seconds), 'second');
  if (Math.abs(seconds) < 3600) return relative.format(Math.round(seconds / 60), 'minute');
  if (Math.abs(seconds) < 86_400) return relative.format(Math.round(seconds / 3600), 'hour');
  return relative.format(Math.round(seconds / 86_400), 'day');
}

async function loadSessions(): Promise<void> {
  const res = await call('/jts/sessions');
  if (!res) return;
  if (!res.ok) {
    announce(`Could not load your sessions: ${await errorMessage(res)}`, 'error');
    return;
  }
  const { sessions } = (await res.json()) as { sessions: SessionView[] };
  sessions.sort((a, b) => Number(b.current) - Number(a.current) || b.last_active.localeCompare(a.last_active));
  const template = byId('session-row', HTMLTemplateElement);
  byId('sessions').replaceChildren(
    ...sessions.map((session) => {
      const row = (template.content.firstElementChild as HTMLElement).cloneNode(true) as HTMLElement;
      const field = (name: string) => row.querySelector<HTMLElement>(`[data-field="${name}"]`) as HTMLElement;
      row.dataset.aid = session.aid;
      if (session.current) row.classList.add('session--current');
      field('device').textContent = session.device;
      field('current').hidden = !session.current;
      field('ip').textContent = session.ip_prefix;
      field('created').textContent = ago(session.created_at);
      field('created').setAttribute('datetime', session.created_at);
      field('active').textContent = ago(session.last_active);
      field('active').setAttribute('datetime', session.last_active);
      const button = row.querySelector<HTMLButtonElement>('[data-action="revoke"]') as HTMLButtonElement;
      button.textContent = session.current ? 'Sign out' : 'Revoke';
      button.setAttribute('aria-label', session.current ? 'Sign out of this session' : `Revoke the session on ${session.device}`);
      button.addEventListener('click', () => void revoke(session));
      return row;
    }),
  );
  byId('revoke-others', HTMLButtonElement).disabled = sessions.length < 2;
}

async function revoke(session: SessionView): Promise<void> {
  if (session.current) {
    await signOut();
    return;
  }
  const res = await call(`/jts/sessions/${encodeURIComponent(session.aid)}`, { method: 'DELETE' });
  if (!res) return;
  if (res.ok) announce(`Revoked the session on ${session.device}.`, 'success');
  else announce(`Could not revoke the session: ${await errorMessage(res)}`, 'error');
  await loadSessions();
}

byId('refresh-sessions').addEventListener('click', () => void loadSessions());
byId('refresh-profile').addEventListener('click', () => void loadProfile());

byId('revoke-others').addEventListener('click', () => {
  void (async () => {
    const res = await call('/jts/sessions/revoke-others', { method: 'POST' });
    if (!res) return;
    if (res.ok) {
      const { revoked } = (await res.json()) as { revoked: number };
      announce(revoked === 1 ? 'Signed out 1 other session.' : `Signed out ${revoked} other sessions.`, 'success');
    } else {
      announce(`Could not sign out the other sessions: ${await errorMessage(res)}`, 'error');
    }
    await loadSessions();
  })();
});

// ---- sign in / register / sign out ------------------------------------------------------------

async function signOut(): Promise<void> {
  try {
    await client.logout();
  } catch {
    announce('Sign-out failed: the server could not be reached. You are still signed in; try again.', 'error');
  }
}

byId('sign-out').addEventListener('click', () => void signOut());

function bindForm(formId: string, errorId: string, submit: (data: FormData) => Promise<void>, validate: (data: FormData) => string | undefined): void {
  const form = byId(formId, HTMLFormElement);
  const error = byId(errorId);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const problem = validate(data);
    error.hidden = problem === undefined;
    error.textContent = problem ?? '';
    if (problem !== undefined) return;
    const button = form.querySelector<HTMLButtonElement>('button[type="submit"]');
    if (button) button.disabled = true;
    form.setAttribute('aria-busy', 'true');
    void submit(data)
      .then(() => {
        form.reset();
      })
      .catch((failure: unknown) => {
        error.hidden = false;
        if (failure instanceof JtsRequestError && failure.status === 429 && failure.body?.retry_after !== undefined) {
          error.textContent = `Too many attempts. Try again in ${failure.body.retry_after} s.`;
        } else {
          error.textContent = failure instanceof JtsRequestError ? failure.message : 'Something went wrong. Please try again.';
        }
      })
      .finally(() => {
        if (button) button.disabled = false;
        form.removeAttribute('aria-busy');
      });
  });
}

const text = (data: FormData, name: string) => {
  const value = data.get(name);
  return typeof value === 'string' ? value : '';
};

bindForm(
  'panel-sign-in',
  'login-error',
  (data) => client.login(text(data, 'email').trim(), text(data, 'password')),
  (data) => (text(data, 'email').trim() === '' || text(data, 'password') === '' ? 'Enter your email and password.' : undefined),
);

bindForm(
  'panel-register',
  'register-error',
  (data) => client.register(text(data, 'email').trim(), text(data, 'password'), text(data, 'name').trim()),
  (data) => {
    if (text(data, 'name').trim() === '' || text(data, 'email').trim() === '') return 'Enter your name and email.';
    if (text(data, 'password').length < 8) return 'The password needs at least 8 characters.';
    return undefined;
  },
);

// ---- tabs (WAI-ARIA tabs pattern: arrows move between tabs) -------------------------------------

const tabs = [byId('tab-sign-in', HTMLButtonElement), byId('tab-register', HTMLButtonElement)];

function selectTab(selected: HTMLButtonElement, focus = true): void {
  for (const tab of tabs) {
    const active = tab === selected;
    tab.setAttribute('aria-selected', String(active));
    tab.tabIndex = active ? 0 : -1;
    byId(tab.getAttribute('aria-controls') ?? '').hidden = !active;
  }
  if (focus) selected.focus();
}

for (const [index, tab] of tabs.entries()) {
  tab.addEventListener('click', () => {
    selectTab(tab);
  });
  tab.addEventListener('keydown', (event) => {
    if (event.key !== 'ArrowRight' && event.key !== 'ArrowLeft') return;
    event.preventDefault();
    const next = tabs[(index + (event.key === 'ArrowRight' ? 1 : tabs.length - 1)) % tabs.length];
    if (next) selectTab(next);
  });
}

document.querySelectorAll<HTMLButtonElement>('[data-demo-email]').forEach((button) => {
  button.addEventListener('click', () => {
    selectTab(byId('tab-sign-in', HTMLButtonElement), false);
    byId('login-email', HTMLInputElement).value = button.dataset.demoEmail ?? '';
    byId('login-password', HTMLInputElement).value = button.dataset.demoPassword ?? '';
    byId('panel-sign-in').querySelector<HTMLButtonElement>('button[type="submit"]')?.focus();
  });
});

// ---- start: a silent renewal restores the session after a reload ------------------------------

void client.resume().then(
  (signedIn) => {
    if (!signedIn) {
      show('auth');
      byId('login-email').focus();
    }
  },
  () => {
    show('auth');
    announce('The server could not be reached to restore your session. Reload the page to try again.', 'error');
  },
);
