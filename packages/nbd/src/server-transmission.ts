/**
 * The server side of the NBD transmission phase for one connection: parses
 * requests straight out of the socket's chunks, runs them on the export
 * concurrently, and replies as each completes (out of order), batching every
 * reply of one event-loop turn into one socket write.
 *
 * Hot-path rules: a request header is parsed in place from the chunk it
 * arrived in (copied only when it straddles two chunks); a big WRITE payload
 * is received straight into its own pooled buffer (payloadReceiveBuffer), a
 * small one copied into one from the chunk; request state lives in a pool of
 * preallocated slots with pre-bound completion callbacks; a read reply is one
 * buffer carved from a slab, header and data together.
 *
 * Chunks given to onData are the connection's reused receive buffer: nothing
 * here keeps a view of one past the call.
 */
import { PayloadPool } from "./payload-pool.js";
import assert from "node:assert/strict";
import type { Socket } from "node:net";
import { encodeBlockStatus } from "./allocation.js";
import {
  NBD_CMD_BLOCK_STATUS,
  NBD_CMD_DISC,
  NBD_CMD_FLAG_DF,
  NBD_CMD_FLAG_FAST_ZERO,
  NBD_CMD_FLAG_FUA,
  NBD_CMD_FLAG_NO_HOLE,
  NBD_CMD_FLAG_REQ_ONE,
  NBD_CMD_FLUSH,
  NBD_CMD_READ,
  NBD_CMD_TRIM,
  NBD_CMD_WRITE,
  NBD_CMD_WRITE_ZEROES,
  NBD_EINVAL,
  NBD_EIO,
  NBD_ENOSPC,
  NBD_ENOTSUP,
  NBD_EPERM,
  NBD_ERRNO_BY_CODE,
  NBD_ERROR_CHUNK_PREFIX_BYTES,
  NBD_OFFSET_DATA_PREFIX_BYTES,
  NBD_REPLY_FLAG_DONE,
  NBD_REPLY_TYPE_BLOCK_STATUS,
  NBD_REPLY_TYPE_ERROR,
  NBD_REPLY_TYPE_NONE,
  NBD_REPLY_TYPE_OFFSET_DATA,
  NBD_REQUEST_BYTES,
  NBD_REQUEST_MAGIC,
  NBD_SIMPLE_REPLY_BYTES,
  NBD_SIMPLE_REPLY_MAGIC,
  NBD_STRUCTURED_REPLY_HEADER_BYTES,
  NBD_STRUCTURED_REPLY_MAGIC,
} from "./constants.js";
import { NbdError, type NbdExport } from "./export.js";
import { errorMessageMaxBytes, type NbdServerLimits } from "./limits.js";
import { readUInt64, truncatedUtf8, writeUInt64 } from "./wire.js";
import { BufferSlab, WriteBatch } from "./write-batch.js";

export interface TransmissionHooks {
  /** An export operation failed with something other than an NbdError. */
  readonly onError: (error: unknown) => void;
  /** The client broke the protocol and was disconnected. */
  readonly onDisconnect: (reason: string) => void;
}

/** Read replies up to this size are carved from a shared slab. */
const readReplyCarveMaxBytes = 128 * 1024;
/** One slab of read replies: 8 carve-max replies, a few hundred 4 KiB ones. */
const readReplySlabBytes = 1024 * 1024;
/**
 * A WRITE payload still missing at least this much is received straight into
 * its buffer; a smaller rest comes with the next header in one read instead.
 */
const directPayloadMinBytes = 64 * 1024;

const enum ParseState {
  /** Expecting (the rest of) a 28-byte request header. */
  Header,
  /** Collecting the payload of the WRITE in `payloadSlot`. */
  Payload,
  /** Skipping the payload of a refused WRITE, then replying `discardErrno`. */
  Discard,
  /** NBD_CMD_DISC, end of input or server close: read nothing more. */
  Stopped,
}

/** Why a failed operation is answered with EIO: the cause stays in our logs. */
const ioErrorMessage = "I/O error";
const resolved: Promise<void> = Promise.resolve();

