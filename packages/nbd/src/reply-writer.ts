/**
 * The replies of one connection's transmission phase, in simple or
 * structured form as negotiated, queued in the connection's WriteBatch so
 * that every reply of one event-loop turn goes out in one socket write.
 *
 * A read reply is one buffer, header room followed by the data the export
 * fills, taken from a pool of the connection and given back once the socket
 * has sent it (payload-pool.ts says why not a fresh or carved buffer).
 */
import assert from "node:assert/strict";
import type { Socket } from "node:net";
import {
  NBD_ERROR_CHUNK_PREFIX_BYTES,
  NBD_OFFSET_DATA_PREFIX_BYTES,
  NBD_REPLY_FLAG_DONE,
  NBD_REPLY_TYPE_BLOCK_STATUS,
  NBD_REPLY_TYPE_ERROR,
  NBD_REPLY_TYPE_NONE,
  NBD_REPLY_TYPE_OFFSET_DATA,
  NBD_SIMPLE_REPLY_BYTES,
  NBD_SIMPLE_REPLY_MAGIC,
  NBD_STRUCTURED_REPLY_HEADER_BYTES,
  NBD_STRUCTURED_REPLY_MAGIC,
} from "./constants.js";
import { errorMessageMaxBytes } from "./limits.js";
import { PayloadPool } from "./payload-pool.js";
import { truncatedUtf8, writeUInt64 } from "./wire.js";
import { WriteBatch } from "./write-batch.js";

/**
 * One read reply buffer and what its reuse needs, made once per buffer: the
 * view of its data the export fills, and the callback that gives it back
 * once the socket has sent it. So a pooled reply costs a request no view,
 * no closure and no allocation.
 */
export class ReadReply {
  readonly buffer: Buffer;
  /** The buffer past the header room: what the export fills. */
  readonly data: Buffer;
  readonly whenWritten: () => void;

  constructor(byteLength: number, headerBytes: number, pool: PayloadPool<ReadReply>) {
    assert.ok(byteLength >= headerBytes);
    this.buffer = Buffer.allocUnsafe(byteLength);
    this.data = this.buffer.subarray(headerBytes);
    this.whenWritten = () => {
      pool.give(this);
    };
  }

  get byteLength(): number {
    return this.buffer.length;
  }
}

/**
 * Read reply pools by header room (simple or structured replies), shared by
 * every connection of a server: a client that opens new connections for
 * each job (nbdcopy: four per copy, 64 reads of 256 KiB in flight on each)
 * would otherwise get fresh replies on each, and the closed connections'
 * replies, tens of MiB of external memory, made V8 run a mark-compact every
 * 100-200 ms while copying out.
 */
export class ReadReplyPools {
  private readonly byHeaderBytes = new Map<number, PayloadPool<ReadReply>>();

  pool(headerBytes: number): PayloadPool<ReadReply> {
    const existing = this.byHeaderBytes.get(headerBytes);
    if (existing !== undefined) return existing;
    const made: PayloadPool<ReadReply> = new PayloadPool((byteLength) => new ReadReply(byteLength, headerBytes, made));
    this.byHeaderBytes.set(headerBytes, made);
    return made;
  }
}

export class ReplyWriter {
  private readonly batch: WriteBatch;
  private readonly readReplies: PayloadPool<ReadReply>;
  /** Room before a read reply's data: a simple reply, or a chunk header and its offset. */
  readonly readReplyHeaderBytes: number;

  /** `pools`: the server's, shared by its connections; this writer's own if absent. */
  constructor(socket: Socket, private readonly structuredReplies: boolean, pools: ReadReplyPools = new ReadReplyPools()) {
    this.batch = new WriteBatch(socket);
    this.readReplyHeaderBytes = structuredReplies
      ? NBD_STRUCTURED_REPLY_HEADER_BYTES + NBD_OFFSET_DATA_PREFIX_BYTES
      : NBD_SIMPLE_REPLY_BYTES;
    this.readReplies = pools.pool(this.readReplyHeaderBytes);
  }

  /**
   * A read reply for `lengthBytes` of data, after `readReplyHeaderBytes` of
   * header room. It goes back to the pool when readSuccess's write is done;
   * one never passed to readSuccess (a failed READ) is left to the garbage
   * collector, since its export may not be done with it.
   */
  takeReadReply(lengthBytes: number): ReadReply {
    return this.readReplies.take(this.readReplyHeaderBytes + lengthBytes);
  }

