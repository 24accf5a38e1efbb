import { describe, expect, it } from '@jest/globals';
import { EventStreamParser, type ServerSentEvent } from '@jts-auth/verifier/internal/events/sse.js';
import { RevokedSessions } from '@jts-auth/verifier/internal/events/revocations.js';
import { ManualClock } from '../../src/jts/clock';

const STREAM = '\uFEFF: connected\r\n\r\nid: 1-0\r\nevent: set\r\ndata: eyJ.a.b\r\n\r\n: keepalive\n\nid: 2-0\nevent: gap\ndata: {"oldest":\ndata: "1-0"}\n\nid: 3-0\n\nretry: 10\rdata:no-space\r\r';

function parseInChunks(text: string, cuts: number[]): ServerSentEvent[] {
  const parser = new EventStreamParser();
  const events: ServerSentEvent[] = [];
  let at = 0;
  for (const cut of [...cuts, text.length]) {
    events.push(...parser.push(text.slice(at, cut)));
    at = cut;
  }
  return events;
}

describe('the event-stream parser', () => {
  const expected = [
    { type: 'set', data: 'eyJ.a.b', lastEventId: '1-0' },
    { type: 'gap', data: '{"oldest":\n"1-0"}', lastEventId: '2-0' },
    // An id without data dispatches nothing but is remembered; CR alone ends lines too.
    { type: 'message', data: 'no-space', lastEventId: '3-0' },
  ];

  it('reads events, comments, multi-line data, ids and every line ending', () => {
    expect(parseInChunks(STREAM, [])).toEqual(expected);
  });

  it('gives the same events however the bytes are split (CRLF cut in two included)', () => {
    for (let cut = 0; cut <= STREAM.length; cut++) expect(parseInChunks(STREAM, [cut])).toEqual(expected);
    expect(parseInChunks(STREAM, Array.from({ length: STREAM.length }, (_, i) => i))).toEqual(expected);
  });

  it('refuses a line longer than any event of the feed instead of buffering it', () => {
    const parser = new EventStreamParser();
    expect(() => parser.push(`data: ${'x'.repeat(70_000)}`)).toThrow(/too long/);
  });
});

describe('the revoked-session memory', () => {
  it('forgets sessions and event ids after jts_not_after plus the tolerance', () => {
    const clock = new ManualClock(Date.UTC(2026, 11, 1));
    const revoked = new RevokedSessions(clock, 5000);
    const notAfter = clock.now() / 1000 + 60;
    for (let i = 0; i < 1000; i++) expect(revoked.revoke(`jti-${i}`, `aid-${i}`, notAfter)).toBe('revoked');
    expect(revoked.revoke('jti-5', 'aid-5', notAfter)).toBe('duplicate');
    expect(revoked.entries).toBe(2000);
    clock.advance(65_000);
    expect(revoked.has('aid-5')).toBe(true);
    clock.advance(1);
    expect(revoked.has('aid-5')).toBe(false);
    expect(revoked.revoke('jti-6', 'aid-6', notAfter)).toBe('expired');
    // The next revocation sweeps both maps: only its own entries are left.
    clock.advance(30_000);
    expect(revoked.revoke('later', 'aid-later', clock.now() / 1000 + 60)).toBe('revoked');
    expect(revoked.entries).toBe(2);
  });
});
