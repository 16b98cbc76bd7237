import nodemailer from 'nodemailer';
import { describeTlsError } from '../tls/tls-error.ts';

export interface OutgoingEmail {
  to: string;
  subject: string;
  text: string;
  html: string;
}

/** A refusal the server will repeat (a 5xx answer): retrying cannot help. */
export class PermanentMailError extends Error {}

export interface Mailer {
  send(email: OutgoingEmail): Promise<void>;
  close(): void;
}

export interface SmtpTlsOptions {
  /** PEM CA certificates the relay's certificate must chain to (TESSERA_SMTP_CA_FILE); unset: the system's CAs. */
  ca?: string | undefined;
}

/**
 * SMTP delivery from a URL: `smtp://user:pass@host:587?starttls=required` (STARTTLS),
 * `smtps://user:pass@host:465` (TLS from the start), `smtp://host:25` (plain, for a local relay).
 * Certificates are always checked (chain and host name), against `tls.ca` when given; a rejected
 * certificate fails the send with a message naming the problem (unknown CA, wrong name, expired).
 */
export function smtpMailer(url: string, from: string, tls: SmtpTlsOptions = {}): Mailer {
  const u = new URL(url);
  if (u.protocol !== 'smtp:' && u.protocol !== 'smtps:') throw new Error('TESSERA_SMTP_URL must start with smtp:// or smtps://');
  const secure = u.protocol === 'smtps:';
  const transport = nodemailer.createTransport({
    host: u.hostname,
    port: u.port ? Number(u.port) : secure ? 465 : 587,
    secure,
    requireTLS: u.searchParams.get('starttls') === 'required',
    ignoreTLS: u.searchParams.get('starttls') === 'never',
    ...(u.username ? { auth: { user: decodeURIComponent(u.username), pass: decodeURIComponent(u.password) } } : {}),
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 20_000,
    tls: { rejectUnauthorized: true, ...(tls.ca ? { ca: tls.ca } : {}) },
  });
  return {
    async send(email) {
      try {
        await transport.sendMail({ from, to: email.to, subject: email.subject, text: email.text, html: email.html });
      } catch (error) {
        const code = (error as { responseCode?: number }).responseCode;
        if (typeof code === 'number' && code >= 500) throw new PermanentMailError((error as Error).message);
        // nodemailer reports a socket failure as code ESOCKET and keeps Node's code in originalCode.
        const { originalCode, message } = error as { originalCode?: unknown; message?: unknown };
        const certificate = describeTlsError(typeof originalCode === 'string' ? { code: originalCode, message } : error);
        if (certificate) throw new Error(`cannot send through ${u.host}: ${certificate}`, { cause: error });
        throw error;
      }
    },
    close: () => transport.close(),
  };
}
