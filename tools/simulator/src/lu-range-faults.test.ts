// Goal: a bad range refuses only requests that touch it, with EIO, and only
// until it heals. Method: a clock the test moves.
import { describe, expect, it } from "vitest";
import { BadRangeError, LuRangeFaults } from "./lu-range-faults.js";

describe("LuRangeFaults", () => {
  it("refuses requests touching a bad range of its LU with EIO, until the range heals", () => {
    let nowMs = 0;
    const faults = new LuRangeFaults(() => nowMs);
    faults.fail(1, 4096, 8192, 100);
    expect(faults.refusal(1, 0, 4096)).toBeUndefined();
    expect(faults.refusal(0, 4096, 512)).toBeUndefined();
    const refused = faults.refusal(1, 4000, 512);
    expect(refused).toBeInstanceOf(BadRangeError);
    expect(refused?.code).toBe("EIO");
    expect(faults.refusal(1, 8192, 512)).toBeUndefined();
    nowMs = 100;
    expect(faults.refusal(1, 4096, 512)).toBeUndefined();
    faults.fail(1, 0, 512, 100);
    faults.heal();
    expect(faults.refusal(1, 0, 512)).toBeUndefined();
    expect({ faults: faults.faults, refused: faults.refused }).toEqual({ faults: 2, refused: 1 });
  });
});
