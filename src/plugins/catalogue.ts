import type { Config } from '../config/config.ts';
import type { TesseraPlugin } from '../core/plugins/plugin.ts';
import { ldapProvisionerPlugin } from './ldap-provisioner/ldap-provisioner.plugin.ts';
import { ldapServiceTokenProvisionerPlugin } from './ldap-service-token-provisioner/ldap-service-token-provisioner.plugin.ts';
import { serviceTokensPlugin } from './service-tokens/service-tokens.plugin.ts';

/**
 * How each plugin Tessera knows is made from the configuration. The bundled ones are listed here;
 * a process may append its own (the command-line tests append a recording provisioner).
 */
export const PLUGIN_FACTORIES: Array<(config: Config) => TesseraPlugin> = [
  (config) => serviceTokensPlugin({ failuresPerIdentifier: config.verifyFailuresPerIdentifier, failuresPerAddress: config.verifyFailuresPerAddress }),
  () => ldapProvisionerPlugin(),
  () => ldapServiceTokenProvisionerPlugin(),
];

/**
 * Every known plugin, made with the settings the configuration gives it; TESSERA_PLUGINS chooses
 * which of them run, and in what order (resolvePlugins).
 */
export function bundledPlugins(config: Config): TesseraPlugin[] {
  return PLUGIN_FACTORIES.map((make) => make(config));
}
