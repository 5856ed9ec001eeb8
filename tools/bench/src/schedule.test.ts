// Goal: the measuring order turns every run, so each server is first once per
// cycle and none is dropped or repeated. Method: check the order of small
// lists over several runs.
import { describe, expect, it } from "vitest";
import { runOrder } from "./schedule.js";

describe("runOrder", () => {
  it("rotates left by the run index, wrapping around", () => {
    const servers = ["nbdkit", "qemu-nbd", "switchyard"];
    expect(runOrder(servers, 0)).toEqual(["nbdkit", "qemu-nbd", "switchyard"]);
    expect(runOrder(servers, 1)).toEqual(["qemu-nbd", "switchyard", "nbdkit"]);
    expect(runOrder(servers, 2)).toEqual(["switchyard", "nbdkit", "qemu-nbd"]);
    expect(runOrder(servers, 3)).toEqual(servers);
  });

  it("puts each item first exactly once over a full cycle and keeps every item in every run", () => {
    const items = [1, 2, 3, 4];
    const firsts = [0, 1, 2, 3].map((run) => runOrder(items, run)[0]);
    expect([...firsts].sort()).toEqual(items);
    for (let run = 0; run < 8; run += 1) expect([...runOrder(items, run)].sort()).toEqual(items);
  });

  it("handles one or no item, and refuses a negative run index", () => {
    expect(runOrder(["only"], 5)).toEqual(["only"]);
    expect(runOrder([], 2)).toEqual([]);
    expect(() => runOrder([1], -1)).toThrow();
  });
});
