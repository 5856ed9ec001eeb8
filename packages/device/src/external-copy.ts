/**
 * A move between two external devices (Device.CopyExternalArea): no device
 * of ours sees the extent's writes, so its mirror engine cannot copy it; the
 * controller holds the extent's writes while this device reads the source
 * area over NBD and writes the destination area over NBD, each write with
 * FUA, so the copy is durable when the last write is answered, before the
 * commit. The device carries the bytes, so the controller has no data path
 * (DESIGN.md "Packages").
 */
import assert from "node:assert/strict";
import { NbdClient, parseNbdUri } from "@switchyard/nbd";
import { DeviceError } from "./errors.js";

/**
 * Bytes per read and write of a streamed copy: 4 MiB, like the device's own
 * copy (fewer disk waits than 1 MiB pieces), well under NBD's 32 MiB request limit.
 */
export const streamChunkBytes = 4 * 1024 * 1024;
/** Bound on connecting to either end and on each request of a streamed copy: a server gone must fail the copy, not hang it. */
export const streamRequestTimeoutMs = 10_000;

/** One end of a copy: the LU's cluster id and external device, and where it is served. */
export interface CopyEnd {
  readonly luId: string;
  readonly deviceId: string;
  readonly nbdUri: string;
  readonly areaIndex: number;
}

function describeEnd(end: CopyEnd): string {
  return `external device ${end.deviceId} (${end.nbdUri})`;
}

/** Any failure at one end, as an operating error that names the device: a migration's failure line shows it. */
function failureAt(end: CopyEnd, what: string, error: unknown): DeviceError {
  const reason = error instanceof Error ? error.message : String(error);
  return new DeviceError("EXTERNAL_UNREACHABLE", `${describeEnd(end)} ${what}: ${reason}`, { cause: error });
}

async function open(end: CopyEnd): Promise<NbdClient> {
  if (end.nbdUri === "") throw new DeviceError("EXTERNAL_UNREACHABLE", `${describeEnd(end)} has no NBD address yet`);
  const uri = parseNbdUri(end.nbdUri);
  if (uri === undefined) throw new DeviceError("INVALID_ARGUMENT", `${describeEnd(end)} has no NBD URI the client takes: ${JSON.stringify(end.nbdUri)}`);
  try {
    return await NbdClient.connect({ ...uri, timeoutMs: streamRequestTimeoutMs });
  } catch (error) {
    throw failureAt(end, "could not be reached", error);
  }
}

/** Copies `lengthBytes` from the source area to the destination area, `extentSizeBytes` apart per area index. */
export async function streamAreaCopy(source: CopyEnd, destination: CopyEnd, extentSizeBytes: number, lengthBytes: number): Promise<void> {
  assert.ok(lengthBytes > 0 && lengthBytes <= extentSizeBytes);
  const reader = await open(source);
  let writer: NbdClient | undefined;
  try {
    writer = await open(destination);
    const sourceBase = source.areaIndex * extentSizeBytes;
    const destinationBase = destination.areaIndex * extentSizeBytes;
    if (sourceBase + lengthBytes > reader.sizeBytes) throw failureAt(source, "is too small", new Error(`area ${source.areaIndex} ends past ${reader.sizeBytes} bytes`));
    if (destinationBase + lengthBytes > writer.sizeBytes) throw failureAt(destination, "is too small", new Error(`area ${destination.areaIndex} ends past ${writer.sizeBytes} bytes`));
    await copyChunks(reader, writer, { source, destination, sourceBase, destinationBase, lengthBytes });
  } finally {
    await Promise.all([reader.close(), writer?.close()]);
  }
}

interface ChunkPlan {
  readonly source: CopyEnd;
  readonly destination: CopyEnd;
  readonly sourceBase: number;
  readonly destinationBase: number;
  readonly lengthBytes: number;
}

/**
 * Two buffers: the read of the next chunk overlaps the write of this one, so
 * the copy runs at the slower end's speed rather than the sum of both.
 */
async function copyChunks(reader: NbdClient, writer: NbdClient, plan: ChunkPlan): Promise<void> {
  const buffers = [Buffer.allocUnsafe(streamChunkBytes), Buffer.allocUnsafe(streamChunkBytes)];
  // A write's outcome as a value, never a rejection left waiting while the next read runs.
  let pendingWrite: Promise<DeviceError | undefined> = Promise.resolve(undefined);
  for (let offset = 0, turn = 0; offset < plan.lengthBytes; offset += streamChunkBytes, turn += 1) {
    const whole = buffers[turn % 2];
    assert.ok(whole !== undefined);
    const chunk = whole.subarray(0, Math.min(streamChunkBytes, plan.lengthBytes - offset));
    try {
      await reader.read(plan.sourceBase + offset, chunk);
    } catch (error) {
      await pendingWrite;
      throw failureAt(plan.source, "failed a read", error);
    }
    // The buffer read next is the one this write used two turns ago: that write must be over first.
    const failed = await pendingWrite;
    if (failed !== undefined) throw failed;
    // FUA: durable when answered (NBD proto.md), so nothing is left to flush before the commit.
    pendingWrite = writer.write(plan.destinationBase + offset, chunk, true).then(
      () => undefined,
      (error: unknown) => failureAt(plan.destination, "failed a write", error),
    );
  }
  const failed = await pendingWrite;
  if (failed !== undefined) throw failed;
}
