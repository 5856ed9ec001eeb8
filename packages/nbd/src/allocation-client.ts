/**
 * A client connection that only asks NBD_CMD_BLOCK_STATUS for
 * `base:allocation`: what an LU reached over NBD (a device's export, an
 * external server) answers as BlockIo.allocation.
 *
 * Why a connection of its own: block status needs structured replies, and
 * NbdClient, the hot path of reads and writes, parses simple replies only.
 * Block status is rare (a client's map, a copy's plan), so it gets a small
 * connection that sends one request at a time, and NbdClient stays as it is.
 *
 * A server without structured replies or without `base:allocation` leaves
 * the client `supported: false`: its caller reports data, always true.
 */
import assert from "node:assert/strict";
import type net from "node:net";
import { decodeBlockStatus } from "./allocation.js";
import type { AllocationExtent } from "./block-io.js";
import { startTls, type NbdClientTls } from "./client-tls.js";
import { greet, HandshakeReader, NbdClientError, optionGo, readOptionReply, sendOption, connectSocket, type SocketInput } from "./client-handshake.js";
import {
  NBD_CMD_BLOCK_STATUS,
  NBD_CMD_DISC,
  NBD_ERROR_CHUNK_PREFIX_BYTES,
  NBD_META_CONTEXT_BASE_ALLOCATION,
  NBD_OPT_ABORT,
  NBD_OPT_SET_META_CONTEXT,
  NBD_OPT_STRUCTURED_REPLY,
  NBD_REP_ACK,
  NBD_REP_ERR_UNKNOWN,
  NBD_REP_META_CONTEXT,
  NBD_REPLY_FLAG_DONE,
  NBD_REPLY_TYPE_BLOCK_STATUS,
  NBD_REPLY_TYPE_FLAG_ERROR,
  NBD_REPLY_TYPE_NONE,
  NBD_REQUEST_BYTES,
  NBD_REQUEST_MAGIC,
  NBD_SIMPLE_REPLY_BYTES,
  NBD_SIMPLE_REPLY_MAGIC,
  NBD_STRUCTURED_REPLY_HEADER_BYTES,
  NBD_STRUCTURED_REPLY_MAGIC,
  nbdErrorCodeOfErrno,
} from "./constants.js";
import { NbdError } from "./export.js";
import { writeUInt64 } from "./wire.js";

/**
 * Largest chunk accepted: proto.md's 2^20 descriptors (8 MiB and the
 * prefix); a bigger one is a broken server.
 */
const chunkPayloadMaxBytes = 4 + 8 * 2 ** 20;
/** Block status replies are small: the socket reads into 64 KiB. */
const readBufferBytes = 64 * 1024;
/** Chunks of one reply before it must be DONE: one per context, and we select one; the rest is slack. */
const chunksPerReplyMax = 16;
/** Our only request in flight is handle 1. */
const requestHandle = 1;

export interface NbdAllocationClientOptions {
  readonly host: string;
  readonly port: number;
  readonly exportName: string;
  /** Bound on the connect and handshake, and on each reply. */
  readonly timeoutMs: number;
  /** NBD_OPT_STARTTLS first, as NbdClient does. */
  readonly tls?: NbdClientTls;
}

export class NbdAllocationClient {
  private queue: Promise<unknown> = Promise.resolve();
  private broken: NbdError | undefined;

  private constructor(
    /** False when the server cannot answer `base:allocation`: no connection is kept. */
    readonly supported: boolean,
    private readonly socket: net.Socket | undefined,
    private readonly input: SocketInput | undefined,
    private readonly contextId: number,
    private readonly timeoutMs: number,
  ) {
    // A server that closes while we are idle (a restart) fails the next call at once, not at its timeout.
    socket?.on("close", () => {
      this.broken ??= new NbdError("EIO", "NBD allocation connection closed");
    });
  }

