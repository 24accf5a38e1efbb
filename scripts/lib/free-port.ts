import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { randomInt } from 'node:crypto';

/**
 * Ports handed out here come from below the kernel's ephemeral range. A port taken by `listen(0)`
 * comes from that range, and so does the local port of every outgoing connection: between closing
 * the probe and a child process binding the port, any connect() in the machine could take it (the
 * e2e server then dies with EADDRINUSE). Below the range, only another listener can.
 */
const LOWEST = 10_000;

/** The first port of Linux's ephemeral range, or undefined when it cannot be read. */
function readEphemeralStart(): number | undefined {
  try {
    const first = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(first) ? first : undefined;
  } catch {
    return undefined;
  }
}

const EPHEMERAL_START = readEphemeralStart();

/** Listens on `port` (0: the kernel picks) and closes again; the port it got, or undefined when taken. */
function listenOnce(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.unref();
    probe.once('error', () => {
      resolve(undefined);
    });
    probe.listen(port, '127.0.0.1', () => {
      const address = probe.address();
      const bound = typeof address === 'object' && address ? address.port : undefined;
      probe.close(() => {
        resolve(bound);
      });
    });
  });
}

/** A loopback TCP port that is free now and that no outgoing connection will take. */
export async function freePort(): Promise<number> {
  if (EPHEMERAL_START !== undefined && EPHEMERAL_START - LOWEST >= 1000) {
    for (let attempt = 0; attempt < 100; attempt++) {
      const port = await listenOnce(randomInt(LOWEST, EPHEMERAL_START));
      if (port !== undefined) return port;
    }
  }
  const port = await listenOnce(0);
  if (port === undefined) throw new Error('no free TCP port on 127.0.0.1');
  return port;
}
