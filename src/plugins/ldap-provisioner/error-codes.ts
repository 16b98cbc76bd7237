import { defineErrorCodes } from '../../core/errors/app-error.ts';

/** Error codes of the LDAP provisioner: LDAP servers, their assignment to COs, and targets' use of them. */
export const LDAP_PROVISIONER_ERRORS = defineErrorCodes({
  LDAP_SERVER_NOT_FOUND: { kind: 'NOT_FOUND', message: 'No such LDAP server' },
  LDAP_SERVER_NAME_TAKEN: { kind: 'CONFLICT', message: 'An LDAP server with this name exists already' },
  LDAP_SERVER_NOT_ASSIGNED: { kind: 'UNPROCESSABLE', message: 'This LDAP server is not assigned to the CO' },
  LDAP_SERVER_IN_USE: { kind: 'CONFLICT', message: 'LDAP targets use this server in the CO; change or delete them first' },
  BASE_DN_OUTSIDE_SUBTREES: { kind: 'UNPROCESSABLE', message: 'The base DN lies outside every subtree the LDAP server may write' },
  NOT_AN_LDAP_TARGET: { kind: 'NOT_FOUND', message: 'No such LDAP target in this CO' },
});
