/**
 * Test helpers (the "./testing" subpath): in-memory LUs as backends, whose
 * operations a test can stop at a gate to keep them in flight; and the
 * planted bugs, as behaviours to build an apparatus with (testing/).
 */
import { NbdError, type BlockIo } from "@switchyard/nbd";
import type { ConfigurationTable__Output, LogicalUnit__Output } from "@switchyard/proto";
import { LocalBackendSet } from "./backend.js";

export { apparatusFaultBehaviours, apparatusFaultNamed, apparatusFaults } from "./testing/apparatus-faults.js";
export type { ApparatusFault } from "./testing/apparatus-faults.js";
export { backendFaultNamed, backendFaults, faultyBackendSet, flushSkipsLuBackendSet } from "./testing/backend-faults.js";
export type { BackendFault } from "./testing/backend-faults.js";

/**
 * An LU in memory, a BlockIo (it passes the shared suite, block-io.test.ts).
 * While `gate` is set, every read and write waits for it. A range past the
 * end is refused as an NBD server refuses it.
 */
export class MemoryLu implements BlockIo {
  readonly bytes: Buffer;
  readonly sizeBytes: number;
  flushes = 0;
  gate: Promise<void> | undefined;

  constructor(sizeBytes: number) {
    this.bytes = Buffer.alloc(sizeBytes);
    this.sizeBytes = sizeBytes;
  }

  async read(offsetBytes: number, into: Buffer): Promise<void> {
    const refused = this.rangeError(offsetBytes, into.length, "EINVAL");
    if (refused !== undefined) throw refused;
    if (this.gate !== undefined) await this.gate;
    this.bytes.copy(into, 0, offsetBytes, offsetBytes + into.length);
  }

  // Memory is as durable as this LU gets: FUA needs nothing.
  async write(offsetBytes: number, data: Buffer): Promise<void> {
    const refused = this.rangeError(offsetBytes, data.length, "ENOSPC");
    if (refused !== undefined) throw refused;
    if (this.gate !== undefined) await this.gate;
    data.copy(this.bytes, offsetBytes);
  }

  writeZeroes(offsetBytes: number, lengthBytes: number): Promise<void> {
    const refused = this.rangeError(offsetBytes, lengthBytes, "ENOSPC");
    if (refused !== undefined) return Promise.reject(refused);
    this.bytes.fill(0, offsetBytes, offsetBytes + lengthBytes);
    return Promise.resolve();
  }

  /** NBD proto.md "Error values": ENOSPC for a write beyond the end, EINVAL otherwise. */
  private rangeError(offsetBytes: number, lengthBytes: number, code: "EINVAL" | "ENOSPC"): NbdError | undefined {
    if (offsetBytes + lengthBytes <= this.sizeBytes) return undefined;
    return new NbdError(code, `${lengthBytes} bytes at ${offsetBytes} end past the ${this.sizeBytes} bytes of this memory LU`);
  }

  flush(): Promise<void> {
    this.flushes += 1;
    return Promise.resolve();
  }
}

/** A promise and the function that resolves it. */
export function opening(): { promise: Promise<void>; open: () => void } {
  let open = (): void => undefined;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

export function memoryLuDescription(index: number, sizeBytes: number, extentSizeBytes: number): LogicalUnit__Output {
  return { index, id: `lu${index}`, device_id: "memory", size_bytes: sizeBytes, extent_size_bytes: extentSizeBytes, nbd_uri: "", external: false };
}

/** Backends for LUs lu0, lu1, ... in memory. */
export function memoryBackends(lus: readonly MemoryLu[]): LocalBackendSet {
  return new LocalBackendSet(new Map(lus.map((lu, index) => [`lu${index}`, lu])));
}

/** A table with one volume `name` whose extent i is on LU luIndex[i], area areaIndex[i]. */
export function oneVolumeTable(
  generation: number,
  luCount: number,
  luSizeBytes: number,
  extentSizeBytes: number,
  name: string,
  luIndex: number[],
  areaIndex: number[],
): ConfigurationTable__Output {
  const columns = { lu_index: luIndex, area_index: areaIndex, mirror_lu_index_plus_one: [], mirror_area_index: [], mirror_watermark_bytes: [] };
  return {
    generation,
    lus: Array.from({ length: luCount }, (_, index) => memoryLuDescription(index, luSizeBytes, extentSizeBytes)),
    volumes: [{ name, size_bytes: luIndex.length * extentSizeBytes, extent_size_bytes: extentSizeBytes, extents: columns }],
  };
}
