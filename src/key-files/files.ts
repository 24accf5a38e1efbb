import { randomBytes, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { StartupError } from '../config/startup-error.js';
import type { JtsAlgorithm } from '../jts/algorithms.js';
import { KeyRing, type KeyInput } from '../jts/key-ring.js';
import { MIN_SECRET_BYTES } from '../jts/state-proof.js';
import { generatePemKeyPair } from './generate.js';

/** A key or secret file that is missing, unreadable, malformed or unusable; one line naming it and the fix. */
export class KeyFileError extends StartupError {
  override readonly name = 'KeyFileError';
  readonly code = 'key_file_unusable';

  constructor(problem: string, options: { cause?: unknown } = {}) {
    super([problem], options);
  }
}

export interface KeyFiles {
  algorithm: JtsAlgorithm;
  privateKeyPath: string;
  publicKeyPath: string;
  previousPublicKeys: readonly { alg: JtsAlgorithm; path: string }[];
}

/** Writes a key pair; the private key is readable by its owner only. Refuses to overwrite unless `force`. */
export async function writeKeyPair(files: Pick<KeyFiles, 'privateKeyPath' | 'publicKeyPath'>, alg: JtsAlgorithm, options: { force: boolean; rsaBits?: number }): Promise<void> {
  for (const path of [files.privateKeyPath, files.publicKeyPath]) {
    if (!options.force && existsSync(path)) {
      throw new KeyFileError(`${path} exists (npm start creates a development pair there on its first run); pass --force to replace it, or --name to write a new pair beside it for a rotation`);
    }
  }
  const pair = await generatePemKeyPair(alg, options.rsaBits);
  await mkdir(dirname(files.privateKeyPath), { recursive: true });
  await mkdir(dirname(files.publicKeyPath), { recursive: true });
  await writeFile(files.privateKeyPath, pair.privateKeyPem, { mode: 0o600 });
  // `mode` applies only when the file is created; an overwritten file keeps its old mode.
  await chmod(files.privateKeyPath, 0o600);
  await writeFile(files.publicKeyPath, pair.publicKeyPem, { mode: 0o644 });
}

/**
 * Loads the signing key and any retiring public keys into a key ring. Outside production a
 * missing signing key is generated (with a warning) so that `npm start` works on a bare machine;
 * in production it is fatal.
 */
export async function loadKeyRing(files: KeyFiles, options: { production: boolean; logger: Logger }): Promise<KeyRing> {
  const missing = !existsSync(files.privateKeyPath);
  if (missing) {
    if (options.production) {
      throw new KeyFileError(`JTS_PRIVATE_KEY_PATH=${files.privateKeyPath}: no signing key there; create one with "npm run keygen" and mount it`);
    }
    options.logger.warn({ path: files.privateKeyPath, alg: files.algorithm }, 'no signing key found: generating a development key (never do this in production)');
    await writeKeyPair(files, files.algorithm, { force: true });
  }
  const privateKey = parseKey(await readKeyFile(files.privateKeyPath, 'JTS_PRIVATE_KEY_PATH'), 'private', files.privateKeyPath, 'JTS_PRIVATE_KEY_PATH');
  const publicKey = existsSync(files.publicKeyPath) ? parseKey(await readKeyFile(files.publicKeyPath, 'JTS_PUBLIC_KEY_PATH'), 'public', files.publicKeyPath, 'JTS_PUBLIC_KEY_PATH') : createPublicKey(privateKey);
  const inputs: KeyInput[] = [{ alg: files.algorithm, privateKey, publicKey }];
  for (const previous of files.previousPublicKeys) {
    inputs.push({ alg: previous.alg, publicKey: parseKey(await readKeyFile(previous.path, 'JTS_PREVIOUS_PUBLIC_KEYS'), 'public', previous.path, 'JTS_PREVIOUS_PUBLIC_KEYS') });
  }
  try {
    return await KeyRing.from(inputs);
  } catch (error) {
    // The key ring (src/jts) knows no files; name them here, with the way out.
    throw new KeyFileError(`JTS_PRIVATE_KEY_PATH=${files.privateKeyPath}: the signing keys cannot be used (${(error as Error).message}); check JTS_ALGORITHM and the key files, or create a pair with "npm run keygen"`, { cause: error });
  }
}

function parseKey(pem: string, half: 'private' | 'public', path: string, variable: string): KeyObject {
  try {
    return half === 'private' ? createPrivateKey(pem) : createPublicKey(pem);
  } catch (error) {
    throw new KeyFileError(`${variable}=${path}: not a PEM ${half} key (${(error as Error).message}); create a pair with "npm run keygen"`, { cause: error });
  }
}

async function readKeyFile(path: string, variable: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new KeyFileError(`${variable}=${path}: cannot read it (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/**
 * The StateProof secret: JTS_STATE_PROOF_SECRET (base64/base64url, ≥ 32 bytes) or the file at
 * JTS_STATE_PROOF_SECRET_PATH. Outside production a missing file is generated.
 */
export async function loadStateProofSecret(source: { value: string | undefined; path: string }, options: { production: boolean; logger: Logger }): Promise<Buffer> {
  if (source.value !== undefined) return decodeSecret(source.value, 'JTS_STATE_PROOF_SECRET');
  if (!existsSync(source.path)) {
    if (options.production) {
      throw new KeyFileError(`JTS_STATE_PROOF_SECRET is unset and ${source.path} does not exist; create one with "npm run keygen -- --secret"`);
    }
    options.logger.warn({ path: source.path }, 'no StateProof secret found: generating a development secret');
    await writeSecretFile(source.path, { force: true });
  }
  return decodeSecret((await readFile(source.path, 'utf8')).trim(), 'JTS_STATE_PROOF_SECRET_PATH');
}

export async function writeSecretFile(path: string, options: { force: boolean }): Promise<void> {
  if (!options.force && existsSync(path)) {
    throw new KeyFileError(`${path} exists (npm start creates a development secret there on its first run); pass --force to replace it, which ends every session`);
  }
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600 });
  await chmod(path, 0o600);
}

function decodeSecret(value: string, variable: string): Buffer {
  const bytes = Buffer.from(value, /^[A-Za-z0-9_-]+$/.test(value) ? 'base64url' : 'base64');
  if (bytes.length < MIN_SECRET_BYTES) {
    throw new KeyFileError(`${variable}: the StateProof secret must decode to at least ${MIN_SECRET_BYTES} bytes (got ${bytes.length}); generate one with "npm run keygen -- --secret"`);
  }
  return bytes;
}
