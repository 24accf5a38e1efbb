import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Job, JobMessage, ReplyMessage } from './protocol.js';

const ROOT = resolve(__dirname, '..', '..');

/** The load generator (bench/load-worker.ts) as a child process, pinned to `cpu` when given; one job at a time over IPC. */
export class LoadWorker {
  private next = 1;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (message: ReplyMessage) => {
      const waiter = this.pending.get(message.id);
      if (!waiter) return;
      this.pending.delete(message.id);
      if (message.ok) waiter.resolve(message.result);
      else waiter.reject(new Error(`load worker: ${message.error}`));
    });
    child.once('exit', (code) => {
      for (const waiter of this.pending.values()) waiter.reject(new Error(`load worker exited (${String(code)})`));
      this.pending.clear();
    });
  }

  static async start(cpu: number | undefined): Promise<LoadWorker> {
    const args = ['--import', 'tsx', join(ROOT, 'bench', 'load-worker.ts')];
    const [command, argv] = cpu === undefined ? [process.execPath, args] : ['taskset', ['-c', String(cpu), process.execPath, ...args]];
    const child = spawn(command, argv, { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const worker = new LoadWorker(child);
    await new Promise<void>((resolveReady, reject) => {
      worker.pending.set(0, {
        resolve: () => {
          resolveReady();
        },
        reject,
      });
    });
    return worker;
  }

  run<T>(job: Job): Promise<T> {
    const id = this.next++;
    return new Promise<T>((resolveJob, reject) => {
      this.pending.set(id, { resolve: resolveJob as (value: unknown) => void, reject });
      this.child.send({ id, job } satisfies JobMessage);
    });
  }

  stop(): void {
    if (this.child.connected) this.child.disconnect();
    this.child.kill('SIGTERM');
  }
}

/** User + system CPU time of a process (all its threads) in ms, from /proc; undefined where there is no /proc. */
export function cpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 of stat (utime, stime), counted from after the command name: indexes 11 and 12.
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}
const CLOCK_TICKS = 100;
