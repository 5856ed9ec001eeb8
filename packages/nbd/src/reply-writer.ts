/**
 * The replies of one connection's transmission phase, in simple or
 * structured form as negotiated, queued in the connection's WriteBatch so
 * that every reply of one event-loop turn goes out in one socket write.
 *
 * A read reply is one buffer, header room followed by the data the export
 * fills: small ones are carved from a shared slab, big ones come from a pool
 * and go back to it once the socket has sent them.
 */
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
import { BufferSlab, WriteBatch } from "./write-batch.js";

/** Read replies up to this size are carved from a shared slab. */
const readReplyCarveMaxBytes = 128 * 1024;
/** One slab of read replies: 8 carve-max replies, a few hundred 4 KiB ones. */
const readReplySlabBytes = 1024 * 1024;

export class ReplyWriter {
  private readonly batch: WriteBatch;
  private readonly readSlab = new BufferSlab(readReplySlabBytes, readReplyCarveMaxBytes);
  private readonly readReplies = new PayloadPool();
  /** Room before a read reply's data: a simple reply, or a chunk header and its offset. */
  readonly readReplyHeaderBytes: number;

  constructor(socket: Socket, private readonly structuredReplies: boolean) {
    this.batch = new WriteBatch(socket);
    this.readReplyHeaderBytes = structuredReplies
      ? NBD_STRUCTURED_REPLY_HEADER_BYTES + NBD_OFFSET_DATA_PREFIX_BYTES
      : NBD_SIMPLE_REPLY_BYTES;
  }

  /** A read reply's buffer for `lengthBytes` of data, after `readReplyHeaderBytes` of header room. */
  allocateReadReply(lengthBytes: number): Buffer {
    const replyBytes = this.readReplyHeaderBytes + lengthBytes;
    // Big replies come from a pool, back in it once the socket has sent them: a new
    // mebibyte per sequential read kept the garbage collector busy a quarter of the time.
    return replyBytes > readReplyCarveMaxBytes ? this.readReplies.take(replyBytes) : this.readSlab.allocate(replyBytes);
  }

  /** A successful READ: fills the header room of `reply` and queues it. */
  readSuccess(handleHigh: number, handleLow: number, offsetBytes: number, lengthBytes: number, reply: Buffer): void {
    if (!this.structuredReplies) {
      reply.writeUInt32BE(NBD_SIMPLE_REPLY_MAGIC, 0);
      reply.writeUInt32BE(0, 4);
      reply.writeUInt32BE(handleHigh, 8);
      reply.writeUInt32BE(handleLow, 12);
      this.pushReadReply(reply);
      return;
    }
    if (lengthBytes === 0) {
      // OFFSET_DATA must carry at least one byte; an empty read is just DONE.
      this.writeChunkHeader(NBD_REPLY_TYPE_NONE, handleHigh, handleLow, 0);
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
    this.pushReadReply(reply);
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

  /** Queues a read reply; a pooled one goes back to its pool once sent. */
  private pushReadReply(reply: Buffer): void {
    if (reply.length <= readReplyCarveMaxBytes) {
      this.batch.push(reply);
      return;
    }
    this.batch.push(reply, () => {
      this.readReplies.give(reply);
    });
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
