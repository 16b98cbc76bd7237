// COmanage Registry v4 enum codes and what they become in Tessera. The codes are those of
// app/Lib/enum.php (Internet2/comanage-registry): StatusEnum, SuspendableStatusEnum, GroupEnum,
// VisibilityEnum; CoServiceTokenTypeEnum of the removed CoServiceToken plugin; PasswordEncodingEnum
// of PasswordAuthenticator.
import type { PersonStatus } from '../../core/people/person.table.ts';
import type { ServiceVisibility } from '../../core/co-services/co-service.table.ts';

/** StatusEnum (CO Person status) → Tessera's person status; undefined for a code COmanage does not define. */
export function personStatusOf(code: string | null): PersonStatus | undefined {
  switch (code) {
    case 'A': return 'active';
    case 'GP': return 'grace_period';
    case 'S': return 'suspended';
    case 'XP': return 'expired';
    case 'D': return 'deleted';
    case 'P': return 'pending';
    case 'PA': return 'pending_approval';
    case 'PC': return 'pending_confirmation';
    // Approved, Confirmed and PendingVetting are steps of an enrollment that has not finished.
    case 'Y': case 'C': case 'PV': return 'pending';
    case 'I': return 'invited';
    case 'LK': return 'locked';
    case 'X': return 'declined';
    case 'N': return 'denied';
    case 'D2': return 'duplicate';
    default: return undefined;
  }
}

/** SuspendableStatusEnum (identifiers, groups, services): A active, S suspended; anything else is suspended. */
export function suspendableOf(code: string | null): 'active' | 'suspended' {
  return code === 'A' ? 'active' : 'suspended';
}

/**
 * GroupEnum → Tessera: the CO-level admins group (A) is Tessera's admins group, the CO-level
 * members groups (M all members, MA active members) are Tessera's automatic members group (their
 * memberships are not imported: Tessera derives them). Every other type (S, AP, CL, and COU-level
 * admins/members groups) is a standard group; the nested groups (AN, MN) are skipped: COmanage
 * computes them from COU groups Tessera does not have.
 */
export function groupKindOf(code: string | null, couId: number | null): 'admins' | 'members' | 'standard' | 'nested' {
  if (code === 'AN' || code === 'MN') return 'nested';
  if (couId === null && code === 'A') return 'admins';
  if (couId === null && (code === 'M' || code === 'MA')) return 'members';
  return 'standard';
}

/** VisibilityEnum → Tessera's service visibility (unknown codes: CO members, COmanage's default). */
export function visibilityOf(code: string | null): ServiceVisibility {
  switch (code) {
    case 'CA': return 'co_admin';
    case 'CG': return 'co_group_member';
    case 'P': return 'unauthenticated';
    default: return 'co_member';
  }
}

/** CoServiceTokenTypeEnum: '08' and '15' plaintext tokens of 8 and 15 letters and digits → Tessera's legacy types. */
export function legacyTokenTypeOf(code: string | null): 'legacy-plain-8' | 'legacy-plain-15' | undefined {
  return code === '08' ? 'legacy-plain-8' : code === '15' ? 'legacy-plain-15' : undefined;
}

/**
 * A PasswordAuthenticator password (PasswordEncodingEnum) as an RFC 2307 value slapd checks:
 * SH is salted SHA-1 stored without its prefix ({SSHA} is added, as LdapProvisioner does); CR is
 * php's password_hash (bcrypt `$2y$`, or another crypt(3) format) and becomes `{CRYPT}…` — not
 * LdapProvisioner's `(CRYPT)…` with parentheses, which no LDAP server recognises as a scheme.
 * Plaintext (NO) and external (EX) passwords are not imported (a reason is returned).
 */
export function passwordValueOf(type: string | null, value: string | null): { value: string; scheme: 'SSHA' | 'CRYPT' } | { skip: string } {
  if (!value) return { skip: 'empty password' };
  if (type === 'SH') {
    if (!/^[A-Za-z0-9+/]+=*$/.test(value) || Buffer.from(value, 'base64').length <= 20) return { skip: 'SSHA value is not base64 of a SHA-1 digest and salt' };
    return { value: `{SSHA}${value}`, scheme: 'SSHA' };
  }
  if (type === 'CR') {
    const crypt = value.replace(/^\((CRYPT)\)/i, '').replace(/^\{CRYPT\}/i, '');
    if (!/^\$[0-9a-z]+\$[./0-9A-Za-z$=,]+$/.test(crypt)) return { skip: 'crypt value is not in crypt(3) form ($id$…)' };
    return { value: `{CRYPT}${crypt}`, scheme: 'CRYPT' };
  }
  if (type === 'NO') return { skip: 'plaintext password: Tessera stores no plaintext; the person sets a token instead' };
  return { skip: `password type ${type ?? 'null'} is managed outside COmanage` };
}
