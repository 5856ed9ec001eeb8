/**
 * Hosts on every apparatus: writers and readers of whole blocks through the
 * apparatus's real I/O path (io.write / io.read / io.flush), each operation
 * recorded with its virtual start and end in the history checker. A block
 * written with value v holds v in every 32-bit word, so a read names the one
 * write it saw, and a mix of two writes shows as a torn block. Writes may
 * carry FUA, some span two extents (one request of two blocks, split by the
 * apparatus into a part per extent), and some operations are a FLUSH: the
 * checker then knows which writes a power cut must not lose.
 */
import type { VirtualizationApparatus } from "@switchyard/apparatus";
import type { History } from "@switchyard/checker";
import { NbdError } from "@switchyard/nbd";
import type { Random } from "./prng.js";
import { DeviceRestartedError } from "./device-paths.js";
import { BadRangeError } from "./lu-range-faults.js";
import { DeviceRefusedError } from "./simulated-device.js";
import type { VirtualWorld } from "./virtual-world.js";

export const blockSizeBytes: number = 512;
const wordBytes = 4;

export interface LoadModel {
  readonly volume: string;
  readonly blockCount: number;
  readonly thinkMaxMs: number;
  readonly writeProbability: number;
  /** Share of operations that are a FLUSH; at 0, no draw is made for it (a run without flushes replays as before). */
  readonly flushProbability: number;
  /** Share of writes sent with FUA; at 0, no draw. */
  readonly fuaProbability: number;
  /** Share of writes that span two extents (the last block of one, the first of the next); at 0, no draw. */
  readonly spanningProbability: number;
  /** Blocks in one extent of the volume: where a spanning write crosses. */
  readonly blocksPerExtent: number;
}

/** Shared by every client of a run: the history, the next write value, and the stop signal. */
export class HostLoad {
  readonly history: History;
  readonly violations: string[] = [];
  operations = 0;
  /** The longest any one host request took, in virtual ms: every wait must be bounded. */
  longestMs = 0;
  /** FLUSHes answered OK, and writes sent with FUA or spanning two extents. */
  flushes = 0;
  fuaWrites = 0;
  spanningWrites = 0;
  /** Told of each FLUSH answered OK, with the apparatus that answered it. */
  flushListener: ((apparatusId: string) => void) | undefined;
  private stopped = false;
  private nextValue = 1;
  private readonly world: VirtualWorld;
  private readonly random: Random;
  private readonly model: LoadModel;

  constructor(world: VirtualWorld, random: Random, model: LoadModel, history: History) {
    this.world = world;
    this.random = random;
    this.model = model;
    this.history = history;
  }

  /** One host connection: operations one at a time until the load stops. */
  async client(apparatus: VirtualizationApparatus): Promise<void> {
    while (this.running()) {
      await this.world.sleep(this.random.between(0, this.model.thinkMaxMs));
      if (!this.running()) return;
      this.operations += 1;
      if (this.draw(this.model.flushProbability)) {
        await this.flush(apparatus);
        continue;
      }
      const block = this.random.below(this.model.blockCount);
      if (this.random.chance(this.model.writeProbability)) await this.write(apparatus, block);
      else await this.read(apparatus, block, false);
    }
  }

  /** A seeded chance, with no draw at all when it is 0. */
  private draw(probability: number): boolean {
    return probability > 0 && this.random.chance(probability);
  }

  /** Clients finish the operation they are in and start no other. */
  stop(): void {
    this.stopped = true;
  }

  private running(): boolean {
    return !this.stopped;
  }

  /** Reads `block` through `apparatus`; `final` checks it as the block's content after the load. */
  async read(apparatus: VirtualizationApparatus, block: number, final: boolean): Promise<void> {
    const startMs = this.world.nowMs;
    const into = Buffer.alloc(blockSizeBytes);
    try {
      await apparatus.io.read(this.model.volume, block * blockSizeBytes, into);
    } catch (error) {
      this.expectRefusal(error, `read of block ${block} via ${apparatus.id}`);
      if (final) this.violations.push(`final read of block ${block} via ${apparatus.id}, an apparatus in the control range, failed: ${String(error)}`);
      return;
    }
    this.longestMs = Math.max(this.longestMs, this.world.nowMs - startMs);
    const value = into.readUInt32LE(0);
    for (let offset = wordBytes; offset < blockSizeBytes; offset += wordBytes) {
      if (into.readUInt32LE(offset) !== value) {
        this.violations.push(`torn read of block ${block} via ${apparatus.id} at ${startMs.toFixed(3)} ms: ${value} then ${into.readUInt32LE(offset)}`);
        return;
      }
    }
    if (final) this.history.final(block, value);
    else this.history.read(block, value, startMs, this.world.nowMs);
  }

  /** NBD proto.md: a FLUSH answered OK makes durable every write answered before it was sent. */
  private async flush(apparatus: VirtualizationApparatus): Promise<void> {
    const startMs = this.world.nowMs;
    try {
      await apparatus.io.flush(this.model.volume);
    } catch (error) {
      this.longestMs = Math.max(this.longestMs, this.world.nowMs - startMs);
      this.expectRefusal(error, `FLUSH via ${apparatus.id}`);
      return;
    }
    this.longestMs = Math.max(this.longestMs, this.world.nowMs - startMs);
    this.flushes += 1;
    this.history.flush(startMs, this.world.nowMs);
    this.flushListener?.(apparatus.id);
  }

  /** Writes `block`, or, now and then, it and the next across an extent boundary in one request. */
  private async write(apparatus: VirtualizationApparatus, block: number): Promise<void> {
    const fua = this.draw(this.model.fuaProbability);
    const extentCount = this.model.blockCount / this.model.blocksPerExtent;
    const spanning = extentCount > 1 && this.draw(this.model.spanningProbability);
    const first = spanning ? (1 + this.random.below(extentCount - 1)) * this.model.blocksPerExtent - 1 : block;
    const blocks = spanning ? 2 : 1;
    if (fua) this.fuaWrites += 1;
    if (spanning) this.spanningWrites += 1;
    const data = Buffer.alloc(blocks * blockSizeBytes);
    const records = Array.from({ length: blocks }, (_, index) => {
      const value = this.nextValue;
      this.nextValue += 1;
      for (let offset = index * blockSizeBytes; offset < (index + 1) * blockSizeBytes; offset += wordBytes) data.writeUInt32LE(value, offset);
      return this.history.beginWrite(first + index, value, this.world.nowMs, fua);
    });
    const startMs = this.world.nowMs;
    let acknowledged = true;
    try {
      await apparatus.io.write(this.model.volume, first * blockSizeBytes, data, fua);
    } catch (error) {
      // Failed or refused: it may or may not have landed, and the checker treats it so.
      this.expectRefusal(error, `write of ${blocks} block(s) at ${first} via ${apparatus.id}`);
      acknowledged = false;
    }
    this.longestMs = Math.max(this.longestMs, this.world.nowMs - startMs);
    for (const record of records) this.history.endWrite(record, this.world.nowMs, acknowledged);
  }

  /**
   * A fenced apparatus refuses (ESHUTDOWN), the device refuses a fenced
   * apparatus, a power cut of the device fails what it had not answered,
   * and a bad range of an LU fails what touches it; anything else is a bug.
   */
  private expectRefusal(error: unknown, what: string): void {
    const refused = error instanceof DeviceRefusedError || error instanceof DeviceRestartedError || error instanceof BadRangeError ||
      (error instanceof NbdError && error.code === "ESHUTDOWN");
    if (!refused) this.violations.push(`${what} failed unexpectedly: ${String(error)}`);
  }
}