/** One request in flight; pooled, so its callbacks are bound once. */
class RequestSlot {
  command = 0;
  flags = 0;
  handleHigh = 0;
  handleLow = 0;
  offsetBytes = 0;
  lengthBytes = 0;
  payload: Buffer | undefined = undefined;
  /** True when `payload` came from the connection's PayloadPool and goes back to it. */
  payloadPooled = false;
  /** Read reply: header room followed by the data the export fills. */
  replyBuffer: Buffer | undefined = undefined;
  /** BLOCK_STATUS reply: the chunk's payload, once the export has answered. */
  blockStatus: Buffer | undefined = undefined;
  readonly onSuccess: () => void;
  readonly onFailure: (error: unknown) => void;

  constructor(session: ServerTransmission) {
    this.onSuccess = () => {
      session.complete(this, undefined);
    };
    this.onFailure = (error: unknown) => {
      session.complete(this, error ?? new Error("export operation rejected without a reason"));
    };
  }
}

export class ServerTransmission {
  private readonly batch: WriteBatch;
  private readonly readSlab = new BufferSlab(readReplySlabBytes, readReplyCarveMaxBytes);
  private readonly readReplies = new PayloadPool();
  private readonly readReplyHeaderBytes: number;
  private readonly header = Buffer.allocUnsafe(NBD_REQUEST_BYTES);
  private headerFilledBytes = 0;
  /** Where the header being handled lies: `header`, or the input chunk. */
  private headerSource: Buffer = this.header;
  private headerOffset = 0;
  private input: Buffer | undefined = undefined;
  private inputOffset = 0;
  private state = ParseState.Header;
  private payloadSlot: RequestSlot | undefined = undefined;
  private payloadFilledBytes = 0;
  private discardRemainingBytes = 0;
  private discardErrno = 0;
  private discardHandleHigh = 0;
  private discardHandleLow = 0;
  private readonly freeSlots: RequestSlot[] = [];
  private readonly payloads = new PayloadPool();
  private slotCount = 0;
  private inFlightCount = 0;
  private inFlightBytes = 0;
  private readingPaused = false;
  private socketClosed = false;
  private exportClosed = false;
  private ending = false;

  constructor(
    private readonly socket: Socket,
    private readonly nbdExport: NbdExport,
    private readonly structuredReplies: boolean,
    /** Set when the client selected `base:allocation` for this export (server-handshake.ts). */
    private readonly baseAllocationContextId: number | undefined,
    private readonly limits: NbdServerLimits,
    private readonly hooks: TransmissionHooks,
  ) {
    this.batch = new WriteBatch(socket);
    this.readReplyHeaderBytes = structuredReplies
      ? NBD_STRUCTURED_REPLY_HEADER_BYTES + NBD_OFFSET_DATA_PREFIX_BYTES
      : NBD_SIMPLE_REPLY_BYTES;
  }

  get requestsInFlight(): number {
    return this.inFlightCount;
  }

  onData(chunk: Buffer): void {
    if (this.state === ParseState.Stopped) return;
    if (this.input !== undefined) {
      // Only while paused by backpressure can input still be pending.
      this.input = Buffer.concat([this.input.subarray(this.inputOffset), chunk]);
    } else {
      this.input = chunk;
    }
    this.inputOffset = 0;
    this.pump();
  }

  /** The buffer the next socket read should fill: the rest of a big WRITE payload, or undefined. */
  payloadReceiveBuffer(): Buffer | undefined {
    if (this.state !== ParseState.Payload || this.input !== undefined) return undefined;
    const payload = (this.payloadSlot as RequestSlot).payload as Buffer;
    if (payload.length - this.payloadFilledBytes < directPayloadMinBytes) return undefined;
    return payload.subarray(this.payloadFilledBytes);
  }

  /** `bytes` arrived in the buffer payloadReceiveBuffer gave. */
  onPayloadReceived(bytes: number): void {
    // Stopped meanwhile: the payload's slot is gone, and so are its bytes.
    if (this.state !== ParseState.Payload) return;
    const payload = (this.payloadSlot as RequestSlot).payload as Buffer;
    this.payloadFilledBytes += bytes;
    assert.ok(this.payloadFilledBytes <= payload.length, "a read ran past the WRITE payload it was given");
    if (this.payloadFilledBytes === payload.length) this.finishPayload();
  }

