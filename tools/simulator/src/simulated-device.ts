/**
 * The storage device as the simulator sees it: shared in-memory LUs that
 * every apparatus reaches, registration keys that fence an apparatus at the
 * device (like SCSI persistent reservations: I/O under a removed key is
 * refused), and one backend per apparatus and LU whose reads and writes take
 * a seeded latency. A write copies its bytes into the LU only when its
 * completion event fires, so it is really in flight when a Hold arrives, and
 * the device checks the key the I/O was issued under at that moment. An
 * area the committed table has in mirror state gets every write landing on
 * it written to its mirror too, as the real device's mirrors do; and I/O
 * addressed to the mirror's destination is the source's until the commit
 * that ends the mirror (a switch without a hold, area-mirror.ts).
 */
import assert from "node:assert/strict";
import { LocalBackendSet } from "@switchyard/apparatus";
import type { BlockIo } from "@switchyard/nbd";
import type { MemoryLu } from "@switchyard/apparatus/testing";
import type { Random } from "./prng.js";
import type { VirtualWorld } from "./virtual-world.js";

/** Backend I/O latency on the virtual clock: most requests are quick, some meet a slow disk. */
export interface LatencyModel {
  readonly fastMinMs: number;
  readonly fastMaxMs: number;
  readonly slowMaxMs: number;
  readonly slowProbability: number;
}

/** An area of an LU, by index. */
export interface AreaPlace {
  readonly luIndex: number;
  readonly areaIndex: number;
}

/** Where the committed table mirrors an area to, if it does. */
export type MirrorLookup = (area: AreaPlace) => AreaPlace | undefined;

/** I/O refused by the device: the apparatus was fenced after it issued the request. */
export class DeviceRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DeviceRefusedError";
  }
}

export class SimulatedDevice {
  readonly lus: readonly MemoryLu[];
  /**
   * Whether the device refuses I/O under a removed key. True is the device
   * as built (lu-exports.ts checks the identity an apparatus presents on
   * every request); false is the device before that, where only the
   * apparatus's own lease stopped it.
   */
  readonly refusesFencedIo: boolean;
  /** Current key per apparatus; absent while fenced. */
  private readonly keys = new Map<string, number>();
  private keysIssued = 0;

  /** `sourceOf` is the reverse of `mirrorOf`: the source of the mirror whose destination an area is. */
  constructor(lus: readonly MemoryLu[], refusesFencedIo: boolean, private readonly extentSizeBytes: number, private readonly mirrorOf: MirrorLookup,
    private readonly sourceOf: MirrorLookup) {
    this.lus = lus;
    this.refusesFencedIo = refusesFencedIo;
  }

  /**
   * Lands a write (or zeroes, for `data` undefined) of `lengthBytes` on an
   * LU, and on the mirror of each area it touches; a part addressed to a
   * mirror's destination lands as its source's.
   */
  land(luIndex: number, offsetBytes: number, lengthBytes: number, data: Buffer | undefined): void {
    this.eachArea(luIndex, offsetBytes, lengthBytes, (area, withinBytes, partBytes, fromBytes) => {
      const target = this.sourceOf(area) ?? area;
      this.put(this.lu(target.luIndex).bytes, target.areaIndex * this.extentSizeBytes + withinBytes, partBytes, data, fromBytes);
      const mirror = this.mirrorOf(target);
      if (mirror !== undefined) this.put(this.lu(mirror.luIndex).bytes, mirror.areaIndex * this.extentSizeBytes + withinBytes, partBytes, data, fromBytes);
    });
  }

  /** Reads what an LU holds; a part addressed to a mirror's destination from its source. */
  read(luIndex: number, offsetBytes: number, into: Buffer): void {
    this.eachArea(luIndex, offsetBytes, into.length, (area, withinBytes, partBytes, fromBytes) => {
      const target = this.sourceOf(area) ?? area;
      const at = target.areaIndex * this.extentSizeBytes + withinBytes;
      into.set(this.lu(target.luIndex).bytes.subarray(at, at + partBytes), fromBytes);
    });
  }

