// Goal: each planted backend bug does the one wrong thing its name says and
// passes everything else through, so that a conformance case failing
// against it proves the case checks that thing. Method: in-memory LUs behind
// the decorator, called directly.
import { describe, expect, it } from "vitest";
import { NBD_STATE_HOLE, NBD_STATE_ZERO } from "@switchyard/nbd";
import { MemoryLu, memoryBackends, memoryLuDescription } from "../testing.js";
import { faultyBackendSet, flushSkipsLuBackendSet } from "./backend-faults.js";

const extentSizeBytes = 1 << 20;
const luSizeBytes = 4 * extentSizeBytes;

describe("planted backend bugs", () => {
  it("flush-skips-lu flushes, after a rejoin, only the LUs reached since, as the NBD backends did before the fix; before one, every LU", async () => {
    const lus = [new MemoryLu(luSizeBytes), new MemoryLu(luSizeBytes)];
    const backends = flushSkipsLuBackendSet(memoryBackends(lus));
    backends.identify({ apparatusId: "a", key: "k1" });
    await backends.backend(memoryLuDescription(1, luSizeBytes, extentSizeBytes)).write(0, Buffer.alloc(512, 2), false);
    await backends.flushAll([]);
    expect(lus.map((lu) => lu.flushes)).toEqual([1, 1]);
    await backends.backend(memoryLuDescription(0, luSizeBytes, extentSizeBytes)).write(0, Buffer.alloc(512, 1), false);
    backends.identify({ apparatusId: "a", key: "k1" });
    await backends.flushAll([]);
    expect(lus.map((lu) => lu.flushes)).toEqual([2, 2]);
    backends.identify({ apparatusId: "a", key: "k2" });
    await backends.backend(memoryLuDescription(1, luSizeBytes, extentSizeBytes)).read(0, Buffer.alloc(512));
    await backends.flushAll([]);
    expect(lus.map((lu) => lu.flushes)).toEqual([2, 3]);
  });

  it("flush-nothing acknowledges FLUSH without reaching the LU, and still writes", async () => {
    const lu = new MemoryLu(luSizeBytes);
    const backends = faultyBackendSet(memoryBackends([lu]), "flush-nothing");
    const backend = backends.backend(memoryLuDescription(0, luSizeBytes, extentSizeBytes));
    await backend.write(0, Buffer.alloc(512, 7), false);
    await backend.flush();
    await backends.flushAll([]);
    expect(lu.flushes).toBe(0);
    expect(lu.bytes[0]).toBe(7);
  });

  it("allocation-all-zero calls written data a zero hole; its backend is the same object each time", async () => {
    const lu = new MemoryLu(luSizeBytes);
    const backends = faultyBackendSet(memoryBackends([lu]), "allocation-all-zero");
    const description = memoryLuDescription(0, luSizeBytes, extentSizeBytes);
    const backend = backends.backend(description);
    expect(backends.backend(description)).toBe(backend);
    await backend.write(0, Buffer.alloc(512, 7), false);
    expect(await backend.allocation?.(0, 4096)).toEqual([{ lengthBytes: 4096, state: NBD_STATE_HOLE | NBD_STATE_ZERO }]);
    await backend.flush();
    expect(lu.flushes).toBe(1);
  });
});
