/**
 * NbdClient: a pipelined fixed newstyle NBD client. Many requests may be in
 * flight; each gets its own handle and replies are matched by it, in
 * whatever order they come. Requests issued in one event-loop turn leave in
 * one socket write. Simple replies only: structured replies are not
 * negotiated, so a READ reply is a 16-byte header and the data.
 *
 * Errors: the handshake fails with NbdClientError (stable codes); a request
 * fails with NbdError carrying the server's errno; when the connection dies
 * every pending and later request fails with NbdError EIO (or ESHUTDOWN
 * after `close`).
 */
import assert from "node:assert/strict";
import type net from "node:net";
import {
  NBD_CMD_DISC,
  NBD_CMD_FLAG_FUA,
  NBD_CMD_FLAG_NO_HOLE,
  NBD_CMD_FLUSH,
  NBD_CMD_READ,
  NBD_CMD_TRIM,
  NBD_CMD_WRITE,
  NBD_CMD_WRITE_ZEROES,
  NBD_ESHUTDOWN,
  NBD_FLAG_CAN_MULTI_CONN,
  NBD_FLAG_READ_ONLY,
  NBD_REQUEST_BYTES,
  NBD_REQUEST_MAGIC,
  NBD_SIMPLE_REPLY_BYTES,
  NBD_SIMPLE_REPLY_MAGIC,
  nbdErrorCodeOfErrno,
} from "./constants.js";
import {
  connectSocket,
  greet,
  HandshakeReader,
  NbdClientError,
  SocketInput,
  optionExportName,
  optionGo,
  optionList,
  type NbdExportEntry,
  type NegotiatedExport,
} from "./client-handshake.js";
import { startTls, type NbdClientTls } from "./client-tls.js";
import { NbdError } from "./export.js";
import { writeUInt64 } from "./wire.js";
import { WriteBatch } from "./write-batch.js";

export { NbdClientError, type NbdClientErrorCode, type NbdExportEntry } from "./client-handshake.js";
export type { NbdClientTls } from "./client-tls.js";

export interface NbdClientConnectOptions {
  readonly host: string;
  readonly port: number;
  readonly exportName: string;
  /**
   * Bound on the connect and handshake, on each request's reply, and on
   * `close`. A request unanswered this long fails the whole connection
   * (EIO): the server is stuck or gone.
   */
  readonly timeoutMs?: number;
  /**
   * Size of the one buffer the socket reads into; replies are parsed from
   * it and READ data copied straight to the caller's buffer. Larger means
   * fewer reads for big requests.
   */
  readonly readBufferBytes?: number;
  /** Upgrade with NBD_OPT_STARTTLS before anything else; refused or failed TLS fails the connect. */
  readonly tls?: NbdClientTls;
}

export interface NbdListOptions {
  readonly host: string;
  readonly port: number;
  readonly timeoutMs?: number;
  readonly tls?: NbdClientTls;
}

/** Default bound on every wait of the client. */
export const nbdClientTimeoutMsDefault = 30_000;

/**
 * Default read buffer: 1 MiB lets one socket read take a whole 1 MiB READ
 * reply; measured on loopback, 64 KiB reads (Node's default) reach about a
 * third of the throughput.
 */
export const nbdClientReadBufferBytesDefault = 1024 * 1024;

/** Enough for the replies of NBD_OPT_LIST. */
const listReadBufferBytes = 64 * 1024;

/** The request watchdog checks this many times per timeout period. */
const watchdogChecksPerTimeout = 4;

/** Handles are 32-bit counters in the low word of the 64-bit handle. */
const handleMax = 0xffffffff;

interface PendingRequest {
  resolve: () => void;
  reject: (error: Error) => void;
  /** READ: where the reply's data goes. */
  readonly into: Buffer | undefined;
  /** Watchdog tick at submission. */
  readonly tick: number;
}

function closedError(): NbdError {
  return new NbdError("ESHUTDOWN", "NBD client closed");
}

function noop(): void {
  // Replaced by the promise executor before any use.
}

/** Lists the server's exports with NBD_OPT_LIST. */
export async function listExports(options: NbdListOptions): Promise<NbdExportEntry[]> {
  const timeoutMs = options.timeoutMs ?? nbdClientTimeoutMsDefault;
  const { socket, input } = await connectSocket(options.host, options.port, timeoutMs, listReadBufferBytes);
  const reader = new HandshakeReader(socket, input, timeoutMs);
  try {
    const { fixedNewstyle } = await greet(reader);
    if (options.tls !== undefined) await startTls(reader, input, options.tls, options.host, fixedNewstyle);
    if (!fixedNewstyle) throw new NbdClientError("PROTOCOL", "server does not speak fixed newstyle; it cannot list exports");
    return await optionList(reader);
  } finally {
    reader.detach();
    const last = reader.socket;
    last.end();
    setTimeout(() => {
      last.destroy();
      socket.destroy();
    }, 1000).unref();
  }
}

