/**
 * Reads one base64url segment of a compact JWS (its header or its payload) as a JSON object,
 * **without verifying anything**: what it returns is only as trustworthy as the signature
 * check that came (or will come) with it.
 *
 * @param encoded - the segment as it appears between the dots. Callers that must refuse
 *   non-canonical input check its alphabet first: `Buffer` decodes base64url leniently and
 *   skips characters outside it.
 * @returns the decoded object, or undefined when the segment is not JSON or is JSON but not an
 *   object (`null`, an array, a string, a number). Never throws.
 */
export function decodeSegment(encoded: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
