import { z } from 'zod';
import { checkbox } from '../../core/http/validation.ts';
import { DnSyntaxError, parseDn } from '../ldap-provisioner/ldap-dn.ts';

/** The provisioner type of a token target (provisioning_target.plugin). */
export const LDAP_SERVICE_TOKEN_PROVISIONER_TYPE = 'ldap-service-token';

/**
 * Where a token target writes: into the person's entry (`userPassword`, or
 * `voPersonApplicationPassword;app-<label>`), or `serviceEntries`: an entry of its own per person
 * under the service's subtree, holding only this service's token hashes in userPassword.
 */
export const TOKEN_ATTRIBUTES = ['userPassword', 'voPersonApplicationPassword', 'serviceEntries'] as const;
export type TokenAttribute = (typeof TOKEN_ATTRIBUTES)[number];

/** When a service entry exists: while the person holds a usable token of the service, or while they may use it. */
export const SERVICE_ENTRY_LIFETIMES = ['usableToken', 'mayUseService'] as const;

const emptyAsUndefined = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);

function validDn(value: string): boolean {
  try {
    return parseDn(value).length > 0;
  } catch (e) {
    if (e instanceof DnSyntaxError) return false;
    throw e;
  }
}

/** Object class names: forms send "inetOrgPerson, eduMember", the API an array. */
const objectClassList = z.preprocess(
  (v) => (typeof v === 'string' ? v.split(/[\s,]+/).filter(Boolean) : v),
  z
    .array(z.string().regex(/^[A-Za-z][A-Za-z0-9-]{0,63}$/, 'An object class name, e.g. inetOrgPerson'))
    .min(1, 'At least one object class')
    .max(10, 'At most 10 object classes')
    .transform((list) => [...new Set(list)]),
);

/** Settings of an `ldap-service-token` target, shared by the web form and the API. */
export const ldapServiceTokenConfigSchema = z
  .object({
    ldapTargetId: z
      .string()
      .trim()
      .min(1, 'Choose the LDAP target')
      .max(64)
      .meta({ title: 'LDAP target', references: 'target', description: 'The LDAP target of this CO whose entries receive the tokens. This target must come after it in the order.' }),
    serviceId: z
      .string()
      .trim()
      .min(1, 'Choose the service')
      .max(64)
      .meta({ title: 'Service', references: 'service', description: 'The CO Service whose tokens this target writes.' }),
    attribute: z
      .preprocess(emptyAsUndefined, z.enum(TOKEN_ATTRIBUTES, { message: `One of ${TOKEN_ATTRIBUTES.join(', ')}` }).default('userPassword'))
      .meta({
        title: 'Attribute',
        description:
          'userPassword of the person’s entry (every service binding as the person accepts it), voPersonApplicationPassword;app-<service short label> (for services that check the hash themselves; needs the voPerson object class and `attributeoptions app-`), or serviceEntries: an entry per person under the service’s own subtree holding only this service’s tokens, so a token opens only the service it was made for.',
      }),
    keepOtherValues: checkbox.default(false).meta({
      title: 'Keep values Tessera did not write',
      description:
        'When the LDAP target takes over an entry that existed (made by hand), its values in this attribute that are not token hashes of Tessera (an old password, say) are removed, so only tokens bind. Tick to keep them.',
    }),
    serviceBaseDn: z
      .preprocess(emptyAsUndefined, z.string().trim().max(1024, 'At most 1024 characters').refine(validDn, 'Not a valid DN (e.g. ou=wiki,ou=services,dc=example,dc=org)').optional())
      .meta({
        title: 'Service subtree (service entries)',
        description: 'Where the service entries go: <DN attribute of the LDAP target>=<identifier>,<this DN>. The service searches and binds under it, and nowhere else.',
      }),
    serviceEntryObjectClasses: objectClassList.default(['inetOrgPerson']).meta({
      title: 'Object classes of a service entry',
      description: 'Structural and auxiliary classes of each service entry (uid, cn, sn, mail and userPassword must be allowed). eduMember is added when isMemberOf is written.',
    }),
    serviceEntryGroup: checkbox.default(false).meta({
      title: 'isMemberOf with the service’s group',
      description: 'Writes the name of the service’s CO group into isMemberOf of the service entry (needs the eduMember schema).',
    }),
    createServiceSubtree: checkbox.default(false).meta({
      title: 'Create the service subtree when missing',
      description: 'Adds the subtree (and missing organizational units above it) as organizationalUnit entries before the first service entry. Off: a missing subtree fails the job, saying so.',
    }),
    serviceEntryWhile: z
      .preprocess(emptyAsUndefined, z.enum(SERVICE_ENTRY_LIFETIMES, { message: `One of ${SERVICE_ENTRY_LIFETIMES.join(', ')}` }).default('usableToken'))
      .meta({
        title: 'A service entry exists while',
        description: 'usableToken: the person holds a usable token of the service (default); mayUseService: the person may use the service, with or without tokens (an entry without userPassword binds with nothing).',
      }),
  })
  .superRefine((c, ctx) => {
    if (c.attribute === 'serviceEntries' && !c.serviceBaseDn) ctx.addIssue({ code: 'custom', path: ['serviceBaseDn'], message: 'Service entries need the service subtree' });
  });

export type LdapServiceTokenConfig = z.output<typeof ldapServiceTokenConfigSchema>;
