// Goal: a host request that spans extents stays admitted until every one of
// its parts has settled (issue 19 fencing gap): when one part fails at once
// while a sibling still writes, the request neither answers nor leaves the
// admission count early, so a Hold's drain cannot report drained while that
// write is still landing.
// Method: an apparatus whose volume has extent 0 on a memory LU the test
// keeps in flight and extent 1 on an LU that refuses every write.
import { describe, expect, it } from "vitest";
import { NbdError, type BlockIo } from "@switchyard/nbd";
import { VirtualizationApparatus } from "./apparatus.js";
import { LocalBackendSet } from "./backend.js";
import { MemoryLu, oneVolumeTable, opening } from "./testing.js";

const extentSizeBytes = 1 << 20;
const luSizeBytes = 4 * extentSizeBytes;

/** An LU whose every write fails with EIO at once. */
function failingLu(): BlockIo {
  const lu = new MemoryLu(luSizeBytes);
  return { sizeBytes: luSizeBytes, read: (offset, into) => lu.read(offset, into), write: () => Promise.reject(new NbdError("EIO", "refused for the test")), writeZeroes: () => Promise.reject(new NbdError("EIO", "refused for the test")), flush: () => lu.flush() };
}

describe("a request spanning extents", () => {
  it("is answered, and leaves admission, only when every part has settled", async () => {
    const slow = new MemoryLu(luSizeBytes);
    const backends = new LocalBackendSet(new Map<string, BlockIo>([["lu0", slow], ["lu1", failingLu()]]));
    const apparatus = new VirtualizationApparatus({ id: "a", backends });
    await apparatus.loadTable(1, oneVolumeTable(1, 2, luSizeBytes, extentSizeBytes, "v", [0, 1], [0, 0]));
    const gate = opening();
    slow.gate = gate.promise;
    let settled = false;
    // 512 bytes at the end of extent 0 (lu0, kept in flight) and 512 at the start of extent 1 (lu1, refused).
    const write = apparatus.io.write("v", extentSizeBytes - 512, Buffer.alloc(1024, 7), false).finally(() => { settled = true; });
    const drained = apparatus.io.admission.barrier();
    let opened = false;
    let drainedEarly = false;
    void drained.then(() => { drainedEarly = !opened; });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(settled).toBe(false);
    expect(apparatus.io.inFlight).toBe(1);
    opened = true;
    gate.open();
    await expect(write).rejects.toThrow("refused for the test");
    await drained;
    expect(drainedEarly).toBe(false);
    expect(apparatus.io.inFlight).toBe(0);
    // The part that was in flight landed: it was the host's write, refused as a whole, not lost halfway silently.
    expect(slow.bytes.subarray(extentSizeBytes - 512, extentSizeBytes).every((byte) => byte === 7)).toBe(true);
  });
});
