import { render } from 'preact-render-to-string';
import type { Notice, Notifier } from '../../../core/notifications/notification.service.ts';
import type { StoredToken } from '../tokens/service-token.repository.ts';

/**
 * The texts of service-token notices, as plain text and as simple HTML rendered with escaping, so
 * CO, service and label names cannot inject markup. None of them ever carries a secret.
 */
export interface TokenFacts {
  coId: string;
  coName: string;
  personId: string;
  serviceName: string;
  label: string;
  displayHint: string;
  expiresAt: string | null;
  publicUrl: string;
}

/** What a notice says about a token: its CO, service, label, hint and expiry, never its secret. */
export function tokenFacts(notifier: Pick<Notifier, 'publicUrl'>, coName: string, serviceName: string, t: StoredToken): TokenFacts {
  return { coId: t.coId, coName, personId: t.personId, serviceName, label: t.label, displayHint: t.displayHint, expiresAt: t.expiresAt, publicUrl: notifier.publicUrl };
}

function tokensLink(f: TokenFacts): string {
  return `/cos/${f.coId}/people/${f.personId}/service-tokens`;
}

function when(iso: string | null): string {
  return iso ? `${iso.replace('T', ' ').slice(0, 16)} UTC` : 'never';
}

function html(title: string, lines: string[], link: { href: string; label: string }): string {
  return `<!doctype html>${render(
    <html lang="en">
      <body style="font-family: sans-serif; line-height: 1.5">
        <h1 style="font-size: 18px">{title}</h1>
        {lines.map((l) => (
          <p>{l}</p>
        ))}
        <p>
          <a href={link.href}>{link.label}</a>
        </p>
      </body>
    </html>,
  )}`;
}

function notice(f: TokenFacts, kind: string, subject: string, lines: string[], linkLabel: string): Notice {
  const href = `${f.publicUrl}${tokensLink(f)}`;
  return {
    coId: f.coId,
    personId: f.personId,
    kind: `service_token_${kind}`,
    subject,
    text: `${lines.join('\n\n')}\n\n${linkLabel}: ${href}\n`,
    html: html(subject, lines, { href, label: linkLabel }),
    link: tokensLink(f),
  };
}

function describe(f: TokenFacts): string {
  return `Service: ${f.serviceName}. Label: “${f.label}”. Token: ${f.displayHint}. Expires: ${when(f.expiresAt)}.`;
}

/** The notice that a token was made, by the person or (`byOther`) on their behalf. */
export function tokenCreatedNotice(f: TokenFacts, byOther: string | undefined): Notice {
  return notice(
    f,
    'created',
    `A service token for ${f.serviceName} was created`,
    [
      byOther
        ? `${byOther} created a service token for you in ${f.coName}, on your behalf.`
        : `You created a service token in ${f.coName}.`,
      describe(f),
      'If you did not expect this, revoke the token and tell an administrator of the CO.',
    ],
    'Your service tokens',
  );
}

/** The notice that a token was revoked, by whom and why. */
export function tokenRevokedNotice(f: TokenFacts, by: string, reason: string): Notice {
  return notice(
    f,
    'revoked',
    `A service token for ${f.serviceName} was revoked`,
    [`${by} revoked your service token “${f.label}” (${f.displayHint}) for ${f.serviceName} in ${f.coName}.`, reason ? `Reason: ${reason}.` : 'No reason was given.', 'Clients using it no longer sign in.'],
    'Your service tokens',
  );
}

/** The warning that a token expires in `days` days. */
export function tokenExpiringNotice(f: TokenFacts, days: number): Notice {
  return notice(
    f,
    'expiring',
    `Your service token for ${f.serviceName} expires in ${days} day${days === 1 ? '' : 's'}`,
    [`Your service token “${f.label}” (${f.displayHint}) for ${f.serviceName} in ${f.coName} expires on ${when(f.expiresAt)}.`, 'Generate a new one before then and put it in your client, so nothing stops working.'],
    'Renew it on your service tokens page',
  );
}

/** The notice that a token unused for a while is revoked on `revokeOn` (ISO) unless used before. */
export function tokenUnusedNotice(f: TokenFacts, idleDays: number, revokeOn: string): Notice {
  return notice(
    f,
    'unused',
    `Your unused service token for ${f.serviceName} will be revoked`,
    [
      `Your service token “${f.label}” (${f.displayHint}) for ${f.serviceName} in ${f.coName} has not been used for ${idleDays} day${idleDays === 1 ? '' : 's'}.`,
      `Unless it is used before ${when(revokeOn)}, it is revoked then. Nothing needs doing if you no longer need it.`,
    ],
    'Your service tokens',
  );
}
