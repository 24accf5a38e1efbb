const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/**
 * True when `text` is the one spelling of some bytes in unpadded base64url (RFC 4648 §5, RFC 7515
 * §2): only the URL-safe alphabet, no padding, a length that whole bytes can have, and zero bits
 * where the last character holds fewer than six. Node's decoder is lenient about all of these, so
 * without this check one token has up to 16 spellings, and a service that blocks a token by its
 * exact text can be walked around (RFC 4648 §3.5: decoders MAY reject such input; we do).
 */
export function isCanonicalBase64url(text: string): boolean {
  if (!BASE64URL.test(text)) return false;
  const tail = text.length % 4;
  if (tail === 1) return false;
  if (tail === 0) return true;
  const last = ALPHABET.indexOf(text.charAt(text.length - 1));
  // 2 characters carry one byte (4 bits spare); 3 characters carry two bytes (2 bits spare).
  return (last & (tail === 2 ? 0x0f : 0x03)) === 0;
}
