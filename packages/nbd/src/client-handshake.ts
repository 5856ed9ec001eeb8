/**
 * The client side of the NBD handshake: connect, fixed newstyle greeting,
 * NBD_OPT_STARTTLS when TLS is asked for (client-tls.ts), then NBD_OPT_GO (falling back to NBD_OPT_EXPORT_NAME for a server that
 * does not know it) or NBD_OPT_LIST. Every step is bounded by one deadline.
 */
import assert from "node:assert/strict";
import net from "node:net";
import {
  NBD_EXPORT_NAME_REPLY_BYTES,
  NBD_EXPORT_NAME_REPLY_ZEROES_BYTES,
  NBD_FLAG_C_FIXED_NEWSTYLE,
  NBD_FLAG_C_NO_ZEROES,
  NBD_FLAG_FIXED_NEWSTYLE,
  NBD_FLAG_NO_ZEROES,
  NBD_INFO_BLOCK_SIZE,
  NBD_INFO_BLOCK_SIZE_BYTES,
  NBD_INFO_EXPORT,
  NBD_INFO_EXPORT_BYTES,
  NBD_INIT_PASSWD_HIGH,
  NBD_INIT_PASSWD_LOW,
  NBD_OPT_ABORT,
  NBD_OPT_EXPORT_NAME,
  NBD_OPT_GO,
  NBD_OPT_LIST,
  NBD_OPTION_HEADER_BYTES,
  NBD_OPTION_REPLY_HEADER_BYTES,
  NBD_OPTS_MAGIC_HIGH,
  NBD_OPTS_MAGIC_LOW,
  NBD_REP_ACK,
  NBD_REP_ERR_TLS_REQD,
  NBD_REP_ERR_UNKNOWN,
  NBD_REP_ERR_UNSUP,
  NBD_REP_FLAG_ERROR,
  NBD_REP_INFO,
  NBD_REP_MAGIC_HIGH,
  NBD_REP_MAGIC_LOW,
  NBD_REP_SERVER,
  NBD_SERVER_GREETING_BYTES,
  NBD_STRING_MAX_BYTES,
} from "./constants.js";
import { readUInt64 } from "./wire.js";

export type NbdClientErrorCode =
  /** The server has no export of that name. */
  | "UNKNOWN_EXPORT"
  /** The server refused an option with an error reply. */
  | "REFUSED"
  /** The server broke the protocol (bad magic, impossible lengths). */
  | "PROTOCOL"
  /** The deadline passed. */
  | "TIMEOUT"
  /** The connection failed or closed before the handshake ended. */
  | "CLOSED"
  /** The server refused NBD_OPT_STARTTLS, or the TLS handshake failed. */
  | "TLS"
  /** The server requires TLS and the client did not ask for it (NBD_REP_ERR_TLS_REQD). */
  | "TLS_REQUIRED";

/** A handshake failure, with a stable code; transmission errors are NbdError. */
export class NbdClientError extends Error {
  readonly code: NbdClientErrorCode;
  /** The option error reply type, when the server sent one. */
  readonly optionReply: number | undefined;
  constructor(code: NbdClientErrorCode, message: string, options?: { cause?: unknown; optionReply?: number }) {
    super(message, options);
    this.name = "NbdClientError";
    this.code = code;
    this.optionReply = options?.optionReply;
  }
}

/**
 * Largest option reply the client accepts: a REP_SERVER or REP_INFO carries
 * at most a 4096-byte string and a little more; anything bigger is a broken
 * or hostile server.
 */
const optionReplyMaxBytes = 4 * NBD_STRING_MAX_BYTES;

/** After NBD_OPT_ABORT, how long the server may take to close before we do. */
const softDisconnectLingerMs = 1000;

/** What NBD_OPT_GO (or EXPORT_NAME) told us about the export. */
export interface NegotiatedExport {
  readonly sizeBytes: number;
  readonly transmissionFlags: number;
  readonly blockSizeMinimumBytes: number;
  readonly blockSizePreferredBytes: number;
  readonly blockSizeMaximumBytes: number;
}

