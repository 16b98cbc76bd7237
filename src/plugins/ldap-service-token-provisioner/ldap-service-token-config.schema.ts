import { z } from 'zod';

export const TOKEN_ATTRIBUTES = ['userPassword', 'voPersonApplicationPassword'] as const;
export type TokenAttribute = (typeof TOKEN_ATTRIBUTES)[number];

const emptyAsUndefined = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);

/** Settings of an `ldap-service-token` target, shared by the web form and the API. */
export const ldapServiceTokenConfigSchema = z.object({
  /** The `ldap` target of the same CO whose entries receive the tokens. */
  ldapTargetId: z.string().trim().min(1, 'Choose the LDAP target').max(64),
  /** The CO Service whose tokens this target writes. */
  serviceId: z.string().trim().min(1, 'Choose the service').max(64),
  /** `voPersonApplicationPassword` is written with the option `;app-<service short label>`. */
  attribute: z.preprocess(emptyAsUndefined, z.enum(TOKEN_ATTRIBUTES, { message: `One of ${TOKEN_ATTRIBUTES.join(', ')}` }).default('userPassword')),
});

export type LdapServiceTokenConfig = z.output<typeof ldapServiceTokenConfigSchema>;
