import { randomBase64url, randomBuffer } from '../../src/jts/random';

describe('pooled randomness', () => {
  it('never hands out the same bytes twice, across many refills of the pool', () => {
    // 16 bytes × 5000 = 20 pools' worth.
    const ids = Array.from({ length: 5000 }, () => randomBase64url(16));
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.every((id) => /^[A-Za-z0-9_-]{22}$/.test(id))).toBe(true);
  });

  it('gives each caller a buffer of its own that later draws and refills leave alone', () => {
    const iv = randomBuffer(12);
    const copy = Buffer.from(iv);
    for (let i = 0; i < 1000; i++) randomBuffer(12);
    expect(iv.equals(copy)).toBe(true);
    const mine = randomBuffer(12);
    mine.fill(0);
    expect(randomBuffer(12).equals(Buffer.alloc(12))).toBe(false);
  });

  it('looks uniform: every byte value turns up about equally often', () => {
    const counts = new Array<number>(256).fill(0);
    for (let i = 0; i < 4096; i++) for (const byte of randomBuffer(64)) counts[byte]! += 1;
    // 1024 expected per value; ±25 % is more than 7 standard deviations.
    expect(Math.min(...counts)).toBeGreaterThan(768);
    expect(Math.max(...counts)).toBeLessThan(1280);
  });

  it.each([0, -1, 1.5, 4097])('refuses to draw %p bytes', (size) => {
    expect(() => randomBuffer(size)).toThrow(RangeError);
    expect(() => randomBase64url(size)).toThrow(RangeError);
  });
});