  /** A successful READ: fills the header room of `readReply` and queues it. */
  readSuccess(handleHigh: number, handleLow: number, offsetBytes: number, lengthBytes: number, readReply: ReadReply): void {
    const reply = readReply.buffer;
    if (!this.structuredReplies) {
      reply.writeUInt32BE(NBD_SIMPLE_REPLY_MAGIC, 0);
      reply.writeUInt32BE(0, 4);
      reply.writeUInt32BE(handleHigh, 8);
      reply.writeUInt32BE(handleLow, 12);
      this.batch.push(reply, readReply.whenWritten);
      return;
    }
    if (lengthBytes === 0) {
      // OFFSET_DATA must carry at least one byte; an empty read is just DONE.
      this.writeChunkHeader(NBD_REPLY_TYPE_NONE, handleHigh, handleLow, 0);
      this.readReplies.give(readReply);
      return;
    }
    // proto.md: a structured READ reply; a single OFFSET_DATA chunk marked
    // DONE is enough, since all data is in hand before it is sent.
    reply.writeUInt32BE(NBD_STRUCTURED_REPLY_MAGIC, 0);
    reply.writeUInt16BE(NBD_REPLY_FLAG_DONE, 4);
    reply.writeUInt16BE(NBD_REPLY_TYPE_OFFSET_DATA, 6);
    reply.writeUInt32BE(handleHigh, 8);
    reply.writeUInt32BE(handleLow, 12);
    reply.writeUInt32BE(NBD_OFFSET_DATA_PREFIX_BYTES + lengthBytes, 16);
    writeUInt64(reply, offsetBytes, 20);
    this.batch.push(reply, readReply.whenWritten);
  }

  /** proto.md: one BLOCK_STATUS chunk per selected context; ours is the only one, so it is DONE. */
  blockStatus(handleHigh: number, handleLow: number, payload: Buffer): void {
    this.writeChunkHeader(NBD_REPLY_TYPE_BLOCK_STATUS, handleHigh, handleLow, payload.length, false);
    this.batch.push(payload);
  }

  /** Success of a command that returns no data. */
  done(handleHigh: number, handleLow: number): void {
    this.writeSimpleReply(handleHigh, handleLow, 0);
  }

  /**
   * An error reply. With structured replies, an NBD_REPLY_TYPE_ERROR chunk
   * with a message (proto.md: MUST for READ, SHOULD prefer for the rest);
   * without, a simple reply with no payload, even for READ.
   */
  error(handleHigh: number, handleLow: number, errno: number, message: string): void {
    if (!this.structuredReplies) {
      this.writeSimpleReply(handleHigh, handleLow, errno);
      return;
    }
    const text = truncatedUtf8(message, errorMessageMaxBytes);
    const payloadBytes = NBD_ERROR_CHUNK_PREFIX_BYTES + text.length;
    const at = this.writeChunkHeader(NBD_REPLY_TYPE_ERROR, handleHigh, handleLow, payloadBytes);
    const slab = this.batch.slab;
    slab.writeUInt32BE(errno, at + NBD_STRUCTURED_REPLY_HEADER_BYTES);
    slab.writeUInt16BE(text.length, at + NBD_STRUCTURED_REPLY_HEADER_BYTES + 4);
    text.copy(slab, at + NBD_STRUCTURED_REPLY_HEADER_BYTES + NBD_ERROR_CHUNK_PREFIX_BYTES);
  }

  /** Sends what is queued now, not at the end of the turn. */
  flush(): void {
    this.batch.flush();
  }

  private writeSimpleReply(handleHigh: number, handleLow: number, errno: number): void {
    const at = this.batch.reserve(NBD_SIMPLE_REPLY_BYTES);
    const slab = this.batch.slab;
    slab.writeUInt32BE(NBD_SIMPLE_REPLY_MAGIC, at);
    slab.writeUInt32BE(errno, at + 4);
    slab.writeUInt32BE(handleHigh, at + 8);
    slab.writeUInt32BE(handleLow, at + 12);
  }

  /**
   * Reserves a chunk header, plus `payloadBytes` in the batch unless the
   * payload is pushed after it (`payloadInline` false); returns its offset.
   */
  private writeChunkHeader(replyType: number, handleHigh: number, handleLow: number, payloadBytes: number, payloadInline = true): number {
    const at = this.batch.reserve(NBD_STRUCTURED_REPLY_HEADER_BYTES + (payloadInline ? payloadBytes : 0));
    const slab = this.batch.slab;
    slab.writeUInt32BE(NBD_STRUCTURED_REPLY_MAGIC, at);
    slab.writeUInt16BE(NBD_REPLY_FLAG_DONE, at + 4);
    slab.writeUInt16BE(replyType, at + 6);
    slab.writeUInt32BE(handleHigh, at + 8);
    slab.writeUInt32BE(handleLow, at + 12);
    slab.writeUInt32BE(payloadBytes, at + 16);
    return at;
  }
}
