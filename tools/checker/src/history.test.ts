// Goal: the checker accepts every history a correct store may produce and
// catches stale reads and lost writes, the bugs it exists for, power cuts
// included (a cut may lose what no FLUSH or FUA made durable, and nothing
// else). Method: hand-made histories on one block, times in milliseconds.
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

  it("lets a power cut lose a write no FLUSH or FUA made durable, back to the last durable one", () => {
    const history = new History();
    history.write(1, 80, 0, 1, true);
    history.flush(2, 3);
    history.write(1, 81, 4, 5, true);
    history.write(1, 82, 6, 7, true);
    history.powerCut(8);
    history.read(1, 80, 7.5, 8.5); // in flight across the cut: it may see what the cut left
    history.read(1, 80, 9, 10);
    history.read(1, 81, 9, 10);
    history.read(1, 82, 9, 10);
    history.final(1, 80);
    expect(history.found()).toEqual([]);
  });

  it("catches a write lost at a power cut after a FLUSH sent after its reply was answered OK", () => {
    const history = new History();
    history.write(1, 90, 0, 1, true);
    history.write(1, 91, 2, 3, true);
    history.flush(4, 5);
    history.powerCut(6);
    history.read(1, 90, 7, 8);
    history.final(1, 0);
    expect(history.found().map((violation) => violation.kind)).toEqual(["stale-read", "lost-write"]);
  });

  it("catches a FUA write lost at a power cut, and lets one go whose FLUSH was answered only after the cut", () => {
    const history = new History();
    history.endWrite(history.beginWrite(1, 100, 0, true), 1, true);
    history.powerCut(2);
    history.read(1, 0, 3, 4);
    history.write(2, 101, 5, 6, true);
    history.powerCut(7);
    history.flush(6.5, 8);
    history.read(2, 0, 9, 10);
    expect(history.found()).toMatchObject([{ block: 1, kind: "stale-read" }]);
  });
});
