// The one rule for text that enters Tessera, whatever the entry point (web forms, the REST API, the
// CLI, and the sources and SCIM to come): every text is stored in Unicode NFC; a one-line text holds
// no control character; a many-line text holds none but tab, line feed and carriage return; no text
// holds NUL (PostgreSQL cannot store it). Identifiers are compared the way the directory compares
// them, and are short enough to name a directory entry. Date-times are RFC 3339 with an offset.
import { z } from 'zod';

/** Control characters (Unicode category Cc: C0, DEL, C1) and the line and paragraph separators. */
const ONE_LINE_FORBIDDEN = /[\p{Cc}\u2028\u2029]/u;
/** The same, less tab, line feed and carriage return. */
const MANY_LINES_FORBIDDEN = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u2028\u2029]/;

function codePointName(ch: string): string {
  const names: Record<string, string> = { '\0': 'NUL', '\t': 'tab', '\n': 'line feed', '\r': 'carriage return', '\u001b': 'escape', '\u007f': 'delete' };
  const hex = ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
  return `U+${hex}${names[ch] ? ` (${names[ch]})` : ''}`;
}

/**
 * The first character the text rule refuses in `value`, described (`U+000A (line feed)`), or
 * undefined when there is none. `manyLines` allows tab, line feed and carriage return.
 */
export function forbiddenCharacterIn(value: string, manyLines = false): string | undefined {
  const m = (manyLines ? MANY_LINES_FORBIDDEN : ONE_LINE_FORBIDDEN).exec(value);
  return m ? codePointName(m[0]) : undefined;
}

function refuseControls(manyLines: boolean) {
  return (value: string, ctx: z.core.$RefinementCtx<string>) => {
    const bad = forbiddenCharacterIn(value, manyLines);
    if (bad) ctx.addIssue({ code: 'custom', message: `Contains a control character, ${bad}${manyLines ? '' : '; write it on one line'}`, abort: true });
  };
}

/**
 * A one-line text field: NFC, trimmed, no control character, at most `max` characters (UTF-16
 * code units, as zod counts), at least `min` when given. The field error names the character.
 */
export function oneLineText(opts: { min?: number; max: number }) {
  let s = z.string().normalize('NFC').superRefine(refuseControls(false)).trim().max(opts.max, `At most ${opts.max} characters`);
  if (opts.min) s = s.min(opts.min, opts.min === 1 ? 'Required' : `At least ${opts.min} characters`);
  return s;
}

/** A text of several lines (a description): as oneLineText, but tab, line feed and carriage return are allowed. */
export function manyLinesText(opts: { min?: number; max: number }) {
  let s = z.string().normalize('NFC').superRefine(refuseControls(true)).trim().max(opts.max, `At most ${opts.max} characters`);
  if (opts.min) s = s.min(opts.min, opts.min === 1 ? 'Required' : `At least ${opts.min} characters`);
  return s;
}

/**
 * Where in a JSON-like value (`a.b.0`, `(body)` for the value itself) a string holds a NUL
 * character, or undefined. Iterative, because a body may nest deeper than the call stack.
 */
export function nulCharacterPath(input: unknown): string | undefined {
  const stack: Array<[unknown, string]> = [[input, '']];
  while (stack.length > 0) {
    const [value, path] = stack.pop()!;
    if (typeof value === 'string') {
      if (value.includes('\u0000')) return path || '(body)';
    } else if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) stack.push([v, path ? `${path}.${k}` : k]);
    }
  }
  return undefined;
}

/** The field error for a NUL character, the same from every entry point. */
export const NUL_MESSAGE = 'Contains a control character, U+0000 (NUL)';

// ---------------------------------------------------------------------------------------------
// Identifiers

/**
 * Identifier types compared with regard to case. OpenID Connect Core 1.0 §2 makes `sub` a
 * case-sensitive string. Every other type is compared without regard to case, as the directory
 * attributes they become do: uid (RFC 4519 §2.39, EQUALITY caseIgnoreMatch), mail (RFC 4524 §2.16,
 * caseIgnoreIA5Match), eduPersonPrincipalName, eduPersonUniqueId and eduPersonOrcid (eduPerson
 * schema, caseIgnoreMatch), employeeNumber (RFC 2798, caseIgnoreMatch) for network and enterprise
 * ids; and a CO's own types, because any type can name an entry (a target's DN identifier type)
 * and the naming attributes a directory offers for people (uid, cn, mail) all ignore case.
 */
export const CASE_EXACT_IDENTIFIER_TYPES: ReadonlySet<string> = new Set(['oidcsub']);

/** Does the directory (or, for `oidcsub`, the OpenID provider) ignore case in identifiers of this type? */
export function identifierIgnoresCase(type: string): boolean {
  return !CASE_EXACT_IDENTIFIER_TYPES.has(type);
}

/** Lowercase as OpenLDAP's caseIgnoreMatch does: per character, İ (U+0130) to a plain i. */
function lowerLikeTheDirectory(value: string): string {
  return value.replace(/\u0130/g, 'i').toLowerCase();
}

