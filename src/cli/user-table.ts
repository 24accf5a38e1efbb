import type { User } from '../users/types.js';

/** `npm run user -- list`: the users as an aligned plain-text table. */

const COLUMNS = ['id', 'email', 'name', 'permissions', 'disabled'] as const;

export function formatTable(users: User[]): string {
  if (users.length === 0) return 'no users\n';
  const rows = users.map((user) => [user.id, user.email, user.name, formatPermissions(user.permissions), user.disabled ? 'yes' : 'no'].map(printable));
  const widths = COLUMNS.map((column, index) => Math.max(column.length, ...rows.map((row) => row[index]?.length ?? 0)));
  const line = (cells: readonly string[]) => cells.map((cell, index) => cell.padEnd(widths[index] ?? 0)).join('  ').trimEnd();
  return [line(COLUMNS), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n') + '\n';
}

export function formatPermissions(permissions: readonly string[]): string {
  return permissions.length === 0 ? '-' : permissions.join(',');
}

/**
 * Names come from self-registration; control and bidi characters in them could rewrite the
 * operator's terminal, so they are shown as "?".
 */
function printable(value: string): string {
  return value.replace(/[\p{Cc}\p{Cf}]/gu, '?');
}
