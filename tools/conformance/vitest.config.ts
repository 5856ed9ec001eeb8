// The suite's own tests: unit tests of its parts, and runs of the whole
// suite against real apparatus processes (good and deliberately faulty).
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    // One run launches an apparatus process and checks every case: about
    // 12 s alone (22 s with the 10 s hold deadline), several times that on
    // a loaded 2-core machine.
    testTimeout: 120_000,
    // Runs of the suite start processes of their own; one file at a time.
    fileParallelism: false,
    // Two suite runs at a time: each is an apparatus process and seconds of
    // mostly waiting, but with three beside CI's interop lane a planted-bug
    // run's calls outlasted their deadlines once (session 26).
    maxConcurrency: 2,
    pool: "forks",
  },
});
