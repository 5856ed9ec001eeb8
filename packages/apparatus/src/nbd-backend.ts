/**
 * Backends for an apparatus outside the device's process: each LU is reached
 * as the device's NBD export of it (nbd://host:port/luId), and an external
 * device's LU as its server's export, each an NbdBlockIo. One pipelined
 * connection per LU carries every request; a connection that fails is
 * dropped, and the next request opens a new one, so an apparatus rides over a
 * device restart (requests in flight at the time fail with EIO). Once
 * registered, the apparatus opens each LU under a name that presents its
 * identity, which the device checks on every request (fencing).
 */
import { NbdAllocationClient, NbdClient, NbdError, type AllocationExtent, type BlockIo, type NbdClientTls, type WriteZeroesFlags } from "@switchyard/nbd";
import { apparatusExportName, type ApparatusIdentity, type LogicalUnit__Output } from "@switchyard/proto";
import type { BackendSet } from "./backend.js";

/** Bound on connecting to the device and on each request to it. */
export const deviceNbdTimeoutMs = 10_000;

interface NbdUri {
  readonly host: string;
  readonly port: number;
  readonly exportName: string;
}

export function parseNbdUri(uri: string): NbdUri {
  // An external server's default export has no name: nbd://host:port or nbd://host:port/.
  const match = /^nbd:\/\/([^/:]+|\[[0-9a-fA-F:]+\]):(\d{1,5})(?:\/(.*))?$/.exec(uri);
  if (match === null) throw new NbdError("EIO", `LU address ${JSON.stringify(uri)} is not nbd://host:port/export`);
  const [, host = "", port = "", exportName = ""] = match;
  return { host: host.replace(/^\[|\]$/g, ""), port: Number(port), exportName };
}

/**
 * A BlockIo over NBD. Its errors are the server's (NbdError): a range past
 * the end gets EINVAL for a read and ENOSPC for a write, a lost connection
 * EIO; they pass through to the apparatus's own NBD server as they are.
 */
export class NbdBlockIo implements BlockIo {
  private readonly uri: NbdUri;
  /** The size the table gives the LU; the server checks ranges against its export's. */
  readonly sizeBytes: number;
  private connection: Promise<NbdClient> | undefined;
  /** The client `connection` resolved to, once it has. */
  private connected: NbdClient | undefined;
  /** Block status has a connection of its own (allocation-client.ts), opened on first use. */
  private allocationConnection: Promise<NbdAllocationClient> | undefined;

  /** TLS to the server (a device serving its LUs with TLS), if it wants it. */
  private readonly tls: { readonly tls?: NbdClientTls };

  constructor(uri: NbdUri, sizeBytes: number, tls?: NbdClientTls) {
    this.uri = uri;
    this.sizeBytes = sizeBytes;
    this.tls = tls === undefined ? {} : { tls };
  }

  private client(): Promise<NbdClient> {
    // A connection that broke while idle (the server restarted between requests) is replaced
    // before use: otherwise the first request after the server is back would fail for nothing.
    if (this.connected?.isOver === true) {
      this.connection = undefined;
      this.connected = undefined;
    }
    if (this.connection === undefined) {
      const connecting = NbdClient.connect({ ...this.uri, timeoutMs: deviceNbdTimeoutMs, ...this.tls });
      this.connection = connecting;
      void connecting.then(
        (client) => {
          if (this.connection === connecting) this.connected = client;
        },
        () => undefined,
      );
    }
    return this.connection;
  }

  /** Runs one request; if the connection broke, forgets it so the next request reconnects. */
  private async run(operation: (client: NbdClient) => Promise<void>): Promise<void> {
    const connecting = this.client();
    try {
      await operation(await connecting);
    } catch (error) {
      const connectionLost = !(error instanceof NbdError) || error.code === "EIO" || error.code === "ESHUTDOWN";
      if (connectionLost && this.connection === connecting) {
        this.connection = undefined;
        this.connected = undefined;
      }
      throw error instanceof NbdError ? error : new NbdError("EIO", `LU ${this.uri.exportName} at ${this.uri.host}:${this.uri.port}: ${String(error)}`, { cause: error });
    }
  }

  read(offsetBytes: number, into: Buffer): Promise<void> {
    return this.run((client) => client.read(offsetBytes, into));
  }

  write(offsetBytes: number, data: Buffer, fua: boolean): Promise<void> {
    return this.run((client) => client.write(offsetBytes, data, fua));
  }

  writeZeroes(offsetBytes: number, lengthBytes: number, flags: WriteZeroesFlags): Promise<void> {
    return this.run((client) => client.writeZeroes(offsetBytes, lengthBytes, flags.noHole, flags.fua));
  }

  flush(): Promise<void> {
    return this.run((client) => client.flush());
  }

