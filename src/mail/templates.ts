import type { AccountMail } from '../auth/account-mail.js';

/** A rendered mail: the subject holds no user input; both bodies say the same. */
export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

/** HTML-escapes the five characters that can change markup (OWASP XSS prevention, rule 1). */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * A display name as a mail may show it: control characters (CR, LF, tabs, NUL…) become spaces, so
 * a name can never start a new line of a header or fake a new paragraph, and it is cut to 100
 * characters.
 */
export function oneLine(value: string): string {
  return value
    .replace(/[\p{Cc}\p{Zl}\p{Zp}]+/gu, ' ')
    .trim()
    .slice(0, 100);
}

/** Renders `mail` signed with `product` (MAIL_PRODUCT_NAME, validated as one line at start-up). */
export function renderMail(mail: AccountMail, product: string): RenderedMail {
  const name = oneLine(mail.name) || 'there';
  const lines = bodyOf(mail);
  const text = [`Hello ${name},`, '', ...lines.text, '', `— ${product}`, ''].join('\n');
  const html = [
    '<!doctype html><html><body style="font-family:sans-serif">',
    `<p>Hello ${escapeHtml(name)},</p>`,
    ...lines.html,
    `<p>— ${escapeHtml(product)}</p>`,
    '</body></html>',
  ].join('\n');
  return { subject: `${lines.subject} — ${product}`, text, html };
}

/**
 * A lifetime as people say it: whole days or hours when it is one ("24 hours" reads badly as
 * "1440 minutes", the verification link's default), else minutes. Singular for one.
 */
export function duration(minutes: number): string {
  const unit = (count: number, name: string) => `${count} ${name}${count === 1 ? '' : 's'}`;
  if (minutes >= 2 * 1440 && minutes % 1440 === 0) return unit(minutes / 1440, 'day');
  if (minutes >= 60 && minutes % 60 === 0) return unit(minutes / 60, 'hour');
  return unit(minutes, 'minute');
}

const IGNORE = 'If you did not ask for this, ignore this mail; nothing changes.';

function bodyOf(mail: AccountMail): { subject: string; text: string[]; html: string[] } {
  switch (mail.kind) {
    case 'verify-email':
      return {
        subject: 'Verify your email address',
        text: ['Open this link to confirm that this address is yours:', mail.link, '', `The link works once, for ${duration(mail.expiresInMinutes)}.`, IGNORE],
        html: [
          '<p>Confirm that this address is yours:</p>',
          `<p><a href="${escapeHtml(mail.link)}">Verify my email address</a></p>`,
          `<p>The link works once, for ${duration(mail.expiresInMinutes)}. ${IGNORE}</p>`,
        ],
      };
    case 'reset-password':
      return {
        subject: 'Reset your password',
        text: ['Open this link to choose a new password:', mail.link, '', `The link works once, for ${duration(mail.expiresInMinutes)}. Every signed-in device will be signed out.`, IGNORE],
        html: [
          '<p>Choose a new password:</p>',
          `<p><a href="${escapeHtml(mail.link)}">Reset my password</a></p>`,
          `<p>The link works once, for ${duration(mail.expiresInMinutes)}. Every signed-in device will be signed out. ${IGNORE}</p>`,
        ],
      };
    case 'sign-in-code':
      return {
        subject: 'Your sign-in code',
        text: [`Your sign-in code is ${mail.code}`, '', `It works once, for ${duration(mail.expiresInMinutes)}. Never give it to anyone.`, IGNORE],
        html: [`<p>Your sign-in code is <strong style="font-size:1.4em;letter-spacing:0.1em">${escapeHtml(mail.code)}</strong></p>`, `<p>It works once, for ${duration(mail.expiresInMinutes)}. Never give it to anyone. ${IGNORE}</p>`],
      };
    case 'new-sign-in': {
      const when = `${mail.at.slice(0, 10)} ${mail.at.slice(11, 16)} UTC`;
      const facts = [`Device: ${mail.device}`, `Network: ${mail.network}`, `Time: ${when}`];
      const ok = 'If this was you, there is nothing to do.';
      const notMe = `If it was not you, open this link: every device will be signed out and you will choose a new password. It works once, for ${duration(mail.expiresInMinutes)}.`;
      return {
        subject: 'New sign-in to your account',
        text: ['Your account was just signed in to from a device we have not seen recently:', '', ...facts, '', ok, notMe, mail.link],
        html: [
          '<p>Your account was just signed in to from a device we have not seen recently:</p>',
          `<ul>${facts.map((fact) => `<li>${escapeHtml(fact)}</li>`).join('')}</ul>`,
          `<p>${ok}</p>`,
          `<p>${escapeHtml(notMe)}</p>`,
          `<p><a href="${escapeHtml(mail.link)}">This wasn't me</a></p>`,
        ],
      };
    }
    case 'second-factor-changed': {
      if (mail.factor === 'passkey') {
        const what = mail.change === 'added' ? 'A passkey was added to your account: it signs you in, alone or after your password.' : 'A passkey was removed from your account.';
        const warn = 'If this was not you, reset your password now and tell us.';
        return { subject: mail.change === 'added' ? 'Passkey added' : 'Passkey removed', text: [what, '', warn], html: [`<p>${what}</p>`, `<p>${warn}</p>`] };
      }
      const what = mail.change === 'added' ? 'An authenticator app was set up as a second sign-in step for your account.' : 'The authenticator app was removed from your account: signing in needs only your password again.';
      const warn = 'If this was not you, reset your password now and tell us.';
      return { subject: mail.change === 'added' ? 'Authenticator added' : 'Authenticator removed', text: [what, '', warn], html: [`<p>${what}</p>`, `<p>${warn}</p>`] };
    }
  }
}
