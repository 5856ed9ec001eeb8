/**
 * What a fuzz run reports: counts, speed, and each failure with the seed
 * that replays it and the bytes that were sent.
 */
import { failuresKeptMax } from "./limits.js";

export type FuzzFailureCode = "crash" | "hang" | "wrong-answer" | "protocol" | "not-serving";

/** One failed fuzz case: replay it by running the same case seed. */
export class FuzzFailure extends Error {
  constructor(
    readonly code: FuzzFailureCode,
    readonly caseSeed: number,
    message: string,
    /** The inputs of the case, oldest first, as the fuzzer describes them (hex for raw bytes). */
    readonly transcript: readonly string[],
    options?: { cause?: unknown },
  ) {
    super(`${code} (case seed ${caseSeed}): ${message}`, options);
    this.name = "FuzzFailure";
  }

  /** The failure as a reader needs it: seed, message and every input sent. */
  describe(): string {
    return [this.message, `replay: SWITCHYARD_FUZZ_CASE_SEED=${this.caseSeed}`, ...this.transcript.map((line) => `  sent ${line}`)].join("\n");
  }
}

export interface FuzzReport {
  readonly runSeed: number;
  readonly inputs: number;
  readonly cases: number;
  readonly elapsedMs: number;
  readonly inputsPerSecond: number;
  /** The first failures (at most failuresKeptMax). */
  readonly failures: readonly FuzzFailure[];
  readonly failureCount: number;
}

/** Collects counts and failures while a run goes on. */
export class FuzzTally {
  inputs = 0;
  cases = 0;
  failureCount = 0;
  readonly failures: FuzzFailure[] = [];
  private readonly startedMs = performance.now();

  constructor(readonly runSeed: number) {}

  fail(failure: FuzzFailure): void {
    this.failureCount += 1;
    if (this.failures.length < failuresKeptMax) this.failures.push(failure);
  }

  report(): FuzzReport {
    const elapsedMs = performance.now() - this.startedMs;
    return {
      runSeed: this.runSeed,
      inputs: this.inputs,
      cases: this.cases,
      elapsedMs,
      inputsPerSecond: Math.round(this.inputs / Math.max(elapsedMs / 1000, 1e-3)),
      failures: this.failures,
      failureCount: this.failureCount,
    };
  }
}

/** One line for logs: how much ran, how fast, and what failed. */
export function summarize(name: string, report: FuzzReport): string {
  const head = `${name}: ${report.inputs} inputs in ${report.cases} cases, ${(report.elapsedMs / 1000).toFixed(1)} s, ${report.inputsPerSecond} inputs/s, run seed ${report.runSeed}, ${report.failureCount} failures`;
  return [head, ...report.failures.map((failure) => failure.describe())].join("\n");
}
