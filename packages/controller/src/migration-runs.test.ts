// Goal: a controller that lost its lease answers a new move or migration
// with NOT_CONTROLLER, even for an extent a run it started before still
// lists (its successor owns that run now). Method: MigrationRuns over a
// device that never answers, so the resumed run stays in flight, and a
// lease that is held, then lost.
import { describe, expect, it } from "vitest";
import type { JournalEntry__Output, StoreState__Output } from "@switchyard/proto";
import type { DevicePort } from "./device-port.js";
import { ControllerError } from "./errors.js";
import { MigrationRuns } from "./migration-runs.js";
import { systemScheduler } from "./scheduler.js";
import { TableKeeper } from "./table-keeper.js";

const mebibyte = 1 << 20;

/** A call the device never answers: the run that makes it stays in flight. */
function unanswered<T>(): Promise<T> {
  return new Promise<T>(() => undefined);
}

const silentDevice: DevicePort = {
  getInventory: unanswered, acquireLease: unanswered, renewLease: unanswered, readStore: unanswered, writeStore: unanswered,
  commitDelta: unanswered, registerKey: unanswered, fence: unanswered, scrubAreas: unanswered, probeNbdExport: unanswered,
  startMirror: unanswered, listMirrors: unanswered, close: () => undefined,
};

function runningMove(): JournalEntry__Output {
  return {
    change_id: "move-10-abc", kind: "move", diff: null, summary: "move extent 0 of p to lu1", state: "CHANGE_STATE_RUNNING", base_generation: 9, epoch: 1,
    started_at_ms: 0, ended_at_ms: 0, message: "", phases: [], reports: [], fenced: [], target_lu_id: "lu1", rate_bytes_per_second: 0, total_bytes: mebibyte,
    copy_progress: [{ volume: "p", extent_index: 0, source_lu_id: "lu0", source_area_index: 0, destination_lu_id: "lu1", destination_area_index: 0, watermark_bytes: 0, state: "pending", hole_bytes_skipped: 0, chunks_copied_again: 0 }], hold_mode: "HOLD_MODE_UNSPECIFIED",
  };
}

function stateWithMove(): StoreState__Output {
  return {
    generation: 10,
    lus: [0, 1].map((index) => ({ index, id: `lu${index}`, device_id: "dev0", size_bytes: 4 * mebibyte, extent_size_bytes: mebibyte, nbd_uri: "", external: false })),
    volumes: [{ name: "p", size_bytes: mebibyte, extent_size_bytes: mebibyte, extents: { lu_index: [0], area_index: [0], mirror_lu_index_plus_one: [], mirror_area_index: [], mirror_watermark_bytes: [] } }],
    journal: [runningMove()],
    copy_progress: [],
    external_devices: [],
    fenced_by_operator: [],
    apparatuses: [],
  };
}

describe("MigrationRuns", () => {
  it("refuses a move with NOT_CONTROLLER once the lease is lost, not with the run it still lists", async () => {
    let leader = true;
    const epoch = (): number => {
      if (!leader) throw new ControllerError("NOT_CONTROLLER", "c1 does not hold the controller lease");
      return 1;
    };
    const runs = new MigrationRuns({
      controllerId: "c1", device: silentDevice, table: new TableKeeper(silentDevice, epoch), epoch, isLeader: () => leader,
      runChange: unanswered, serialized: (work) => work(), scheduler: systemScheduler, entropy: { hex: () => "def" }, warn: () => undefined,
    });
    runs.resume(stateWithMove());
    expect(runs.infos().map((info) => info.id)).toEqual(["move-10-abc"]);
    // Held, the lease lets the check reach the run: one move per extent.
    await expect(runs.submitMove("p", 0, "lu1")).rejects.toThrow(/is being moved by move-10-abc/);
    leader = false;
    await expect(runs.submitMove("p", 0, "lu1")).rejects.toMatchObject({ code: "NOT_CONTROLLER", message: expect.stringMatching(/does not hold the controller lease/) as unknown });
    await expect(runs.submitMigrate({ volume: "p", toLuId: "lu1", firstExtent: 0, endExtent: 0, rateBytesPerSecond: 0 })).rejects.toMatchObject({ code: "NOT_CONTROLLER" });
  });
});