  /** The client will send nothing more: finish what is in flight, then end. */
  onEnd(): void {
    this.stop();
  }

  /** Server shutdown: stop reading, finish in-flight requests, then end. */
  stop(): void {
    this.halt();
    this.endIfIdle();
  }

  /** The socket is gone: replies are dropped, the export closed when idle. */
  onClose(): void {
    this.socketClosed = true;
    this.halt();
    this.closeExportIfIdle();
  }

  /** Reads nothing more; a WRITE whose payload never came is dropped. */
  private halt(): void {
    this.state = ParseState.Stopped;
    this.input = undefined;
    const slot = this.payloadSlot;
    if (slot === undefined) return;
    this.payloadSlot = undefined;
    this.releaseSlot(slot);
  }

  /** Socket 'drain': queued replies went out, maybe read requests again. */
  onDrain(): void {
    this.resumeIfAdmissible();
  }

  private pump(): void {
    while (this.input !== undefined && this.inputOffset < this.input.length) {
      switch (this.state) {
        case ParseState.Header:
          if (!this.admissible()) {
            this.pauseReading();
            // The chunk is the reused receive buffer: keep a copy of the rest.
            this.input = Buffer.from(this.input.subarray(this.inputOffset));
            this.inputOffset = 0;
            return;
          }
          if (this.takeHeader()) this.handleHeader();
          break;
        case ParseState.Payload:
          this.takePayload();
          break;
        case ParseState.Discard:
          this.takeDiscard();
          break;
        case ParseState.Stopped:
          this.input = undefined;
          return;
      }
    }
    this.input = undefined;
  }

  /** Room for one more request: slots, data bytes, and reply backlog. */
  private admissible(): boolean {
    return (
      this.inFlightCount < this.limits.inFlightMax &&
      this.inFlightBytes < this.limits.inFlightBytesMax &&
      this.socket.writableLength < this.limits.replyBacklogMaxBytes
    );
  }

  private pauseReading(): void {
    if (this.readingPaused) return;
    this.readingPaused = true;
    this.socket.pause();
  }

  private resumeIfAdmissible(): void {
    if (!this.readingPaused || !this.admissible()) return;
    this.readingPaused = false;
    this.pump();
    if (this.readingWanted()) this.socket.resume();
  }

  private readingWanted(): boolean {
    return !this.readingPaused && this.state !== ParseState.Stopped;
  }

  /**
   * Moves header bytes into `header`, or points at them in place when the
   * whole header is in the chunk. True when a full header is ready at
   * `headerSource`/`headerOffset`.
   */
  private takeHeader(): boolean {
    const input = this.input as Buffer;
    const available = input.length - this.inputOffset;
    if (this.headerFilledBytes === 0 && available >= NBD_REQUEST_BYTES) {
      this.headerSource = input;
      this.headerOffset = this.inputOffset;
      this.inputOffset += NBD_REQUEST_BYTES;
      return true;
    }
    const copyBytes = Math.min(NBD_REQUEST_BYTES - this.headerFilledBytes, available);
    input.copy(this.header, this.headerFilledBytes, this.inputOffset, this.inputOffset + copyBytes);
    this.headerFilledBytes += copyBytes;
    this.inputOffset += copyBytes;
    if (this.headerFilledBytes < NBD_REQUEST_BYTES) return false;
    this.headerFilledBytes = 0;
    this.headerSource = this.header;
    this.headerOffset = 0;
    return true;
  }

