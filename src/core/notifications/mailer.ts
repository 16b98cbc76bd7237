import nodemailer from 'nodemailer';

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

/**
 * SMTP delivery from a URL: `smtp://user:pass@host:587?starttls=required` (STARTTLS),
 * `smtps://user:pass@host:465` (TLS from the start), `smtp://host:25` (plain, for a local relay).
 */
export function smtpMailer(url: string, from: string): Mailer {
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
  });
  return {
    async send(email) {
      try {
        await transport.sendMail({ from, to: email.to, subject: email.subject, text: email.text, html: email.html });
      } catch (error) {
        const code = (error as { responseCode?: number }).responseCode;
        if (typeof code === 'number' && code >= 500) throw new PermanentMailError((error as Error).message);
        throw error;
      }
    },
    close: () => transport.close(),
  };
}
