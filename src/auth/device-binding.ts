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
 * Whether a request presenting a StateProof (renewal, logout) may go on. A session bound at login
 * (`boundHash`) is used only from that device (no id at all is a mismatch). An unbound session,
 * which only a browser opens, is used only through its cookie: a StateProof copied out of a cookie
 * into the `X-JTS-StateProof` header has no device to match and is refused (JTS.md: native clients
 * send the StateProof together with the device id bound at login).
 */
export function deviceAccepted(boundHash: string | undefined, client: { deviceId?: string | undefined; stateProofVia?: 'cookie' | 'header' | undefined }): boolean {
  if (boundHash === undefined) return client.stateProofVia !== 'header';
  return boundHash === hashDeviceId(client.deviceId);
}
