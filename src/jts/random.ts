import { randomFillSync } from 'node:crypto';

/**
 * Random bytes for ids and IVs, drawn from a buffer the CSPRNG refills 4 KiB at a time (as
 * Node's own randomUUID does). On this project's machine randomBytes(16) costs ~4.5 µs and a draw
 * from the pool ~0.3 µs; a renewal needs two draws. Every byte is handed out once, and callers
 * get copies, never a view of the pool.
 */
const POOL_BYTES = 4096;
const pool = Buffer.alloc(POOL_BYTES);
let next = POOL_BYTES;

function draw(size: number): number {
  if (!Number.isInteger(size) || size <= 0 || size > POOL_BYTES) throw new RangeError(`cannot draw ${size} random bytes from the pool`);
  if (next + size > POOL_BYTES) {
    randomFillSync(pool);
    next = 0;
  }
  const start = next;
  next += size;
  return start;
}

/** `size` fresh random bytes, base64url-encoded. */
export function randomBase64url(size: number): string {
  const start = draw(size);
  return pool.toString('base64url', start, start + size);
}

/** `size` fresh random bytes in a buffer of their own. */
export function randomBuffer(size: number): Buffer {
  const start = draw(size);
  return Buffer.from(pool.subarray(start, start + size));
}
