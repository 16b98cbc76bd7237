import type { TesseraPlugin } from '../core/plugins/plugin.ts';
import { ldapProvisionerPlugin } from './ldap-provisioner/ldap-provisioner.plugin.ts';
import { ldapServiceTokenProvisionerPlugin } from './ldap-service-token-provisioner/ldap-service-token-provisioner.plugin.ts';
import { serviceTokensPlugin } from './service-tokens/service-tokens.plugin.ts';

/** The plugins bundled with Tessera; TESSERA_PLUGINS chooses which of them run. */
export const BUNDLED_PLUGINS: readonly TesseraPlugin[] = [serviceTokensPlugin, ldapProvisionerPlugin, ldapServiceTokenProvisionerPlugin];
