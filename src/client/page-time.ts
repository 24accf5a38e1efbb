const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

/**
 * "2 minutes ago", "yesterday", … in the browser's language. A time less than a minute ahead (the
 * server's clock running a little fast) reads as "now" rather than "in 5 seconds".
 */
export function ago(iso: string): string {
  const seconds = Math.round((new Date(iso).getTime() - Date.now()) / 1000);
  if (Math.abs(seconds) < 60) return relative.format(Math.min(0, seconds), 'second');
  if (Math.abs(seconds) < 3600) return relative.format(Math.round(seconds / 60), 'minute');
  if (Math.abs(seconds) < 86_400) return relative.format(Math.round(seconds / 3600), 'hour');
  return relative.format(Math.round(seconds / 86_400), 'day');
}
