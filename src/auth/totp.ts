import { Secret, TOTP } from 'otpauth';
import QRCode from 'qrcode';

/**
 * RFC 6238 TOTP with the parameters every authenticator app assumes when an otpauth:// URI names
 * none: HMAC-SHA-1, 6 digits, 30-second steps. `otpauth` does the HOTP/TOTP arithmetic and the
 * constant-time comparison; the time always comes from the caller's Clock.
 */
const PERIOD_SECONDS = 30;
const DIGITS = 6;
/** RFC 6238 §5.2: one step either side absorbs clock drift and the time it takes to type a code. */
const DRIFT_STEPS = 1;

export const TOTP_CODE_PATTERN = /^[0-9]{6}$/;

/** A new 160-bit secret (RFC 4226 §4 recommends 160 bits), base32 as authenticator apps take it. */
export function newTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

function totpOf(secretBase32: string, label = 'account', issuer = ''): TOTP {
  return new TOTP({ issuer, label, algorithm: 'SHA1', digits: DIGITS, period: PERIOD_SECONDS, secret: Secret.fromBase32(secretBase32) });
}

/** The `otpauth://totp/…` URI an app scans (Key Uri Format): issuer and account name shown in the app. */
export function totpUri(secretBase32: string, accountName: string, issuer: string): string {
  return totpOf(secretBase32, accountName, issuer).toString();
}

/**
 * The time step `code` belongs to, when it is the right code for a step within ±1 of `now`
 * (milliseconds since the epoch); undefined otherwise. Whether the step was used already is the
 * store's to decide (SecondFactorStore.acceptTotpStep).
 */
export function matchTotp(secretBase32: string, code: string, now: number): number | undefined {
  if (!TOTP_CODE_PATTERN.test(code)) return undefined;
  const totp = totpOf(secretBase32);
  const delta = totp.validate({ token: code, timestamp: now, window: DRIFT_STEPS });
  return delta === null ? undefined : totp.counter({ timestamp: now }) + delta;
}

/** The URI as an SVG QR code (a string, safe to inline: the SVG holds only paths). */
export function qrSvg(uri: string): Promise<string> {
  return QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
}
