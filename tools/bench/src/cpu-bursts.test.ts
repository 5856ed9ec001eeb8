import { describe, expect, it } from "vitest";
import { burstSpecs } from "./cpu-bursts.js";

describe("burstSpecs", () => {
  it("spins each process's CPU per move above its quiet rate, once per move period", () => {
    const quiet = { cpuMs: new Map([["device", 500], ["a0", 100]]), elapsedMs: 5_000 };
    const moves = { cpuMs: new Map([["device", 900], ["a0", 100]]), elapsedMs: 5_000, count: 250, medianChangeMs: 12 };
    // device: 900 - 500 over 250 moves; a0 used no more than when quiet.
    expect(burstSpecs(quiet, moves)).toEqual([{ spinMs: 1.6, periodMs: 20, spreadMs: 12 }, { spinMs: 0, periodMs: 20, spreadMs: 12 }]);
  });

  it("has nothing to stand in for without moves", () => {
    expect(burstSpecs({ cpuMs: new Map(), elapsedMs: 5_000 }, { cpuMs: new Map([["device", 10]]), elapsedMs: 5_000, count: 0, medianChangeMs: 0 })).toEqual([]);
  });
});
