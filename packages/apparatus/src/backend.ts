/**
 * Where an apparatus sends the I/O it has mapped: one backend per logical
 * unit, a BlockIo (the one byte-I/O interface, @switchyard/nbd). In the
 * device's own process that is the LU file itself; elsewhere it is an NBD
 * connection to the device's export of that LU (nbd-backend.ts). The
 * apparatus caches no data: every read and write goes to the backend, so
 * every apparatus sees one volume coherently.
 */
import type { ApparatusIdentity, LogicalUnit__Output } from "@switchyard/proto";
import { NbdError, type BlockIo } from "@switchyard/nbd";
import { ExternalBackends } from "./nbd-backend.js";

/** The backends of every LU of a table, found by the LU's description. */
export interface BackendSet {
  /** The backend of `lu`, opened on first use. */
  backend(lu: LogicalUnit__Output): BlockIo;
  /**
   * Who this apparatus is to the device, from its registration on (claim 3):
   * the device refuses I/O presenting a fenced or replaced identity.
   */
  identify(identity: ApparatusIdentity): void;
  /**
   * Flushes the devices' LUs among `lus` (every LU the table names) and
   * every backend of a device opened so far: a volume FLUSH covers the
   * writes of every apparatus, on LUs this one never reached too, and on a
   * mirror's destination the device wrote on its behalf. External devices'
   * LUs are left out: the I/O path flushes those a volume maps (IoPath.flush).
   */
  flushAll(lus: readonly LogicalUnit__Output[]): Promise<void>;
  /**
   * Closes the connections to external servers that `lus` (a newly loaded
   * table's) no longer lists: a removed external device is not kept open.
   * Called once the I/O admitted under the old table has drained; the
   * connections close in the background.
   */
  retainExternal(lus: readonly LogicalUnit__Output[]): void;
  close(): Promise<void>;
}

/**
 * Why the device refuses an apparatus's I/O now, or undefined: the device's
 * own check (`StorageDevice.ioRefusal`), the one its LU exports make on every
 * request.
 */
export type IoRefusal = (apparatusId: string, key: string) => string | undefined;

/**
 * A backend set over backends that already exist, keyed by LU id (the
 * device's own process). Once the apparatus is identified, every request
 * asks the device first, as a request over NBD would: a fence takes effect
 * on the next request, not when the apparatus's lease runs out.
 */
export class LocalBackendSet implements BackendSet {
  private readonly backends: ReadonlyMap<string, BlockIo>;
  /**
   * By LU id for the device's LUs, by server for external ones: a device
   * removed and added again under its name may be another server.
   */
  private readonly guarded = new Map<string, BlockIo>();
  /** External devices' LUs are not files of this process: they are reached over NBD, as from anywhere. */
  private readonly external = new ExternalBackends();
  private readonly refusal: IoRefusal | undefined;
  private identity: ApparatusIdentity | undefined;

  constructor(backends: ReadonlyMap<string, BlockIo>, refusal?: IoRefusal) {
    this.backends = backends;
    this.refusal = refusal;
  }

  backend(lu: LogicalUnit__Output): BlockIo {
    const key = lu.external ? lu.nbd_uri : lu.id;
    const cached = this.guarded.get(key);
    if (cached !== undefined) return cached;
    // The device's check guards an external LU too: in this process a fence reaches it on the next request.
    const found = lu.external ? this.external.backend(lu) : this.backends.get(lu.id);
    if (found === undefined) throw new Error(`LU ${lu.id} is not in this process`);
    const guarded = this.refusal === undefined ? found : this.guard(found);
    this.guarded.set(key, guarded);
    return guarded;
  }

  identify(identity: ApparatusIdentity): void {
    this.identity = identity;
  }

  /**
   * The backend behind the device's check. Plain functions that return the
   * backend's own promise, or a rejected one: an async wrapper cost every
   * host request a second promise and an await.
   */
  private guard(backend: BlockIo): BlockIo {
    const refusal = (): Promise<never> | undefined => {
      const identity = this.identity;
      const refused = identity === undefined ? undefined : this.refusal?.(identity.apparatusId, identity.key);
      return refused === undefined ? undefined : Promise.reject(new NbdError("EPERM", refused));
    };
    const guarded: BlockIo = {
      sizeBytes: backend.sizeBytes,
      read: (offsetBytes, into) => refusal() ?? backend.read(offsetBytes, into),
      write: (offsetBytes, data, fua) => refusal() ?? backend.write(offsetBytes, data, fua),
      writeZeroes: (offsetBytes, lengthBytes, flags) => refusal() ?? backend.writeZeroes(offsetBytes, lengthBytes, flags),
      flush: () => refusal() ?? backend.flush(),
    };
    const allocation = backend.allocation?.bind(backend);
    if (allocation === undefined) return guarded;
    return {
      ...guarded,
      allocation: (offsetBytes, lengthBytes) => refusal() ?? allocation(offsetBytes, lengthBytes),
    };
  }

  /** Every LU of the device in this process has its backend here already: `lus` adds none. */
  async flushAll(): Promise<void> {
    // External LUs are flushed per volume by the I/O path: a server that is down must not fail every volume's FLUSH.
    await Promise.all(Array.from(this.backends, ([luId, backend]) => (this.guarded.get(luId) ?? backend).flush()));
  }

  retainExternal(lus: readonly LogicalUnit__Output[]): void {
    const listed = new Set(lus.filter((lu) => lu.external).map((lu) => lu.nbd_uri));
    for (const key of this.guarded.keys()) {
      if (!this.backends.has(key) && !listed.has(key)) this.guarded.delete(key);
    }
    this.external.retain(lus);
  }

  async close(): Promise<void> {
    // The LU files belong to the device, which closes them; the connections to external servers are ours.
    await this.external.close();
  }
}