/**
 * Where a client socket's bytes go. The socket reads into one reused buffer
 * (`onread`), several times faster than a fresh Buffer per 'data' event for
 * large reads; so each chunk is a view valid only during the call, and a
 * handler that keeps bytes must copy them.
 */
export class SocketInput {
  handler: (chunk: Buffer) => void = dropChunk;
}

function dropChunk(): void {
  // No reader attached: between owners, or after the connection failed.
}

/**
 * Reads exact byte counts from a socket during the handshake. After it,
 * `detach` hands the socket and any bytes already received to the
 * transmission phase.
 */
export class HandshakeReader {
  private buffered: Buffer = Buffer.alloc(0);
  private waiter: { byteCount: number; resolve: (data: Buffer) => void; reject: (error: Error) => void } | undefined;
  private failure: NbdClientError | undefined;
  private readonly deadline: NodeJS.Timeout;
  private readonly onCloseBound = (): void => {
    this.fail(new NbdClientError("CLOSED", "connection closed during the NBD handshake"));
  };
  private readonly onErrorBound = (error: Error): void => {
    this.fail(new NbdClientError("CLOSED", `connection failed during the NBD handshake: ${error.message}`, { cause: error }));
  };

  private failedReject: (error: Error) => void = dropChunk;
  /** Rejects when the handshake fails (a deadline, a close): for waits that are not reads. */
  readonly failed: Promise<never>;

  constructor(
    private currentSocket: net.Socket,
    private readonly input: SocketInput,
    timeoutMs: number,
  ) {
    input.handler = (chunk) => {
      // Copied: the chunk is a view of the socket's reused read buffer.
      this.buffered = Buffer.concat([this.buffered, chunk]);
      this.serve();
    };
    currentSocket.on("close", this.onCloseBound);
    currentSocket.on("error", this.onErrorBound);
    this.failed = new Promise<never>((_resolve, reject) => {
      this.failedReject = reject;
    });
    // Observed by whoever races it; a failure with no such wait is reported through read().
    this.failed.catch(dropChunk);
    this.deadline = setTimeout(() => {
      this.fail(new NbdClientError("TIMEOUT", `NBD handshake not finished within ${timeoutMs} ms`));
    }, timeoutMs);
  }

  /** The socket the handshake speaks on: the TCP one, or the TLS socket over it after STARTTLS. */
  get socket(): net.Socket {
    return this.currentSocket;
  }

  /** Bytes received and not read yet (none may be pending when TLS starts). */
  get bufferedBytes(): number {
    return this.buffered.length;
  }

  /** Goes on over `secured` (TLS over the old socket), under the same deadline. */
  replaceSocket(secured: net.Socket): void {
    this.currentSocket.off("close", this.onCloseBound);
    this.currentSocket.off("error", this.onErrorBound);
    // The TCP socket's late errors show up on the TLS socket.
    this.currentSocket.on("error", ignoreError);
    this.currentSocket = secured;
    secured.on("close", this.onCloseBound);
    secured.on("error", this.onErrorBound);
  }

