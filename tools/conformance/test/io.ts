/** Captured output for running main() in-process: the console's own helper. */
export { captureIo as capture } from "@switchyard/console/testing";

/** The ids of the cases a TAP run reported as failed. */
export function failedIds(tap: string): string[] {
  return Array.from(tap.matchAll(/^not ok \d+ - ([a-z0-9-]+):/gm), (match) => match[1] ?? "");
}

/** The ids of the cases a TAP run reported as skipped. */
export function skippedIds(tap: string): string[] {
  return Array.from(tap.matchAll(/^ok \d+ - ([a-z0-9-]+):.* # SKIP /gm), (match) => match[1] ?? "");
}

/** The "not ok" lines of a TAP run with the diagnostics under each: what an assertion on failedIds should show when it fails. */
export function failureBlocks(tap: string): string {
  const blocks = tap.split(/^(?=(?:not )?ok \d+ |\d+ passed|Bail out!)/m).filter((block) => block.startsWith("not ok "));
  return blocks.length === 0 ? "no case failed" : blocks.join("");
}
