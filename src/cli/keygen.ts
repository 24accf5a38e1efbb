import 'dotenv/config';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { envSchema } from '../config/schema.js';
import { isJtsAlgorithm, JTS_ALGORITHMS, MIN_RSA_BITS, algorithmSpec, type JtsAlgorithm } from '../jts/algorithms.js';
import { createRingKey } from '../jts/key-ring.js';
import { writeKeyPair, writeSecretFile } from '../key-files/files.js';
import { ConfigError } from '../config/startup-error.js';
import { parseOptions, runCli, UsageError } from './args.js';

const DEFAULT_RSA_BITS = 3072;
/** Beyond this, generation takes minutes and buys nothing over 4096 for JWS. */
const MAX_RSA_BITS = 16384;

const USAGE = `Usage: npm run keygen -- [options]

Creates the BearerPass signing key pair (default) or the StateProof secret (--secret).

Key pair options:
  --alg ALG            ${JTS_ALGORITHMS.join(', ')} (default: JTS_ALGORITHM, else ES256)
  --rsa-bits N         RSA modulus for RS*/PS* (default ${DEFAULT_RSA_BITS}, at least ${MIN_RSA_BITS})
  --out-private PATH   private key file (default: JTS_PRIVATE_KEY_PATH, ./keys/signing-key.pem)
  --out-public PATH    public key file (default: JTS_PUBLIC_KEY_PATH, ./keys/signing-key.pub.pem)
  --dir DIR            write DIR/NAME.pem and DIR/NAME.pub.pem instead
  --name NAME          base name used with --dir (default: signing-key)

StateProof secret options:
  --secret             write a 32-byte random secret instead of a key pair
  --out-secret PATH    secret file (default: JTS_STATE_PROOF_SECRET_PATH, ./keys/state-proof.secret)

Common:
  --force              replace existing files (otherwise keygen refuses and exits 1)
  --help               show this text

Private keys and secrets are written with mode 0600. See keys/README.md for key rotation.
`;

const OPTIONS = {
  alg: { type: 'string' },
  'rsa-bits': { type: 'string' },
  'out-private': { type: 'string' },
  'out-public': { type: 'string' },
  dir: { type: 'string' },
  name: { type: 'string' },
  secret: { type: 'boolean' },
  'out-secret': { type: 'string' },
  force: { type: 'boolean' },
  help: { type: 'boolean' },
} as const;

type Values = ReturnType<typeof parseOptions<typeof OPTIONS>>['values'];

/**
 * Only the variables keygen needs are read, so that a half-configured environment (e.g. a
 * production shell without REDIS_URL) can still create keys; defaults come from the one schema.
 */
const keygenEnv = envSchema.pick({
  JTS_ALGORITHM: true,
  JTS_PRIVATE_KEY_PATH: true,
  JTS_PUBLIC_KEY_PATH: true,
  JTS_STATE_PROOF_SECRET: true,
  JTS_STATE_PROOF_SECRET_PATH: true,
});

function readEnv() {
  const result = keygenEnv.safeParse(process.env);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => {
        const name = String(issue.path[0] ?? '?');
        return `${name}=${JSON.stringify(process.env[name] ?? '')}: ${issue.message}`;
      }),
    );
  }
  return result.data;
}

async function main(): Promise<void> {
  const { values } = parseOptions(process.argv.slice(2), OPTIONS);
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const env = readEnv();
  if (values.secret) await generateSecret(values, env);
  else await generateKeyPair(values, env);
}

async function generateSecret(values: Values, env: ReturnType<typeof readEnv>): Promise<void> {
  const keyOptions = ['alg', 'rsa-bits', 'out-private', 'out-public', 'dir', 'name'] as const;
  const misplaced = keyOptions.find((option) => values[option] !== undefined);
  if (misplaced) throw new UsageError(`--${misplaced} applies to key pairs, not to --secret`);
  const path = values['out-secret'] ?? env.JTS_STATE_PROOF_SECRET_PATH;
  const force = values.force ?? false;
  const replaced = existsSync(path);
  await writeSecretFile(path, { force });
  // writeFile's mode only applies when it creates the file; a replaced one keeps its old mode.
  await chmod(path, 0o600);
  process.stdout.write(`StateProof secret written to ${path} (mode 0600)\n\nEnvironment:\n  JTS_STATE_PROOF_SECRET_PATH=${path}\n`);
  if (env.JTS_STATE_PROOF_SECRET !== undefined) {
    process.stderr.write('note: JTS_STATE_PROOF_SECRET is set and takes precedence over the file; unset it to use the file\n');
  }
  if (replaced) {
    process.stderr.write('note: the old secret was replaced; every StateProof issued with it is now invalid, so every user must log in again\n');
  }
}

