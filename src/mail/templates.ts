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

/** A moment as a mail shows it: minutes, UTC, unambiguous in every locale ("2026-12-01 03:45 UTC"). */
export function utcMinute(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** A notice's lines, said the same in text and HTML: each entry one paragraph, escaped for HTML. */
function notice(subject: string, paragraphs: string[]): { subject: string; text: string[]; html: string[] } {
  return { subject, text: paragraphs.flatMap((p, i) => (i === 0 ? [p] : ['', p])), html: paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`) };
}

const NOT_YOU = 'If this was not you, reset your password now (use "Forgot password" in the app) and check your signed-in devices.';

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
    case 'token-theft': {
      // Every value shown came from a client (its User-Agent) or from our own formatting: flattened
      // to one line, and escaped by notice() for HTML.
      const ended = mail.ended.map((s) => `- ${oneLine(s.device) || 'A session'}${s.signedInAt === undefined ? '' : `, signed in ${utcMinute(s.signedInAt)}`}`);
      return notice('Security alert: a stolen session token was used', [
        `On ${utcMinute(mail.at)} a session token of your account was presented again after it had already been used. That happens when someone copied it from one of your devices (malware, a shared computer, a leaked backup).`,
        `It was presented by: ${oneLine(mail.presentedBy.device) || 'Unknown client'}, network ${oneLine(mail.presentedBy.network)}.`,
        `We ended ${mail.ended.length === 1 ? 'this session' : `these ${String(mail.ended.length)} sessions`} at once; the token no longer works:`,
        ...ended,
        `What to do: change your password (or reset it if you cannot sign in), check the devices signed in to your account, and remove software you do not trust from the device above. Then sign in again at ${mail.appUrl}`,
        'If you just signed in again on that device yourself, you can ignore the first part of this advice, but still change your password if you did not expect this.',
      ]);
    }
    case 'password-changed':
      return notice('Your password was changed', [
        `The password of your account was changed from a signed-in session.${mail.signedOut > 0 ? ` ${mail.signedOut === 1 ? 'One other session was' : `${String(mail.signedOut)} other sessions were`} signed out.` : ''}`,
        `${NOT_YOU} Sign in at ${mail.appUrl}`,
      ]);
    case 'password-reset-completed':
      return notice('Your password was reset', ['A reset link was used to set a new password for your account, and every signed-in device was signed out.', `${NOT_YOU} Sign in at ${mail.appUrl}`]);
    case 'email-change':
      return {
        subject: 'Confirm your new email address',
        text: [
          'Someone signed in to your account asked to make this address its email address. Open this link, signed in to that account, to confirm:',
          mail.link,
          '',
          `The link works once, for ${duration(mail.expiresInMinutes)}. Until then your account keeps its current address. If you did not ask for this, ignore this mail; nothing changes.`,
        ],
        html: [
          '<p>Someone signed in to your account asked to make this address its email address. Confirm it while signed in to that account:</p>',
          `<p><a href="${escapeHtml(mail.link)}">Use this address for my account</a></p>`,
          `<p>The link works once, for ${duration(mail.expiresInMinutes)}. Until then your account keeps its current address. If you did not ask for this, ignore this mail; nothing changes.</p>`,
        ],
      };
    case 'email-change-taken':
      return notice('Someone tried to use your email address', [
        'Someone signed in to another account here asked to make this address that account\'s email address. This address already belongs to your account, so nothing changed and nothing more will happen.',
        `If that was you, you already have an account with this address: sign in at ${mail.appUrl} (or use "Forgot password"). Otherwise you can ignore this mail.`,
      ]);
    case 'email-changed': {
      const what = notice('Your email address was changed', [
        `On ${utcMinute(mail.at)} the email address of your account was changed from this one to ${mail.newEmail}, from a session that had just signed in, and the new address was confirmed. Reset links, sign-in codes and notices now go there.`,
      ]);
      if (!mail.undo) {
        const never = "This address was never verified for the account, so it cannot undo the change. If this was not you, contact the site's support.";
        return { ...what, text: [...what.text, '', never], html: [...what.html, `<p>${escapeHtml(never)}</p>`] };
      }
      const ok = 'If this was you, there is nothing to do.';
      const undo = `If it was not you, open this link: your account gets this address back, every device is signed out and you will choose a new password. It works once, for ${duration(mail.undo.expiresInMinutes)}.`;
      return {
        ...what,
        text: [...what.text, '', ok, undo, mail.undo.link],
        html: [...what.html, `<p>${ok}</p>`, `<p>${escapeHtml(undo)}</p>`, `<p><a href="${escapeHtml(mail.undo.link)}">This wasn't me</a></p>`],
      };
    }
    case 'email-verified':
      return notice('Your email address was verified', ['This address is now verified for your account: reset links and sign-in codes come here.', `If you did not do this, reset your password now at ${mail.appUrl}`]);
  }
}