  read(byteCount: number): Promise<Buffer> {
    assert.ok(this.waiter === undefined, "one handshake read at a time");
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiter = { byteCount, resolve, reject };
      this.serve();
    });
  }

  write(data: Buffer): void {
    this.socket.write(data);
  }

  /** Stops reading for the handshake; returns the bytes received beyond it. */
  detach(): Buffer {
    clearTimeout(this.deadline);
    // Whoever owns the socket next adds its own listener; until then a late
    // reset must not become an uncaught 'error' event.
    this.socket.on("error", ignoreError);
    this.input.handler = dropChunk;
    this.socket.off("close", this.onCloseBound);
    this.socket.off("error", this.onErrorBound);
    const leftover = this.buffered;
    this.buffered = Buffer.alloc(0);
    return leftover;
  }

  /**
   * Fails the handshake: rejects the pending read and ends the session.
   * `soft`: the server refused an option, so proto.md wants a soft
   * disconnect (NBD_OPT_ABORT) rather than dropping the connection.
   */
  fail(error: NbdClientError, soft = false): void {
    if (this.failure !== undefined) return;
    this.failure = error;
    clearTimeout(this.deadline);
    this.failedReject(error);
    if (soft && !this.socket.destroyed) {
      writeOption(this.socket, NBD_OPT_ABORT, Buffer.alloc(0));
      this.socket.end();
      // Bounded: the reset of a lingering peer is not worth waiting for.
      setTimeout(() => this.socket.destroy(), softDisconnectLingerMs).unref();
    } else {
      this.socket.destroy();
    }
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.reject(error);
  }

  private serve(): void {
    const waiter = this.waiter;
    if (waiter === undefined || this.buffered.length < waiter.byteCount) return;
    this.waiter = undefined;
    const data = this.buffered.subarray(0, waiter.byteCount);
    this.buffered = this.buffered.subarray(waiter.byteCount);
    waiter.resolve(data);
  }
}

function ignoreError(): void {
  // A socket error after the handshake is reported by its next owner, if any.
}

