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
function ephemeralStart(): number | undefined {
  try {
    const first = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(first) ? first : undefined;
  } catch {
    return undefined;
  }
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.unref();
    probe.once('error', () => {
      resolve(false);
    });
    probe.listen(port, '127.0.0.1', () => {
      probe.close(() => {
        resolve(true);
      });
    });
  });
}

function kernelChosenPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.unref();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => {
        resolve(port);
      });
    });
  });
}

/** A loopback TCP port that is free now and that no outgoing connection will take. */
export async function freePort(): Promise<number> {
  const end = ephemeralStart();
  if (end !== undefined && end - LOWEST >= 1000) {
    for (let attempt = 0; attempt < 100; attempt++) {
      const port = randomInt(LOWEST, end);
      if (await canListen(port)) return port;
    }
  }
  return kernelChosenPort();
}
