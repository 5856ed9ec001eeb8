// Goal: a host request that spans extents stays admitted until every one of
// its parts has settled (issue 19 fencing gap): when one part fails at once
// while a sibling still writes, the request neither answers nor leaves the
// admission count early, so a Hold's drain cannot report drained while that
// write is still landing.
// Method: an apparatus whose volume has extent 0 on a memory LU the test
// keeps in flight and extent 1 on an LU that refuses every write; and the
// same with the planted early-admission-end, which must be seen draining
// early (the seam the simulator plants it through).
import { describe, expect, it } from "vitest";
import { NbdError, type BlockIo } from "@switchyard/nbd";
import { VirtualizationApparatus } from "./apparatus.js";
import { LocalBackendSet } from "./backend.js";
import type { ApparatusBehaviour } from "./apparatus-behaviour.js";
import { MemoryLu, oneVolumeTable, opening } from "./testing.js";
import { apparatusFaultBehaviours } from "./testing/apparatus-faults.js";

const extentSizeBytes = 1 << 20;
const luSizeBytes = 4 * extentSizeBytes;

/** An LU whose every write fails with EIO at once. */
function failingLu(): BlockIo {
  const lu = new MemoryLu(luSizeBytes);
  return { sizeBytes: luSizeBytes, read: (offset, into) => lu.read(offset, into), write: () => Promise.reject(new NbdError("EIO", "refused for the test")), writeZeroes: () => Promise.reject(new NbdError("EIO", "refused for the test")), flush: () => lu.flush() };
}

/** What a spanning write shows while its slow part is kept in flight and its other part is refused. */
interface SpanningWriteSeen {
  readonly answeredWhileInFlight: boolean;
  readonly admittedWhileInFlight: number;
  readonly drainedWhileInFlight: boolean;
  readonly failure: unknown;
  readonly inFlightAfter: number;
  readonly slowPartLanded: boolean;
}

async function spanningWrite(behaviour?: ApparatusBehaviour): Promise<SpanningWriteSeen> {
  const slow = new MemoryLu(luSizeBytes);
  const backends = new LocalBackendSet(new Map<string, BlockIo>([["lu0", slow], ["lu1", failingLu()]]));
  const apparatus = new VirtualizationApparatus({ id: "a", backends, ...(behaviour === undefined ? {} : { behaviour }) });
  await apparatus.loadTable(1, oneVolumeTable(1, 2, luSizeBytes, extentSizeBytes, "v", [0, 1], [0, 0]));
  const gate = opening();
  slow.gate = gate.promise;
  let answered = false;
  let drained = false;
  // 512 bytes at the end of extent 0 (lu0, kept in flight) and 512 at the start of extent 1 (lu1, refused).
  const write = apparatus.io.write("v", extentSizeBytes - 512, Buffer.alloc(1024, 7), false).finally(() => { answered = true; });
  const failure = write.then(() => undefined, (error: unknown) => error);
  const drain = apparatus.io.admission.barrier().then(() => { drained = true; });
  await new Promise((resolve) => setTimeout(resolve, 20));
  const whileInFlight = { answeredWhileInFlight: answered, admittedWhileInFlight: apparatus.io.inFlight, drainedWhileInFlight: drained };
  gate.open();
  await drain;
  return {
    ...whileInFlight,
    failure: await failure,
    inFlightAfter: apparatus.io.inFlight,
    slowPartLanded: slow.bytes.subarray(extentSizeBytes - 512, extentSizeBytes).every((byte) => byte === 7),
  };
}

describe("a request spanning extents", () => {
  it("is answered, and leaves admission, only when every part has settled", async () => {
    const seen = await spanningWrite();
    expect(seen).toMatchObject({ answeredWhileInFlight: false, admittedWhileInFlight: 1, drainedWhileInFlight: false, inFlightAfter: 0 });
    expect(seen.failure).toMatchObject({ message: expect.stringContaining("refused for the test") as unknown });
    // The part that was in flight landed: it was the host's write, refused as a whole, not lost halfway silently.
    expect(seen.slowPartLanded).toBe(true);
  });

  it("leaves admission at its first failure with the planted early-admission-end, so a drain reports drained with a part still writing", async () => {
    const seen = await spanningWrite(apparatusFaultBehaviours["early-admission-end"]);
    expect(seen).toMatchObject({ answeredWhileInFlight: true, admittedWhileInFlight: 0, drainedWhileInFlight: true, slowPartLanded: true });
  });
});
