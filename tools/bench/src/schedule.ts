// The order in which the benchmark measures its servers. On a shared machine
// the load drifts over minutes, so every server is measured in every run, back
// to back for each workload, and the order turns each run: no server is
// always first (or always right after another's write workload).
import assert from "node:assert/strict";

/**
 * The order of run `runIndex` (0-based): `items` rotated left by `runIndex`,
 * so over `items.length` consecutive runs each item comes first exactly once.
 */
export function runOrder<T>(items: readonly T[], runIndex: number): T[] {
  assert.ok(Number.isSafeInteger(runIndex) && runIndex >= 0, `run index ${runIndex}`);
  if (items.length === 0) return [];
  const shift = runIndex % items.length;
  return [...items.slice(shift), ...items.slice(0, shift)];
}
