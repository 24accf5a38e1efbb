import { execFile } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../scripts/lib/free-port';

const run = promisify(execFile);

/** Debian's PostgreSQL binaries (/usr/lib/postgresql/<version>/bin), newest version first. */
export function postgresBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((name) => /^\d+$/.test(name) && existsSync(join(root, name, 'bin', 'pg_ctl')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(root, versions[0], 'bin');
}

/**
 * A private PostgreSQL cluster the tests own: initdb into a temp dir, trust auth, loopback only,
 * a free port. PostgreSQL refuses to run as root, so as root it runs as the `postgres` user.
 * Tests that break PostgreSQL stop and start their own instance.
 */
export class PrivatePostgres {
  private readonly dir = mkdtempSync(join(tmpdir(), 'jts-pg-'));
  private readonly data = join(this.dir, 'data');
  private running = false;

  private constructor(
    private readonly bin: string,
    readonly port: number,
  ) {}

  static async start(): Promise<PrivatePostgres> {
    const bin = postgresBinDir();
    if (bin === undefined) throw new Error('PostgreSQL binaries not found under /usr/lib/postgresql/*/bin: install Debian\'s postgresql package, or set TEST_DATABASE_URL');
    for (let attempt = 1; ; attempt++) {
      const pg = new PrivatePostgres(bin, await freePort());
      try {
        await pg.init();
        await pg.start();
        return pg;
      } catch (error) {
        await pg.destroy();
        if (attempt === 3) throw error;
      }
    }
  }

  /** The `postgres` database as the `postgres` superuser. */
  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  private as(command: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
    const file = join(this.bin, command);
    if (userInfo().uid === 0) return run('runuser', ['-u', 'postgres', '--', file, ...args], { cwd: this.dir });
    return run(file, args, { cwd: this.dir });
  }

  private async init(): Promise<void> {
    if (userInfo().uid === 0) {
      const { stdout } = await run('id', ['-u', 'postgres']);
      const { stdout: gid } = await run('id', ['-g', 'postgres']);
      chownSync(this.dir, Number(stdout.trim()), Number(gid.trim()));
      chmodSync(this.dir, 0o700);
    }
    await this.as('initdb', ['-D', this.data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C.UTF-8']);
  }

  async start(): Promise<void> {
    if (this.running) return;
    // No synchronous_commit=off: an immediate stop (the outage tests) would lose the last commits.
    const options = `-c listen_addresses=127.0.0.1 -p ${this.port} -c unix_socket_directories=${this.dir} -c fsync=off -c full_page_writes=off -c max_connections=200`;
    await this.as('pg_ctl', ['-D', this.data, '-o', options, '-l', join(this.dir, 'log'), '-w', '-t', '30', 'start']);
    this.running = true;
  }

  /** Stops at once (immediate mode): connections are cut as in a crash or an outage. */
  async stop(): Promise<void> {
    if (!this.running) return;
    await this.as('pg_ctl', ['-D', this.data, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
    this.running = false;
  }

  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
