import { BackgroundJob } from '../core/jobs/background-job.ts';
import type { Logger } from '../core/logging/logger.ts';
import type { PeriodicTask } from '../core/plugins/plugin.ts';

/**
 * Runs each plugin's periodic task on the background-job runtime: now, then every `everyMs`
 * milliseconds, never two runs of one task at once, a failing run logged and followed by back-off.
 * Returns a function that stops them all and waits for runs under way.
 */
export function startPeriodicTasks(tasks: readonly PeriodicTask[], logger: Logger): () => Promise<void> {
  const stops = tasks.map((task) =>
    new BackgroundJob({
      name: task.name,
      logger,
      pollMs: task.everyMs,
      maxBackoffMs: Math.max(task.everyMs, 60_000),
      pass: async () => {
        await task.run();
      },
    }).start(),
  );
  return async () => {
    await Promise.all(stops.map((stop) => stop()));
  };
}
