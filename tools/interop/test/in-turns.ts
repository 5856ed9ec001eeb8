// Runs independent CLI commands a few at a time. Each `switchyard` child
// spends most of its second or so loading Node and its modules, so on the
// 2-core CI machine a handful at once finish in a fraction of the time one
// after another takes.

/**
 * CLI processes started at once: dozens at a time on 2 busy CPUs each took
 * longer than the CLI's own limit to start (CI failed so with a load of 20).
 */
export const cliProcessesAtOnce = 4;

/** Runs `tasks` at most cliProcessesAtOnce at a time; their results in order. */
export async function inTurns<T>(tasks: readonly (() => Promise<T>)[]): Promise<T[]> {
  const results: T[] = new Array<T>(tasks.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let index = next++; index < tasks.length; index = next++) {
      const task = tasks[index];
      if (task !== undefined) results[index] = await task();
    }
  };
  await Promise.all(Array.from({ length: cliProcessesAtOnce }, worker));
  return results;
}
