// Servers a test started must not outlive the test worker: a hook that timed
// out leaves its servers to no afterAll (the promise that would hand them over
// is still pending), and they served on through the rest of a CI run. vitest
// ends its fork workers with SIGTERM, which skips "exit" handlers unless the
// signal is handled, so both end the servers registered here.

const endings = new Set<() => void>();

function endAll(): void {
  for (const end of endings) end();
  endings.clear();
}

process.on("exit", endAll);
process.once("SIGTERM", () => {
  endAll();
  // As the default action would, by the conventional code of a SIGTERM.
  process.exit(128 + 15);
});

/** Runs `end` (synchronous: SIGKILL, say) when the worker exits or is told to; the returned function forgets it. */
export function endOnWorkerExit(end: () => void): () => void {
  endings.add(end);
  return () => {
    endings.delete(end);
  };
}
