/**
 * An apparatus's path to each LU of the cluster's simulated device: a
 * BlockIo per apparatus and LU whose requests reach the device after a seeded
 * latency (now and then late), where the device checks the key the apparatus
 * presents at that moment and refuses a fenced one. A write lands in the LU's
 * write cache, volatile unless FUA; a FLUSH makes what landed on that LU
 * durable (cluster-device.ts, lu-write-cache.ts). A request sent while the
 * device is down, or before a power cut it arrives after, fails as one on a
 * connection the cut broke: a request's part that landed before the cut may
 * be lost with the cache, so its request must not be answered OK. A request
 * touching a bad range of its LU fails with EIO (lu-range-faults.ts).
 *
 * The paths also check one invariant where only the device can see it
 * (claim 6, a drain's meaning): a write the device lets through lands on an
 * area the committed table maps, as an extent's area or a mirror's
 * destination. One that lands on an area a move retired was admitted before
 * that move's Hold and still running after the drain reported drained (or
 * its apparatus was not fenced as it should have been).
 */
import type { BlockIo } from "@switchyard/nbd";
import type { StoreState__Output } from "@switchyard/proto";
import type { ClusterDevice } from "./cluster-device.js";
import { DrainWatch } from "./drain-watch.js";
import type { LuRangeFaults } from "./lu-range-faults.js";
import type { Random } from "./prng.js";
import { DeviceRefusedError } from "./simulated-device.js";
import type { VirtualWorld } from "./virtual-world.js";

/** Backend I/O latency on the virtual clock. */
const ioMinMs = 0.05;
export const ioMaxMs = 3;
/**
 * Some I/O arrives late at the device (a queue on the storage network, a
 * retried packet): late enough to outlast a Hold's phase and the fence wait
 * after it, so the device's own check is what refuses it then.
 */
const ioLateMinMs = 100;
export const ioLateMaxMs = 250;

/**
 * A slow LU (a congested path to it, a disk busy with something else)
 * answers in this range: under the phase timeout mostly, so a drain that
 * waits for it still ends in time, and well over a Hold-to-commit.
 */
const ioSlowMinMs = 10;
const ioSlowMaxMs = 35;

/** I/O the device had not answered when its power was cut: its connection is gone, so it fails (and may or may not have landed). */
export class DeviceRestartedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DeviceRestartedError";
  }
}

/** What one request does once the device let it through. */
type Arrival = () => Promise<void> | undefined;

/** Where on an LU a request goes, and whether it writes. */
interface Target {
  readonly luIndex: number;
  readonly offsetBytes: number;
  readonly lengthBytes: number;
  readonly writes: boolean;
}

/** True when the committed table maps area `areaIndex` of LU `luIndex` to an extent, or to a mirror's destination. */
function areaMapped(state: StoreState__Output, luIndex: number, areaIndex: number): boolean {
  return state.volumes.some(({ extents }) => {
    if (extents == null) return false;
    for (let extent = 0; extent < extents.lu_index.length; extent += 1) {
      if (extents.lu_index[extent] === luIndex && extents.area_index[extent] === areaIndex) return true;
      if (extents.mirror_lu_index_plus_one[extent] === luIndex + 1 && extents.mirror_area_index[extent] === areaIndex) return true;
    }
    return false;
  });
}

export class DevicePaths {
  /** I/O requests that reached the device late. */
  lateIos = 0;
  /** I/O requests a slow LU answered. */
  slowIos = 0;
  /** Until when each slow LU is slow (virtual ms). */
  private readonly slowUntilMs = new Map<number, number>();
  /** Writes that landed on an area the committed table no longer maps, or after a drain said they had: each one breaks claim 6. */
  readonly violations: string[] = [];
  /** Each apparatus's answered Holds, for the writes that land after them. */
  readonly drains = new DrainWatch();

  constructor(
    private readonly world: VirtualWorld,
    private readonly random: Random,
    private readonly device: ClusterDevice,
    /** How often a request reaches the device late, drawn once per run. */
    private readonly lateIoProbability: number,
    /** The key an apparatus presents now (its last registration's), if any. */
    private readonly keyOf: (apparatusId: string) => string | undefined,
    private readonly badRanges: LuRangeFaults,
  ) {}

