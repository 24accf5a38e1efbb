import { JtsRequestError } from './jts-client.js';
import { failureMessage } from './page-failure.js';
import { client } from './page-client.js';
import { byId } from './page-dom.js';

/**
 * Submits `form` with `submit` once `validate` finds no problem, and shows the problem or the
 * server's refusal in the form's own alert. The button is disabled meanwhile, so one click sends
 * one request.
 */
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
          error.textContent = failureMessage(failure);
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

/** The ticket of the sign-in waiting for its second factor. */
let pendingTicket = '';

/** An `mfa_required` refusal shows the second-factor form; any other refusal is the form's error. */
function askForSecondFactor(failure: unknown): void {
  const ticket: unknown = failure instanceof JtsRequestError && failure.body?.error === 'mfa_required' ? (failure.body as { mfa_ticket?: unknown }).mfa_ticket : undefined;
  if (typeof ticket !== 'string') throw failure;
  pendingTicket = ticket;
  const methods: unknown = ((failure as JtsRequestError).body as { methods?: unknown } | undefined)?.methods;
  byId('mfa-passkey').hidden = !(Array.isArray(methods) && methods.includes('webauthn'));
  const form = byId('panel-mfa', HTMLFormElement);
  form.hidden = false;
  byId('mfa-code').focus();
}

/** The ticket of the sign-in waiting for its second factor, for the passkey step (page-passkeys.ts). */
export function pendingSecondFactorTicket(): string {
  return pendingTicket;
}

/** Wires the sign-in and the create-account forms; success shows up as the client's 'signed-in' event. */
export function bindAuthForms(): void {
  bindForm(
    'panel-sign-in',
    'login-error',
    (data) => client.login(text(data, 'email').trim(), text(data, 'password')).catch(askForSecondFactor),
    (data) => (text(data, 'email').trim() === '' || text(data, 'password') === '' ? 'Enter your email and password.' : undefined),
  );

  // The second step of a sign-in answered `mfa_required`: a 6-digit code, or a recovery code.
  bindForm(
    'panel-mfa',
    'mfa-error',
    async (data) => {
      const entered = text(data, 'code').trim();
      await client.completeSecondFactor(pendingTicket, /^[0-9]{6}$/.test(entered) ? { code: entered } : { recoveryCode: entered });
      byId('panel-mfa').hidden = true;
    },
    (data) => (text(data, 'code').trim() === '' ? 'Enter the code from your authenticator app, or a recovery code.' : undefined),
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
}
