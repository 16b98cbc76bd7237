// LDAP result codes (RFC 4511 §4.1.9 and appendix A), by number: the name a directory's manual
// uses and what it means for a provisioning job, so a failure never reads "UnknownStatusCodeError".

/** A result code's name (RFC 4511) and its meaning, in words an operator can act on. */
export interface LdapResultCode {
  name: string;
  meaning: string;
}

export const LDAP_RESULT_CODES: Readonly<Record<number, LdapResultCode>> = {
  1: { name: 'operationsError', meaning: 'the directory could not carry out the operation in its current state' },
  2: { name: 'protocolError', meaning: 'the directory did not understand the request' },
  3: { name: 'timeLimitExceeded', meaning: 'the operation ran out of the time the directory allows' },
  4: { name: 'sizeLimitExceeded', meaning: 'the answer is larger than the directory allows' },
  7: { name: 'authMethodNotSupported', meaning: 'the directory does not offer this way of binding' },
  8: { name: 'strongerAuthRequired', meaning: 'the directory wants a stronger bind (e.g. over TLS)' },
  11: { name: 'adminLimitExceeded', meaning: 'an administrative limit of the directory was reached' },
  12: { name: 'unavailableCriticalExtension', meaning: 'the directory does not support a control the request needs' },
  13: { name: 'confidentialityRequired', meaning: 'the directory wants this over TLS' },
  16: { name: 'noSuchAttribute', meaning: 'a value to remove is not in the entry' },
  17: { name: 'undefinedAttributeType', meaning: 'an attribute is not in the directory’s schema (load the schemas in ldap/schema/)' },
  18: { name: 'inappropriateMatching', meaning: 'the attribute has no matching rule for this use' },
  19: { name: 'constraintViolation', meaning: 'a value breaks a constraint of the directory (e.g. a value too long for the attribute, or a password policy)' },
  20: { name: 'attributeOrValueExists', meaning: 'a value to add is in the entry already' },
  21: { name: 'invalidAttributeSyntax', meaning: 'a value does not have the attribute’s syntax (e.g. not valid UTF-8, or empty)' },
  32: { name: 'noSuchObject', meaning: 'the entry (or its parent) does not exist' },
  34: { name: 'invalidDNSyntax', meaning: 'the DN is not well-formed' },
  36: { name: 'aliasDereferencingProblem', meaning: 'an alias could not be followed' },
  48: { name: 'inappropriateAuthentication', meaning: 'this bind is not allowed for the entry' },
  49: { name: 'invalidCredentials', meaning: 'the DN or password is wrong' },
  50: { name: 'insufficientAccessRights', meaning: 'the bind DN may not do this (check the directory’s access rules)' },
  51: { name: 'busy', meaning: 'the directory is too busy; it will be tried again' },
  52: { name: 'unavailable', meaning: 'the directory is unavailable (shutting down, or read-only); it will be tried again' },
  53: { name: 'unwillingToPerform', meaning: 'the directory refuses this operation (e.g. a read-only database, or a value its password modules cannot take)' },
  54: { name: 'loopDetect', meaning: 'the directory found a loop in its referrals or aliases' },
  64: { name: 'namingViolation', meaning: 'the DN breaks the directory’s naming rules' },
  65: { name: 'objectClassViolation', meaning: 'the entry breaks its object classes (a required attribute missing, or one not allowed)' },
  66: { name: 'notAllowedOnNonLeaf', meaning: 'the entry has entries below it' },
  67: { name: 'notAllowedOnRDN', meaning: 'the change would remove the value that names the entry' },
  68: { name: 'entryAlreadyExists', meaning: 'an entry with this DN exists already' },
  69: { name: 'objectClassModsProhibited', meaning: 'the object classes of the entry cannot be changed' },
  71: { name: 'affectsMultipleDSAs', meaning: 'the operation would span several directory servers' },
  80: { name: 'other', meaning: 'the directory failed for a reason of its own (e.g. an RDN or a value too long for its index)' },
};

/**
 * `name (LDAP result N): meaning`, then the server's own message when it sent one. Codes not in
 * the table (none of RFC 4511's) read `LDAP result N` with the server's message.
 */
export function describeResultCode(code: number, serverMessage: string): string {
  const known = LDAP_RESULT_CODES[code];
  const said = serverMessage.trim() ? ` (the server says: ${serverMessage.trim()})` : '';
  return known ? `${known.name} (LDAP result ${code}): ${known.meaning}${said}` : `LDAP result ${code}${said}`;
}
