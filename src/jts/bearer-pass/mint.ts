import { sign } from 'node:crypto';
import { algorithmSpec, cryptoKeyInput } from '../algorithms.js';
import type { Clock } from '../clock.js';
import { seconds } from '../clock.js';
import type { KeyRing } from '../key-ring.js';
import { randomBase64url } from '../random.js';
import { JTS_TYP, MAX_GRACE_SECONDS, type BearerPassClaims } from './claims.js';

export interface BearerPassIssuerOptions {
  keyRing: KeyRing;
  clock: Clock;
  lifetimeSeconds: number;
  issuer?: string;
  audience?: string | string[];
  /** `grc` put in every token; capped at 60 (JTS.md). */
  graceSeconds?: number;
}

/**
 * What the caller decides; the issuer adds ids, times, issuer and audience. An `aud` given here
 * replaces the issuer's (tokens /jts/token issues for another service).
 */
export type BearerPassSubject = Pick<BearerPassClaims, 'prn' | 'aid'> &
  Partial<Pick<BearerPassClaims, 'aud' | 'perm' | 'org' | 'atm' | 'ath' | 'spl' | 'dfp' | 'scope' | 'act' | 'amr' | 'auth_time' | 'email_verified'>>;

export interface MintedBearerPass {
  token: string;
  claims: BearerPassClaims;
  expiresIn: number;
}

export type BearerPassIssuer = (subject: BearerPassSubject) => MintedBearerPass;

/**
 * Signs BearerPasses with the key ring's active key. Signing uses node:crypto with the
 * `KeyObject` parsed at start-up: a JWS is only `base64url(header).base64url(payload).sig`, and
 * this path runs on every login and renew (see bench/README.md for the measured difference).
 */
export function createBearerPassIssuer(options: BearerPassIssuerOptions): BearerPassIssuer {
  const { keyRing, clock, lifetimeSeconds, issuer, audience } = options;
  const grace = options.graceSeconds === undefined ? undefined : Math.min(options.graceSeconds, MAX_GRACE_SECONDS);
  const signer = keyRing.signer;
  const { hash } = algorithmSpec(signer.alg);
  const keyInput = cryptoKeyInput(signer.alg, signer.privateKey);
  const encodedHeader = Buffer.from(JSON.stringify({ alg: signer.alg, typ: JTS_TYP, kid: signer.kid })).toString('base64url');

  return function mintBearerPass(subject) {
    const iat = seconds(clock.now());
    const claims: BearerPassClaims = {
      prn: subject.prn,
      aid: subject.aid,
      tkn_id: randomBase64url(16),
      iat,
      exp: iat + lifetimeSeconds,
      ...(issuer === undefined ? {} : { iss: issuer }),
      ...(subject.aud !== undefined ? { aud: subject.aud } : audience === undefined ? {} : { aud: audience }),
      ...(subject.perm === undefined ? {} : { perm: subject.perm }),
      ...(grace === undefined || grace === 0 ? {} : { grc: grace }),
      ...(subject.org === undefined ? {} : { org: subject.org }),
      ...(subject.atm === undefined ? {} : { atm: subject.atm }),
      ...(subject.ath === undefined ? {} : { ath: subject.ath }),
      ...(subject.spl === undefined ? {} : { spl: subject.spl }),
      ...(subject.dfp === undefined ? {} : { dfp: subject.dfp }),
      ...(subject.scope === undefined ? {} : { scope: subject.scope }),
      ...(subject.act === undefined ? {} : { act: { sub: subject.act.sub } }),
      ...(subject.amr === undefined ? {} : { amr: subject.amr }),
      ...(subject.auth_time === undefined ? {} : { auth_time: subject.auth_time }),
      ...(subject.email_verified === undefined ? {} : { email_verified: subject.email_verified }),
    };
    const signingInput = `${encodedHeader}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
    const signature = sign(hash, Buffer.from(signingInput), keyInput);
    return { token: `${signingInput}.${signature.toString('base64url')}`, claims, expiresIn: lifetimeSeconds };
  };
}
