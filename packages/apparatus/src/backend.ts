/**
 * Where an apparatus sends the I/O it has mapped: one `AreaBackend` per
 * logical unit. In the device's own process that is the LU file itself;
 * elsewhere it is an NBD connection to the device's export of that LU. The
 * apparatus caches no data: every read and write goes to the backend, so
 * every apparatus sees one volume coherently.
 */
import type { LogicalUnit__Output } from "@switchyard/proto";
import type { ApparatusIdentity } from "@switchyard/device";

/** Byte-addressed I/O on one logical unit. */
export interface AreaBackend {
  read(offsetBytes: number, into: Buffer): Promise<void>;
  write(offsetBytes: number, data: Buffer, fua: boolean): Promise<void>;
  writeZeroes(offsetBytes: number, lengthBytes: number): Promise<void>;
  /** Makes every write completed before it durable (fdatasync on the device). */
  flush(): Promise<void>;
}

/** The backends of every LU of a table, found by the LU's description. */
export interface BackendSet {
  /** The backend of `lu`, opened on first use. */
  backend(lu: LogicalUnit__Output): AreaBackend;
  /**
   * Who this apparatus is to the device, from its registration on (claim 3):
   * the device refuses I/O presenting a fenced or replaced identity.
   */
  identify(identity: ApparatusIdentity): void;
  /** Flushes every backend opened so far: a volume FLUSH covers all its LUs. */
  flushAll(): Promise<void>;
  close(): Promise<void>;
}

/** A backend set over backends that already exist, keyed by LU id (the device's own process). */
export class LocalBackendSet implements BackendSet {
  private readonly backends: ReadonlyMap<string, AreaBackend>;

  constructor(backends: ReadonlyMap<string, AreaBackend>) {
    this.backends = backends;
  }

  backend(lu: LogicalUnit__Output): AreaBackend {
    const found = this.backends.get(lu.id);
    if (found === undefined) throw new Error(`LU ${lu.id} is not in this process`);
    return found;
  }

  /** In the device's own process the apparatus is fenced by its lease alone: it cannot be stopped apart from the device. */
  identify(): void {
    // Nothing to present: no connection to the device.
  }

  async flushAll(): Promise<void> {
    await Promise.all(Array.from(this.backends.values(), (backend) => backend.flush()));
  }

  async close(): Promise<void> {
    // The LU files belong to the device, which closes them.
  }
}
