/**
 * A mail failure as text fit for a log line or the notice outbox's `last_error`: an SMTP server's
 * reply often names the recipient ("550 5.1.1 <ada@example.com>: Recipient address rejected"), and
 * logs and stored errors never name a person, so every address keeps only its domain ("…@example.com",
 * the same rule as the `domain` log field). At most 200 characters.
 */
export function mailErrorText(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/[^\s<>()[\]"',;:@]+@([A-Za-z0-9.-]+)/g, '…@$1').slice(0, 200);
}
