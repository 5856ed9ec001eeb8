// Goal: every hold ends (issue 19): a hold that passes its deadline with no
// Release, Abort or whole table stops the held volume being served, so its
// held and new requests fail with ESHUTDOWN instead of waiting for ever,
// while other volumes go on; GetState and the counter say so, and a whole
// table serves the volume again. A Release in time cancels the deadline.
// Method: one apparatus over in-memory LUs, its deadline on a clock the test
// moves by hand.
import { describe, expect, it } from "vitest";
import { NbdError } from "@switchyard/nbd";
import type { ApparatusClock } from "./apparatus-clock.js";
import { VirtualizationApparatus } from "./apparatus.js";
import { MemoryLu, memoryBackends, memoryLuDescription } from "./testing.js";

const extentSizeBytes = 1 << 20;
const luSizeBytes = 8 * extentSizeBytes;
const holdDeadlineMs = 10_000;

/** Timers that fire only when the test moves the clock past them. */
function handClock(): { clock: ApparatusClock; advance: (ms: number) => void } {
  let nowMs = 0;
  const timers: { atMs: number; fire: () => void; live: boolean }[] = [];
  return {
    clock: {
      after: (delayMs, fire) => {
        const timer = { atMs: nowMs + delayMs, fire, live: true };
        timers.push(timer);
        return () => { timer.live = false; };
      },
    },
    advance: (ms) => {
      nowMs += ms;
      for (const timer of timers.filter((candidate) => candidate.live && candidate.atMs <= nowMs)) {
        timer.live = false;
        timer.fire();
      }
    },
  };
}

/** Volumes v (extent 0 on lu0 area 0) and w (extent 0 on lu0 area 1). */
function table(generation: number): Parameters<VirtualizationApparatus["loadTable"]>[1] {
  return {
    generation,
    lus: [memoryLuDescription(0, luSizeBytes, extentSizeBytes)],
    volumes: ["v", "w"].map((name, index) => ({
      name, size_bytes: extentSizeBytes, extent_size_bytes: extentSizeBytes,
      extents: { lu_index: [0], area_index: [index], mirror_lu_index_plus_one: [], mirror_area_index: [], mirror_watermark_bytes: [] },
    })),
  };
}

async function heldApparatus(): Promise<{ apparatus: VirtualizationApparatus; advance: (ms: number) => void; warnings: string[] }> {
  const { clock, advance } = handClock();
  const warnings: string[] = [];
  const apparatus = new VirtualizationApparatus({ id: "a", backends: memoryBackends([new MemoryLu(luSizeBytes)]), clock, holdDeadlineMs, warn: (message) => { warnings.push(message); } });
  await apparatus.loadTable(1, table(1));
  await apparatus.hold({ change_id: "c1", epoch: 1, base_generation: 1, ranges: [{ volume: "v", offset_bytes: 0, length_bytes: 0 }], mode: "HOLD_MODE_WRITES" });
  return { apparatus, advance, warnings };
}

/** How a request ended: "ok", or its NBD error code. */
function outcome(request: Promise<void>): Promise<string> {
  return request.then(() => "ok", (error: unknown) => (error instanceof NbdError ? error.code : `unexpected: ${String(error)}`));
}

describe("the hold deadline", () => {
  it("fails held and new requests of the held volume with ESHUTDOWN once it passes, and serves the others", async () => {
    const { apparatus, advance, warnings } = await heldApparatus();
    const held = outcome(apparatus.io.write("v", 0, Buffer.alloc(512, 1), false));
    advance(holdDeadlineMs - 1);
    await new Promise((resolve) => setImmediate(resolve));
    expect(apparatus.state().volumes_shut).toEqual([]);
    advance(1);
    expect(await held).toBe("ESHUTDOWN");
    expect(await outcome(apparatus.io.read("v", 0, Buffer.alloc(512)))).toBe("ESHUTDOWN");
    expect(await outcome(apparatus.io.write("w", 0, Buffer.alloc(512, 2), false))).toBe("ok");
    expect(apparatus.state().volumes_shut).toEqual(["v"]);
    expect(apparatus.io.gate.stats.holdsExpired).toBe(1);
    expect(apparatus.io.gate.empty).toBe(true);
    expect(warnings.join("\n")).toMatch(/c1 passed its 10000 ms deadline/);
  });

  it("serves the volume again after a whole table", async () => {
    const { apparatus, advance } = await heldApparatus();
    advance(holdDeadlineMs);
    await apparatus.loadTable(2, table(2));
    expect(apparatus.state().volumes_shut).toEqual([]);
    expect(await outcome(apparatus.io.write("v", 0, Buffer.alloc(512, 3), false))).toBe("ok");
  });

  it("is cancelled by a Release in time", async () => {
    const { apparatus, advance } = await heldApparatus();
    apparatus.release({ change_id: "c1", epoch: 1 });
    advance(2 * holdDeadlineMs);
    expect(apparatus.state().volumes_shut).toEqual([]);
    expect(apparatus.io.gate.stats.holdsExpired).toBe(0);
    expect(await outcome(apparatus.io.write("v", 0, Buffer.alloc(512, 4), false))).toBe("ok");
  });
});