  private handleHeader(): void {
    const source = this.headerSource;
    const at = this.headerOffset;
    // proto.md: a request without the request magic breaks a MUST; the
    // stream cannot be resynchronised, so hard disconnect.
    if (source.readUInt32BE(at) !== NBD_REQUEST_MAGIC) {
      this.disconnect("request without NBD_REQUEST_MAGIC");
      return;
    }
    const flags = source.readUInt16BE(at + 4);
    const command = source.readUInt16BE(at + 6);
    const handleHigh = source.readUInt32BE(at + 8);
    const handleLow = source.readUInt32BE(at + 12);
    const offsetBytes = readUInt64(source, at + 16);
    const lengthBytes = source.readUInt32BE(at + 24);
    if (command === NBD_CMD_DISC) {
      // proto.md: handle all outstanding requests, then close; no reply.
      this.stop();
      return;
    }
    const errno = this.validate(command, flags, offsetBytes, lengthBytes);
    if (command === NBD_CMD_WRITE) {
      this.startWrite(errno, flags, handleHigh, handleLow, offsetBytes, lengthBytes);
      return;
    }
    if (errno !== 0) {
      this.replyError(handleHigh, handleLow, errno, errorMessageOf(errno, command));
      return;
    }
    const slot = this.acquireSlot(command, flags, handleHigh, handleLow, offsetBytes, lengthBytes);
    this.dispatch(slot);
  }

  /**
   * The errno for a request, or 0 when it may run (proto.md "Error values"
   * and "Block size constraints"). Checks in order: unknown command or flag
   * (EINVAL), write to a read-only export (EPERM), length over the maximum
   * block size for READ and WRITE, whose payload it bounds (EINVAL), range
   * past the end (ENOSPC for WRITE and WRITE_ZEROES, EINVAL for READ and
   * TRIM, as proto.md says).
   */
  private validate(command: number, flags: number, offsetBytes: number, lengthBytes: number): number {
    const sizeBytes = this.nbdExport.sizeBytes;
    const pastEnd = offsetBytes + lengthBytes > sizeBytes;
    const overMax = lengthBytes > this.limits.requestSizeMaxBytes;
    const readOnly = this.nbdExport.readOnly;
    switch (command) {
      case NBD_CMD_READ: {
        // DF is valid only when SEND_DF was advertised, i.e. with structured
        // replies; our reads are always one chunk, so it needs no action.
        const allowed = NBD_CMD_FLAG_FUA | (this.structuredReplies ? NBD_CMD_FLAG_DF : 0);
        if ((flags & ~allowed) !== 0 || overMax || pastEnd) return NBD_EINVAL;
        return 0;
      }
      case NBD_CMD_WRITE:
        if ((flags & ~NBD_CMD_FLAG_FUA) !== 0) return NBD_EINVAL;
        if (readOnly) return NBD_EPERM;
        if (overMax) return NBD_EINVAL;
        return pastEnd ? NBD_ENOSPC : 0;
      case NBD_CMD_WRITE_ZEROES:
        if ((flags & ~(NBD_CMD_FLAG_FUA | NBD_CMD_FLAG_NO_HOLE | NBD_CMD_FLAG_FAST_ZERO)) !== 0) return NBD_EINVAL;
        if (readOnly) return NBD_EPERM;
        // proto.md "Block size constraints": the maximum is a payload limit;
        // WRITE_ZEROES carries none and may be as long as the export.
        if (pastEnd) return NBD_ENOSPC;
        // proto.md: a fast zero that would be no faster than a WRITE MUST fail quickly with ENOTSUP.
        return (flags & NBD_CMD_FLAG_FAST_ZERO) !== 0 && this.nbdExport.fastZero !== true ? NBD_ENOTSUP : 0;
      case NBD_CMD_BLOCK_STATUS:
        // proto.md: only after SET_META_CONTEXT selected a context for this
        // export; a length of 0 is unspecified, refused like a range past the end.
        // FUA is valid on every command once SEND_FUA is negotiated and MUST be
        // accepted (proto.md "Command flags"); block status writes nothing, so it is ignored.
        if ((flags & ~(NBD_CMD_FLAG_REQ_ONE | NBD_CMD_FLAG_FUA)) !== 0 || this.baseAllocationContextId === undefined) return NBD_EINVAL;
        return lengthBytes === 0 || pastEnd ? NBD_EINVAL : 0;
      case NBD_CMD_TRIM:
        // TRIM has no payload and no maximum block size (proto.md).
        if ((flags & ~NBD_CMD_FLAG_FUA) !== 0) return NBD_EINVAL;
        if (readOnly) return NBD_EPERM;
        return pastEnd ? NBD_EINVAL : 0;
      case NBD_CMD_FLUSH:
        // proto.md: offset and length are reserved and MUST be zero.
        if ((flags & ~NBD_CMD_FLAG_FUA) !== 0 || offsetBytes !== 0 || lengthBytes !== 0) return NBD_EINVAL;
        return 0;
      default:
        // Unknown commands, and CACHE, which we do not advertise (proto.md:
        // SHOULD return EINVAL).
        return NBD_EINVAL;
    }
  }

