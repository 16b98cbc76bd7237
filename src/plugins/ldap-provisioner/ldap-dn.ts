// Distinguished names (RFC 4514): escaping a value into an RDN, parsing a DN back into its parts,
// and comparing two DNs the way a directory would (attribute types and, for the naming attributes
// Tessera writes, values without regard to case).

import { foldLikeTheDirectory } from '../../core/text.ts';

/** Characters escaped with a backslash wherever they appear (RFC 4514 section 2.4, plus `=`). */
const SPECIAL = new Set([',', '+', '"', '\\', '<', '>', ';', '=']);

function hexEscape(ch: string): string {
  return [...Buffer.from(ch, 'utf8')].map((b) => `\\${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');
}

/**
 * Escapes an attribute value for use in an RDN: `,+"\<>;=` get a backslash, so do a leading `#`,
 * a leading space and a trailing space; NUL and other control characters become `\XX`. Other
 * characters, non-ASCII included, stay as they are (a DN is UTF-8).
 */
export function escapeDnValue(value: string): string {
  const chars = [...value];
  return chars
    .map((ch, i) => {
      if (SPECIAL.has(ch)) return `\\${ch}`;
      if (i === 0 && (ch === '#' || ch === ' ')) return `\\${ch}`;
      if (i === chars.length - 1 && ch === ' ') return '\\ ';
      const code = ch.codePointAt(0)!;
      if (code < 0x20 || code === 0x7f) return hexEscape(ch);
      return ch;
    })
    .join('');
}

/** `attribute=escaped value,baseDn`. */
export function buildDn(attribute: string, value: string, baseDn: string): string {
  return `${attribute}=${escapeDnValue(value)},${baseDn.trim()}`;
}

export interface Ava {
  type: string;
  value: string;
}

/** One RDN: usually one attribute-value pair, several when joined with `+`. */
export type Rdn = Ava[];

export class DnSyntaxError extends Error {}

/**
 * Parses a DN string into RDNs with unescaped values. Accepts `\X` and `\XX` escapes and spaces
 * around `,`, `+` and `=`; refuses what a directory would refuse (a missing `=`, a dangling `\`).
 */
export function parseDn(dn: string): Rdn[] {
  const rdns: Rdn[] = [];
  if (dn.trim() === '') return rdns;
  let i = 0;
  let rdn: Rdn = [];
  const fail = (why: string): never => {
    throw new DnSyntaxError(`Not a valid DN (${why}): ${dn}`);
  };
  for (;;) {
    while (dn[i] === ' ') i++;
    const typeStart = i;
    while (i < dn.length && dn[i] !== '=' && dn[i] !== ',' && dn[i] !== '+') i++;
    const type = dn.slice(typeStart, i).trim();
    if (dn[i] !== '=' || !/^([A-Za-z][A-Za-z0-9-]*|[0-9]+(\.[0-9]+)*)$/.test(type)) fail(`bad attribute type "${type}"`);
    i++;
    while (dn[i] === ' ') i++;
    const bytes: number[] = [];
    let trailingSpaces = 0;
    while (i < dn.length && dn[i] !== ',' && dn[i] !== '+') {
      const ch = dn[i]!;
      if (ch === '\\') {
        const next = dn[i + 1];
        if (next === undefined) fail('dangling backslash');
        if (/[0-9A-Fa-f]/.test(next!) && /[0-9A-Fa-f]/.test(dn[i + 2] ?? '')) {
          bytes.push(parseInt(dn.slice(i + 1, i + 3), 16));
          i += 3;
        } else {
          bytes.push(...Buffer.from(next!, 'utf8'));
          i += 2;
        }
        trailingSpaces = 0;
        continue;
      }
      const cp = dn.codePointAt(i)!;
      const s = String.fromCodePoint(cp);
      bytes.push(...Buffer.from(s, 'utf8'));
      trailingSpaces = ch === ' ' ? trailingSpaces + 1 : 0;
      i += s.length;
    }
    // Unescaped trailing spaces are not part of the value.
    const value = Buffer.from(bytes.slice(0, bytes.length - trailingSpaces)).toString('utf8');
    rdn.push({ type, value });
    if (dn[i] === '+') {
      i++;
      continue;
    }
    rdns.push(rdn);
    rdn = [];
    if (i >= dn.length) break;
    i++; // ','
  }
  return rdns;
}

/**
 * A DN in one spelling: types lowercased, values case-folded as caseIgnoreMatch folds them
 * (`foldLikeTheDirectory`: NFKC, lowercase) and re-escaped, no optional spaces.
 */
export function normalizeDn(dn: string): string {
  return parseDn(dn)
    .map((rdn) =>
      rdn
        .map((ava) => `${ava.type.toLowerCase()}=${escapeDnValue(foldLikeTheDirectory(ava.value))}`)
        .sort()
        .join('+'),
    )
    .join(',');
}

/**
 * Is `dn` the entry `subtree` or below it? RDN by RDN from the root, each compared after
 * normalization (`normalizeDn`), so `OU=People,DC=Example,DC=org` lies in `dc=example,dc=org`
 * while `ou=people,dc=example,dc=org.evil` and `dc=notexample,dc=org` do not (a string suffix
 * test would be fooled by both). Throws DnSyntaxError for a malformed DN.
 */
export function isWithinSubtree(dn: string, subtree: string): boolean {
  const rdns = (value: string) => parseDn(normalizeDn(value)).map((rdn) => rdn.map((ava) => `${ava.type}=${ava.value}`).join('+'));
  const inner = rdns(dn);
  const outer = rdns(subtree);
  if (outer.length === 0 || outer.length > inner.length) return false;
  const offset = inner.length - outer.length;
  return outer.every((rdn, i) => inner[offset + i] === rdn);
}

/** Do two DNs name the same entry? (Case-insensitively, as for uid, cn and mail.) */
export function sameDn(a: string, b: string): boolean {
  if (a === b) return true;
  try {
    return normalizeDn(a) === normalizeDn(b);
  } catch {
    return false;
  }
}

/** Splits a DN into its first RDN (as written) and the rest; the rest is '' for a one-RDN DN. */
export function splitFirstRdn(dn: string): { rdn: string; parent: string } {
  for (let i = 0; i < dn.length; i++) {
    if (dn[i] === '\\') {
      i++;
      continue;
    }
    if (dn[i] === ',') return { rdn: dn.slice(0, i), parent: dn.slice(i + 1).trim() };
  }
  return { rdn: dn, parent: '' };
}

/**
 * The new name to hand ldapts' modifyDN. ldapts splits it at the first comma not preceded by a
 * backslash, which would miss the separator after an RDN ending in an escaped backslash (`\\,`);
 * ending such an RDN with the equivalent `\5C` keeps its split right. When the parent is unchanged
 * only the RDN is sent, so nothing is split at all.
 */
export function modifyDnTarget(oldDn: string, newDn: string): string {
  const from = splitFirstRdn(oldDn);
  const to = splitFirstRdn(newDn);
  if (sameDn(from.parent, to.parent)) return to.rdn;
  const rdn = /(^|[^\\])(\\\\)+$/.test(to.rdn) ? `${to.rdn.slice(0, -2)}\\5C` : to.rdn;
  return `${rdn},${to.parent}`;
}
