import type { FastifyInstance } from 'fastify';
import type { PluginContext } from '../plugins/plugin.ts';

export function registerCoreWebRoutes(_app: FastifyInstance, _ctx: PluginContext): void {}
