import { defineErrorCodes } from '../../core/errors/app-error.ts';

export const LDAP_SERVICE_TOKEN_ERRORS = defineErrorCodes({
  LDAP_TARGET_NOT_FOUND: { kind: 'NOT_FOUND', message: 'No such LDAP provisioning target in this CO' },
  NOT_AN_LDAP_TARGET: { kind: 'BAD_REQUEST', message: 'The chosen target is not an LDAP target' },
  ORDERED_BEFORE_LDAP_TARGET: { kind: 'UNPROCESSABLE', message: 'A token target must run after its LDAP target: give it a greater order' },
  SCHEME_NOT_VERIFIED_BY_DIRECTORY: { kind: 'UNPROCESSABLE', message: 'The directory cannot check values of the service’s storage scheme; binds with its tokens would fail' },
  SCHEME_VALUES_TOO_LONG: { kind: 'UNPROCESSABLE', message: 'Values of the service’s storage scheme are longer than the attribute allows' },
  LDAP_TARGET_WITHOUT_VOPERSON: { kind: 'UNPROCESSABLE', message: 'voPersonApplicationPassword needs the voPerson object class on the LDAP target' },
  SERVICE_SUBTREE_IN_PEOPLE: { kind: 'UNPROCESSABLE', message: 'The service subtree lies within the people subtree of the LDAP target' },
  SERVICE_SUBTREE_OUTSIDE_SUBTREES: { kind: 'UNPROCESSABLE', message: 'The service subtree lies outside the subtrees the LDAP server may write for this CO' },
});
