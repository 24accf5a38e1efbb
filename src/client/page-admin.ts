import { call } from './page-api.js';
import { byId } from './page-dom.js';
import { announce } from './page-status.js';

/** Wires "Call the admin endpoint": shows the 200, or the 403 and its JTS code, as the server sent them. */
export function bindAdminPanel(): void {
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
}

/** Hides the last admin call's result, which belonged to the previous user. */
export function hideAdminResult(): void {
  byId('admin-result').hidden = true;
}