  /** Connects and negotiates structured replies and `base:allocation`; handshake failures are NbdClientError. */
  static async connect(options: NbdAllocationClientOptions): Promise<NbdAllocationClient> {
    const { socket, input } = await connectSocket(options.host, options.port, options.timeoutMs, readBufferBytes);
    const reader = new HandshakeReader(socket, input, options.timeoutMs);
    try {
      const contextId = await negotiate(reader, input, options);
      if (contextId === undefined) {
        sendOption(reader, NBD_OPT_ABORT, Buffer.alloc(0));
        reader.detach();
        reader.socket.end();
        return new NbdAllocationClient(false, undefined, undefined, 0, options.timeoutMs);
      }
      const negotiated = await optionGo(reader, options.exportName);
      if (negotiated === undefined) throw new NbdClientError("PROTOCOL", "server has meta contexts but not NBD_OPT_GO");
      const leftover = reader.detach();
      assert.equal(leftover.length, 0, "the server sent bytes before any request");
      // Inside TLS, reader.socket is the TLS socket over `socket`.
      return new NbdAllocationClient(true, reader.socket, input, contextId, options.timeoutMs);
    } catch (error) {
      reader.detach();
      if (!reader.socket.writableEnded) {
        reader.socket.destroy();
        socket.destroy();
      }
      throw error;
    }
  }

  /** BlockIo.allocation over the connection; one request at a time. A broken connection fails every later call (EIO). */
  allocation(offsetBytes: number, lengthBytes: number): Promise<readonly AllocationExtent[]> {
    assert.ok(this.supported, "allocation asked of a server without base:allocation");
    const asked = this.queue.then(() => this.request(offsetBytes, lengthBytes));
    this.queue = asked.catch(() => undefined);
    return asked;
  }

  get isOver(): boolean {
    return this.broken !== undefined;
  }

  /** Soft disconnect (proto.md NBD_CMD_DISC) once the request in flight is answered. */
  async close(): Promise<void> {
    await this.queue;
    const socket = this.socket;
    if (socket === undefined || this.broken !== undefined) return;
    this.broken = new NbdError("ESHUTDOWN", "NBD allocation client closed");
    socket.end(encodeRequest(NBD_CMD_DISC, 0, 0, 0));
  }

  private async request(offsetBytes: number, lengthBytes: number): Promise<readonly AllocationExtent[]> {
    if (this.broken !== undefined) throw this.broken;
    const socket = this.socket as net.Socket;
    // A reader per request: its deadline bounds this reply alone.
    const reader = new HandshakeReader(socket, this.input as SocketInput, this.timeoutMs);
    try {
      socket.write(encodeRequest(NBD_CMD_BLOCK_STATUS, requestHandle, offsetBytes, lengthBytes));
      return await this.readReply(reader, lengthBytes);
    } catch (error) {
      if (error instanceof NbdError && error.code !== "EIO") throw error;
      this.broken = error instanceof NbdError ? error : new NbdError("EIO", `NBD block status failed: ${String(error)}`, { cause: error });
      socket.destroy();
      throw this.broken;
    } finally {
      reader.detach();
    }
  }

  /** Reads chunks until DONE: the BLOCK_STATUS chunk's extents, or the server's error as NbdError. */
  private async readReply(reader: HandshakeReader, lengthBytes: number): Promise<readonly AllocationExtent[]> {
    let extents: readonly AllocationExtent[] | undefined;
    // An error chunk not marked DONE is thrown once the reply ends, so the stream stays in step.
    let failure: NbdError | undefined;
    for (let chunkIndex = 0; chunkIndex < chunksPerReplyMax; chunkIndex += 1) {
      const magic = (await reader.read(4)).readUInt32BE(0);
      if (magic === NBD_SIMPLE_REPLY_MAGIC) return simpleReplyError(await reader.read(NBD_SIMPLE_REPLY_BYTES - 4));
      if (magic !== NBD_STRUCTURED_REPLY_MAGIC) throw new NbdError("EIO", "NBD server sent a reply without a reply magic");
      const header = await reader.read(NBD_STRUCTURED_REPLY_HEADER_BYTES - 4);
      const flags = header.readUInt16BE(0);
      const replyType = header.readUInt16BE(2);
      const payloadBytes = header.readUInt32BE(12);
      if (header.readUInt32BE(4) !== 0 || header.readUInt32BE(8) !== requestHandle) throw new NbdError("EIO", "NBD server replied to a request not in flight");
      if (payloadBytes > chunkPayloadMaxBytes) throw new NbdError("EIO", `NBD reply chunk of ${payloadBytes} bytes`);
      const payload = payloadBytes === 0 ? Buffer.alloc(0) : Buffer.from(await reader.read(payloadBytes));
      if ((replyType & NBD_REPLY_TYPE_FLAG_ERROR) !== 0) {
        failure ??= chunkError(payload);
      } else if (replyType === NBD_REPLY_TYPE_BLOCK_STATUS) {
        const decoded = decodeBlockStatus(payload, this.contextId, lengthBytes);
        if (typeof decoded === "string") throw new NbdError("EIO", `NBD server broke block status: ${decoded}`);
        extents = decoded;
      } else if (replyType !== NBD_REPLY_TYPE_NONE) {
        throw new NbdError("EIO", `NBD reply chunk of type ${replyType} to BLOCK_STATUS`);
      }
      if ((flags & NBD_REPLY_FLAG_DONE) !== 0) {
        if (failure !== undefined) throw failure;
        if (extents === undefined) throw new NbdError("EIO", "NBD server finished BLOCK_STATUS without a status chunk");
        return extents;
      }
    }
    throw new NbdError("EIO", `NBD server sent more than ${chunksPerReplyMax} chunks for one BLOCK_STATUS`);
  }
}