export class NbdClient {
  readonly exportName: string;
  readonly sizeBytes: number;
  readonly transmissionFlags: number;
  readonly blockSizeMinimumBytes: number;
  readonly blockSizePreferredBytes: number;
  readonly blockSizeMaximumBytes: number;
  private readonly socket: net.Socket;
  private readonly batch: WriteBatch;
  private readonly timeoutMs: number;
  private readonly pending = new Map<number, PendingRequest>();
  private nextHandle = 1;
  private failure: NbdError | undefined;
  private closing = false;
  private closePromise: Promise<void> | undefined;
  private idleWaiter: (() => void) | undefined;
  private readonly watchdog: NodeJS.Timeout;
  private tick = 0;
  // Reply parser state.
  private readonly replyHeader = Buffer.allocUnsafe(NBD_SIMPLE_REPLY_BYTES);
  private replyHeaderFilledBytes = 0;
  private dataTarget: PendingRequest | undefined;
  private dataFilledBytes = 0;

  /** Connects, negotiates `exportName` with NBD_OPT_GO, and is ready for I/O. */
  static async connect(options: NbdClientConnectOptions): Promise<NbdClient> {
    const timeoutMs = options.timeoutMs ?? nbdClientTimeoutMsDefault;
    assert.ok(timeoutMs > 0);
    const readBufferBytes = options.readBufferBytes ?? nbdClientReadBufferBytesDefault;
    assert.ok(Number.isSafeInteger(readBufferBytes) && readBufferBytes >= 4096);
    const { socket, input } = await connectSocket(options.host, options.port, timeoutMs, readBufferBytes);
    const reader = new HandshakeReader(socket, input, timeoutMs);
    let negotiated: NegotiatedExport;
    try {
      const { fixedNewstyle, noZeroes } = await greet(reader);
      if (options.tls !== undefined) await startTls(reader, input, options.tls, options.host, fixedNewstyle);
      const viaGo = fixedNewstyle ? await optionGo(reader, options.exportName) : undefined;
      negotiated = viaGo ?? (await optionExportName(reader, options.exportName, noZeroes));
    } catch (error) {
      reader.detach();
      // A refused option ended with a soft disconnect already under way.
      if (!reader.socket.writableEnded) {
        reader.socket.destroy();
        socket.destroy();
      }
      throw error;
    }
    const leftover = reader.detach();
    // Inside TLS, `reader.socket` is the TLS socket over `socket`.
    return new NbdClient(reader.socket, input, options.exportName, negotiated, timeoutMs, leftover);
  }

  private constructor(
    socket: net.Socket,
    input: SocketInput,
    exportName: string,
    negotiated: NegotiatedExport,
    timeoutMs: number,
    leftover: Buffer,
  ) {
    this.socket = socket;
    this.exportName = exportName;
    this.sizeBytes = negotiated.sizeBytes;
    this.transmissionFlags = negotiated.transmissionFlags;
    this.blockSizeMinimumBytes = negotiated.blockSizeMinimumBytes;
    this.blockSizePreferredBytes = negotiated.blockSizePreferredBytes;
    this.blockSizeMaximumBytes = negotiated.blockSizeMaximumBytes;
    this.timeoutMs = timeoutMs;
    this.batch = new WriteBatch(socket);
    input.handler = (chunk) => {
      this.onData(chunk);
    };
    socket.on("close", () => {
      this.fail(this.closing ? closedError() : new NbdError("EIO", "NBD connection closed"));
    });
    socket.on("error", (error) => {
      this.fail(new NbdError("EIO", `NBD connection failed: ${error.message}`, { cause: error }));
    });
    this.watchdog = setInterval(() => {
      this.checkTimeouts();
    }, Math.max(1, Math.floor(timeoutMs / watchdogChecksPerTimeout)));
    this.watchdog.unref();
    if (leftover.length > 0) this.onData(leftover);
  }

  /** NBD_FLAG_CAN_MULTI_CONN: FLUSH on one connection covers writes on all. */
  get canMultiConn(): boolean {
    return (this.transmissionFlags & NBD_FLAG_CAN_MULTI_CONN) !== 0;
  }

