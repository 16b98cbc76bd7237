// A provisioner for tests only: it holds no directory, it records every call in memory, and it
// can be told to fail (per target, or through its `failWith` setting), to wait at a gate, or to
// take a while. Its settings exercise every kind of field the target form renders generically.
import { beforeEach } from 'node:test';
import { z } from 'zod';
import type { Config } from '../../src/config/config.ts';
import type { DialectName } from '../../src/db/database.ts';
import { useTestApp, type TestApp } from './test-app.ts';
import { SYSTEM_ACTOR } from '../../src/core/auth/actor.ts';
import type { ChangeEvent } from '../../src/core/context.ts';
import type { TesseraPlugin } from '../../src/core/plugins/plugin.ts';
import type { Provisioner, ProvisionResult, Target } from '../../src/core/provisioning/provisioner.ts';
import { targetInput, type TargetInput } from '../../src/core/provisioning/target.schema.ts';
import { createTarget, type ProvisioningContext } from '../../src/core/provisioning/target.service.ts';
import type { Executor } from '../../src/db/database.ts';

export const RECORDING_TYPE = 'recording';
export const RECORDING_PLUGIN_ID = 'recording-provisioner';

export const recordingConfigSchema = z.object({
  url: z
    .string()
    .trim()
    .regex(/^(ldaps?|https?):\/\/[^\s/]+/, 'An ldap://, ldaps://, http:// or https:// URL')
    .meta({ title: 'Server URL', description: 'Where the pretend directory lives.' }),
  bindDn: z.string().trim().min(1, 'Required').max(256).meta({ title: 'Bind DN' }),
  bindPassword: z.string().min(1, 'Required').max(256).meta({ title: 'Bind password' }),
  startTls: z.boolean().default(false).meta({ title: 'Use StartTLS' }),
  flavour: z.enum(['plain', 'fancy']).default('plain').meta({ title: 'Flavour' }),
  failWith: z.string().max(200).optional().meta({ title: 'Fail with', description: 'When set, every run fails with this message.' }),
});
export type RecordingConfig = z.output<typeof recordingConfigSchema>;

export interface RecordedCall {
  targetId: string;
  targetDescription: string;
  personId: string;
  intent: 'present' | 'absent';
  /** The settings the provisioner received (secrets decrypted). */
  config: RecordingConfig;
  /** The person's status in the data, or undefined once the person is deleted. */
  personStatus: string | undefined;
  groupIds: string[];
  previousStatus: string | undefined;
  /** The recorder's generation when the call started (tests bump it between rounds). */
  generation: number;
}

interface Gate {
  opened: Promise<void>;
  open(outcome?: { fail?: string }): void;
  outcome: { fail?: string };
  /** Calls caught so far, and how many it catches before it stops catching new ones. */
  waiting: number;
  calls: number;
}

export class Recorder {
  readonly calls: RecordedCall[] = [];
  /** Tests set this between rounds; each call records the value it saw. */
  generation = 0;
  /** Milliseconds each call takes, to widen the windows in which workers could collide. */
  delayMs = 0;
  /** Runs inside the transaction of every registry change, after the provisioning outbox. */
  onChange: ((db: Executor, event: ChangeEvent) => Promise<void>) | undefined;
  /** People a change of a service affects, per service id (see Provisioner.peopleAffectedByService). */
  readonly peopleOfService = new Map<string, string[]>();
  private readonly failing = new Map<string, string>();
  private gate: Gate | undefined;

  /** Every later run of the target fails with the message, until `heal`. */
  fail(targetId: string, message = 'directory unavailable'): void {
    this.failing.set(targetId, message);
  }

  heal(targetId: string): void {
    this.failing.delete(targetId);
  }

  /** Targets whose runs for an absent person count as only taking access away (Provisioner.onlyWithdraws). */
  readonly withdrawingAlone = new Set<string>();

  /** Makes the next `calls` calls wait until the returned gate opens (optionally failing then). */
  closeGate(calls = 1): Gate {
    let open!: () => void;
    const opened = new Promise<void>((resolve) => (open = resolve));
    const gate: Gate = {
      opened,
      outcome: {},
      waiting: 0,
      calls,
      open: (outcome = {}) => {
        gate.outcome = outcome;
        if (this.gate === gate) this.gate = undefined;
        open();
      },
    };
    this.gate = gate;
    return gate;
  }