/** Opens a TCP connection with Nagle off, within the deadline. */
export async function connectSocket(
  host: string,
  port: number,
  timeoutMs: number,
  readBufferBytes: number,
): Promise<{ socket: net.Socket; input: SocketInput }> {
  const input = new SocketInput();
  const readBuffer = Buffer.allocUnsafe(readBufferBytes);
  const onread = {
    buffer: readBuffer,
    callback: (bytesRead: number): boolean => {
      input.handler(readBuffer.subarray(0, bytesRead));
      return true;
    },
  };
  const socket = net.connect({ host, port, noDelay: true, onread });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new NbdClientError("TIMEOUT", `connect to ${host}:${port} not done within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.off("error", onError);
      resolve();
    });
    const onError = (error: Error): void => {
      clearTimeout(timer);
      reject(new NbdClientError("CLOSED", `connect to ${host}:${port} failed: ${error.message}`, { cause: error }));
    };
    socket.once("error", onError);
  });
  socket.setNoDelay(true);
  return { socket, input };
}

/** Reads the greeting and sends client flags; true when fixed newstyle. */
export async function greet(reader: HandshakeReader): Promise<{ fixedNewstyle: boolean; noZeroes: boolean }> {
  const greeting = await reader.read(NBD_SERVER_GREETING_BYTES);
  if (
    greeting.readUInt32BE(0) !== NBD_INIT_PASSWD_HIGH ||
    greeting.readUInt32BE(4) !== NBD_INIT_PASSWD_LOW ||
    greeting.readUInt32BE(8) !== NBD_OPTS_MAGIC_HIGH ||
    greeting.readUInt32BE(12) !== NBD_OPTS_MAGIC_LOW
  ) {
    throw protocolError(reader, "not a newstyle NBD server (bad greeting magic)");
  }
  const handshakeFlags = greeting.readUInt16BE(16);
  const fixedNewstyle = (handshakeFlags & NBD_FLAG_FIXED_NEWSTYLE) !== 0;
  // proto.md: a client MUST NOT set NO_ZEROES unless the server did.
  let clientFlags = fixedNewstyle ? NBD_FLAG_C_FIXED_NEWSTYLE : 0;
  if ((handshakeFlags & NBD_FLAG_NO_ZEROES) !== 0) clientFlags |= NBD_FLAG_C_NO_ZEROES;
  const flags = Buffer.allocUnsafe(4);
  flags.writeUInt32BE(clientFlags, 0);
  reader.write(flags);
  return { fixedNewstyle, noZeroes: (clientFlags & NBD_FLAG_C_NO_ZEROES) !== 0 };
}

export function sendOption(reader: HandshakeReader, option: number, data: Buffer): void {
  writeOption(reader.socket, option, data);
}

function writeOption(socket: net.Socket, option: number, data: Buffer): void {
  const message = Buffer.allocUnsafe(NBD_OPTION_HEADER_BYTES + data.length);
  message.writeUInt32BE(NBD_OPTS_MAGIC_HIGH, 0);
  message.writeUInt32BE(NBD_OPTS_MAGIC_LOW, 4);
  message.writeUInt32BE(option, 8);
  message.writeUInt32BE(data.length, 12);
  data.copy(message, NBD_OPTION_HEADER_BYTES);
  socket.write(message);
}

interface OptionReply {
  readonly replyType: number;
  readonly data: Buffer;
}

export async function readOptionReply(reader: HandshakeReader, option: number): Promise<OptionReply> {
  const header = await reader.read(NBD_OPTION_REPLY_HEADER_BYTES);
  if (header.readUInt32BE(0) !== NBD_REP_MAGIC_HIGH || header.readUInt32BE(4) !== NBD_REP_MAGIC_LOW) {
    throw protocolError(reader, "option reply without the reply magic");
  }
  if (header.readUInt32BE(8) !== option) throw protocolError(reader, `reply to option ${header.readUInt32BE(8)}, expected ${option}`);
  const replyType = header.readUInt32BE(12);
  const dataBytes = header.readUInt32BE(16);
  if (dataBytes > optionReplyMaxBytes) throw protocolError(reader, `option reply of ${dataBytes} bytes`);
  const data = dataBytes === 0 ? Buffer.alloc(0) : await reader.read(dataBytes);
  return { replyType, data };
}

/** NBD_OPT_GO for `exportName`, requesting block sizes; undefined if the server lacks GO. */
export async function optionGo(reader: HandshakeReader, exportName: string): Promise<NegotiatedExport | undefined> {
  const name = Buffer.from(exportName, "utf8");
  const data = Buffer.allocUnsafe(4 + name.length + 2 + 2);
  data.writeUInt32BE(name.length, 0);
  name.copy(data, 4);
  data.writeUInt16BE(1, 4 + name.length);
  data.writeUInt16BE(NBD_INFO_BLOCK_SIZE, 4 + name.length + 2);
  sendOption(reader, NBD_OPT_GO, data);
  let exportInfo: { sizeBytes: number; transmissionFlags: number } | undefined;
  // proto.md defaults when the server sends no NBD_INFO_BLOCK_SIZE.
  let blockSizes = { minimum: 1, preferred: 4096, maximum: 0xffffffff };
  for (;;) {
    const reply = await readOptionReply(reader, NBD_OPT_GO);
    if (reply.replyType === NBD_REP_INFO) {
      if (reply.data.length < 2) throw protocolError(reader, "NBD_REP_INFO shorter than 2 bytes");
      const infoType = reply.data.readUInt16BE(0);
      if (infoType === NBD_INFO_EXPORT && reply.data.length === NBD_INFO_EXPORT_BYTES) {
        exportInfo = { sizeBytes: readUInt64(reply.data, 2), transmissionFlags: reply.data.readUInt16BE(10) };
      } else if (infoType === NBD_INFO_BLOCK_SIZE && reply.data.length === NBD_INFO_BLOCK_SIZE_BYTES) {
        blockSizes = { minimum: reply.data.readUInt32BE(2), preferred: reply.data.readUInt32BE(6), maximum: reply.data.readUInt32BE(10) };
      }
      // Other information types are ignored, as proto.md requires.
      continue;
    }
    if (reply.replyType === NBD_REP_ACK) {
      if (exportInfo === undefined) throw protocolError(reader, "NBD_OPT_GO acknowledged without NBD_INFO_EXPORT");
      return {
        ...exportInfo,
        blockSizeMinimumBytes: blockSizes.minimum,
        blockSizePreferredBytes: blockSizes.preferred,
        blockSizeMaximumBytes: blockSizes.maximum,
      };
    }
    if (reply.replyType === NBD_REP_ERR_UNSUP) return undefined;
    throw optionError(reader, reply, `export "${exportName}"`);
  }
}

/** NBD_OPT_EXPORT_NAME: the old way in, for servers without NBD_OPT_GO. */
export async function optionExportName(reader: HandshakeReader, exportName: string, noZeroes: boolean): Promise<NegotiatedExport> {
  sendOption(reader, NBD_OPT_EXPORT_NAME, Buffer.from(exportName, "utf8"));
  let reply: Buffer;
  try {
    reply = await reader.read(NBD_EXPORT_NAME_REPLY_BYTES + (noZeroes ? 0 : NBD_EXPORT_NAME_REPLY_ZEROES_BYTES));
  } catch (error) {
    // proto.md: the server's only way to refuse EXPORT_NAME is to hang up.
    if (error instanceof NbdClientError && error.code === "CLOSED") {
      throw new NbdClientError("UNKNOWN_EXPORT", `server closed the connection on export "${exportName}"`, { cause: error });
    }
    throw error;
  }
  return {
    sizeBytes: readUInt64(reply, 0),
    transmissionFlags: reply.readUInt16BE(8),
    blockSizeMinimumBytes: 1,
    blockSizePreferredBytes: 4096,
    blockSizeMaximumBytes: 0xffffffff,
  };
}

export interface NbdExportEntry {
  readonly name: string;
  readonly description: string;
}

/** NBD_OPT_LIST, then NBD_OPT_ABORT (a soft disconnect). */
export async function optionList(reader: HandshakeReader): Promise<NbdExportEntry[]> {
  sendOption(reader, NBD_OPT_LIST, Buffer.alloc(0));
  const entries: NbdExportEntry[] = [];
  for (;;) {
    const reply = await readOptionReply(reader, NBD_OPT_LIST);
    if (reply.replyType === NBD_REP_ACK) break;
    if (reply.replyType !== NBD_REP_SERVER) throw optionError(reader, reply, "export list");
    if (reply.data.length < 4) throw protocolError(reader, "NBD_REP_SERVER shorter than 4 bytes");
    const nameBytes = reply.data.readUInt32BE(0);
    if (nameBytes > reply.data.length - 4) throw protocolError(reader, "NBD_REP_SERVER name longer than its reply");
    entries.push({
      name: reply.data.toString("utf8", 4, 4 + nameBytes),
      description: reply.data.toString("utf8", 4 + nameBytes),
    });
  }
  sendOption(reader, NBD_OPT_ABORT, Buffer.alloc(0));
  // proto.md: the server SHOULD ACK the abort but may just close; either is fine.
  await readOptionReply(reader, NBD_OPT_ABORT).catch(() => undefined);
  return entries;
}

function optionError(reader: HandshakeReader, reply: OptionReply, subject: string): NbdClientError {
  const message = reply.data.toString("utf8");
  const isError = (reply.replyType & NBD_REP_FLAG_ERROR) !== 0;
  const code = reply.replyType === NBD_REP_ERR_UNKNOWN ? "UNKNOWN_EXPORT" : reply.replyType === NBD_REP_ERR_TLS_REQD ? "TLS_REQUIRED" : isError ? "REFUSED" : "PROTOCOL";
  const error = new NbdClientError(
    code,
    `${subject}: server replied 0x${reply.replyType.toString(16)}${message === "" ? "" : `: ${message}`}`,
    { optionReply: reply.replyType },
  );
  reader.fail(error, isError);
  return error;
}

function protocolError(reader: HandshakeReader, message: string): NbdClientError {
  const error = new NbdClientError("PROTOCOL", message);
  reader.fail(error);
  return error;
}
