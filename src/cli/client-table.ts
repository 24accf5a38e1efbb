import type { ServiceClient } from '../accounts/sql-client-store.js';

/** `npm run client -- list`: the clients as an aligned plain-text table, without secrets or hashes. */

const COLUMNS = ['id', 'audience', 'scopes', 'disabled', 'rotation'] as const;

/** `now` in milliseconds: a rotation whose previous secret has expired is shown as over. */
export function formatClientTable(clients: readonly ServiceClient[], now: number): string {
  if (clients.length === 0) return 'no clients\n';
  const rows = clients.map((client) => [
    client.id,
    client.audience,
    client.scopes.join(',') || '-',
    client.disabled ? 'yes' : 'no',
    client.previousSecretExpiresAt !== undefined && client.previousSecretExpiresAt > now ? `previous secret valid until ${new Date(client.previousSecretExpiresAt).toISOString()}` : '-',
  ]);
  const widths = COLUMNS.map((column, index) => Math.max(column.length, ...rows.map((row) => row[index]?.length ?? 0)));
  const line = (cells: readonly string[]) => cells.map((cell, index) => cell.padEnd(widths[index] ?? 0)).join('  ').trimEnd();
  return [line(COLUMNS), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n') + '\n';
}
