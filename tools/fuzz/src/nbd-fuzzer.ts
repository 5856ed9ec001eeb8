/**
 * The NBD fuzz runner: connects to a server on loopback case after case,
 * each case seeded on its own (replayable alone), runs a fuzzed handshake and
 * transmission, and tallies inputs and failures. A crash shows up as an
 * uncaught exception or unhandled rejection in this process (the server runs
 * here), which the runner records while it runs; a hang as a bounded wait
 * that ran out.
 */
import assert from "node:assert/strict";
import { RawPeer } from "@switchyard/nbd/testing";
import { FuzzFailure, FuzzTally, type FuzzReport } from "./fuzz-report.js";
import { nbdOptionsPerCaseMax, nbdRequestsPerCaseMax } from "./limits.js";
import { fuzzHandshake } from "./nbd-handshake-fuzz.js";
import { fuzzTransmission } from "./nbd-transmission-fuzz.js";
import { NbdCase, type NbdFuzzExport } from "./nbd-wire.js";
import { SeededRandom, caseSeed } from "./seeded-random.js";

export interface NbdFuzzOptions {
  readonly host: string;
  readonly port: number;
  /** The server's exports as it was started (with one, the empty name opens it). */
  readonly exports: readonly NbdFuzzExport[];
  /** The maximum READ/WRITE length the server was started with. */
  readonly requestSizeMaxBytes: number;
  readonly runSeed: number;
  /** The run stops after the case during which this many inputs were sent. */
  readonly inputsTarget: number;
  /** Replays just this case seed, when set. */
  readonly onlyCaseSeed?: number;
  /** Ends the run at the first failure (a planted-bug test wants one, not every hang's timeout). */
  readonly stopAtFirstFailure?: boolean;
}

/** Runs cases until `inputsTarget` inputs were sent; never throws for a failed case. */
export async function runNbdFuzz(options: NbdFuzzOptions): Promise<FuzzReport> {
  assert.ok(options.exports.length >= 1, "the fuzzer needs an export");
  const tally = new FuzzTally(options.runSeed);
  const crashes = watchCrashes();
  try {
    for (let caseIndex = 0; tally.inputs < options.inputsTarget; caseIndex += 1) {
      const seed = options.onlyCaseSeed ?? caseSeed(options.runSeed, caseIndex);
      const fuzzCase = await runCase(options, seed, tally);
      for (const crash of crashes.take()) tally.fail(new FuzzFailure("crash", seed, describeError(crash), fuzzCase.transcript, { cause: crash }));
      if (options.onlyCaseSeed !== undefined || (options.stopAtFirstFailure === true && tally.failureCount > 0)) break;
    }
  } finally {
    crashes.stop();
  }
  return tally.report();
}

async function runCase(options: NbdFuzzOptions, seed: number, tally: FuzzTally): Promise<NbdCase> {
  const random = new SeededRandom(seed);
  const peer = await RawPeer.connect(options.port, options.host);
  const fuzzCase = new NbdCase(peer, random, options.exports, options.requestSizeMaxBytes);
  try {
    const entry = await fuzzHandshake(fuzzCase, random.below(nbdOptionsPerCaseMax + 1));
    if (entry !== undefined) await fuzzTransmission(fuzzCase, entry, random.between(1, nbdRequestsPerCaseMax));
  } catch (error) {
    tally.fail(error instanceof FuzzFailure ? error : new FuzzFailure("protocol", seed, describeError(error), fuzzCase.transcript, { cause: error }));
  } finally {
    peer.destroy();
    tally.cases += 1;
    tally.inputs += fuzzCase.inputs;
  }
  return fuzzCase;
}

interface CrashWatch {
  take(): unknown[];
  stop(): void;
}

/** Records uncaught exceptions and unhandled rejections while the run lasts. */
function watchCrashes(): CrashWatch {
  let seen: unknown[] = [];
  const onCrash = (error: unknown): void => {
    seen.push(error);
  };
  process.on("uncaughtException", onCrash);
  process.on("unhandledRejection", onCrash);
  return {
    take() {
      const taken = seen;
      seen = [];
      return taken;
    },
    stop() {
      process.off("uncaughtException", onCrash);
      process.off("unhandledRejection", onCrash);
    },
  };
}

export function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
