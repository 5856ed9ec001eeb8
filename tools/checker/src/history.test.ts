// Goal: the checker accepts every history a correct store may produce and
// catches stale reads and lost writes, the bugs it exists for. Method:
// hand-made histories on one block, times in milliseconds.
import { describe, expect, it } from "vitest";
import { History } from "./history.js";

describe("History", () => {
  it("accepts reads of the last completed write, of concurrent writes, and of the initial zero", () => {
    const history = new History();
    history.read(1, 0, 0, 1);
    history.write(1, 10, 2, 3, true);
    history.read(1, 10, 4, 5);
    history.write(1, 11, 6, 9, true);
    history.read(1, 10, 7, 8); // 11 is in progress: either value
    history.read(1, 11, 7, 8);
    history.final(1, 11);
    expect(history.found()).toEqual([]);
  });

  it("lets either of two overlapping writes win", () => {
    const history = new History();
    history.write(1, 20, 0, 5, true);
    history.write(1, 21, 1, 4, true);
    history.read(1, 20, 6, 7);
    history.read(1, 21, 6, 7);
    history.final(1, 20);
    expect(history.found()).toEqual([]);
  });

  it("catches a stale read: the old value after a newer write completed", () => {
    const history = new History();
    history.write(1, 30, 0, 1, true);
    history.write(1, 31, 2, 3, true);
    history.read(1, 30, 4, 5);
    expect(history.found()).toMatchObject([{ block: 1, kind: "stale-read" }]);
  });

  it("catches a lost write: the block ends on an older value, or on zero", () => {
    const history = new History();
    history.write(1, 40, 0, 1, true);
    history.write(1, 41, 2, 3, true);
    history.write(2, 42, 0, 1, true);
    history.final(1, 40);
    history.final(2, 0);
    expect(history.found().map((violation) => [violation.block, violation.kind])).toEqual([
      [1, "lost-write"],
      [2, "lost-write"],
    ]);
  });

  it("treats a write that never answered as possibly done, forever after", () => {
    const history = new History();
    history.write(1, 50, 0, 1, true);
    history.write(1, 51, 2, 3, false);
    history.read(1, 51, 10, 11);
    history.read(1, 50, 12, 13);
    history.final(1, 51);
    expect(history.found()).toEqual([]);
  });

  it("counts a write in flight as concurrent with reads that see it before its reply", () => {
    const history = new History();
    const inFlight = history.beginWrite(1, 70, 0);
    history.read(1, 70, 1, 2);
    history.read(1, 0, 1, 2);
    history.endWrite(inFlight, 3, true);
    history.read(1, 0, 4, 5);
    expect(history.found().map((violation) => violation.kind)).toEqual(["stale-read"]);
  });

  it("refuses a value written twice: values must name writes", () => {
    const history = new History();
    history.write(1, 60, 0, 1, true);
    expect(() => {
      history.write(2, 60, 2, 3, true);
    }).toThrow(/distinct/);
  });
});
