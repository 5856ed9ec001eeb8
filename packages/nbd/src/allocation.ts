/**
 * Allocation extents (NBD `base:allocation`), sans I/O: building a list of
 * extents with neighbours of one state merged, finding the zero runs of
 * bytes already read, and encoding the NBD_REPLY_TYPE_BLOCK_STATUS payload
 * of one request. The server, the device's LUs, the apparatus and the
 * in-memory export all use these, so an extent list means one thing
 * everywhere.
 */
import assert from "node:assert/strict";
import type { AllocationExtent } from "./block-io.js";
import { NBD_STATE_HOLE, NBD_STATE_ZERO } from "./constants.js";

/** What a run of bytes that reads as zeroes is reported as (docs/design-notes.md, "Zeroing and block status"). */
export const allocationZeroState = NBD_STATE_HOLE | NBD_STATE_ZERO;
/** Data, or not known: always a true answer (NBD proto.md "base:allocation"). */
export const allocationDataState = 0;

/**
 * Zero runs are found in granules of this size: the preferred block size we
 * advertise, so a client's 4 KiB-aligned data is never reported as zeroes
 * around it, and descriptors stay multiples of 512 bytes (proto.md SHOULD).
 */
export const allocationGranuleBytes = 4096;
/**
 * proto.md: a server SHOULD NOT send more than 2^20 descriptors in one
 * chunk. Far more than any reply here needs; a longer list is cut there.
 */
export const blockStatusDescriptorsMax = 2 ** 20;
/** A descriptor's 32-bit length field bounds each extent on the wire. */
const descriptorLengthMaxBytes = 0xffffffff;
/** Context id + descriptors of (32-bit length, 32-bit state). */
export const blockStatusPrefixBytes = 4;
const blockStatusDescriptorBytes = 8;

const zeroGranule = Buffer.alloc(allocationGranuleBytes);

/** An extent list under construction: appending a run of the last run's state lengthens it. */
export class AllocationList {
  private readonly extents: { lengthBytes: number; state: number }[] = [];
  private totalBytes = 0;

  get lengthBytes(): number {
    return this.totalBytes;
  }

  append(lengthBytes: number, state: number): void {
    assert.ok(Number.isSafeInteger(lengthBytes) && lengthBytes >= 0, `extent length ${lengthBytes}`);
    assert.ok((state & ~allocationZeroState) === 0, `allocation state ${state} has unknown bits`);
    if (lengthBytes === 0) return;
    this.totalBytes += lengthBytes;
    const last = this.extents[this.extents.length - 1];
    if (last?.state === state) {
      last.lengthBytes += lengthBytes;
      return;
    }
    this.extents.push({ lengthBytes, state });
  }

  appendAll(extents: readonly AllocationExtent[]): void {
    for (const extent of extents) this.append(extent.lengthBytes, extent.state);
  }

  toArray(): readonly AllocationExtent[] {
    return this.extents.map((extent) => ({ lengthBytes: extent.lengthBytes, state: extent.state }));
  }
}

/**
 * Appends the allocation of `data`, bytes read from an offset that is a
 * multiple of the granule: each granule that reads as zeroes is a zero run,
 * anything else data. The last granule may be short.
 *
 * Hot on a copy out of a volume (every byte a block status answers for was
 * read for it): a granule whose first byte is not zero is data without a
 * call into Buffer.compare, whose fixed cost, paid per 4 KiB of freshly
 * read memory, was most of the scan; and a run of granules of one state is
 * appended once, not once per granule.
 */
export function appendAllocationOfBytes(list: AllocationList, data: Buffer): void {
  let runStart = 0;
  let runState = -1;
  for (let at = 0; at < data.length; at += allocationGranuleBytes) {
    const state = data[at] !== 0 ? allocationDataState : granuleState(data, at);
    if (state === runState) continue;
    if (runState !== -1) list.append(at - runStart, runState);
    runStart = at;
    runState = state;
  }
  if (runState !== -1) list.append(data.length - runStart, runState);
}

