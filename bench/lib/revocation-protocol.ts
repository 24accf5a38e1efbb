/** Messages between bench/revocation.ts and its verifier process (bench/revocation-verifier.ts). */
import type { FeedStatus } from '@jts-auth/verifier';

export type VerifierRequest =
  /** Check these BearerPasses once (all should be accepted before their sessions are revoked). */
  | { type: 'precheck'; tokens: string[] }
  /** `token`'s session was revoked; its HTTP answer arrived at `answeredAt` (wall-clock ms, sub-ms). */
  | { type: 'watch'; id: number; token: string; answeredAt: number }
  | { type: 'stats' }
  | { type: 'stop' };

export interface WatchResult {
  id: number;
  /** The first answer other than acceptance (JTS-401-04 expected), or 'accepted' when it never came. */
  code: string;
  /** From the revocation's HTTP answer to that answer of verify(). */
  latencyMs: number;
  /** verify() calls made for it. */
  checks: number;
}

export type VerifierReply =
  | { type: 'ready'; heapUsed: number; status: FeedStatus }
  | { type: 'precheck'; accepted: number; refusals: Record<string, number> }
  | { type: 'results'; results: WatchResult[] }
  | { type: 'stats'; heapUsed: number; status: FeedStatus; pending: number; events: Record<string, number> };