  get readOnly(): boolean {
    return (this.transmissionFlags & NBD_FLAG_READ_ONLY) !== 0;
  }

  /** True once the connection is closed or broken: every request from now on fails, and a new client is needed. */
  get isOver(): boolean {
    return this.failure !== undefined || this.closing;
  }

  get requestsInFlight(): number {
    return this.pending.size;
  }

  /** Fills all of `into` from `offsetBytes`. */
  read(offsetBytes: number, into: Buffer): Promise<void> {
    return this.request(NBD_CMD_READ, 0, offsetBytes, into.length, undefined, into);
  }

  /** Writes `data` at `offsetBytes`; `data` must not change until this settles. */
  write(offsetBytes: number, data: Buffer, fua = false): Promise<void> {
    return this.request(NBD_CMD_WRITE, fua ? NBD_CMD_FLAG_FUA : 0, offsetBytes, data.length, data, undefined);
  }

  flush(): Promise<void> {
    return this.request(NBD_CMD_FLUSH, 0, 0, 0, undefined, undefined);
  }

  trim(offsetBytes: number, lengthBytes: number, fua = false): Promise<void> {
    return this.request(NBD_CMD_TRIM, fua ? NBD_CMD_FLAG_FUA : 0, offsetBytes, lengthBytes, undefined, undefined);
  }

  writeZeroes(offsetBytes: number, lengthBytes: number, noHole = false, fua = false): Promise<void> {
    const flags = (noHole ? NBD_CMD_FLAG_NO_HOLE : 0) | (fua ? NBD_CMD_FLAG_FUA : 0);
    return this.request(NBD_CMD_WRITE_ZEROES, flags, offsetBytes, lengthBytes, undefined, undefined);
  }

  /**
   * Soft disconnect (proto.md): waits for in-flight requests (bounded by the
   * timeout), sends NBD_CMD_DISC, and ends the connection. Later requests
   * fail with ESHUTDOWN. Never rejects.
   */
  close(): Promise<void> {
    this.closePromise ??= this.disconnect();
    return this.closePromise;
  }

  private async disconnect(): Promise<void> {
    this.closing = true;
    await this.whenIdle();
    if (this.failure === undefined) {
      this.writeRequest(NBD_CMD_DISC, 0, 0, 0, 0);
      this.batch.flush();
      this.socket.end();
      await this.whenClosed();
    }
    this.fail(closedError());
  }