/**
 * Structured replies, then SET_META_CONTEXT `base:allocation` for the
 * export: the context's id, or undefined when the server offers either not.
 */
async function negotiate(reader: HandshakeReader, input: SocketInput, options: NbdAllocationClientOptions): Promise<number | undefined> {
  const { exportName } = options;
  const { fixedNewstyle } = await greet(reader);
  if (options.tls !== undefined) await startTls(reader, input, options.tls, options.host, fixedNewstyle);
  if (!fixedNewstyle) return undefined;
  sendOption(reader, NBD_OPT_STRUCTURED_REPLY, Buffer.alloc(0));
  if ((await readOptionReply(reader, NBD_OPT_STRUCTURED_REPLY)).replyType !== NBD_REP_ACK) return undefined;
  const name = Buffer.from(exportName, "utf8");
  const query = Buffer.from(NBD_META_CONTEXT_BASE_ALLOCATION, "utf8");
  const data = Buffer.allocUnsafe(4 + name.length + 4 + 4 + query.length);
  data.writeUInt32BE(name.length, 0);
  name.copy(data, 4);
  data.writeUInt32BE(1, 4 + name.length);
  data.writeUInt32BE(query.length, 8 + name.length);
  query.copy(data, 12 + name.length);
  sendOption(reader, NBD_OPT_SET_META_CONTEXT, data);
  let contextId: number | undefined;
  for (;;) {
    const reply = await readOptionReply(reader, NBD_OPT_SET_META_CONTEXT);
    if (reply.replyType === NBD_REP_ERR_UNKNOWN) throw new NbdClientError("UNKNOWN_EXPORT", `no export named "${exportName}"`, { optionReply: reply.replyType });
    if (reply.replyType !== NBD_REP_META_CONTEXT) return reply.replyType === NBD_REP_ACK ? contextId : undefined;
    if (reply.data.length >= 4 && reply.data.toString("utf8", 4) === NBD_META_CONTEXT_BASE_ALLOCATION) contextId = reply.data.readUInt32BE(0);
  }
}

function encodeRequest(command: number, handle: number, offsetBytes: number, lengthBytes: number): Buffer {
  const request = Buffer.allocUnsafe(NBD_REQUEST_BYTES);
  request.writeUInt32BE(NBD_REQUEST_MAGIC, 0);
  request.writeUInt16BE(0, 4);
  request.writeUInt16BE(command, 6);
  request.writeUInt32BE(0, 8);
  request.writeUInt32BE(handle, 12);
  writeUInt64(request, offsetBytes, 16);
  request.writeUInt32BE(lengthBytes, 24);
  return request;
}

/** A simple reply to BLOCK_STATUS can only be an error (proto.md: success needs a structured reply). */
function simpleReplyError(rest: Buffer): never {
  const errno = rest.readUInt32BE(0);
  if (errno === 0) throw new NbdError("EIO", "NBD server answered BLOCK_STATUS with a simple reply and no error");
  const code = nbdErrorCodeOfErrno(errno);
  throw new NbdError(code, `NBD server replied ${code} (errno ${errno}) to BLOCK_STATUS`);
}

function chunkError(payload: Buffer): NbdError {
  if (payload.length < NBD_ERROR_CHUNK_PREFIX_BYTES) return new NbdError("EIO", "NBD error chunk shorter than its prefix");
  const errno = payload.readUInt32BE(0);
  const code = nbdErrorCodeOfErrno(errno);
  const message = payload.toString("utf8", NBD_ERROR_CHUNK_PREFIX_BYTES, NBD_ERROR_CHUNK_PREFIX_BYTES + payload.readUInt16BE(4));
  return new NbdError(code, `NBD server replied ${code} to BLOCK_STATUS${message === "" ? "" : `: ${message}`}`);
}
