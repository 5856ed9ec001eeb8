/**
 * TRIM and WRITE_ZEROES longer than the maximum payload (NBD proto.md
 * "Block size constraints": the maximum limits a payload, and a request
 * without one "MAY be larger"; DESIGN.md: they may be as long as the
 * export and are split inside). Each goes over the long volume, which
 * outruns the 32 MiB portable limit by two extents: the zeroes read back
 * everywhere in the range, and the block after it is untouched.
 */
import { NBD_FLAG_SEND_TRIM, NBD_FLAG_SEND_WRITE_ZEROES, NBD_PORTABLE_BLOCK_SIZE_MAX_BYTES, type NbdClient } from "@switchyard/nbd";
import { SkipCase, expectThat } from "../check.js";
import type { CaseContext } from "../context.js";
import { blockBytes, stamp, stampValue } from "../layout.js";
import type { ConformanceCase } from "./case.js";

/** An advertised maximum this large means "none given": the portable limit applies (proto.md). */
const noMaximumBytes = 0xffff_ffff;

interface LongRange {
  readonly client: NbdClient;
  readonly lengthBytes: number;
  /** Blocks inside the range, at its start, across the payload limit and at its end. */
  readonly insideOffsets: readonly number[];
  /** The first block after the range. */
  readonly afterOffset: number;
}

/** The long volume's connection and a range one extent longer than the payload limit. */
async function longRange(context: CaseContext, flag: number, feature: string): Promise<LongRange> {
  const volume = context.longVolume();
  const client = await context.connectHost(volume.name);
  try {
    expectThat((client.transmissionFlags & flag) !== 0, `the features file declares ${feature}, but the export does not advertise it`);
    const advertised = client.blockSizeMaximumBytes;
    const maximumBytes = advertised === 0 || advertised >= noMaximumBytes ? NBD_PORTABLE_BLOCK_SIZE_MAX_BYTES : advertised;
    const lengthBytes = maximumBytes + context.layout.extentSizeBytes;
    if (lengthBytes + blockBytes > client.sizeBytes) throw new SkipCase(`the maximum payload (${maximumBytes} bytes) leaves no longer request inside the long volume`);
    return { client, lengthBytes, insideOffsets: [0, maximumBytes - blockBytes, maximumBytes, lengthBytes - blockBytes], afterOffset: lengthBytes };
  } catch (error) {
    await client.close();
    throw error;
  }
}

async function stampAll(context: CaseContext, client: NbdClient, offsets: readonly number[]): Promise<number[]> {
  const values: number[] = [];
  for (const offset of offsets) {
    const value = context.nextStamp();
    await client.write(offset, stamp(value));
    values.push(value);
  }
  return values;
}

async function writeZeroesLongCase(context: CaseContext): Promise<void> {
  const range = await longRange(context, NBD_FLAG_SEND_WRITE_ZEROES, "write-zeroes");
  try {
    await stampAll(context, range.client, range.insideOffsets);
    const [after] = await stampAll(context, range.client, [range.afterOffset]);
    await range.client.writeZeroes(0, range.lengthBytes);
    for (const offset of range.insideOffsets) {
      const block = Buffer.alloc(blockBytes, 0xff);
      await range.client.read(offset, block);
      expectThat(block.every((byte) => byte === 0), `after a ${range.lengthBytes}-byte WRITE_ZEROES the block at ${offset} does not read as zeroes`);
    }
    expectThat((await context.readStamp(range.client, range.afterOffset)) === after, "a long WRITE_ZEROES changed the block after its range");
  } finally {
    await range.client.close();
  }
}

async function trimLongCase(context: CaseContext): Promise<void> {
  const range = await longRange(context, NBD_FLAG_SEND_TRIM, "trim");
  try {
    const [after] = await stampAll(context, range.client, [range.afterOffset]);
    // proto.md: what a trimmed block reads is unspecified; that the request succeeds is the point.
    await range.client.trim(0, range.lengthBytes);
    const block = Buffer.alloc(blockBytes);
    await range.client.read(range.afterOffset, block);
    expectThat(stampValue(block) === after, "a long TRIM changed the block after its range");
  } finally {
    await range.client.close();
  }
}

const longClause = "NBD proto.md \"Block size constraints\" (the maximum is a payload limit); DESIGN.md wire formats (split inside)";

export const longCases: readonly ConformanceCase[] = [
  { id: "nbd-write-zeroes-long", title: "WRITE_ZEROES longer than the maximum payload succeeds and zeroes it all", checks: `${longClause}; NBD_CMD_WRITE_ZEROES`, needs: ["write-zeroes"], run: writeZeroesLongCase },
  { id: "nbd-trim-long", title: "TRIM longer than the maximum payload succeeds and stays in its range", checks: `${longClause}; NBD_CMD_TRIM`, needs: ["trim"], run: trimLongCase },
];