  private request(command: number, flags: number, offsetBytes: number, lengthBytes: number, payload: Buffer | undefined, into: Buffer | undefined): Promise<void> {
    assert.ok(Number.isSafeInteger(offsetBytes) && offsetBytes >= 0, `offset ${offsetBytes} is not a non-negative integer`);
    assert.ok(Number.isSafeInteger(lengthBytes) && lengthBytes >= 0 && lengthBytes <= 0xffffffff, `length ${lengthBytes} does not fit 32 bits`);
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.closing) return Promise.reject(new NbdError("ESHUTDOWN", "NBD client is closing"));
    const handle = this.allocateHandle();
    this.writeRequest(command, flags, handle, offsetBytes, lengthBytes);
    if (payload !== undefined && payload.length > 0) this.batch.push(payload);
    const pending: PendingRequest = { resolve: noop, reject: noop, into, tick: this.tick };
    const promise = new Promise<void>((resolve, reject) => {
      pending.resolve = resolve;
      pending.reject = reject;
    });
    this.pending.set(handle, pending);
    return promise;
  }

  private allocateHandle(): number {
    // Skip handles still in flight after wrap-around (proto.md: handles
    // SHOULD be distinct from all pending ones).
    let handle = this.nextHandle;
    while (this.pending.has(handle)) handle = handle === handleMax ? 1 : handle + 1;
    this.nextHandle = handle === handleMax ? 1 : handle + 1;
    return handle;
  }

  private writeRequest(command: number, flags: number, handle: number, offsetBytes: number, lengthBytes: number): void {
    const at = this.batch.reserve(NBD_REQUEST_BYTES);
    const slab = this.batch.slab;
    slab.writeUInt32BE(NBD_REQUEST_MAGIC, at);
    slab.writeUInt16BE(flags, at + 4);
    slab.writeUInt16BE(command, at + 6);
    slab.writeUInt32BE(0, at + 8);
    slab.writeUInt32BE(handle, at + 12);
    writeUInt64(slab, offsetBytes, at + 16);
    slab.writeUInt32BE(lengthBytes, at + 24);
  }

  private onData(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length && this.failure === undefined) {
      if (this.dataTarget !== undefined) {
        offset = this.takeData(chunk, offset);
        continue;
      }
      const available = chunk.length - offset;
      if (this.replyHeaderFilledBytes === 0 && available >= NBD_SIMPLE_REPLY_BYTES) {
        this.handleReplyHeader(chunk, offset);
        offset += NBD_SIMPLE_REPLY_BYTES;
        continue;
      }
      const copyBytes = Math.min(NBD_SIMPLE_REPLY_BYTES - this.replyHeaderFilledBytes, available);
      chunk.copy(this.replyHeader, this.replyHeaderFilledBytes, offset, offset + copyBytes);
      this.replyHeaderFilledBytes += copyBytes;
      offset += copyBytes;
      if (this.replyHeaderFilledBytes === NBD_SIMPLE_REPLY_BYTES) {
        this.replyHeaderFilledBytes = 0;
        this.handleReplyHeader(this.replyHeader, 0);
      }
    }
  }

  private handleReplyHeader(source: Buffer, at: number): void {
    // Structured replies were not negotiated, so anything but a simple
    // reply is the server breaking the protocol (proto.md: hard disconnect).
    if (source.readUInt32BE(at) !== NBD_SIMPLE_REPLY_MAGIC) {
      this.fail(new NbdError("EIO", "NBD server sent a reply without the simple reply magic"));
      return;
    }
    const errno = source.readUInt32BE(at + 4);
    const handle = source.readUInt32BE(at + 12);
    const pending = source.readUInt32BE(at + 8) === 0 ? this.pending.get(handle) : undefined;
    if (pending === undefined) {
      this.fail(new NbdError("EIO", "NBD server replied to a request that is not in flight"));
      return;
    }
    this.pending.delete(handle);
    if (errno !== 0) {
      const code = nbdErrorCodeOfErrno(errno);
      pending.reject(new NbdError(code, `NBD server replied ${code} (errno ${errno})`));
      this.afterReply();
      // proto.md: a client receiving ESHUTDOWN MUST initiate a soft disconnect.
      if (errno === NBD_ESHUTDOWN) void this.close();
      return;
    }
    if (pending.into !== undefined && pending.into.length > 0) {
      this.dataTarget = pending;
      this.dataFilledBytes = 0;
      return;
    }
    pending.resolve();
    this.afterReply();
  }

  private takeData(chunk: Buffer, offset: number): number {
    const target = this.dataTarget as PendingRequest;
    const into = target.into as Buffer;
    const copyBytes = Math.min(into.length - this.dataFilledBytes, chunk.length - offset);
    chunk.copy(into, this.dataFilledBytes, offset, offset + copyBytes);
    this.dataFilledBytes += copyBytes;
    if (this.dataFilledBytes === into.length) {
      this.dataTarget = undefined;
      target.resolve();
      this.afterReply();
    }
    return offset + copyBytes;
  }

  private afterReply(): void {
    if (this.pending.size !== 0 || this.idleWaiter === undefined) return;
    const waiter = this.idleWaiter;
    this.idleWaiter = undefined;
    waiter();
  }

  private whenIdle(): Promise<void> {
    if (this.pending.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.idleWaiter = resolve;
    });
  }

  private whenClosed(): Promise<void> {
    if (this.socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.socket.destroy();
      }, this.timeoutMs);
      this.socket.once("close", () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /**
   * Fails the oldest pending request's connection when it has waited a full
   * timeout. The Map keeps insertion order, so its first entry is the oldest.
   */
  private checkTimeouts(): void {
    this.tick += 1;
    const oldest = this.pending.values().next();
    if (oldest.done === true) return;
    if (this.tick - oldest.value.tick > watchdogChecksPerTimeout) {
      this.fail(new NbdError("EIO", `NBD request unanswered after ${this.timeoutMs} ms`));
    }
  }

  /** The connection is over: every pending and later request fails with `error`. */
  private fail(error: NbdError): void {
    if (this.failure !== undefined) return;
    this.failure = error;
    clearInterval(this.watchdog);
    this.socket.destroy();
    // The request whose data was arriving is no longer in `pending`.
    const pending = [...this.pending.values()];
    if (this.dataTarget !== undefined) pending.push(this.dataTarget);
    this.dataTarget = undefined;
    this.pending.clear();
    for (const request of pending) request.reject(error);
    const waiter = this.idleWaiter;
    this.idleWaiter = undefined;
    waiter?.();
  }
}
