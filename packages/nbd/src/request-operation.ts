/**
 * One request in flight and the export operation it runs: the pooled slot
 * that holds a request's state, and the mapping from an NBD command to an
 * NbdExport call. Payload-free commands (WRITE_ZEROES, TRIM) go to the
 * export whole, whatever their length; the export splits them across its
 * extents. BLOCK_STATUS encodes its reply here, before it is queued.
 */
import assert from "node:assert/strict";
import { encodeBlockStatus } from "./allocation.js";
import {
  NBD_CMD_BLOCK_STATUS,
  NBD_CMD_FLAG_FUA,
  NBD_CMD_FLAG_NO_HOLE,
  NBD_CMD_FLAG_REQ_ONE,
  NBD_CMD_FLUSH,
  NBD_CMD_READ,
  NBD_CMD_TRIM,
  NBD_CMD_WRITE,
  NBD_CMD_WRITE_ZEROES,
} from "./constants.js";
import type { NbdExport } from "./export.js";
import type { ReadReply, ReplyWriter } from "./reply-writer.js";

/** Where a slot's operation reports its end. */
export interface SlotOwner {
  complete(slot: RequestSlot, error: unknown): void;
}

const resolved: Promise<void> = Promise.resolve();

/** One request in flight; pooled, so its callbacks are bound once. */
export class RequestSlot {
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
  readReply: ReadReply | undefined = undefined;
  /** BLOCK_STATUS reply: the chunk's payload, once the export has answered. */
  blockStatus: Buffer | undefined = undefined;
  readonly onSuccess: () => void;
  readonly onFailure: (error: unknown) => void;

  constructor(owner: SlotOwner) {
    this.onSuccess = () => {
      owner.complete(this, undefined);
    };
    this.onFailure = (error: unknown) => {
      owner.complete(this, error ?? new Error("export operation rejected without a reason"));
    };
  }
}

/** What an operation needs besides its slot; one per connection. */
export interface OperationContext {
  readonly nbdExport: NbdExport;
  readonly replies: ReplyWriter;
  /** Set when the client selected `base:allocation` for this export (server-handshake.ts). */
  readonly baseAllocationContextId: number | undefined;
}

/** Starts the export operation of a validated request. */
export function startOperation(slot: RequestSlot, context: OperationContext): Promise<void> {
  const fua = (slot.flags & NBD_CMD_FLAG_FUA) !== 0;
  const nbdExport = context.nbdExport;
  switch (slot.command) {
    case NBD_CMD_READ: {
      const reply = context.replies.takeReadReply(slot.lengthBytes);
      slot.readReply = reply;
      // proto.md: a zero-length read is unspecified; we answer success.
      if (slot.lengthBytes === 0) return resolved;
      return nbdExport.read(slot.offsetBytes, reply.data);
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
      return blockStatus(slot, context);
    default:
      assert.fail(`dispatch of command ${slot.command}, which validation refuses`);
  }
}

/**
 * Asks the export how the range is allocated and keeps the encoded reply
 * in the slot. An export that cannot tell reports data, always true
 * (proto.md: a server MAY always report status 0).
 */
async function blockStatus(slot: RequestSlot, context: OperationContext): Promise<void> {
  const contextId = context.baseAllocationContextId;
  assert.ok(contextId !== undefined, "BLOCK_STATUS dispatched without a selected context");
  const requestOne = (slot.flags & NBD_CMD_FLAG_REQ_ONE) !== 0;
  const extents = context.nbdExport.allocation === undefined
    ? [{ lengthBytes: slot.lengthBytes, state: 0 }]
    : await context.nbdExport.allocation(slot.offsetBytes, slot.lengthBytes);
  slot.blockStatus = encodeBlockStatus(contextId, extents, slot.lengthBytes, requestOne);
}

/** Queues the reply of a request whose operation succeeded. */
export function replySuccess(slot: RequestSlot, replies: ReplyWriter): void {
  switch (slot.command) {
    case NBD_CMD_BLOCK_STATUS:
      replies.blockStatus(slot.handleHigh, slot.handleLow, slot.blockStatus as Buffer);
      return;
    case NBD_CMD_READ:
      replies.readSuccess(slot.handleHigh, slot.handleLow, slot.offsetBytes, slot.lengthBytes, slot.readReply as ReadReply);
      return;
    default:
      replies.done(slot.handleHigh, slot.handleLow);
  }
}
