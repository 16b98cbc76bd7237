import { createServer, type Server } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMessage {
  to: string[];
  /** The message with quoted-printable soft breaks and escapes undone, for reading in tests. */
  text: string;
  subject: string;
}

export interface SmtpInstance {
  url: string;
  port: number;
  messages: ReceivedMessage[];
  stop(): Promise<void>;
  /** Listens again on the same port (after stop). */
  start(): Promise<void>;
}

async function freePort(): Promise<number> {
  const probe: Server = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

function decodeQuotedPrintable(raw: string): string {
  return raw
    .replace(/=\r?\n/g, '')
    .replace(/(?:=[0-9A-F]{2})+/g, (m) => Buffer.from(m.replace(/=/g, ''), 'hex').toString('utf8'));
}

function decodeSubject(raw: string): string {
  const line = /^Subject: (.*(?:\r?\n[ \t].*)*)/m.exec(raw)?.[1] ?? '';
  return line
    .replace(/\r?\n[ \t]/g, ' ')
    .replace(/=\?utf-8\?Q\?([^?]*)\?=/gi, (_, q: string) => decodeQuotedPrintable(q.replace(/_/g, ' ')))
    .replace(/=\?utf-8\?B\?([^?]*)\?=/gi, (_, b: string) => Buffer.from(b, 'base64').toString('utf8'))
    .replace(/\?=\s+=\?/g, '');
}

export interface SmtpServerOptions {
  /**
   * Serve TLS with this certificate and key (PEM): from the first byte (`smtps`, the URL is
   * smtps://) or after STARTTLS, which the URL then requires.
   */
  tls?: { certPem: string; keyPem: string; mode: 'smtps' | 'starttls' };
}

/** A real SMTP server (the smtp-server package) on a loopback port that keeps what it receives. */
export async function startSmtpServer(options: SmtpServerOptions = {}): Promise<SmtpInstance> {
  const { tls } = options;
  const port = await freePort();
  const messages: ReceivedMessage[] = [];
  let server: SMTPServer | undefined;
  const start = async () => {
    server = new SMTPServer({
      authOptional: true,
      ...(tls ? { key: tls.keyPem, cert: tls.certPem, secure: tls.mode === 'smtps' } : { disabledCommands: ['STARTTLS'] }),
      logger: false,
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          messages.push({ to: session.envelope.rcptTo.map((r) => r.address), text: decodeQuotedPrintable(raw), subject: decodeSubject(raw) });
          callback();
        });
      },
    });
    await new Promise<void>((resolve, reject) => {
      server!.once('error', reject);
      server!.listen(port, '127.0.0.1', () => resolve());
    });
  };
  await start();
  return {
    url: tls?.mode === 'smtps' ? `smtps://127.0.0.1:${port}` : tls ? `smtp://127.0.0.1:${port}?starttls=required` : `smtp://127.0.0.1:${port}?starttls=never`,
    port,
    messages,
    start,
    stop: () => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())),
  };
}
