/**
 * Hosts on every apparatus: writers and readers of whole blocks through the
 * apparatus's real I/O path (io.write / io.read), each operation recorded
 * with its virtual start and end in the history checker. A block written
 * with value v holds v in every 32-bit word, so a read names the one write
 * it saw, and a mix of two writes shows as a torn block.
 */
import type { VirtualizationApparatus } from "@switchyard/apparatus";
import type { History } from "@switchyard/checker";
import { NbdError } from "@switchyard/nbd";
import type { Random } from "./prng.js";
import { DeviceRefusedError } from "./simulated-device.js";
import type { VirtualWorld } from "./virtual-world.js";

export const blockSizeBytes: number = 512;
const wordBytes = 4;

export interface LoadModel {
  readonly volume: string;
  readonly blockCount: number;
  readonly thinkMaxMs: number;
  readonly writeProbability: number;
}

/** Shared by every client of a run: the history, the next write value, and the stop signal. */
export class HostLoad {
  readonly history: History;
  readonly violations: string[] = [];
  operations = 0;
  /** The longest any one host request took, in virtual ms: every wait must be bounded. */
  longestMs = 0;
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
      const block = this.random.below(this.model.blockCount);
      this.operations += 1;
      if (this.random.chance(this.model.writeProbability)) await this.write(apparatus, block);
      else await this.read(apparatus, block, false);
    }
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

  private async write(apparatus: VirtualizationApparatus, block: number): Promise<void> {
    const value = this.nextValue;
    this.nextValue += 1;
    const data = Buffer.alloc(blockSizeBytes);
    for (let offset = 0; offset < blockSizeBytes; offset += wordBytes) data.writeUInt32LE(value, offset);
    const record = this.history.beginWrite(block, value, this.world.nowMs);
    try {
      await apparatus.io.write(this.model.volume, block * blockSizeBytes, data, false);
    } catch (error) {
      this.longestMs = Math.max(this.longestMs, this.world.nowMs - record.startMs);
      // Failed or refused: it may or may not have landed, and the checker treats it so.
      this.expectRefusal(error, `write of block ${block} via ${apparatus.id}`);
      this.history.endWrite(record, this.world.nowMs, false);
      return;
    }
    this.longestMs = Math.max(this.longestMs, this.world.nowMs - record.startMs);
    this.history.endWrite(record, this.world.nowMs, true);
  }

  /** A fenced apparatus refuses (ESHUTDOWN) and the device refuses a fenced apparatus; anything else is a bug. */
  private expectRefusal(error: unknown, what: string): void {
    const refused = error instanceof DeviceRefusedError || (error instanceof NbdError && error.code === "ESHUTDOWN");
    if (!refused) this.violations.push(`${what} failed unexpectedly: ${String(error)}`);
  }
}
