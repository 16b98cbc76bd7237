import { z } from 'zod';
import { checkbox } from '../../core/http/validation.ts';
import { DnSyntaxError, parseDn } from './ldap-dn.ts';

/** The attributes the LDAP provisioner can write; it owns those chosen (and the DN attribute). */
export const LDAP_PERSON_ATTRIBUTES = ['cn', 'sn', 'givenName', 'displayName', 'mail', 'uid', 'isMemberOf', 'voPersonStatus'] as const;
export type LdapPersonAttribute = (typeof LDAP_PERSON_ATTRIBUTES)[number];

/** Attributes only an auxiliary object class allows: written only when that class is chosen. */
export const ATTRIBUTE_NEEDS_CLASS: Partial<Record<LdapPersonAttribute, 'eduMember' | 'voPerson'>> = {
  isMemberOf: 'eduMember',
  voPersonStatus: 'voPerson',
};

function validDn(value: string): boolean {
  try {
    return parseDn(value).length > 0;
  } catch (e) {
    if (e instanceof DnSyntaxError) return false;
    throw e;
  }
}

const dn = (what: string) =>
  z
    .string()
    .trim()
    .min(1, { message: 'Required', abort: true })
    .max(1024, { message: 'At most 1024 characters', abort: true })
    .refine(validDn, `Not a valid ${what} (e.g. ou=people,dc=example,dc=org)`);

/** Forms post one value per checkbox (or a comma-separated text); the API sends an array. */
const attributeList = z.preprocess(
  (v) => (typeof v === 'string' ? v.split(/[\s,]+/).filter(Boolean) : v),
  z
    .array(z.enum(LDAP_PERSON_ATTRIBUTES, { message: `One of ${LDAP_PERSON_ATTRIBUTES.join(', ')}` }))
    .transform((list) => [...new Set(list)])
    .default([...LDAP_PERSON_ATTRIBUTES]),
);

/**
 * Settings of an `ldap` target, shared by the web form and the API. `bindPassword` is a secret
 * field: encrypted at rest, never shown back, kept when an update leaves it empty.
 */
export const ldapConfigSchema = z
  .object({
    url: z
      .string()
      .trim()
      .regex(/^ldaps?:\/\/(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?\/?$/i, 'An ldap:// or ldaps:// URL with a host and an optional port'),
    /** Upgrade an ldap:// connection with StartTLS before binding. */
    startTls: checkbox.default(false),
    bindDn: dn('bind DN'),
    bindPassword: z.string().min(1, 'Required').max(1024, 'At most 1024 characters'),
    /** Where people's entries go: `<dnAttribute>=<value>,<baseDn>`. */
    baseDn: dn('base DN'),
    dnAttribute: z
      .string()
      .trim()
      .regex(/^[A-Za-z][A-Za-z0-9-]{0,63}$/, 'An attribute name, e.g. uid')
      .default('uid'),
    /** The identifier type whose value names the entry (the person's active identifier of this type). */
    dnIdentifierType: z.string().trim().min(1, 'Required').max(32).default('uid'),
    /** inetOrgPerson is always used; these auxiliary classes are added when chosen. */
    eduPerson: checkbox.default(false),
    /** Needed for isMemberOf. */
    eduMember: checkbox.default(false),
    /** Needed for voPersonStatus (and for the token provisioner's voPersonApplicationPassword). */
    voPerson: checkbox.default(false),
    attributes: attributeList,
  })
  .superRefine((c, ctx) => {
    if (c.startTls && /^ldaps:/i.test(c.url)) ctx.addIssue({ code: 'custom', path: ['startTls'], message: 'StartTLS is for ldap:// URLs; ldaps:// is TLS already' });
  });

export type LdapConfig = z.output<typeof ldapConfigSchema>;

export const LDAP_SECRET_FIELDS = ['bindPassword'];
