/**
 * An external device's LU (any NBD server the store lists, issue 5) as one
 * end of a mirror: the device copies an area of its own LU onto it and
 * mirrors the area's writes there, or fills an area of its own from it while
 * the apparatuses send that extent's I/O through the device. Either way the
 * bytes go straight between the device and the server, with the same
 * watermark and chunk holds as between its own LUs (docs/design-notes.md
 * says why not through the controller).
 *
 * One connection per LU, opened on first use and shared by every mirror to
 * it; a connection that broke is replaced on the next use, so a target that
 * comes back serves the next migration.
 */
import { NbdClient, parseNbdUri, type BlockIo, type NbdClientTls, type WriteZeroesFlags } from "@switchyard/nbd";
import type { LogicalUnit__Output } from "@switchyard/proto";
import { DeviceError, NotFoundError, OutOfRangeError } from "./errors.js";
import type { LuAreas } from "./logical-unit.js";

/** Bound on connecting and on each request: a server gone fails the copy, and the host write it mirrored keeps its source. */
export const externalRequestTimeoutMs = 10_000;

/** An external LU as the store lists it. */
export interface ExternalLuEntry {
  readonly id: string;
  readonly deviceId: string;
  readonly nbdUri: string;
  readonly sizeBytes: number;
  readonly extentSizeBytes: number;
  /** The certificate this device presents: to another Switchyard device's LU export, which requires TLS when it has certificates. */
  readonly tls?: NbdClientTls;
}

/**
 * A BlockIo over one NBD connection to the server. Every failure, a range
 * past the end included, is the device's IO_FAILED naming the external
 * device, as a mirror reports it.
 */
export class ExternalLu implements BlockIo, LuAreas {
  readonly id: string;
  readonly sizeBytes: number;
  /** No mirror intercepts an external LU's I/O: its bytes are itself. */
  readonly direct: BlockIo = this;
  private client: Promise<NbdClient> | undefined = undefined;
  private closed = false;

  constructor(readonly entry: ExternalLuEntry) {
    this.id = entry.id;
    this.sizeBytes = entry.sizeBytes;
  }

  areaOffsetBytes(areaIndex: number): number {
    const areaCount = Math.floor(this.entry.sizeBytes / this.entry.extentSizeBytes);
    if (!Number.isSafeInteger(areaIndex) || areaIndex < 0 || areaIndex >= areaCount) {
      throw new OutOfRangeError(`${this.id} has areas 0..${areaCount - 1}, not ${areaIndex}`);
    }
    return areaIndex * this.entry.extentSizeBytes;
  }

  read(offsetBytes: number, into: Buffer): Promise<void> {
    return this.call("failed a read", (client) => client.read(offsetBytes, into));
  }

  write(offsetBytes: number, data: Buffer, fua: boolean): Promise<void> {
    return this.call("failed a write", (client) => client.write(offsetBytes, data, fua));
  }

  writeZeroes(offsetBytes: number, lengthBytes: number, flags: WriteZeroesFlags): Promise<void> {
    return this.call("failed to write zeroes", (client) => client.writeZeroes(offsetBytes, lengthBytes, flags.noHole, flags.fua));
  }

  flush(): Promise<void> {
    return this.call("failed a flush", (client) => client.flush());
  }

  async close(): Promise<void> {
    this.closed = true;
    const client = await this.client?.catch(() => undefined);
    this.client = undefined;
    await client?.close();
  }

  /** Runs one request; any failure names the device, its address and what failed, as the controller's copies do. */
  private async call(failed: string, request: (client: NbdClient) => Promise<void>): Promise<void> {
    let client: NbdClient;
    try {
      client = await this.connected();
    } catch (error) {
      throw this.failure("could not be reached", error);
    }
    try {
      await request(client);
    } catch (error) {
      throw this.failure(failed, error);
    }
  }

  private failure(what: string, error: unknown): DeviceError {
    const reason = error instanceof Error ? error.message : String(error);
    return new DeviceError("IO_FAILED", `external device ${this.entry.deviceId} (${this.entry.nbdUri}) ${what}: ${reason}`, { cause: error });
  }

  private async connected(): Promise<NbdClient> {
    if (this.closed) throw new Error("the device is closing");
    const pending = this.client;
    if (pending !== undefined) {
      const current = await pending.catch(() => undefined);
      // Another request replaced a broken connection meanwhile: use that one.
      if (this.client !== pending) return this.connected();
      if (current !== undefined && !current.isOver) return current;
    }
    const uri = parseNbdUri(this.entry.nbdUri);
    if (uri === undefined) throw new Error(`${JSON.stringify(this.entry.nbdUri)} is not an NBD URI`);
    // Set before awaiting: requests made meanwhile share this connection.
    this.client = NbdClient.connect({ ...uri, timeoutMs: externalRequestTimeoutMs, ...(this.entry.tls === undefined ? {} : { tls: this.entry.tls }) });
    return this.client;
  }
}

/** The committed table's LU list as last read from a followed coordination (undefined: the device's own store is the table). */
export interface TableLus {
  followed: readonly LogicalUnit__Output[] | undefined;
}

/** The external LUs the store lists, each opened when a mirror first needs it. */
export class ExternalLus {
  private readonly byId = new Map<string, ExternalLu>();

  /**
   * @param listed the committed table's LUs
   * @param ownDeviceId this device's id: an LU of another Switchyard device
   *   (on one etcd prefix, issue 18) is reached over NBD at the address the
   *   table records for it, as an external device's is, so an extent moves
   *   between devices by the same copy; that device's LU export lets a
   *   device (or an operator) open a plain LU name (lu-exports.ts).
   * @param peerTls the certificate presented to another device's LU export
   *   (never to an external server, which is plain NBD).
   */
  constructor(private readonly listed: () => readonly LogicalUnit__Output[], private readonly ownDeviceId = "", private readonly peerTls?: NbdClientTls) {}

  /** The LU `luId` of an external device or of another device; NOT_FOUND when the table lists none by that id. */
  get(luId: string): ExternalLu {
    const entry = this.listed().find((lu) => lu.id === luId && this.reachedOverNbd(lu));
    if (entry === undefined) throw new NotFoundError(`no LU ${JSON.stringify(luId)} on this device, on another device or on an external device the table lists`);
    const open = this.byId.get(luId);
    if (open !== undefined && open.entry.nbdUri === entry.nbd_uri) return open;
    void open?.close();
    const tls = entry.external || this.peerTls === undefined ? {} : { tls: this.peerTls };
    const lu = new ExternalLu({ id: entry.id, deviceId: entry.device_id, nbdUri: entry.nbd_uri, sizeBytes: entry.size_bytes, extentSizeBytes: entry.extent_size_bytes, ...tls });
    this.byId.set(luId, lu);
    return lu;
  }

  /**
   * Closes, in the background, the LUs the store no longer lists as they
   * were opened: a removed external device (`device remove-external`) is not
   * kept open, and one added again under its name is opened afresh.
   */
  retainListed(): void {
    const listed = this.listed();
    for (const [luId, lu] of this.byId) {
      if (listed.some((entry) => this.reachedOverNbd(entry) && entry.id === luId && entry.nbd_uri === lu.entry.nbdUri)) continue;
      this.byId.delete(luId);
      void lu.close();
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.byId.values()].map((lu) => lu.close()));
  }

  /** An external device's LU, or another device's that publishes an NBD address. */
  private reachedOverNbd(lu: LogicalUnit__Output): boolean {
    return lu.external || (this.ownDeviceId !== "" && lu.device_id !== this.ownDeviceId && lu.nbd_uri !== "");
  }
}