  private startWrite(errno: number, flags: number, handleHigh: number, handleLow: number, offsetBytes: number, lengthBytes: number): void {
    if (errno !== 0) {
      // The payload follows regardless; skip it unless it is absurdly large.
      if (lengthBytes > this.limits.writeDiscardMaxBytes) {
        this.disconnect(`WRITE payload of ${lengthBytes} bytes`);
        return;
      }
      this.discardErrno = errno;
      this.discardHandleHigh = handleHigh;
      this.discardHandleLow = handleLow;
      this.discardRemainingBytes = lengthBytes;
      this.state = ParseState.Discard;
      if (lengthBytes === 0) this.finishDiscard();
      return;
    }
    const slot = this.acquireSlot(NBD_CMD_WRITE, flags, handleHigh, handleLow, offsetBytes, lengthBytes);
    if (lengthBytes === 0) {
      this.dispatch(slot);
      return;
    }
    // The export may keep the payload until its promise settles, longer than the chunk lives.
    slot.payload = this.payloads.take(lengthBytes);
    slot.payloadPooled = true;
    this.payloadSlot = slot;
    this.payloadFilledBytes = 0;
    this.state = ParseState.Payload;
  }

  private takePayload(): void {
    const payload = (this.payloadSlot as RequestSlot).payload as Buffer;
    const input = this.input as Buffer;
    const copyBytes = Math.min(payload.length - this.payloadFilledBytes, input.length - this.inputOffset);
    input.copy(payload, this.payloadFilledBytes, this.inputOffset, this.inputOffset + copyBytes);
    this.payloadFilledBytes += copyBytes;
    this.inputOffset += copyBytes;
    if (this.payloadFilledBytes === payload.length) this.finishPayload();
  }

  private finishPayload(): void {
    const slot = this.payloadSlot as RequestSlot;
    this.payloadSlot = undefined;
    this.state = ParseState.Header;
    this.dispatch(slot);
  }

  private takeDiscard(): void {
    const input = this.input as Buffer;
    const skipBytes = Math.min(this.discardRemainingBytes, input.length - this.inputOffset);
    this.discardRemainingBytes -= skipBytes;
    this.inputOffset += skipBytes;
    if (this.discardRemainingBytes === 0) this.finishDiscard();
  }

  private finishDiscard(): void {
    this.state = ParseState.Header;
    const errno = this.discardErrno;
    this.replyError(this.discardHandleHigh, this.discardHandleLow, errno, errorMessageOf(errno, NBD_CMD_WRITE));
  }

  private acquireSlot(command: number, flags: number, handleHigh: number, handleLow: number, offsetBytes: number, lengthBytes: number): RequestSlot {
    let slot = this.freeSlots.pop();
    if (slot === undefined) {
      assert.ok(this.slotCount < this.limits.inFlightMax, "request slot pool exhausted past inFlightMax");
      slot = new RequestSlot(this);
      this.slotCount += 1;
    }
    slot.command = command;
    slot.flags = flags;
    slot.handleHigh = handleHigh;
    slot.handleLow = handleLow;
    slot.offsetBytes = offsetBytes;
    slot.lengthBytes = lengthBytes;
    this.inFlightCount += 1;
    this.inFlightBytes += dataBytesOf(command, lengthBytes);
    return slot;
  }

