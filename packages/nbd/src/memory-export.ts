/**
 * An in-memory NbdExportProvider, for tests here and in other packages and
 * for benchmarks: each export is a Buffer, and the in-memory BlockIo
 * (block-io.ts). A test can make any operation wait or fail through the
 * `gate` hook, to reorder replies or inject errors.
 */
import assert from "node:assert/strict";
import { AllocationList, appendAllocationOfBytes } from "./allocation.js";
import type { AllocationExtent } from "./block-io.js";
import { NbdError, type NbdErrorCode, type NbdExport, type NbdExportListing, type NbdExportProvider } from "./export.js";

export type MemoryOperation = "read" | "write" | "flush" | "trim" | "writeZeroes" | "allocation";

/**
 * What a range past the end gets, as the NBD server answers it (NBD proto.md
 * "Error values": ENOSPC for a write beyond the end, EINVAL otherwise).
 */
const pastEndCodes: Readonly<Record<MemoryOperation, NbdErrorCode>> = {
  read: "EINVAL",
  write: "ENOSPC",
  flush: "EINVAL",
  trim: "EINVAL",
  writeZeroes: "ENOSPC",
  allocation: "EINVAL",
};

export interface MemoryOperationInfo {
  readonly exportName: string;
  readonly operation: MemoryOperation;
  readonly offsetBytes: number;
  readonly lengthBytes: number;
}

/**
 * Runs before an operation touches memory: return undefined to go ahead at
 * once, or a promise to go ahead when it resolves (or fail when it rejects).
 * May also throw, synchronously, to fail the operation.
 */
export type MemoryOperationGate = (info: MemoryOperationInfo) => Promise<void> | undefined;

export interface MemoryExportOptions {
  readonly name: string;
  readonly sizeBytes: number;
  readonly description?: string;
  readonly readOnly?: boolean;
  readonly multiConn?: boolean;
  /** NbdExport.fastZero: memset is fast, but a test may want the ENOTSUP path; default false. */
  readonly fastZero?: boolean;
  /**
   * Answers block status from the bytes (zero granules as holes); default
   * true. False leaves `allocation` out, as a backend that cannot tell.
   */
  readonly allocation?: boolean;
  /** Initial contents; copied. Zeroes when absent. */
  readonly contents?: Buffer;
}

interface MemoryVolume {
  readonly options: Required<Omit<MemoryExportOptions, "contents">>;
  readonly data: Buffer;
}

export class MemoryExportProvider implements NbdExportProvider {
  private readonly volumes = new Map<string, MemoryVolume>();
  /** Exports opened and not yet closed, by name. */
  private readonly openCounts = new Map<string, number>();
  gate: MemoryOperationGate | undefined;

  constructor(exports: readonly MemoryExportOptions[], gate?: MemoryOperationGate) {
    for (const options of exports) this.add(options);
    this.gate = gate;
  }

  add(options: MemoryExportOptions): void {
    assert.ok(!this.volumes.has(options.name), `export ${options.name} exists`);
    assert.ok(Number.isSafeInteger(options.sizeBytes) && options.sizeBytes >= 0);
    const data = Buffer.alloc(options.sizeBytes);
    options.contents?.copy(data, 0, 0, Math.min(options.contents.length, options.sizeBytes));
    const { name, sizeBytes } = options;
    const resolved = {
      name,
      sizeBytes,
      description: options.description ?? "",
      readOnly: options.readOnly ?? false,
      multiConn: options.multiConn ?? true,
      fastZero: options.fastZero ?? false,
      allocation: options.allocation ?? true,
    };
    this.volumes.set(name, { options: resolved, data });
  }

  /** The live bytes of an export, for assertions. */
  dataOf(name: string): Buffer {
    const volume = this.volumes.get(name);
    assert.ok(volume !== undefined, `no export ${name}`);
    return volume.data;
  }

  /** How many connections have the export open now. */
  openCount(name: string): number {
    return this.openCounts.get(name) ?? 0;
  }

