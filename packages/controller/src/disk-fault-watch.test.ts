// Goal: a failure of an LU's file becomes one journal event, at its own
// time, never twice: not again at the next check, not by a successor that
// read the journal, and not for a failure the device reports again unchanged.
import { describe, expect, it } from "vitest";
import type { Inventory__Output, JournalEntry__Output } from "@switchyard/proto";
import { DiskFaultWatch, diskFaultCheckIntervalMs } from "./disk-fault-watch.js";
import { eventRecord } from "./event-records.js";

function inventory(lus: { id: string; errors: number; last: string; atMs: number }[]): Inventory__Output {
  return {
    device_id: "dev0",
    grpc_address: "",
    nbd_address: "",
    lus: lus.map((lu) => ({ id: lu.id, size_bytes: 0, extent_size_bytes: 0, areas_total: 0, areas_free: 0, export_name: lu.id, io_errors_total: lu.errors, last_io_error: lu.last, last_io_error_at_ms: lu.atMs })),
  };
}

describe("DiskFaultWatch", () => {
  it("turns a newer failure into one event at its time, and the same failure into none", () => {
    const watch = new DiskFaultWatch();
    const first = inventory([{ id: "lu0", errors: 0, last: "", atMs: 0 }, { id: "lu1", errors: 2, last: "IO_FAILED: read at 4096: EIO", atMs: 1_000 }]);
    expect(watch.newFaults(first)).toEqual([{ subject: "dev0/lu1", atMs: 1_000, cause: "2 failed I/Os of LU lu1's file on device dev0 so far; the newest: IO_FAILED: read at 4096: EIO" }]);
    expect(watch.newFaults(first)).toEqual([]);
    const later = inventory([{ id: "lu1", errors: 3, last: "IO_FAILED: write at 0: ENOSPC", atMs: 2_000 }]);
    expect(watch.newFaults(later).map((fault) => fault.atMs)).toEqual([2_000]);
  });

  it("records nothing a predecessor recorded: the journal seeds what is known", () => {
    const recorded = eventRecord("disk-fault", "dev0/lu1", "…", { epoch: 1, nowMs: 1_000, suffix: "ab" }) as unknown as JournalEntry__Output;
    const watch = new DiskFaultWatch();
    watch.seed([recorded]);
    expect(watch.newFaults(inventory([{ id: "lu1", errors: 2, last: "EIO", atMs: 1_000 }]))).toEqual([]);
    expect(watch.newFaults(inventory([{ id: "lu1", errors: 3, last: "EIO", atMs: 1_001 }]))).toHaveLength(1);
  });

  it("is due once per interval", () => {
    const watch = new DiskFaultWatch();
    expect(watch.due(10)).toBe(true);
    expect(watch.due(10 + diskFaultCheckIntervalMs - 1)).toBe(false);
    expect(watch.due(10 + diskFaultCheckIntervalMs)).toBe(true);
  });

  it("checks once per interval, and a device that does not answer is asked again at the next check", async () => {
    const watch = new DiskFaultWatch();
    let answers = false;
    let asked = 0;
    const device = {
      getInventory: () => {
        asked += 1;
        return answers ? Promise.resolve(inventory([{ id: "lu0", errors: 1, last: "EIO", atMs: 5 }])) : Promise.reject(new Error("UNAVAILABLE"));
      },
    };
    expect(await watch.check(device, 0)).toEqual([]);
    answers = true;
    expect(await watch.check(device, diskFaultCheckIntervalMs - 1)).toEqual([]);
    expect(asked).toBe(1);
    expect((await watch.check(device, diskFaultCheckIntervalMs)).map((fault) => fault.subject)).toEqual(["dev0/lu0"]);
    expect(asked).toBe(2);
  });
});
