/**
 * How many inputs a fuzz test runs and from which seed: the CI count and a
 * fixed seed by default, or what the environment asks for (the long mode:
 * SWITCHYARD_FUZZ_INPUTS=10000000 runs for hours; SWITCHYARD_FUZZ_SEED picks
 * new inputs; SWITCHYARD_FUZZ_CASE_SEED replays one failed case).
 */
import assert from "node:assert/strict";
import { fuzzInputsVariable, fuzzSeedVariable } from "./limits.js";

export const fuzzCaseSeedVariable = "SWITCHYARD_FUZZ_CASE_SEED";

export interface FuzzRunSettings {
  readonly inputsTarget: number;
  readonly runSeed: number;
  readonly onlyCaseSeed: number | undefined;
  /** A test timeout that fits the run at a slow `inputsPerSecondFloor`. */
  readonly testTimeoutMs: number;
}

/** Fixed CI run seed: CI is reproducible; explore by setting SWITCHYARD_FUZZ_SEED. */
const ciRunSeed = 19;
/** Time a test needs besides its inputs: server start, real-client checks, teardown. */
const testOverheadMs = 60_000;

function integerFrom(environment: NodeJS.ProcessEnv, name: string): number | undefined {
  const text = environment[name];
  if (text === undefined || text === "") return undefined;
  const value = Number(text);
  assert.ok(Number.isSafeInteger(value) && value >= 0, `${name}=${text} is not a non-negative integer`);
  return value;
}

/**
 * `ciInputs` unless the environment says otherwise; the timeout assumes
 * no run goes slower than `inputsPerSecondFloor`.
 */
export function fuzzRunSettings(ciInputs: number, inputsPerSecondFloor: number, environment: NodeJS.ProcessEnv = process.env): FuzzRunSettings {
  const inputsTarget = integerFrom(environment, fuzzInputsVariable) ?? ciInputs;
  const runSeed = integerFrom(environment, fuzzSeedVariable) ?? ciRunSeed;
  const onlyCaseSeed = integerFrom(environment, fuzzCaseSeedVariable);
  return { inputsTarget, runSeed, onlyCaseSeed, testTimeoutMs: testOverheadMs + Math.ceil((inputsTarget / inputsPerSecondFloor) * 1000) };
}