  /** Starts the export operation; its completion always arrives asynchronously. */
  private dispatch(slot: RequestSlot): void {
    let operation: Promise<void>;
    try {
      operation = this.startOperation(slot);
    } catch (error) {
      // A synchronous throw is answered like a rejection, and still
      // asynchronously, so completion never re-enters the parser.
      operation = Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    operation.then(slot.onSuccess, slot.onFailure);
  }

  private startOperation(slot: RequestSlot): Promise<void> {
    const fua = (slot.flags & NBD_CMD_FLAG_FUA) !== 0;
    const nbdExport = this.nbdExport;
    switch (slot.command) {
      case NBD_CMD_READ: {
        const headerBytes = this.readReplyHeaderBytes;
        const replyBytes = headerBytes + slot.lengthBytes;
        // Big replies come from a pool, back in it once the socket has sent them: a new
        // mebibyte per sequential read kept the garbage collector busy a quarter of the time.
        const reply = replyBytes > readReplyCarveMaxBytes ? this.readReplies.take(replyBytes) : this.readSlab.allocate(replyBytes);
        slot.replyBuffer = reply;
        // proto.md: a zero-length read is unspecified; we answer success.
        if (slot.lengthBytes === 0) return resolved;
        return nbdExport.read(slot.offsetBytes, reply.subarray(headerBytes));
      }
      case NBD_CMD_WRITE:
        if (slot.lengthBytes === 0) return resolved;
        return nbdExport.write(slot.offsetBytes, slot.payload as Buffer, fua);
      case NBD_CMD_FLUSH:
        return nbdExport.flush();
      case NBD_CMD_TRIM:
        if (slot.lengthBytes === 0) return resolved;
        return nbdExport.trim(slot.offsetBytes, slot.lengthBytes, fua);
      case NBD_CMD_WRITE_ZEROES: {
        if (slot.lengthBytes === 0) return resolved;
        const noHole = (slot.flags & NBD_CMD_FLAG_NO_HOLE) !== 0;
        return nbdExport.writeZeroes(slot.offsetBytes, slot.lengthBytes, { fua, noHole });
      }
      case NBD_CMD_BLOCK_STATUS:
        return this.blockStatus(slot);
      default:
        assert.fail(`dispatch of command ${slot.command}, which validate refuses`);
    }
  }

  /**
   * Asks the export how the range is allocated and keeps the encoded reply
   * in the slot. An export that cannot tell reports data, always true
   * (proto.md: a server MAY always report status 0).
   */
  private async blockStatus(slot: RequestSlot): Promise<void> {
    const contextId = this.baseAllocationContextId;
    assert.ok(contextId !== undefined, "BLOCK_STATUS dispatched without a selected context");
    const requestOne = (slot.flags & NBD_CMD_FLAG_REQ_ONE) !== 0;
    const extents = this.nbdExport.allocation === undefined
      ? [{ lengthBytes: slot.lengthBytes, state: 0 }]
      : await this.nbdExport.allocation(slot.offsetBytes, slot.lengthBytes);
    slot.blockStatus = encodeBlockStatus(contextId, extents, slot.lengthBytes, requestOne);
  }

  /** Called once per dispatched request, from its promise callbacks. */
  complete(slot: RequestSlot, error: unknown): void {
    if (!this.socketClosed && !this.ending) {
      if (error === undefined) this.replySuccess(slot);
      else this.replyFailure(slot, error);
    }
    this.releaseSlot(slot);
    if (this.state === ParseState.Stopped) {
      this.endIfIdle();
      this.closeExportIfIdle();
    } else {
      this.resumeIfAdmissible();
    }
  }

  private releaseSlot(slot: RequestSlot): void {
    this.inFlightCount -= 1;
    this.inFlightBytes -= dataBytesOf(slot.command, slot.lengthBytes);
    assert.ok(this.inFlightCount >= 0 && this.inFlightBytes >= 0);
    if (slot.payloadPooled && slot.payload !== undefined) this.payloads.give(slot.payload);
    slot.payloadPooled = false;
    slot.payload = undefined;
    slot.replyBuffer = undefined;
    slot.blockStatus = undefined;
    this.freeSlots.push(slot);
  }

  private replySuccess(slot: RequestSlot): void {
    if (slot.command === NBD_CMD_BLOCK_STATUS) {
      // proto.md: one BLOCK_STATUS chunk per selected context; ours is the only one, so it is DONE.
      const payload = slot.blockStatus as Buffer;
      this.writeChunkHeader(NBD_REPLY_TYPE_BLOCK_STATUS, slot.handleHigh, slot.handleLow, payload.length, false);
      this.batch.push(payload);
      return;
    }
    if (slot.command !== NBD_CMD_READ) {
      this.writeSimpleReply(slot.handleHigh, slot.handleLow, 0);
      return;
    }
    const reply = slot.replyBuffer as Buffer;
    if (!this.structuredReplies) {
      reply.writeUInt32BE(NBD_SIMPLE_REPLY_MAGIC, 0);
      reply.writeUInt32BE(0, 4);
      reply.writeUInt32BE(slot.handleHigh, 8);
      reply.writeUInt32BE(slot.handleLow, 12);
      this.pushReadReply(reply);
      return;
    }
    if (slot.lengthBytes === 0) {
      // OFFSET_DATA must carry at least one byte; an empty read is just DONE.
      this.writeChunkHeader(NBD_REPLY_TYPE_NONE, slot.handleHigh, slot.handleLow, 0);
      return;
    }
    // proto.md: a structured READ reply; a single OFFSET_DATA chunk marked
    // DONE is enough, since all data is in hand before it is sent.
    reply.writeUInt32BE(NBD_STRUCTURED_REPLY_MAGIC, 0);
    reply.writeUInt16BE(NBD_REPLY_FLAG_DONE, 4);
    reply.writeUInt16BE(NBD_REPLY_TYPE_OFFSET_DATA, 6);
    reply.writeUInt32BE(slot.handleHigh, 8);
    reply.writeUInt32BE(slot.handleLow, 12);
    reply.writeUInt32BE(NBD_OFFSET_DATA_PREFIX_BYTES + slot.lengthBytes, 16);
    writeUInt64(reply, slot.offsetBytes, 20);
    this.pushReadReply(reply);
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

  private replyFailure(slot: RequestSlot, error: unknown): void {
    let errno: number;
    let message: string;
    if (error instanceof NbdError) {
      errno = NBD_ERRNO_BY_CODE[error.code];
      message = error.message;
    } else {
      // Anything but an NbdError is a failure of ours: log it, answer EIO.
      this.hooks.onError(error);
      errno = NBD_EIO;
      message = ioErrorMessage;
    }
    this.replyError(slot.handleHigh, slot.handleLow, errno, message);
  }

  /**
   * An error reply. With structured replies, an NBD_REPLY_TYPE_ERROR chunk
   * with a message (proto.md: MUST for READ, SHOULD prefer for the rest);
   * without, a simple reply with no payload, even for READ.
   */
  private replyError(handleHigh: number, handleLow: number, errno: number, message: string): void {
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

  /** Once stopped and idle: send what is queued, then close our side. */
  private endIfIdle(): void {
    if (this.inFlightCount !== 0 || this.ending || this.socketClosed) return;
    this.ending = true;
    this.batch.flush();
    this.socket.end();
  }

  private closeExportIfIdle(): void {
    if (this.inFlightCount !== 0 || this.exportClosed || !this.socketClosed) return;
    this.exportClosed = true;
    try {
      this.nbdExport.close();
    } catch (error) {
      this.hooks.onError(error);
    }
  }

  private disconnect(reason: string): void {
    this.halt();
    this.socket.destroy();
    this.hooks.onDisconnect(reason);
  }
}

/** Bytes of data a request holds in memory while in flight. */
function dataBytesOf(command: number, lengthBytes: number): number {
  return command === NBD_CMD_READ || command === NBD_CMD_WRITE ? lengthBytes : 0;
}

function errorMessageOf(errno: number, command: number): string {
  switch (errno) {
    case NBD_EPERM:
      return "the export is read-only";
    case NBD_ENOSPC:
      return "write past the end of the export";
    case NBD_ENOTSUP:
      return "this export cannot zero faster than it writes: fast zero not supported";
    default:
      return `invalid request (command ${command}): unknown command or flag, length over the maximum block size, or range past the end`;
  }
}