  /** One apparatus's path to one LU. */
  backend(apparatusId: string, luIndex: number, sizeBytes: number): BlockIo {
    const device = this.device;
    return {
      sizeBytes,
      read: (offsetBytes, into) => this.arrive(apparatusId, () => { device.readBytes(luIndex, offsetBytes, into); return undefined; },
        { luIndex, offsetBytes, lengthBytes: into.length, writes: false }),
      write: (offsetBytes, data, fua) => this.arrive(apparatusId, () => device.landWrite(luIndex, offsetBytes, data, fua),
        { luIndex, offsetBytes, lengthBytes: data.length, writes: true }),
      writeZeroes: (offsetBytes, lengthBytes, flags) => this.arrive(apparatusId, () => device.landWrite(luIndex, offsetBytes, Buffer.alloc(lengthBytes), flags.fua),
        { luIndex, offsetBytes, lengthBytes, writes: true }),
      // A FLUSH touches no range: no bad range refuses it, a slow LU is slow to it too.
      flush: () => this.arrive(apparatusId, () => { device.flushLu(luIndex); return undefined; }, { luIndex, offsetBytes: 0, lengthBytes: 0, writes: false }),
    };
  }

  /** Every request to LU `luIndex` takes ioSlowMinMs-ioSlowMaxMs for `forMs`. */
  slowDown(luIndex: number, forMs: number): void {
    this.slowUntilMs.set(luIndex, Math.max(this.slowUntilMs.get(luIndex) ?? 0, this.world.nowMs + forMs));
  }

  /** How long one I/O takes to reach the device: now and then late, and slow while its LU is. */
  private latencyMs(luIndex: number): number {
    if (this.world.nowMs < (this.slowUntilMs.get(luIndex) ?? 0)) {
      this.slowIos += 1;
      return this.random.between(ioSlowMinMs, ioSlowMaxMs);
    }
    if (!this.random.chance(this.lateIoProbability)) return this.random.between(ioMinMs, ioMaxMs);
    this.lateIos += 1;
    return this.random.between(ioLateMinMs, ioLateMaxMs);
  }

  /** The request reaches the device after a latency, refused if the device no longer has the key it was issued under. */
  private arrive(apparatusId: string, arrival: Arrival, target: Target): Promise<void> {
    const key = this.keyOf(apparatusId);
    const restartsAtSend = this.device.up ? this.device.restarts : undefined;
    const sentAtMs = this.world.nowMs;
    return new Promise<void>((resolve, reject) => {
      this.world.schedule(this.latencyMs(target.luIndex), () => {
        if (restartsAtSend !== this.device.restarts || !this.device.up) {
          reject(new DeviceRestartedError(`the device restarted: ${apparatusId}'s request was on a connection its power cut broke`));
          return;
        }
        if (this.device.refusesIo(apparatusId, key)) {
          reject(new DeviceRefusedError(`device refuses I/O of fenced apparatus ${apparatusId}`));
          return;
        }
        const bad = this.badRanges.refusal(target.luIndex, target.offsetBytes, target.lengthBytes);
        if (bad !== undefined) {
          reject(bad);
          return;
        }
        if (target.writes) this.checkMapped(apparatusId, target, sentAtMs);
        const landing = arrival();
        if (landing === undefined) resolve();
        else landing.then(resolve, reject);
      });
    });
  }

  /** Claim 6 as the device sees it: a write lands only where the committed table maps an extent or a mirror, and not after a drain that covered it (drain-watch.ts). */
  private checkMapped(apparatusId: string, target: Target, sentAtMs: number): void {
    const state = this.device.state;
    const extentSizeBytes = state.lus[0]?.extent_size_bytes ?? 0;
    if (extentSizeBytes <= 0) return;
    const first = Math.floor(target.offsetBytes / extentSizeBytes);
    const last = Math.floor((target.offsetBytes + target.lengthBytes - 1) / extentSizeBytes);
    for (let areaIndex = first; areaIndex <= last; areaIndex += 1) {
      const drainBroken = this.drains.check(apparatusId, target.luIndex, areaIndex, sentAtMs, this.world.nowMs);
      if (drainBroken !== undefined) this.violations.push(drainBroken);
      if (areaMapped(state, target.luIndex, areaIndex)) continue;
      this.violations.push(`drain: a write of ${apparatusId} landed on area ${areaIndex} of LU ${target.luIndex} at ${this.world.nowMs.toFixed(3)} ms, which the committed table (generation ${state.generation}) no longer maps: admitted before a Hold and still running after its drain, or let through from an apparatus that should be fenced`);
    }
  }
}