  /**
   * The server's own block status (a device's LU: its zero runs; nbdkit,
   * qemu-nbd: their SEEK_DATA), or all data from a server that offers none.
   * A broken connection is forgotten, and the next call opens another.
   */
  async allocation(offsetBytes: number, lengthBytes: number): Promise<readonly AllocationExtent[]> {
    const connecting = (this.allocationConnection ??= NbdAllocationClient.connect({ ...this.uri, timeoutMs: deviceNbdTimeoutMs, ...this.tls }));
    try {
      const client = await connecting;
      if (!client.supported) return [{ lengthBytes, state: 0 }];
      return await client.allocation(offsetBytes, lengthBytes);
    } catch (error) {
      const client = await connecting.catch(() => undefined);
      if ((client === undefined || client.isOver) && this.allocationConnection === connecting) this.allocationConnection = undefined;
      throw error instanceof NbdError ? error : new NbdError("EIO", `LU ${this.uri.exportName} at ${this.uri.host}:${this.uri.port}: ${String(error)}`, { cause: error });
    }
  }

  async close(): Promise<void> {
    const allocation = this.allocationConnection;
    this.allocationConnection = undefined;
    await (await allocation?.catch(() => undefined))?.close();
    const connection = this.connection;
    this.connection = undefined;
    this.connected = undefined;
    if (connection === undefined) return;
    const client = await connection.catch(() => undefined);
    await client?.close();
  }
}

/**
 * The LUs of external devices (`device add-external`): any NBD server, opened
 * under its plain export name, since it knows no registration keys. What
 * keeps a fenced apparatus off them is its own lease (contact-lease.ts), not
 * the server: docs/design-notes.md says how far that goes.
 */
export class ExternalBackends {
  private readonly backends = new Map<string, NbdBlockIo>();

  backend(lu: LogicalUnit__Output): BlockIo {
    let backend = this.backends.get(lu.nbd_uri);
    if (backend === undefined) {
      backend = new NbdBlockIo(parseNbdUri(lu.nbd_uri), lu.size_bytes);
      this.backends.set(lu.nbd_uri, backend);
    }
    return backend;
  }

  /**
   * Closes the connections to servers no external LU of `lus` is on, in the
   * background: a table load does not wait for a server's goodbye.
   */
  retain(lus: readonly LogicalUnit__Output[]): void {
    const listed = new Set(lus.filter((lu) => lu.external).map((lu) => lu.nbd_uri));
    for (const [uri, backend] of this.backends) {
      if (listed.has(uri)) continue;
      this.backends.delete(uri);
      void backend.close();
    }
  }

  async close(): Promise<void> {
    await Promise.all(Array.from(this.backends.values(), (backend) => backend.close()));
    this.backends.clear();
  }
}

export class NbdBackendSet implements BackendSet {
  private readonly backends = new Map<string, NbdBlockIo>();
  /** Every device LU this set has reached, by URI: FLUSH covers them all, connected now or not. */
  private readonly reached = new Map<string, LogicalUnit__Output>();
  private readonly external = new ExternalBackends();
  private identity: ApparatusIdentity | undefined;

  /**
   * `tls`: the apparatus's certificate (and the CA) for the device's LU
   * exports, which then know it by that certificate as well as by its key.
   * External NBD servers are reached as their table entry says, without it.
   */
  constructor(private readonly options: { readonly tls?: NbdClientTls } = {}) {}

  backend(lu: LogicalUnit__Output): BlockIo {
    if (lu.external) return this.external.backend(lu);
    this.reached.set(lu.nbd_uri, lu);
    let backend = this.backends.get(lu.nbd_uri);
    if (backend === undefined) {
      const uri = parseNbdUri(lu.nbd_uri);
      const exportName = this.identity === undefined ? uri.exportName : apparatusExportName(uri.exportName, this.identity);
      backend = new NbdBlockIo({ ...uri, exportName }, lu.size_bytes, this.options.tls);
      this.backends.set(lu.nbd_uri, backend);
    }
    return backend;
  }

  /** A new identity (a rejoin brings a new key): connections under the old one are closed, and reopen under it. */
  identify(identity: ApparatusIdentity): void {
    if (this.identity?.apparatusId === identity.apparatusId && this.identity.key === identity.key) return;
    this.identity = identity;
    const previous = [...this.backends.values()];
    this.backends.clear();
    for (const backend of previous) void backend.close();
  }

  /**
   * The device's FLUSH covers every write it completed on the LU, from any
   * connection, so one through a new connection covers writes acknowledged
   * through one a new registration closed.
   */
  async flushAll(lus: readonly LogicalUnit__Output[]): Promise<void> {
    // External LUs are flushed per volume by the I/O path: a server that is down must not fail every volume's FLUSH.
    const devices = new Map(this.reached);
    for (const lu of lus) if (!lu.external) devices.set(lu.nbd_uri, lu);
    await Promise.all(Array.from(devices.values(), (lu) => this.backend(lu).flush()));
  }

  retainExternal(lus: readonly LogicalUnit__Output[]): void {
    this.external.retain(lus);
  }

  async close(): Promise<void> {
    await Promise.all([...Array.from(this.backends.values(), (backend) => backend.close()), this.external.close()]);
    this.backends.clear();
  }
}
