/**
 * A raw NBD peer for tests: a socket that sends exactly the bytes a test
 * wants (well-formed, malformed, split, truncated) and reads the server's
 * answers byte-exact, every wait bounded. It speaks just enough of the
 * client side to reach any point of a session; the rest is up to the test.
 */
import assert from "node:assert/strict";
import net from "node:net";
import tls from "node:tls";
import {
  NBD_FLAG_C_FIXED_NEWSTYLE,
  NBD_FLAG_C_NO_ZEROES,
  NBD_INFO_EXPORT,
  NBD_OPT_GO,
  NBD_OPT_STRUCTURED_REPLY,
  NBD_OPTION_HEADER_BYTES,
  NBD_OPTION_REPLY_HEADER_BYTES,
  NBD_OPTS_MAGIC_HIGH,
  NBD_OPTS_MAGIC_LOW,
  NBD_REP_ACK,
  NBD_REP_INFO,
  NBD_REQUEST_BYTES,
  NBD_REQUEST_MAGIC,
  NBD_SERVER_GREETING_BYTES,
  NBD_SIMPLE_REPLY_BYTES,
  NBD_STRUCTURED_REPLY_HEADER_BYTES,
} from "./constants.js";
import { readUInt64, writeUInt64 } from "./wire.js";

/** Default bound on each wait of a raw peer: generous for a loaded CI machine. */
const rawPeerTimeoutMsDefault = 5000;

export interface RawOptionReply {
  readonly option: number;
  readonly replyType: number;
  readonly data: Buffer;
}

export interface RawRequest {
  readonly command: number;
  readonly flags?: number;
  readonly handle: number;
  readonly offsetBytes?: number;
  readonly lengthBytes?: number;
  readonly magic?: number;
}

export interface RawChunk {
  readonly magic: number;
  readonly flags: number;
  readonly replyType: number;
  readonly handle: number;
  readonly payload: Buffer;
}

export class RawPeer {
  private buffered: Buffer = Buffer.alloc(0);
  private waiter: (() => void) | undefined;
  private isClosed = false;
  /** Where sends go: the TCP socket, or the TLS socket over it after startTls. */
  private channel: net.Socket;
  readonly whenClosed: Promise<void>;

  private constructor(readonly socket: net.Socket) {
    this.channel = socket;
    socket.on("data", (chunk: Buffer) => {
      this.append(chunk);
    });
    socket.on("error", () => undefined);
    this.whenClosed = new Promise((resolve) => {
      socket.once("close", () => {
        this.isClosed = true;
        this.waiter?.();
        resolve();
      });
    });
  }

  static async connect(port: number, host = "127.0.0.1"): Promise<RawPeer> {
    const socket = net.connect({ host, port, noDelay: true });
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    return new RawPeer(socket);
  }

  get closed(): boolean {
    return this.isClosed;
  }

  send(data: Buffer): void {
    this.channel.write(data);
  }

  /**
   * After the server acknowledged NBD_OPT_STARTTLS: TLS over the connection
   * with `options` (CA, certificate); later sends and reads go through it.
   * Resolves once the client side of the TLS handshake is done.
   */
  async startTls(options: tls.ConnectionOptions): Promise<void> {
    const secured = tls.connect({ ...options, socket: this.socket });
    this.channel = secured;
    secured.on("data", (chunk: Buffer) => {
      this.append(chunk);
    });
    await new Promise<void>((resolve, reject) => {
      secured.once("secureConnect", resolve);
      secured.once("error", reject);
      secured.once("close", () => {
        reject(new Error("connection closed during the TLS handshake"));
      });
    });
    secured.on("error", () => undefined);
  }

  private append(chunk: Buffer): void {
    this.buffered = Buffer.concat([this.buffered, chunk]);
    this.waiter?.();
  }

  /** Exactly `byteCount` bytes; rejects if the server closes first or time runs out. */
  async read(byteCount: number, timeoutMs = rawPeerTimeoutMsDefault): Promise<Buffer> {
    await this.waitFor(() => this.buffered.length >= byteCount || this.isClosed, timeoutMs);
    if (this.buffered.length < byteCount) throw new Error(`server closed after ${this.buffered.length} of ${byteCount} bytes`);
    const data = this.buffered.subarray(0, byteCount);
    this.buffered = this.buffered.subarray(byteCount);
    return data;
  }

  /**
   * Resolves when the server has closed the connection, with the bytes it
   * sent before closing that nobody read; rejects if it stays open.
   */
  async expectClose(timeoutMs = rawPeerTimeoutMsDefault): Promise<Buffer> {
    await this.waitFor(() => this.isClosed, timeoutMs);
    const rest = this.buffered;
    this.buffered = Buffer.alloc(0);
    return rest;
  }

  /** Bytes received and not read yet. */
  unread(): Buffer {
    return this.buffered;
  }

  destroy(): void {
    this.channel.destroy();
    this.socket.destroy();
  }

  async greeting(): Promise<number> {
    const greeting = await this.read(NBD_SERVER_GREETING_BYTES);
    return greeting.readUInt16BE(16);
  }

  sendClientFlags(flags: number): void {
    const data = Buffer.allocUnsafe(4);
    data.writeUInt32BE(flags, 0);
    this.send(data);
  }

