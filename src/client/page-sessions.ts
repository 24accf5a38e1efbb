import { call, errorMessage } from './page-api.js';
import { byId } from './page-dom.js';
import { signOut } from './page-sign-out.js';
import { announce } from './page-status.js';
import { ago } from './page-time.js';

/** One entry of `GET /jts/sessions`. */
interface SessionView {
  aid: string;
  device: string;
  ipPrefix: string;
  createdAt: string;
  lastActiveAt: string;
  current: boolean;
}

/** One entry of `ended` in `GET /jts/sessions`: a session a detected replay ended. */
interface EndedSessionView {
  aid: string;
  device: string;
  endedAt: string;
  reason: 'token_theft';
}

/** What the list says for each reason; a reason this page does not know yet is shown as sent. */
const ENDED_REASONS: Partial<Record<string, string>> = { token_theft: 'Ended: token theft detected' };

/**
 * Lists the user's sessions from `GET /jts/sessions`, this tab's first, then the most recently
 * active, then the recently ended ones (newest first, as the server sends them).
 */
export async function loadSessions(): Promise<void> {
  const res = await call('/jts/sessions');
  if (!res) return;
  if (!res.ok) {
    announce(`Could not load your sessions: ${await errorMessage(res)}`, 'error');
    return;
  }
  const { sessions, ended = [] } = (await res.json()) as { sessions: SessionView[]; ended?: EndedSessionView[] };
  sessions.sort((a, b) => Number(b.current) - Number(a.current) || b.lastActiveAt.localeCompare(a.lastActiveAt));
  const template = byId('session-row', HTMLTemplateElement);
  byId('sessions').replaceChildren(
    ...sessions.map((session) => {
      const row = (template.content.firstElementChild as HTMLElement).cloneNode(true) as HTMLElement;
      const field = (name: string) => row.querySelector<HTMLElement>(`[data-field="${name}"]`) as HTMLElement;
      row.dataset.aid = session.aid;
      if (session.current) row.classList.add('session--current');
      field('device').textContent = session.device;
      field('current').hidden = !session.current;
      field('ip').textContent = session.ipPrefix;
      field('created').textContent = ago(session.createdAt);
      field('created').setAttribute('datetime', session.createdAt);
      field('active').textContent = ago(session.lastActiveAt);
      field('active').setAttribute('datetime', session.lastActiveAt);
      const button = row.querySelector<HTMLButtonElement>('[data-action="revoke"]') as HTMLButtonElement;
      button.textContent = session.current ? 'Sign out' : 'Revoke';
      button.setAttribute('aria-label', session.current ? 'Sign out of this session' : `Revoke the session on ${session.device}`);
      button.addEventListener('click', () => void revoke(session));
      return row;
    }),
    ...ended.map(endedRow),
  );
  byId('revoke-others', HTMLButtonElement).disabled = sessions.length < 2;
}

function endedRow(session: EndedSessionView): HTMLElement {
  const template = byId('ended-session-row', HTMLTemplateElement);
  const row = (template.content.firstElementChild as HTMLElement).cloneNode(true) as HTMLElement;
  const field = (name: string) => row.querySelector<HTMLElement>(`[data-field="${name}"]`) as HTMLElement;
  row.dataset.aid = session.aid;
  row.dataset.reason = session.reason;
  // textContent only: the device description comes from a User-Agent header.
  field('device').textContent = session.device === '' ? 'A session' : session.device;
  field('reason').textContent = ENDED_REASONS[session.reason] ?? `Ended: ${session.reason}`;
  field('ended').textContent = ago(session.endedAt);
  field('ended').setAttribute('datetime', session.endedAt);
  return row;
}

/** Empties the list, which belonged to the previous user. */
export function clearSessions(): void {
  byId('sessions').replaceChildren();
}

async function revoke(session: SessionView): Promise<void> {
  // Revoking this tab's own session is signing out, which must also end it in the sibling tabs.
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

/** Wires "Refresh" and "Sign out other sessions". */
export function bindSessions(): void {
  byId('refresh-sessions').addEventListener('click', () => void loadSessions());

  byId('revoke-others').addEventListener('click', () => {
    void (async () => {
      const res = await call('/jts/sessions/revoke-others', { method: 'POST' });
      if (!res) return;
      if (res.ok) {
        const { revokedSessions } = (await res.json()) as { revokedSessions: number };
        announce(revokedSessions === 1 ? 'Signed out 1 other session.' : `Signed out ${revokedSessions} other sessions.`, 'success');
      } else {
        announce(`Could not sign out the other sessions: ${await errorMessage(res)}`, 'error');
      }
      await loadSessions();
    })();
  });
}
