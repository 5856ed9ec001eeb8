/**
 * An apparatus's path to each LU of the cluster's simulated device: a
 * BlockIo per apparatus and LU whose requests reach the device after a seeded
 * latency (now and then late), where the device checks the key the apparatus
 * presents at that moment and refuses a fenced one. A write lands in the LU's
 * write cache, volatile unless FUA; a FLUSH makes what landed on that LU
 * durable (cluster-device.ts, lu-write-cache.ts). A request sent while the
 * device is down, or before a power cut it arrives after, fails as one on a
 * connection the cut broke: a request's part that landed before the cut may
 * be lost with the cache, so its request must not be answered OK.
 */
import type { BlockIo } from "@switchyard/nbd";
import type { ClusterDevice } from "./cluster-device.js";
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

/** I/O the device had not answered when its power was cut: its connection is gone, so it fails (and may or may not have landed). */
export class DeviceRestartedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DeviceRestartedError";
  }
}

/** What one request does once the device let it through. */
type Arrival = () => Promise<void> | undefined;

export class DevicePaths {
  /** I/O requests that reached the device late. */
  lateIos = 0;

  constructor(
    private readonly world: VirtualWorld,
    private readonly random: Random,
    private readonly device: ClusterDevice,
    /** How often a request reaches the device late, drawn once per run. */
    private readonly lateIoProbability: number,
    /** The key an apparatus presents now (its last registration's), if any. */
    private readonly keyOf: (apparatusId: string) => string | undefined,
  ) {}

  /** One apparatus's path to one LU. */
  backend(apparatusId: string, luIndex: number, sizeBytes: number): BlockIo {
    const device = this.device;
    return {
      sizeBytes,
      read: (offsetBytes, into) => this.arrive(apparatusId, () => { device.readBytes(luIndex, offsetBytes, into); return undefined; }),
      write: (offsetBytes, data, fua) => this.arrive(apparatusId, () => device.landWrite(luIndex, offsetBytes, data, fua)),
      writeZeroes: (offsetBytes, lengthBytes, flags) => this.arrive(apparatusId, () => device.landWrite(luIndex, offsetBytes, Buffer.alloc(lengthBytes), flags.fua)),
      flush: () => this.arrive(apparatusId, () => { device.flushLu(luIndex); return undefined; }),
    };
  }

  /** How long one I/O takes to reach the device: now and then late. */
  private latencyMs(): number {
    if (!this.random.chance(this.lateIoProbability)) return this.random.between(ioMinMs, ioMaxMs);
    this.lateIos += 1;
    return this.random.between(ioLateMinMs, ioLateMaxMs);
  }

  /** The request reaches the device after a latency, refused if the device no longer has the key it was issued under. */
  private arrive(apparatusId: string, arrival: Arrival): Promise<void> {
    const key = this.keyOf(apparatusId);
    const restartsAtSend = this.device.up ? this.device.restarts : undefined;
    return new Promise<void>((resolve, reject) => {
      this.world.schedule(this.latencyMs(), () => {
        if (restartsAtSend !== this.device.restarts || !this.device.up) {
          reject(new DeviceRestartedError(`the device restarted: ${apparatusId}'s request was on a connection its power cut broke`));
          return;
        }
        if (this.device.refusesIo(apparatusId, key)) {
          reject(new DeviceRefusedError(`device refuses I/O of fenced apparatus ${apparatusId}`));
          return;
        }
        const landing = arrival();
        if (landing === undefined) resolve();
        else landing.then(resolve, reject);
      });
    });
  }
}
