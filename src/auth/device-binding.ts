import { createHash } from 'node:crypto';

/**
 * Device binding (JTS.md, "Non-browser clients"): a native app sends X-JTS-Device-ID at login,
 * the session keeps only its hash, and renewals must present the same id.
 */

/**
 * SHA-256 of an X-JTS-Device-ID, base64url (43 characters): what the session stores and the
 * BearerPass carries in `dfp`. Undefined when no device id was sent.
 */
export function hashDeviceId(deviceId: string | undefined): string | undefined {
  return deviceId === undefined ? undefined : createHash('sha256').update(deviceId).digest('base64url');
}

/**
 * Whether a renewal presenting `deviceId` may go on: a session bound at login (`boundHash`)
 * renews only from that device (no id at all is a mismatch); an unbound session from any.
 */
export function deviceAccepted(boundHash: string | undefined, deviceId: string | undefined): boolean {
  return boundHash === undefined || boundHash === hashDeviceId(deviceId);
}