async function generateKeyPair(values: Values, env: ReturnType<typeof readEnv>): Promise<void> {
  if (values['out-secret'] !== undefined) throw new UsageError('--out-secret needs --secret');
  const alg = parseAlgorithm(values.alg?.toUpperCase() ?? env.JTS_ALGORITHM);
  const rsaBits = parseRsaBits(alg, values['rsa-bits']);
  const paths = outputPaths(values, env);
  const force = values.force ?? false;
  const replaced = existsSync(paths.privateKeyPath) || existsSync(paths.publicKeyPath);

  await writeKeyPair(paths, alg, { force, rsaBits });
  await chmod(paths.privateKeyPath, 0o600);

  // Reading the files back proves they load the way the server will load them, and the ring key
  // gives the exact kid (RFC 7638 thumbprint) the server will publish.
  const privateKey = createPrivateKey(await readFile(paths.privateKeyPath, 'utf8'));
  const publicKey = createPublicKey(await readFile(paths.publicKeyPath, 'utf8'));
  const key = await createRingKey({ alg, privateKey, publicKey });

  // A new pair beside the signing key in use is a rotation: publishing it comes first, and the
  // switch only once every verifier's cached key set holds it (README, Key rotation).
  const rotation = paths.privateKeyPath !== env.JTS_PRIVATE_KEY_PATH && existsSync(env.JTS_PRIVATE_KEY_PATH);
  const previous = [process.env.JTS_PREVIOUS_PUBLIC_KEYS, `${alg}:${paths.publicKeyPath}`].filter((entry) => entry !== undefined && entry !== '').join(',');
  const next = rotation
    ? [
        'Rotation, step 1 — publish first: on every instance set',
        `  JTS_PREVIOUS_PUBLIC_KEYS=${previous}`,
        'and restart them one by one. Keep signing with the current key.',
        'Step 2, once every verifier has fetched it (the JWKS cache life, 1 h + 60 s) — switch signing:',
        `  JTS_ALGORITHM=${alg}`,
        `  JTS_PRIVATE_KEY_PATH=${paths.privateKeyPath}`,
        `  JTS_PUBLIC_KEY_PATH=${paths.publicKeyPath}`,
        `and move the old public key (${env.JTS_PUBLIC_KEY_PATH}) into JTS_PREVIOUS_PUBLIC_KEYS in its place.`,
      ]
    : ['Environment:', `  JTS_ALGORITHM=${alg}`, `  JTS_PRIVATE_KEY_PATH=${paths.privateKeyPath}`, `  JTS_PUBLIC_KEY_PATH=${paths.publicKeyPath}`];
  process.stdout.write([`kid: ${key.kid}`, `alg: ${alg}`, `private key: ${paths.privateKeyPath} (mode 0600)`, `public key: ${paths.publicKeyPath}`, '', ...next, ''].join('\n'));
  if (replaced) {
    process.stderr.write('note: an existing key was replaced; BearerPasses signed with it no longer verify (keys/README.md describes rotation without an outage)\n');
  }
}

function parseAlgorithm(value: string): JtsAlgorithm {
  if (!isJtsAlgorithm(value)) throw new UsageError(`--alg ${JSON.stringify(value)}: expected one of ${JTS_ALGORITHMS.join(', ')}`);
  return value;
}

function parseRsaBits(alg: JtsAlgorithm, value: string | undefined): number {
  if (value === undefined) return DEFAULT_RSA_BITS;
  if (algorithmSpec(alg).family === 'EC') throw new UsageError(`--rsa-bits does not apply to ${alg}, whose key size is fixed by its curve`);
  const bits = /^[0-9]+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(bits) || bits < MIN_RSA_BITS || bits > MAX_RSA_BITS) {
    throw new UsageError(`--rsa-bits ${JSON.stringify(value)}: expected a whole number from ${MIN_RSA_BITS} to ${MAX_RSA_BITS}`);
  }
  return bits;
}

function outputPaths(values: Values, env: ReturnType<typeof readEnv>): { privateKeyPath: string; publicKeyPath: string } {
  const explicit = values['out-private'] !== undefined || values['out-public'] !== undefined;
  const named = values.dir !== undefined || values.name !== undefined;
  if (explicit && named) throw new UsageError('use either --out-private/--out-public or --dir/--name, not both');
  if (explicit) {
    // One path alone would pair a new private key with whatever public key sits at the default path.
    if (values['out-private'] === undefined || values['out-public'] === undefined) {
      throw new UsageError('--out-private and --out-public go together');
    }
    return { privateKeyPath: values['out-private'], publicKeyPath: values['out-public'] };
  }
  if (named) {
    const dir = values.dir ?? dirname(env.JTS_PRIVATE_KEY_PATH);
    const name = values.name ?? 'signing-key';
    if (name === '' || /[/\\]/.test(name)) throw new UsageError(`--name ${JSON.stringify(name)}: expected a file name without directories`);
    return { privateKeyPath: join(dir, `${name}.pem`), publicKeyPath: join(dir, `${name}.pub.pem`) };
  }
  return { privateKeyPath: env.JTS_PRIVATE_KEY_PATH, publicKeyPath: env.JTS_PUBLIC_KEY_PATH };
}

runCli('keygen', main);
