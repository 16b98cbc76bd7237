import { domainToASCII } from 'node:url';

/**
 * The value an email address takes in LDAP's `mail` attribute, or undefined when it cannot be
 * written there. `mail` is an IA5 String (ASCII only; RFC 4524 §2.16, as `rfc822Mailbox` in
 * cosine.schema), so slapd refuses an internationalised address (RFC 6531) and, with it, the whole
 * add or modify of the entry. A domain in Unicode is written in its ASCII (IDNA, `xn--`) form, which
 * names the same mailbox; an address whose local part is not ASCII has no such form and is left out
 * of `mail` (it stays on the person in Tessera).
 */
export function ldapMailValue(mail: string): string | undefined {
  const at = mail.lastIndexOf('@');
  if (at <= 0 || at === mail.length - 1) return isAscii(mail) ? mail : undefined;
  const local = mail.slice(0, at);
  if (!isAscii(local)) return undefined;
  const domain = mail.slice(at + 1);
  if (isAscii(domain)) return mail;
  const ascii = domainToASCII(domain);
  return ascii === '' ? undefined : `${local}@${ascii}`;
}

function isAscii(text: string): boolean {
  return /^[\x00-\x7f]*$/.test(text);
}
