import { X509Certificate } from 'node:crypto';
import { z } from 'zod';
import { certificatesOfBundle } from '../../core/tls/tls-error.ts';
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

/** A CA bundle; a PEM text is kept as its lines (a pasted bundle and the form's text area alike). */
const caBundle = z.preprocess(
  (v) => (typeof v === 'string' ? v.split(/\r?\n/).map((l) => l.trim()).filter(Boolean) : v),
  z
    .array(z.string().max(128))
    .max(2000, 'At most 2000 lines')
    .default([])
    .superRefine((lines, ctx) => {
      if (lines.length === 0) return;
      try {
        for (const block of certificatesOfBundle(lines.join('\n'))) new X509Certificate(block);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: `Not a PEM certificate bundle: ${(error as Error).message}` });
      }
    }),
);

/** The CA bundle of a target as PEM text, or undefined for the system's trusted CAs. */
export function caBundleOf(config: Pick<LdapConfig, 'tlsCaCertificates'>): string | undefined {
  const lines = config.tlsCaCertificates ?? [];
  return lines.length > 0 ? `${lines.join('\n')}\n` : undefined;
}

/** How isMemberOf values name groups: by the group's name, or `<CO name>:<group name>`. */
export const IS_MEMBER_OF_FORMATS = ['group', 'co-qualified'] as const;

/**
 * Where an LDAP server is and how Tessera binds there: the part of an LDAP target's settings that
 * only platform admins set (on the LDAP server). `bindPassword` is sealed at rest and never shown.
 */
export const ldapServerConnectionSchema = z.object({
  url: z
    .string()
    .trim()
    .regex(/^ldaps?:\/\/(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?\/?$/i, 'An ldap:// or ldaps:// URL with a host and an optional port')
    .meta({ title: 'Server URL', description: 'ldap://host:389 or ldaps://host:636. Connecting times out after 5 s, an operation after 10 s.' }),
  startTls: checkbox.default(false).meta({ title: 'StartTLS', description: 'Upgrade an ldap:// connection to TLS before binding.' }),
  tlsCaCertificates: caBundle.meta({
    title: 'CA certificates (PEM)',
    description: 'The CA certificates the directory’s certificate must chain to, pasted as PEM (one or more -----BEGIN CERTIFICATE----- blocks). Empty: the system’s trusted CAs.',
  }),
  tlsVerifyHostname: checkbox.default(true).meta({
    title: 'Verify the host name',
    description: 'The certificate must be issued for the host in the URL. Turn off only for a directory reached by an address its certificate does not name.',
  }),
  bindDn: dn('bind DN').meta({ title: 'Bind DN', description: 'The entry Tessera binds as; it needs write access under the subtrees.' }),
  bindPassword: z
    .string()
    .min(1, 'Required')
    .max(1024, 'At most 1024 characters')
    .meta({ title: 'Bind password', description: 'Encrypted at rest and never shown again.' }),
});

/**
 * What a CO admin sets on an `ldap` target, shared by the web form and the API: an LDAP server
 * assigned to the CO (`serverId`), a base DN inside one of the server's subtrees (checked when the
 * target is saved), and what the entries hold. Where the server is and how Tessera binds there
 * are the server's, never the target's.
 */
export const ldapTargetSettingsSchema = z
  .object({
    serverId: z.string().trim().min(1, 'Required').max(64).meta({ title: 'LDAP server', description: 'One of the LDAP servers the platform assigned to this CO.', references: 'choice' }),
    baseDn: dn('base DN').meta({ title: 'Base DN', description: 'Where people’s entries go: <DN attribute>=<identifier>,<base DN>. It must lie inside one of the server’s subtrees.' }),
    dnAttribute: z
      .string()
      .trim()
      .regex(/^[A-Za-z][A-Za-z0-9-]{0,63}$/, 'An attribute name, e.g. uid')
      .default('uid')
      .meta({ title: 'DN attribute', description: 'The attribute that names an entry, e.g. uid.' }),
    dnIdentifierType: z
      .string()
      .trim()
      .min(1, 'Required')
      .max(32)
      .default('uid')
      .meta({ title: 'DN identifier type', description: 'Whose value names the entry: the person’s active identifier of this type (the login one first). A person without one is not provisioned, and the job says so. COs sharing a people subtree must not share values of it.' }),
    eduPerson: checkbox.default(false).meta({ title: 'eduPerson object class' }),
    eduMember: checkbox.default(false).meta({ title: 'eduMember object class', description: 'Needed for isMemberOf.' }),
    voPerson: checkbox.default(false).meta({ title: 'voPerson object class', description: 'Needed for voPersonStatus and for per-service passwords (voPersonApplicationPassword).' }),
    attributes: attributeList.meta({
      title: 'Attributes to write',
      description: 'The attributes this target owns: it keeps them equal to the registry and leaves every other attribute alone. inetOrgPerson is always used.',
    }),
    isMemberOfFormat: z.enum(IS_MEMBER_OF_FORMATS).default('group').meta({
      title: 'isMemberOf values',
      description: 'group: the group’s name; co-qualified: <CO name>:<group name>, so services reading a directory several COs share can tell their groups apart.',
    }),
  });

/**
 * An `ldap` target as its provisioner runs it: its own settings, plus its server's (connection,
 * subtrees) and whether a platform admin let it adopt existing entries. Never stored like this:
 * the server's part is merged in for provisioners only (`expandConfig`).
 */
export const ldapConfigSchema = ldapTargetSettingsSchema
  .extend(ldapServerConnectionSchema.shape)
  .extend({
    subtrees: z.array(z.string()).default([]),
    adoptExistingEntries: z.boolean().default(false),
  })
  .superRefine((c, ctx) => {
    if (c.startTls && /^ldaps:/i.test(c.url)) ctx.addIssue({ code: 'custom', path: ['startTls'], message: 'StartTLS is for ldap:// URLs; ldaps:// is TLS already' });
  });

export type LdapConfig = z.output<typeof ldapConfigSchema>;

export type LdapTargetSettings = z.output<typeof ldapTargetSettingsSchema>;
