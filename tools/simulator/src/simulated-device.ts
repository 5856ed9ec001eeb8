/**
 * The storage device as the simulator sees it: shared in-memory LUs that
 * every apparatus reaches, registration keys that fence an apparatus at the
 * device (like SCSI persistent reservations: I/O under a removed key is
 * refused), and one backend per apparatus and LU whose reads and writes take
 * a seeded latency. A write copies its bytes into the LU only when its
 * completion event fires, so it is really in flight when a Hold arrives, and
 * the device checks the key the I/O was issued under at that moment.
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

  constructor(lus: readonly MemoryLu[], refusesFencedIo: boolean) {
    this.lus = lus;
    this.refusesFencedIo = refusesFencedIo;
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

  /** The copy offload: the device copies one area to another at once. */
  copyArea(sourceLuIndex: number, sourceAreaIndex: number, destinationLuIndex: number, destinationAreaIndex: number, lengthBytes: number): void {
    const source = this.lu(sourceLuIndex).bytes;
    const from = sourceAreaIndex * lengthBytes;
    source.copy(this.lu(destinationLuIndex).bytes, destinationAreaIndex * lengthBytes, from, from + lengthBytes);
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
    private readonly lu: MemoryLu,
  ) {
    this.sizeBytes = lu.sizeBytes;
  }

  read(offsetBytes: number, into: Buffer): Promise<void> {
    return this.land(() => {
      into.set(this.lu.bytes.subarray(offsetBytes, offsetBytes + into.length));
    });
  }

  write(offsetBytes: number, data: Buffer): Promise<void> {
    return this.land(() => {
      this.lu.bytes.set(data, offsetBytes);
    });
  }

  writeZeroes(offsetBytes: number, lengthBytes: number): Promise<void> {
    return this.land(() => {
      this.lu.bytes.fill(0, offsetBytes, offsetBytes + lengthBytes);
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
  device.lus.forEach((lu, index) => {
    backends.set(`lu${index}`, new SimulatedBackend(world, random, latency, device, apparatusId, lu));
  });
  return new LocalBackendSet(backends);
}
