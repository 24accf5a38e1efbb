/**
 * What may be shown of a setting or an error in a message or a log line: secrets never, URLs
 * without their password. Every config error and every logged Redis error or URL goes through here.
 */

/** Variables whose value is a secret: a config error names them and shows `<redacted>`. */
export const SECRET_VARIABLES: ReadonlySet<string> = new Set(['METRICS_TOKEN', 'JTS_STATE_PROOF_SECRET', 'REDIS_PASSWORD', 'JTS_WEBHOOK_SECRET']);

export const REDACTED = '<redacted>';

/**
 * `scheme://user:password@` (or a bare `//:password@`, as ioredis prints a URL it took for a path),
 * anywhere in a text. The password ends at the last `@` before the host, so one holding `@`, `/`
 * or `:` is hidden whole.
 */
const URL_CREDENTIALS = /((?:[a-z][a-z0-9+.-]*:)?\/\/[^\s/?#@:]*):[^\s]*@(?=[^\s@]*(?:[\s/?#]|$))/gi;

/** `text` with the password of every URL in it replaced by `***` (the user name stays). */
export function redactUrlCredentials(text: string): string {
  return text.replace(URL_CREDENTIALS, '$1:***@');
}

/** A variable's value as a config error may quote it: JSON-quoted, `<redacted>` for a secret, URLs without passwords. */
export function shownValue(name: string, value: string | undefined): string {
  if (SECRET_VARIABLES.has(name) && value !== undefined && value !== '') return REDACTED;
  // A connection string in key=value form (`host=db password=…`) is no URL: keep it out whole.
  if (value !== undefined && /password\s*=/i.test(value)) return REDACTED;
  return JSON.stringify(redactUrlCredentials(value ?? ''));
}

/**
 * An error from a Redis client as a log line may carry it: its message (and code) with every URL
 * password and every literal `secrets` (the configured password, the URL's password, raw and
 * percent-decoded) replaced by `***`. No stack: a connection problem is not a bug.
 */
export function redactRedisError(error: unknown, secrets: { url?: string | undefined; password?: string | undefined }): { message: string; code?: string } {
  const message = error instanceof Error ? error.message : String(error);
  const code = typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
  return { message: redactSecrets(redactUrlCredentials(message), secretsOf(secrets)), ...(code === undefined ? {} : { code }) };
}

/** The literal secrets of a Redis configuration, longest first. */
function secretsOf({ url, password }: { url?: string | undefined; password?: string | undefined }): string[] {
  const found = new Set<string>();
  if (password !== undefined && password !== '') found.add(password);
  const fromUrl = url === undefined ? undefined : /\/\/[^/?#@]*:([^\s]*)@/.exec(url)?.[1];
  if (fromUrl !== undefined && fromUrl !== '') {
    found.add(fromUrl);
    try {
      found.add(decodeURIComponent(fromUrl));
    } catch {
      // Not percent-encoded text: the raw form is enough.
    }
  }
  return [...found].sort((a, b) => b.length - a.length);
}

function redactSecrets(text: string, secrets: readonly string[]): string {
  return secrets.reduce((result, secret) => result.split(secret).join('***'), text);
}
