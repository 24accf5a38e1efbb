import { Writable } from 'node:stream';
import { Registry } from 'prom-client';
import { createLogger } from '../../src/observability/logger';
import { MailSender } from '../../src/mail/sender';
import { smtpTransport } from '../../src/mail/transport';
import { duration, escapeHtml, oneLine, renderMail } from '../../src/mail/templates';
import { SmtpSink } from '../support/smtp-sink';
import { freePort } from '../../scripts/lib/free-port';

function memoryLogger() {
  const lines: string[] = [];
  const logger = createLogger({
    level: 'info',
    pretty: false,
    destination: new Writable({
      write(chunk: Buffer, _encoding, callback) {
        lines.push(chunk.toString());
        callback();
      },
    }),
  });
  return { logger, lines };
}

const RESET = { kind: 'reset-password', to: 'ada@example.com', name: 'Ada', link: 'https://app.example/#reset=SECRET-TOKEN', expiresInMinutes: 30 } as const;

async function counted(registry: Registry, outcome: string): Promise<number> {
  const metric = await registry.getSingleMetric('jts_mail_total')?.get();
  return metric?.values.find((v) => v.labels.kind === 'reset-password' && v.labels.outcome === outcome)?.value ?? 0;
}

describe('MailSender', () => {
  let sink: SmtpSink;
  beforeAll(async () => {
    sink = await SmtpSink.start();
  });
  afterAll(async () => {
    await sink.close();
  });

  it('retries a transient refusal and delivers, counting the retry; the reply naming the recipient is logged masked', async () => {
    const registry = new Registry();
    const { logger, lines } = memoryLogger();
    const transport = smtpTransport(sink.url);
    const sender = new MailSender({ transport, from: 'Auth <auth@example.com>', productName: 'Example', logger, registry, retryDelayMs: 5 });
    sink.failNext(1);
    const mail = sink.next('ada@example.com');
    sender.send(RESET);
    expect((await mail).parsed.subject).toBe('Reset your password — Example');
    await sender.idle();
    await expect(counted(registry, 'retried')).resolves.toBe(1);
    await expect(counted(registry, 'sent')).resolves.toBe(1);
    const log = lines.join('');
    expect(log).toContain('mail not sent; will retry');
    expect(log).toContain('…@example.com');
    expect(log).not.toContain('ada@');
    transport.close();
  });

  it('gives up after three tries: logged without the link, counted as failed, never thrown', async () => {
    const registry = new Registry();
    const { logger, lines } = memoryLogger();
    // Nothing listens on this port: every try is refused.
    const transport = smtpTransport(`smtp://127.0.0.1:${await freePort()}`);
    const sender = new MailSender({ transport, from: 'Auth <auth@example.com>', productName: 'Example', logger, registry, retryDelayMs: 1 });
    expect(() => {
      sender.send(RESET);
    }).not.toThrow();
    await sender.idle();
    await expect(counted(registry, 'failed')).resolves.toBe(1);
    await expect(counted(registry, 'retried')).resolves.toBe(2);
    const log = lines.join('');
    expect(log).toContain('mail not sent; giving up');
    expect(log).toContain('"domain":"example.com"');
    expect(log).not.toContain('SECRET-TOKEN');
    expect(log).not.toContain('ada@');
    transport.close();
  });

  it('drops mail past its queue bound rather than queueing without limit', async () => {
    const registry = new Registry();
    const { logger } = memoryLogger();
    const never = { deliver: () => new Promise<void>(() => undefined), close: () => undefined };
    const sender = new MailSender({ transport: never, from: 'a@example.com', productName: 'Example', logger, registry, maxPending: 2 });
    for (let i = 0; i < 3; i++) sender.send(RESET);
    await expect(counted(registry, 'dropped')).resolves.toBe(1);
  });
});

describe('mail templates', () => {
  it('escapes HTML and flattens control characters of a name', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&#60;a href=&#34;x&#34;&#62;&#39;&#38;&#39;&#60;/a&#62;');
    expect(oneLine('Eve\r\nBcc: x@example.com\u2028\u0000')).toBe('Eve Bcc: x@example.com');
  });

  it('puts no user input in the subject', () => {
    const mail = renderMail({ ...RESET, name: 'Subject: hijack\r\n' }, 'Example');
    expect(mail.subject).toBe('Reset your password — Example');
    expect(mail.text).toContain('Hello Subject: hijack,');
  });

  it('renders a sign-in code in both bodies', () => {
    const mail = renderMail({ kind: 'sign-in-code', to: 'a@example.com', name: '', code: '012345', expiresInMinutes: 10 }, 'Example');
    expect(mail.subject).toBe('Your sign-in code — Example');
    expect(mail.text).toContain('Hello there,\n\nYour sign-in code is 012345');
    expect(mail.html).toContain('<strong style="font-size:1.4em;letter-spacing:0.1em">012345</strong>');
  });

  it('says a lifetime as people do: hours or days when whole, else minutes', () => {
    expect(renderMail({ ...RESET, expiresInMinutes: 1440 }, 'Example').text).toContain('The link works once, for 24 hours.');
    expect(renderMail({ ...RESET, expiresInMinutes: 30 }, 'Example').html).toContain('The link works once, for 30 minutes.');
    expect([1, 60, 90, 2880, 4320 + 60].map(duration)).toEqual(['1 minute', '1 hour', '90 minutes', '2 days', '73 hours']);
  });
});
