import { z } from 'zod';
import { checkbox } from '../../core/http/validation.ts';

/** The provisioner type of a token target (provisioning_target.plugin). */
export const LDAP_SERVICE_TOKEN_PROVISIONER_TYPE = 'ldap-service-token';

export const TOKEN_ATTRIBUTES = ['userPassword', 'voPersonApplicationPassword'] as const;
export type TokenAttribute = (typeof TOKEN_ATTRIBUTES)[number];

const emptyAsUndefined = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);

/** Settings of an `ldap-service-token` target, shared by the web form and the API. */
export const ldapServiceTokenConfigSchema = z.object({
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
      description: 'userPassword (what LDAP binds check), or voPersonApplicationPassword;app-<service short label>, which needs the voPerson object class and `attributeoptions app-` in slapd.',
    }),
  keepOtherValues: checkbox.default(false).meta({
    title: 'Keep values Tessera did not write',
    description:
      'When the LDAP target takes over an entry that existed (made by hand), its values in this attribute that are not token hashes of Tessera (an old password, say) are removed, so only tokens bind. Tick to keep them.',
  }),
});

export type LdapServiceTokenConfig = z.output<typeof ldapServiceTokenConfigSchema>;
