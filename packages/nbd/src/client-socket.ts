/**
 * The client's connection during the NBD handshake: the TCP connect, the
 * reader that takes exact byte counts under one deadline (and moves onto
 * the TLS socket after STARTTLS), option writes, and the handshake's typed
 * error. client-handshake.ts speaks the options over it.
 */
import assert from "node:assert/strict";
import net from "node:net";
import { NBD_OPT_ABORT, NBD_OPTION_HEADER_BYTES, NBD_OPTS_MAGIC_HIGH, NBD_OPTS_MAGIC_LOW } from "./constants.js";

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

/** After NBD_OPT_ABORT, how long the server may take to close before we do. */
const softDisconnectLingerMs = 1000;

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

export function writeOption(socket: net.Socket, option: number, data: Buffer): void {
  const message = Buffer.allocUnsafe(NBD_OPTION_HEADER_BYTES + data.length);
  message.writeUInt32BE(NBD_OPTS_MAGIC_HIGH, 0);
  message.writeUInt32BE(NBD_OPTS_MAGIC_LOW, 4);
  message.writeUInt32BE(option, 8);
  message.writeUInt32BE(data.length, 12);
  data.copy(message, NBD_OPTION_HEADER_BYTES);
  socket.write(message);
}
