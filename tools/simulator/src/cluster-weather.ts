/**
 * The faults the cluster simulation throws between moves, seeded: a
 * controller crash, every controller down at once, a power cut of the
 * device (and one in the middle of a store or epoch write, or right after
 * the first FLUSH an apparatus answers once it registered again), a failing disk, a bad range of an LU, a slow LU,
 * both at once around a switch,
 * an apparatus cut off from the controllers (alone, or with the leader).
 * Each is scheduled at a seeded moment of the move that follows, or (a
 * congested switch) just before its switch, and none fires once the run has
 * stopped its faults.
 */
import type { ClusterDevice } from "./cluster-device.js";
import type { Random } from "./prng.js";
import type { VirtualWorld } from "./virtual-world.js";

/** Between two moves the console waits up to this; a fault lands at a seeded moment within it. */
export const moveGapMaxMs = 150;
/** A power cut keeps the device down this long (a restart of its process, its files checked). */
export const deviceDownMinMs = 50;
export const deviceDownMaxMs = 400;
/** A failing disk fails every write this long: longer than a crash's restart, so the first saves after it fail too. */
const diskFaultMinMs = 200;
const diskFaultMaxMs = 900;
/** A bad range of an LU fails its I/O, or a slow LU is slow, this long: a few holds and drains. */
const badRangeMinMs = 50;
const badRangeMaxMs = 400;
/**
 * An apparatus cut off from every controller (its control network), still
 * renewing with the device and serving: a blip a phase or two long, or an
 * outage past a takeover's GetState wait (callTimeoutMs, 2 s) and a move
 * after it, so that a successor fences it while it serves.
 */
const isolationBlipMinMs = 100;
const isolationBlipMaxMs = 400;
const isolationOutageMinMs = 3_000;
const isolationOutageMaxMs = 5_000;

/** Chances, per move, of each fault. */
const crashProbability = 0.35;
const powerCutProbability = 0.1;
const cutMidWriteProbability = 0.15;
const cutAfterRejoinFlushProbability = 0.3;
const diskFaultProbability = 0.06;
const badRangeProbability = 0.25;
const slowLuProbability = 0.25;
const isolationProbability = 0.2;
const blackoutProbability = 0.08;
const congestedSwitchProbability = 0.2;
/** A congested switch begins up to this long before the copy ends: about a slow LU's answer (device-paths.ts ioSlowMaxMs). */
const switchLeadMaxMs = 30;

/** What the weather acts on: the simulation, as far as its faults go. */
export interface WeatherTarget {
  readonly random: Random;
  readonly world: VirtualWorld;
  readonly device: ClusterDevice;
  /** False once the console is done: the run settles without faults. */
  readonly faultsOn: boolean;
  readonly apparatusIds: readonly string[];
  readonly candidateIds: readonly string[];
  leaderId(): string | undefined;
  /** Crashes a controller; it comes back after `downMs`, or a seeded restart time. */
  crash(controllerId: string, downMs?: number): void;
  /** Every controller down at once, long enough for holds to meet their deadline. */
  blackout(): void;
  isolate(apparatusId: string, forMs: number): void;
  failDisk(forMs: number): void;
  /** An LU area under the volume goes bad: I/O there fails with EIO for `forMs`. */
  failLuRange(forMs: number): void;
  /** The LU under the coming move's extent answers slowly for `forMs`. */
  slowLu(forMs: number): void;
  /** Power is cut right after the first FLUSH an apparatus answers once it registered again. */
  armCutAfterRejoinFlush(downMs: number): void;
}

/** Runs `fault` at a seeded moment of the coming move, if faults are still on then. */
function soon(target: WeatherTarget, fault: () => void): void {
  target.world.schedule(target.random.between(0, moveGapMaxMs), () => {
    if (target.faultsOn) fault();
  });
}

/**
 * A congested switch: a bad range on the extent after the moving one and a
 * slow path to the moving one's LU, from a little before its copy ends, so
 * that the switch's Hold comes while a write spanning the two has its first
 * part still on its way and its second refused: the moment a drain must not
 * end early. Only the switch holds the extent's writes (a mirror change
 * holds nothing), so faults aimed at a move's start seldom meet a drain.
 */
function congestedSwitch(target: WeatherTarget): void {
  const { random } = target;
  const forMs = random.between(badRangeMinMs, badRangeMaxMs);
  target.device.whenNextInSync(random.between(0, switchLeadMaxMs), () => {
    if (!target.faultsOn) return;
    target.failLuRange(forMs);
    target.slowLu(forMs);
  });
}

/** The faults before one move. */
export function weather(target: WeatherTarget): void {
  const { random } = target;
  if (random.chance(crashProbability)) {
    const victim = target.leaderId() ?? random.pick(target.candidateIds);
    soon(target, () => { target.crash(victim); });
  }
  if (random.chance(powerCutProbability) && target.device.up) target.device.restart(random.between(deviceDownMinMs, deviceDownMaxMs));
  storageWeather(target);
  if (random.chance(isolationProbability)) isolationWeather(target);
  // Every controller at once, mid-move: nobody releases the holds until the deadline ends them.
  if (random.chance(blackoutProbability)) soon(target, () => { target.blackout(); });
}

/**
 * An apparatus cut off from the controllers; most of the time the leader
 * with it (the control switch they both hang off fails: the leader reaches
 * nobody, so its lease runs out, and it is back when the switch is).
 */
function isolationWeather(target: WeatherTarget): void {
  const { random } = target;
  const isolated = random.pick(target.apparatusIds);
  const forMs = random.chance(0.5) ? random.between(isolationBlipMinMs, isolationBlipMaxMs) : random.between(isolationOutageMinMs, isolationOutageMaxMs);
  const withLeader = random.chance(0.7);
  soon(target, () => {
    target.isolate(isolated, forMs);
    const leader = target.leaderId();
    if (withLeader && leader !== undefined) target.crash(leader, forMs);
  });
}

/** Faults of the device's disks: a power cut in the middle of a store or epoch write or right after a rejoined apparatus's first FLUSH, a disk that fails every write for a while, a bad range of an LU, a slow LU. */
function storageWeather(target: WeatherTarget): void {
  const { random } = target;
  if (random.chance(cutMidWriteProbability)) target.device.cutDuringNextWrite(random.between(deviceDownMinMs, deviceDownMaxMs));
  // A rejoin's FLUSH must reach every LU with acknowledged writes, those written before the rejoin too (issue 19 fencing gap).
  if (random.chance(cutAfterRejoinFlushProbability)) target.armCutAfterRejoinFlush(random.between(deviceDownMinMs, deviceDownMaxMs));
  if (random.chance(diskFaultProbability)) {
    const forMs = random.between(diskFaultMinMs, diskFaultMaxMs);
    soon(target, () => { target.failDisk(forMs); });
  }
  if (random.chance(badRangeProbability)) {
    const forMs = random.between(badRangeMinMs, badRangeMaxMs);
    soon(target, () => { target.failLuRange(forMs); });
  }
  if (random.chance(slowLuProbability)) {
    const forMs = random.between(badRangeMinMs, badRangeMaxMs);
    soon(target, () => { target.slowLu(forMs); });
  }
  if (random.chance(congestedSwitchProbability)) congestedSwitch(target);
}
