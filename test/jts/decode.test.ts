import { decodeSegment } from '../../src/jts/bearer-pass/decode';

const segment = (text: string) => Buffer.from(text, 'utf8').toString('base64url');

describe('decodeSegment', () => {
  it('returns the JSON object a segment encodes', () => {
    expect(decodeSegment(segment('{"alg":"ES256","kid":"k1","nested":{"a":[1]}}'))).toEqual({ alg: 'ES256', kid: 'k1', nested: { a: [1] } });
  });

  it('reads UTF-8 text', () => {
    expect(decodeSegment(segment('{"name":"Zoë ✓"}'))).toEqual({ name: 'Zoë ✓' });
  });

  it.each([
    ['JSON null', 'null'],
    ['a JSON array', '[{"kid":"k1"}]'],
    ['a JSON string', '"{\\"kid\\":\\"k1\\"}"'],
    ['a JSON number', '42'],
    ['JSON true', 'true'],
  ])('refuses %s: only an object is a JOSE header or a claims set', (_name, text) => {
    expect(decodeSegment(segment(text))).toBeUndefined();
  });

  it.each([
    ['text that is not JSON', segment('not json')],
    ['truncated JSON', segment('{"kid":"k1"')],
    ['an empty segment', ''],
    ['bytes that are not UTF-8 JSON', Buffer.from([0xff, 0xfe, 0x7b, 0x7d]).toString('base64url')],
  ])('returns undefined for %s instead of throwing', (_name, encoded) => {
    expect(decodeSegment(encoded)).toBeUndefined();
  });

  it('keeps "__proto__" as a plain own member, never as the object’s prototype', () => {
    const decoded = decodeSegment(segment('{"__proto__":{"kid":"injected"}}'));
    expect(decoded).toBeDefined();
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
    expect(decoded?.kid).toBeUndefined();
  });
});