  sendOption(option: number, data: Buffer = Buffer.alloc(0), declaredBytes = data.length): void {
    const header = Buffer.allocUnsafe(NBD_OPTION_HEADER_BYTES);
    header.writeUInt32BE(NBD_OPTS_MAGIC_HIGH, 0);
    header.writeUInt32BE(NBD_OPTS_MAGIC_LOW, 4);
    header.writeUInt32BE(option, 8);
    header.writeUInt32BE(declaredBytes, 12);
    this.send(Buffer.concat([header, data]));
  }

  async readOptionReply(): Promise<RawOptionReply> {
    const header = await this.read(NBD_OPTION_REPLY_HEADER_BYTES);
    const dataBytes = header.readUInt32BE(16);
    const data = dataBytes === 0 ? Buffer.alloc(0) : await this.read(dataBytes);
    return { option: header.readUInt32BE(8), replyType: header.readUInt32BE(12), data };
  }

  /**
   * Greeting, client flags, optional structured replies, then NBD_OPT_GO for
   * `exportName`; asserts success and returns the size and flags.
   */
  async handshake(exportName: string, structured = false): Promise<{ sizeBytes: number; transmissionFlags: number }> {
    await this.greeting();
    this.sendClientFlags(NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES);
    if (structured) {
      this.sendOption(NBD_OPT_STRUCTURED_REPLY);
      assert.equal((await this.readOptionReply()).replyType, NBD_REP_ACK);
    }
    this.sendOption(NBD_OPT_GO, goData(exportName, []));
    let result: { sizeBytes: number; transmissionFlags: number } | undefined;
    for (;;) {
      const reply = await this.readOptionReply();
      if (reply.replyType === NBD_REP_ACK) break;
      assert.equal(reply.replyType, NBD_REP_INFO, `NBD_OPT_GO failed with reply 0x${reply.replyType.toString(16)}`);
      if (reply.data.readUInt16BE(0) === NBD_INFO_EXPORT) {
        result = { sizeBytes: readUInt64(reply.data, 2), transmissionFlags: reply.data.readUInt16BE(10) };
      }
    }
    assert.ok(result !== undefined, "no NBD_INFO_EXPORT before NBD_REP_ACK");
    return result;
  }

  sendRequest(request: RawRequest, payload?: Buffer): void {
    this.send(encodeRequest(request, payload));
  }

  async readSimpleReply(): Promise<{ magic: number; errno: number; handle: number }> {
    const reply = await this.read(NBD_SIMPLE_REPLY_BYTES);
    return { magic: reply.readUInt32BE(0), errno: reply.readUInt32BE(4), handle: reply.readUInt32BE(12) };
  }

  async readChunk(): Promise<RawChunk> {
    const header = await this.read(NBD_STRUCTURED_REPLY_HEADER_BYTES);
    const payloadBytes = header.readUInt32BE(16);
    const payload = payloadBytes === 0 ? Buffer.alloc(0) : await this.read(payloadBytes);
    return {
      magic: header.readUInt32BE(0),
      flags: header.readUInt16BE(4),
      replyType: header.readUInt16BE(6),
      handle: header.readUInt32BE(12),
      payload,
    };
  }

  private async waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
    if (condition()) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(new Error(`raw peer: nothing after ${timeoutMs} ms (${this.buffered.length} bytes buffered, closed: ${this.isClosed})`));
      }, timeoutMs);
      this.waiter = () => {
        if (!condition()) return;
        clearTimeout(timer);
        this.waiter = undefined;
        resolve();
      };
    });
  }
}

/** NBD_OPT_GO / NBD_OPT_INFO data for a name and information requests. */
export function goData(exportName: string, infoTypes: readonly number[]): Buffer {
  const name = Buffer.from(exportName, "utf8");
  const data = Buffer.allocUnsafe(4 + name.length + 2 + 2 * infoTypes.length);
  data.writeUInt32BE(name.length, 0);
  name.copy(data, 4);
  data.writeUInt16BE(infoTypes.length, 4 + name.length);
  infoTypes.forEach((infoType, index) => {
    data.writeUInt16BE(infoType, 4 + name.length + 2 + 2 * index);
  });
  return data;
}

/** NBD_OPT_LIST_META_CONTEXT / SET_META_CONTEXT data: the export's name, then each query (proto.md). */
export function metaContextData(exportName: string, queries: readonly string[]): Buffer {
  const strings = [exportName, ...queries].map((text) => Buffer.from(text, "utf8"));
  const parts: Buffer[] = [];
  strings.forEach((encoded, index) => {
    const length = Buffer.allocUnsafe(4);
    length.writeUInt32BE(encoded.length, 0);
    parts.push(length, encoded);
    if (index === 0) {
      const count = Buffer.allocUnsafe(4);
      count.writeUInt32BE(queries.length, 0);
      parts.push(count);
    }
  });
  return Buffer.concat(parts);
}

export function encodeRequest(request: RawRequest, payload?: Buffer): Buffer {
  const header = Buffer.allocUnsafe(NBD_REQUEST_BYTES);
  header.writeUInt32BE(request.magic ?? NBD_REQUEST_MAGIC, 0);
  header.writeUInt16BE(request.flags ?? 0, 4);
  header.writeUInt16BE(request.command, 6);
  header.writeUInt32BE(0, 8);
  header.writeUInt32BE(request.handle, 12);
  writeUInt64(header, request.offsetBytes ?? 0, 16);
  header.writeUInt32BE(request.lengthBytes ?? payload?.length ?? 0, 24);
  return payload === undefined ? header : Buffer.concat([header, payload]);
}