  list(): readonly NbdExportListing[] {
    return [...this.volumes.values()].map((volume) => ({ name: volume.options.name, description: volume.options.description }));
  }

  open(name: string): NbdExport | undefined {
    const volume = this.volumes.get(name);
    if (volume === undefined) return undefined;
    this.openCounts.set(name, this.openCount(name) + 1);
    const opened = new MemoryExport(volume, this, () => {
      this.openCounts.set(name, this.openCount(name) - 1);
    });
    if (!volume.options.allocation) opened.allocation = undefined;
    return opened;
  }
}

class MemoryExport implements NbdExport {
  readonly name: string;
  readonly sizeBytes: number;
  readonly readOnly: boolean;
  readonly multiConn: boolean;
  readonly fastZero: boolean;
  private readonly data: Buffer;
  private closed = false;

  constructor(
    volume: MemoryVolume,
    private readonly provider: MemoryExportProvider,
    private readonly onClose: () => void,
  ) {
    this.name = volume.options.name;
    this.sizeBytes = volume.options.sizeBytes;
    this.readOnly = volume.options.readOnly;
    this.multiConn = volume.options.multiConn;
    this.fastZero = volume.options.fastZero;
    this.data = volume.data;
  }

  read(offsetBytes: number, into: Buffer): Promise<void> {
    return this.run("read", offsetBytes, into.length, () => {
      this.data.copy(into, 0, offsetBytes, offsetBytes + into.length);
    });
  }

  // FUA needs nothing: memory is as durable as this export gets.
  write(offsetBytes: number, data: Buffer): Promise<void> {
    return this.run("write", offsetBytes, data.length, () => {
      data.copy(this.data, offsetBytes);
    });
  }

  flush(): Promise<void> {
    return this.run("flush", 0, 0, () => undefined);
  }

  trim(offsetBytes: number, lengthBytes: number): Promise<void> {
    // Trimmed contents are unspecified (proto.md); zeroes make tests exact.
    return this.run("trim", offsetBytes, lengthBytes, () => {
      this.data.fill(0, offsetBytes, offsetBytes + lengthBytes);
    });
  }

  // Memory has no holes, so NO_HOLE is always honoured.
  writeZeroes(offsetBytes: number, lengthBytes: number): Promise<void> {
    return this.run("writeZeroes", offsetBytes, lengthBytes, () => {
      this.data.fill(0, offsetBytes, offsetBytes + lengthBytes);
    });
  }

  /** Zero granules are reported as holes, the rest as data: what the device's LUs report too. */
  allocation: ((offsetBytes: number, lengthBytes: number) => Promise<readonly AllocationExtent[]>) | undefined = (offsetBytes, lengthBytes) => {
    const list = new AllocationList();
    return this.run("allocation", offsetBytes, lengthBytes, () => {
      appendAllocationOfBytes(list, this.data.subarray(offsetBytes, offsetBytes + lengthBytes));
    }).then(() => list.toArray());
  };

  close(): void {
    assert.ok(!this.closed, `export ${this.name} closed twice`);
    this.closed = true;
    this.onClose();
  }

  private run(operation: MemoryOperation, offsetBytes: number, lengthBytes: number, apply: () => void): Promise<void> {
    assert.ok(!this.closed, `export ${this.name} used after close`);
    // The server checks bounds before calling, but a test may use the export
    // as a BlockIo directly, which rejects a range past the end (block-io.ts).
    if (offsetBytes + lengthBytes > this.sizeBytes) {
      return Promise.reject(new NbdError(pastEndCodes[operation], `${operation} of ${lengthBytes} bytes at ${offsetBytes} ends past the ${this.sizeBytes} bytes of ${this.name}`));
    }
    const gate = this.provider.gate;
    const wait = gate?.({ exportName: this.name, operation, offsetBytes, lengthBytes });
    if (wait === undefined) {
      apply();
      return Promise.resolve();
    }
    return wait.then(apply);
  }
}