/** A value case-folded as caseIgnoreMatch folds it in OpenLDAP: NFKC, lowercase, NFKC again (no space handling). */
export function foldLikeTheDirectory(value: string): string {
  return lowerLikeTheDirectory(value.normalize('NFKC')).normalize('NFKC');
}

/**
 * The identity of an identifier: two identifiers of one type with the same key are the same
 * identifier. For case-ignoring types this follows LDAP's string preparation (RFC 4518) as
 * OpenLDAP applies it for caseIgnoreMatch: compatibility normalisation (NFKC, so "ﬁ" is "fi"),
 * case folding, and insignificant space (leading and trailing spaces dropped, runs of spaces made
 * one). Checked against slapd: `AdaQ`/`adaq`, NFD/NFC `zoë`, `ﬁ`/`fi`, `İx`/`ix` and `a  b`/`a b`
 * name one entry there. For `oidcsub` the key is the NFC value, compared exactly.
 */
export function identifierKey(type: string, value: string): string {
  const nfc = value.normalize('NFC');
  if (!identifierIgnoresCase(type)) return nfc;
  return foldLikeTheDirectory(nfc).replace(/\s+/gu, ' ').trim();
}

/**
 * The longest a name-giving identifier may be, in octets of UTF-8 once escaped for a DN
 * (RFC 4514). OpenLDAP's back-mdb keeps an entry's RDN, normalised and as written, in one record
 * of at most 511 octets: measured on slapd 2.5, `uid=` followed by 241 octets is the longest it
 * adds, and the next octet fails with result 80 ("other"). 200 leaves room for a longer naming
 * attribute (`eduPersonPrincipalName=` is 23 octets).
 */
export const MAX_IDENTIFIER_DN_OCTETS = 200;
/** OpenID Connect Core 1.0 §2: `sub` must not exceed 255 ASCII characters. */
export const MAX_OIDC_SUB_LENGTH = 255;

/** Characters a DN value escapes with a backslash (RFC 4514 §2.4), counted twice below. */
const DN_SPECIALS = new Set([',', '+', '"', '\\', '<', '>', ';', '=']);

/**
 * Octets of `value` escaped as an RDN value, as `escapeDnValue` of the LDAP provisioner writes it:
 * a special, a leading `#` or space and a trailing space take one more octet each.
 */
export function dnValueOctets(value: string): number {
  const chars = [...value];
  let extra = 0;
  chars.forEach((ch, i) => {
    if (DN_SPECIALS.has(ch) || (i === 0 && (ch === '#' || ch === ' ')) || (i === chars.length - 1 && ch === ' ')) extra += 1;
  });
  return Buffer.byteLength(value, 'utf8') + extra;
}

/**
 * An identifier's value: the one-line text rule, at most 256 characters, and short enough to name
 * a directory entry (MAX_IDENTIFIER_DN_OCTETS). The type decides the bound, so the check is in
 * `identifierValueIssue`, applied where value and type meet (the identifier schema).
 */
export const identifierValue = oneLineText({ min: 1, max: 256 });

/** Why this value cannot be an identifier of this type, or undefined when it can. */
export function identifierValueIssue(type: string, value: string): string | undefined {
  if (!identifierIgnoresCase(type)) return value.length > MAX_OIDC_SUB_LENGTH ? `At most ${MAX_OIDC_SUB_LENGTH} characters (OpenID Connect)` : undefined;
  const octets = dnValueOctets(value);
  if (octets > MAX_IDENTIFIER_DN_OCTETS) {
    return `Too long to name a directory entry: ${octets} octets of UTF-8, at most ${MAX_IDENTIFIER_DN_OCTETS} (a character outside ASCII takes 2 to 4, and , + " \\ < > ; = count twice)`;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Date-times

/** The field error for a date-time that is not one (exported for tests that check it). */
export const RFC3339_MESSAGE = 'Not a valid date and time: give an RFC 3339 date-time with an offset, e.g. 2027-06-30T10:00:00Z or 2027-06-30T12:00:00+02:00';

/**
 * A date-time as RFC 3339 §5.6 defines it, always with an offset (`Z` or `±hh:mm`), so the
 * server's own time zone never enters: a date that does not exist (30 February), a missing offset,
 * a bare number, a year or a date without a time are refused; a leap second (`:60`) too. The value
 * becomes the same instant in UTC with milliseconds (`2027-06-30T08:00:00.000Z`); digits of a
 * fraction beyond the millisecond are dropped. OpenAPI shows it as `format: date-time`.
 */
export const rfc3339DateTime = z.iso
  .datetime({ offset: true, message: RFC3339_MESSAGE })
  .transform((v) => new Date(v.replace(/(\.\d{3})\d+/, '$1')).toISOString());

/** An optional date-time (rfc3339DateTime); an empty form field is null. */
export const optionalRfc3339DateTime = z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? null : v), rfc3339DateTime.nullable().optional());
