// The interop suite starts real `switchyard up` processes and real NBD
// clients; the limits below bound each step so a hang fails instead of
// stalling CI.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // A single test drives a few client runs over loopback, each a second or
    // two; tests that copy more set their own, longer limit.
    testTimeout: 60_000,
    // beforeAll starts an appliance (bounded at 20 s in appliance.ts) and
    // afterAll stops it (10 s, then SIGKILL); this leaves a margin on both.
    hookTimeout: 45_000,
    // Each file starts its own appliance with sparse 1 GiB LUs; one at a time
    // keeps the 2-core CI machine from timing out on contention.
    fileParallelism: false,
    // Child processes (vitest's default pool, stated here on purpose): when a
    // file's worker exits, appliance.ts's exit handler SIGKILLs any appliance
    // a crashed hook left behind.
    pool: "forks",
  },
});
