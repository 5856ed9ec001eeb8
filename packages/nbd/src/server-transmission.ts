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
 * pooled buffer, header and data together.
 *
 * Chunks given to onData are the connection's reused receive buffer: nothing
 * here keeps a view of one past the call.
 *
 * The parts this drives: request-validation.ts decides whether a request
 * may run, request-operation.ts runs it on the export, reply-writer.ts
 * encodes and queues the replies; this file owns the parser state and the
 * admission (flow control) of requests.
 */
import assert from "node:assert/strict";
import type { Socket } from "node:net";
import { NBD_CMD_DISC, NBD_CMD_WRITE, NBD_EIO, NBD_ERRNO_BY_CODE, NBD_REQUEST_BYTES, NBD_REQUEST_MAGIC } from "./constants.js";
import { NbdError, type NbdExport } from "./export.js";
import type { NbdServerLimits } from "./limits.js";
import { bufferPool, type PayloadPool } from "./payload-pool.js";
import { ReadReplyPools, ReplyWriter } from "./reply-writer.js";
import { RequestSlot, replySuccess, startOperation, type OperationContext, type SlotOwner } from "./request-operation.js";
import { dataBytesOf, errorMessageOf, type NbdRequestCheck, type RequestPolicy } from "./request-validation.js";
import { readUInt64 } from "./wire.js";

/** Buffers a server keeps for reuse by all its connections. */
export interface ServerBuffers {
  /** WRITE payloads. */
  readonly writes: PayloadPool;
  readonly readReplies: ReadReplyPools;
}

/** A server's buffers: WRITE payloads and read replies of every connection come from here and go back here. */
export function serverBuffers(): ServerBuffers {
  return { writes: bufferPool(), readReplies: new ReadReplyPools() };
}

export interface TransmissionHooks {
  /** An export operation failed with something other than an NbdError. */
  readonly onError: (error: unknown) => void;
  /** The client broke the protocol and was disconnected. */
  readonly onDisconnect: (reason: string) => void;
  /** The errno for each request, or 0 to run it (the server's NbdRequestCheck). */
  readonly requestErrno: NbdRequestCheck;
}

/**
 * A WRITE payload at least this long is received straight into its buffer,
 * to its last byte. Its rest is never read into the staging buffer, even when
 * a read ends a few bytes short of the end: that read would also take the
 * next header and up to the staging buffer's length of the next payload,
 * which would then be copied.
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
export class ServerTransmission implements SlotOwner {
  private readonly replies: ReplyWriter;
  private readonly policy: RequestPolicy;
  private readonly operations: OperationContext;
  private readonly header = Buffer.allocUnsafe(NBD_REQUEST_BYTES);
  private headerFilledBytes = 0;
  /**
   * The last request was a WRITE with a payload received directly: read the
   * next header alone, so that a next big payload is not half in the
   * staging buffer (copied) and half received directly. Streams of big
   * writes (nbdcopy's 256 KiB, 1 MiB sequential) pay one small read per
   * request instead of a copy of up to the staging buffer's length.
   */
  private headerAloneNext = false;
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
  private readonly payloads: PayloadPool;
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
    structuredReplies: boolean,
    /** Set when the client selected `base:allocation` for this export (server-handshake.ts). */
    baseAllocationContextId: number | undefined,
    private readonly limits: NbdServerLimits,
    private readonly hooks: TransmissionHooks,
    buffers: ServerBuffers,
  ) {
    this.payloads = buffers.writes;
    this.replies = new ReplyWriter(socket, structuredReplies, buffers.readReplies);
    this.policy = { structuredReplies, blockStatusSelected: baseAllocationContextId !== undefined, requestSizeMaxBytes: limits.requestSizeMaxBytes };
    this.operations = { nbdExport, replies: this.replies, baseAllocationContextId };
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
    if (payload.length < directPayloadMinBytes) return undefined;
    return payload.subarray(this.payloadFilledBytes);
  }

  /** True when the next socket read should take one whole request header and nothing more. */
  wantsHeaderAlone(): boolean {
    return this.headerAloneNext && this.state === ParseState.Header && this.input === undefined && this.headerFilledBytes === 0;
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
    this.headerAloneNext = false;
    if (command === NBD_CMD_DISC) {
      // proto.md: handle all outstanding requests, then close; no reply.
      this.stop();
      return;
    }
    const errno = this.hooks.requestErrno(command, flags, offsetBytes, lengthBytes, this.nbdExport, this.policy);
    if (command === NBD_CMD_WRITE) {
      this.startWrite(errno, flags, handleHigh, handleLow, offsetBytes, lengthBytes);
      return;
    }
    if (errno !== 0) {
      this.replies.error(handleHigh, handleLow, errno, errorMessageOf(errno, command));
      return;
    }
    const slot = this.acquireSlot(command, flags, handleHigh, handleLow, offsetBytes, lengthBytes);
    this.dispatch(slot);
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
    this.headerAloneNext = lengthBytes >= directPayloadMinBytes;
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
    this.replies.error(this.discardHandleHigh, this.discardHandleLow, errno, errorMessageOf(errno, NBD_CMD_WRITE));
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
      operation = startOperation(slot, this.operations);
    } catch (error) {
      // A synchronous throw is answered like a rejection, and still
      // asynchronously, so completion never re-enters the parser.
      operation = Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    operation.then(slot.onSuccess, slot.onFailure);
  }

  /** Called once per dispatched request, from its promise callbacks. */
  complete(slot: RequestSlot, error: unknown): void {
    if (!this.socketClosed && !this.ending) {
      if (error === undefined) replySuccess(slot, this.replies);
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
    slot.readReply = undefined;
    slot.blockStatus = undefined;
    this.freeSlots.push(slot);
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
    this.replies.error(slot.handleHigh, slot.handleLow, errno, message);
  }

  /** Once stopped and idle: send what is queued, then close our side. */
  private endIfIdle(): void {
    if (this.inFlightCount !== 0 || this.ending || this.socketClosed) return;
    this.ending = true;
    this.replies.flush();
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
