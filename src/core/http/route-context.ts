import type { Config } from '../../config/config.ts';
import type { ProvisioningContext } from '../provisioning/target.service.ts';
import type { Menus } from '../web/menu.ts';
import type { OpenApiRegistry } from './openapi.ts';

/**
 * What a route registrar (web pages and JSON API, core or plugin) is given: the services' context
 * plus the few things of the HTTP layer. The composition root (src/app/) makes one per process.
 */
export interface RouteContext extends ProvisioningContext {
  /** Sign-in settings, the secret key for cookies and CSRF, the public URL. */
  config: Config;
  /** API routes add their operations to /api/openapi.json. */
  openapi: OpenApiRegistry;
  /** Plugins' entries on the identity menu, the CO dashboard and the CO Person page. */
  menus: Menus;
  /** Wakes the provisioning worker after jobs were queued by hand (reprovision, retry). */
  nudgeWorker(): void;
  /** Whether notices are also emailed (an SMTP server is configured). */
  mailEnabled: boolean;
}
