import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import dockerignore from '@balena/dockerignore';

const ROOT = join(__dirname, '..', '..');

/** The build context as Docker computes it from .dockerignore (Docker's own matching rules, via @balena/dockerignore). */
function context() {
  const rules = dockerignore({ ignorecase: false }).add(readFileSync(join(ROOT, '.dockerignore'), 'utf8'));
  return { included: (path: string) => !rules.ignores(path) };
}

const tracked = execFileSync('git', ['ls-files'], { cwd: ROOT, encoding: 'utf8' }).trim().split('\n');

describe('the Docker build context', () => {
  const { included } = context();

  it('holds every committed file the image builds from: sources, the page and its styles and icon', () => {
    const needed = tracked.filter((path) => /^(src|public|scripts|packages\/verifier\/src)\//.test(path) || ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'tsconfig.client.json', 'packages/verifier/package.json', 'packages/verifier/tsconfig.json'].includes(path));
    expect(needed).toEqual(expect.arrayContaining(['public/assets/styles.css', 'public/assets/favicon.svg', 'public/index.html', 'packages/verifier/src/index.ts', 'packages/verifier/package.json']));
    expect(needed.filter((path) => !included(path))).toEqual([]);
  });

  it('leaves out secrets, local state and build output', () => {
    for (const path of ['.env', '.env.production', 'keys/signing-key.pem', 'keys/state-proof.secret', 'node_modules/x/index.js', 'dist/server.js', 'packages/verifier/dist/index.js', 'jts-auth-verifier-0.1.0.tgz', 'public/assets/jts-client.js', 'public/assets/app.js.map', '.git/config', 'test-output/e2e/a.png']) {
      expect([path, included(path)]).toEqual([path, false]);
    }
    expect(included('.env.example')).toBe(true);
  });
});
