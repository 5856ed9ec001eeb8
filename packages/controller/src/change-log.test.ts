// Goal: the change log writes one line per phase, in order, each once and
// only after the phase has ended, all carrying the change id, plus a start
// and a finish line. Method: drive the change-control core by hand and call
// the log after each step, as the driver does, with a recording logger.
import { describe, expect, it } from "vitest";
import { ChangePhaseLog, type ChangeLogger } from "./change-log.js";
import { ChangeRun } from "./change-run.js";

function recorder(): { logger: ChangeLogger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  return { lines, logger: { info: (fields) => lines.push(fields) } };
}

describe("ChangePhaseLog", () => {
  it("logs each phase once as it ends, with the change id", () => {
    const { logger, lines } = recorder();
    const run = new ChangeRun("move-3-abc", ["a", "b"], 2_000);
    const log = new ChangePhaseLog(logger, run, { kind: "move", summary: "move v extent 0", epoch: 4, baseGeneration: 2 });
    run.start(0);
    log.stepped();
    run.onReport("a", "hold", true, "drained 0", 1);
    log.stepped();
    expect(lines.filter((line) => line.event === "phase")).toEqual([]);
    run.onReport("b", "hold", true, "drained 1", 3);
    log.stepped();
    log.stepped();
    run.onReport("a", "apply", true, "", 4);
    run.onReport("b", "apply", true, "", 5);
    run.onEffect("commit", true, "", 9);
    run.onReport("a", "release", true, "", 10);
    run.onReport("b", "release", true, "", 11);
    log.stepped();
    log.finished("committed", "", 11);
    expect(lines.map((line) => [line.event, line.phase])).toEqual([
      ["started", undefined],
      ["phase", "hold"],
      ["phase", "apply"],
      ["phase", "commit"],
      ["phase", "release"],
      ["finished", undefined],
    ]);
    expect(lines.every((line) => line.change_id === "move-3-abc" && line.epoch === 4)).toBe(true);
    const hold = lines[1];
    expect(hold?.elapsed_ms).toBe(3);
    expect(hold?.reports).toEqual([
      { apparatus: "a", ok: true, elapsed_ms: 1, message: "drained 0" },
      { apparatus: "b", ok: true, elapsed_ms: 3, message: "drained 1" },
    ]);
  });
});