  /** Calls `part` for each area the range touches: the area, the offset within it, the part's length and its offset in the range. */
  private eachArea(luIndex: number, offsetBytes: number, lengthBytes: number, part: (area: AreaPlace, withinBytes: number, partBytes: number, fromBytes: number) => void): void {
    for (let start = offsetBytes; start < offsetBytes + lengthBytes;) {
      const areaIndex = Math.floor(start / this.extentSizeBytes);
      const end = Math.min(offsetBytes + lengthBytes, (areaIndex + 1) * this.extentSizeBytes);
      part({ luIndex, areaIndex }, start - areaIndex * this.extentSizeBytes, end - start, start - offsetBytes);
      start = end;
    }
  }

  private put(bytes: Buffer, atBytes: number, lengthBytes: number, data: Buffer | undefined, fromBytes: number): void {
    if (data === undefined) bytes.fill(0, atBytes, atBytes + lengthBytes);
    else bytes.set(data.subarray(fromBytes, fromBytes + lengthBytes), atBytes);
  }

  /** Registers (or registers again) an apparatus under a new key: I/O issued under an older one stays refused. */
  register(apparatusId: string): number {
    this.keysIssued += 1;
    this.keys.set(apparatusId, this.keysIssued);
    return this.keysIssued;
  }

  /** claim 3: from now on the device refuses the apparatus's I/O. */
  fence(apparatusId: string): void {
    this.keys.delete(apparatusId);
  }

  keyOf(apparatusId: string): number | undefined {
    return this.keys.get(apparatusId);
  }

  allows(apparatusId: string, key: number | undefined): boolean {
    if (!this.refusesFencedIo) return true;
    return key !== undefined && this.keys.get(apparatusId) === key;
  }

  lu(index: number): MemoryLu {
    const lu = this.lus[index];
    assert.ok(lu !== undefined, `no LU index ${index}`);
    return lu;
  }

  /** The device's copy of a mirror's source onto its destination, at once (writes landing later are mirrored). */
  copyArea(source: AreaPlace, destination: AreaPlace): void {
    const from = source.areaIndex * this.extentSizeBytes;
    this.lu(source.luIndex).bytes.copy(this.lu(destination.luIndex).bytes, destination.areaIndex * this.extentSizeBytes, from, from + this.extentSizeBytes);
  }
}

/** One apparatus's path to one LU: every operation lands after a seeded latency, under the key it was issued with. */
class SimulatedBackend implements BlockIo {
  readonly sizeBytes: number;

  constructor(
    private readonly world: VirtualWorld,
    private readonly random: Random,
    private readonly latency: LatencyModel,
    private readonly device: SimulatedDevice,
    private readonly apparatusId: string,
    private readonly luIndex: number,
  ) {
    this.sizeBytes = device.lu(luIndex).sizeBytes;
  }

  read(offsetBytes: number, into: Buffer): Promise<void> {
    return this.land(() => {
      this.device.read(this.luIndex, offsetBytes, into);
    });
  }

  write(offsetBytes: number, data: Buffer): Promise<void> {
    return this.land(() => {
      this.device.land(this.luIndex, offsetBytes, data.length, data);
    });
  }

  writeZeroes(offsetBytes: number, lengthBytes: number): Promise<void> {
    return this.land(() => {
      this.device.land(this.luIndex, offsetBytes, lengthBytes, undefined);
    });
  }

  flush(): Promise<void> {
    return this.land(() => undefined);
  }

  private land(effect: () => void): Promise<void> {
    const key = this.device.keyOf(this.apparatusId);
    const latency = this.latency;
    const delayMs = this.random.chance(latency.slowProbability)
      ? this.random.between(latency.fastMaxMs, latency.slowMaxMs)
      : this.random.between(latency.fastMinMs, latency.fastMaxMs);
    return new Promise<void>((resolve, reject) => {
      this.world.schedule(delayMs, () => {
        if (!this.device.allows(this.apparatusId, key)) {
          reject(new DeviceRefusedError(`device refuses I/O of fenced apparatus ${this.apparatusId}`));
          return;
        }
        effect();
        resolve();
      });
    });
  }
}

/** The backends of one apparatus: one per LU, keyed by the LU ids the table uses (lu0, lu1, ...). */
export function simulatedBackends(world: VirtualWorld, random: Random, latency: LatencyModel, device: SimulatedDevice, apparatusId: string): LocalBackendSet {
  const backends = new Map<string, BlockIo>();
  device.lus.forEach((_lu, index) => {
    backends.set(`lu${index}`, new SimulatedBackend(world, random, latency, device, apparatusId, index));
  });
  return new LocalBackendSet(backends);
}