  callsFor(targetId: string, personId?: string): RecordedCall[] {
    return this.calls.filter((c) => c.targetId === targetId && (personId === undefined || c.personId === personId));
  }

  /** How often each (target, person, generation) ran, keyed `target|person|generation`. */
  countsByRun(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const c of this.calls) {
      const key = `${c.targetId}|${c.personId}|${c.generation}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    return counts;
  }

  reset(): void {
    this.calls.length = 0;
    this.failing.clear();
    this.peopleOfService.clear();
    this.onChange = undefined;
    this.delayMs = 0;
    this.generation = 0;
    this.gate = undefined;
  }

  /** @internal the provisioner's body */
  async run(call: RecordedCall): Promise<ProvisionResult> {
    this.calls.push(call);
    const gate = this.gate;
    if (gate) {
      gate.waiting++;
      if (gate.waiting >= gate.calls) this.gate = undefined;
      await gate.opened;
      if (gate.outcome.fail) throw new Error(gate.outcome.fail);
    }
    if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    const failure = this.failing.get(call.targetId) ?? call.config.failWith;
    if (failure) throw new Error(failure);
    return call.intent === 'present'
      ? { status: 'provisioned', targetKey: `uid=${call.personId},ou=${call.targetDescription}`, detail: { generation: call.generation } }
      : { status: 'removed', targetKey: null, detail: {} };
  }
}

/** A fresh plugin with its own recorder, so parallel test files never share calls. */
export function createRecordingPlugin(): { plugin: TesseraPlugin; recorder: Recorder; provisioner: Provisioner<typeof recordingConfigSchema> } {
  const recorder = new Recorder();
  const provisioner: Provisioner<typeof recordingConfigSchema> = {
    type: RECORDING_TYPE,
    label: 'Recording (tests)',
    configSchema: recordingConfigSchema,
    secretFields: ['bindPassword'],
    secretsBoundTo: ['url'],
    peopleAffectedByService: async (_db, _target, serviceId) => recorder.peopleOfService.get(serviceId) ?? [],
    onlyWithdraws: ({ target, intent }) => intent === 'absent' && recorder.withdrawingAlone.has(target.id),
    provision: (input) =>
      recorder.run({
        targetId: input.target.id,
        targetDescription: input.target.description,
        personId: input.personId,
        intent: input.intent,
        config: input.target.config,
        personStatus: input.data?.person.status,
        groupIds: input.data?.groups.map((g) => g.id) ?? [],
        previousStatus: input.previous?.status,
        generation: recorder.generation,
      }),
  };
  const plugin: TesseraPlugin = {
    id: RECORDING_PLUGIN_ID,
    description: 'Records provisioning calls in memory (tests only)',
    setup: () => ({
      provisioners: [provisioner],
      onChange: async (db, event) => {
        await recorder.onChange?.(db, event);
      },
    }),
  };
  return { plugin, recorder, provisioner };
}

/** Settings a recording target accepts, with overrides. */
export function recordingConfig(over: Partial<Record<keyof RecordingConfig, unknown>> = {}): Record<string, unknown> {
  return { url: 'ldap://directory.example.org', bindDn: 'cn=admin,dc=example,dc=org', bindPassword: 'bind-secret', ...over };
}

/** Creates a recording target in the CO through the service, as an admin would. */
export async function addRecordingTarget(
  t: { ctx: ProvisioningContext },
  coId: string,
  over: Partial<Omit<TargetInput, 'config'>> & { config?: Partial<Record<keyof RecordingConfig, unknown>> } = {},
): Promise<Target> {
  const { config, ...rest } = over;
  return createTarget(t.ctx, SYSTEM_ACTOR, coId, targetInput.parse({ provisionerType: RECORDING_TYPE, description: 'Directory', mode: 'automatic', ordinal: 10, retryIntervalSeconds: 60, maxRetries: 3, ...rest, config: recordingConfig(config) }));
}

/**
 * The preamble of a suite that provisions to a recording target: a test app of the dialect with a
 * fresh recording plugin (plus `opts.plugins`), whose recorder is reset before each test.
 */
export function useRecordingTestApp(dialect: DialectName, opts: { plugins?: TesseraPlugin[]; config?: Partial<Config> } = {}): { t: TestApp; recorder: Recorder } {
  const { plugin, recorder } = createRecordingPlugin();
  const t = useTestApp(dialect, { ...opts, plugins: [plugin, ...(opts.plugins ?? [])] });
  beforeEach(() => recorder.reset());
  return { t, recorder };
}
