import type { Logger } from '../core/logging/logger.ts';
import type { PeriodicTask } from '../core/plugins/plugin.ts';

/**
 * Runs each periodic task now and then every `everyMs`, never two runs of one task at once; a
 * failing run is logged and the task runs again at its next time. Returns a function that stops
 * them and waits for runs under way.
 */
export function startPeriodicTasks(tasks: readonly PeriodicTask[], logger: Logger): () => Promise<void> {
  let stopped = false;
  const running = new Set<Promise<void>>();
  const timers = tasks.map((task) => {
    let busy = false;
    const tick = () => {
      if (stopped || busy) return;
      busy = true;
      const run = task
        .run()
        .catch((err: unknown) => logger.error({ err, task: task.name }, 'periodic task failed'))
        .finally(() => {
          busy = false;
          running.delete(run);
        });
      running.add(run);
    };
    const timer = setInterval(tick, task.everyMs);
    timer.unref();
    tick();
    return timer;
  });
  return async () => {
    stopped = true;
    for (const timer of timers) clearInterval(timer);
    await Promise.all(running);
  };
}