/** The state of the granule at `at` (the last may be short), by comparing it with zeroes. */
function granuleState(data: Buffer, at: number): number {
  const end = Math.min(at + allocationGranuleBytes, data.length);
  return zeroGranule.compare(data, at, end, 0, end - at) === 0 ? allocationZeroState : allocationDataState;
}

/**
 * Checks what a BlockIo's `allocation` returned for a request of
 * `lengthBytes` (block-io.ts): a broken list is a programmer error.
 */
export function assertAllocation(extents: readonly AllocationExtent[], lengthBytes: number): void {
  assert.ok(extents.length > 0, "an allocation answer has at least one extent");
  let totalBytes = 0;
  for (const extent of extents) {
    assert.ok(Number.isSafeInteger(extent.lengthBytes) && extent.lengthBytes > 0, `allocation extent of ${extent.lengthBytes} bytes`);
    assert.ok((extent.state & ~allocationZeroState) === 0, `allocation state ${extent.state} has unknown bits`);
    totalBytes += extent.lengthBytes;
  }
  assert.ok(totalBytes <= lengthBytes, `allocation answer covers ${totalBytes} bytes of a ${lengthBytes}-byte request`);
}

/**
 * The payload of one NBD_REPLY_TYPE_BLOCK_STATUS chunk (proto.md): the
 * context id, then one descriptor per extent. With REQ_ONE exactly one
 * descriptor; never more than blockStatusDescriptorsMax, each at most the
 * 32-bit length field, and the total at most the request's length.
 */
export function encodeBlockStatus(contextId: number, extents: readonly AllocationExtent[], lengthBytes: number, requestOne: boolean): Buffer {
  assertAllocation(extents, lengthBytes);
  let count = Math.min(extents.length, requestOne ? 1 : blockStatusDescriptorsMax);
  // An extent past the 32-bit length field is cut there, and is the last sent: the next would not start where it ends.
  const tooLongIndex = extents.findIndex((extent) => extent.lengthBytes > descriptorLengthMaxBytes);
  if (tooLongIndex !== -1) count = Math.min(count, tooLongIndex + 1);
  const payload = Buffer.allocUnsafe(blockStatusPrefixBytes + count * blockStatusDescriptorBytes);
  payload.writeUInt32BE(contextId, 0);
  for (let index = 0; index < count; index += 1) {
    const extent = extents[index] as AllocationExtent;
    const at = blockStatusPrefixBytes + index * blockStatusDescriptorBytes;
    payload.writeUInt32BE(Math.min(extent.lengthBytes, descriptorLengthMaxBytes), at);
    payload.writeUInt32BE(extent.state, at + 4);
  }
  return payload;
}

/**
 * The extents of a BLOCK_STATUS chunk a server sent for a request of
 * `lengthBytes` (the client side of encodeBlockStatus), or why the chunk
 * breaks proto.md, as a string. The last extent may run past the request
 * (proto.md allows it) and is cut there; state bits other than HOLE and
 * ZERO are dropped, as they belong to no context we asked for.
 */
export function decodeBlockStatus(payload: Buffer, contextId: number, lengthBytes: number): readonly AllocationExtent[] | string {
  if (payload.length < blockStatusPrefixBytes + blockStatusDescriptorBytes || (payload.length - blockStatusPrefixBytes) % blockStatusDescriptorBytes !== 0) {
    return `BLOCK_STATUS chunk of ${payload.length} bytes`;
  }
  if (payload.readUInt32BE(0) !== contextId) return `BLOCK_STATUS for context ${payload.readUInt32BE(0)}, not ${contextId}`;
  const list = new AllocationList();
  for (let at = blockStatusPrefixBytes; at < payload.length && list.lengthBytes < lengthBytes; at += blockStatusDescriptorBytes) {
    const extentBytes = payload.readUInt32BE(at);
    if (extentBytes === 0) return "BLOCK_STATUS descriptor of length 0";
    list.append(Math.min(extentBytes, lengthBytes - list.lengthBytes), payload.readUInt32BE(at + 4) & allocationZeroState);
  }
  return list.toArray();
}
