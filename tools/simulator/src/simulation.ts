/**
 * One seeded run of the whole change protocol (issue 3): 2 to 4 real
 * VirtualizationApparatus instances over a simulated device, the real
 * ChangeRun core moving extents as the controller does (a mirror change
 * planned by the real planMirror, the device's copy, a switch change), hosts
 * writing and reading through every apparatus, and a control network that
 * delays, loses and holds back messages so that apparatuses get fenced and
 * rejoin. Everything random comes from the seed; everything timed runs on
 * the virtual clock. After the run it checks DESIGN.md's invariants: no
 * stale read and no lost write (the history checker), progress (every
 * change ends within a bound, every hold ends), and every apparatus in the
 * control range at the committed generation.
 */
import assert from "node:assert/strict";
import { VirtualizationApparatus } from "@switchyard/apparatus";
import { MemoryLu, apparatusFaultBehaviours, type ApparatusFault } from "@switchyard/apparatus/testing";
import { History } from "@switchyard/checker";
import { ControllerError, planMirror, planMirrorEnd, type ChangePlan } from "@switchyard/controller";
import { loadGrpc, type StoreState } from "@switchyard/proto";
import { ControlLink, type NetworkModel } from "./control-link.js";
import { HostLoad, blockSizeBytes } from "./host-load.js";
import { Random } from "./prng.js";
import { runChange, type ChangeContext, type ChangeRecord, type CommitModel } from "./simulated-change.js";
import { SimulatedDevice, simulatedBackends, type AreaPlace, type LatencyModel } from "./simulated-device.js";
import { SimulatedStore, startingStore } from "./simulated-store.js";
import { VirtualWorld } from "./virtual-world.js";

const volumeName = "v";
/** Small extents and few areas: hosts hit the moved extent often, and moves run out of nothing. */
const extentSizeBytes: number = 4_096;
const volumeExtentCount = 4;
const luCount = 3;
const areasPerLu = 8;
const luSizeBytes = areasPerLu * extentSizeBytes;
const clientsPerApparatus = 2;
const apparatusCountMin = 2;
const apparatusCountMax = 4;
const epoch = 1;
/** Short on purpose: message delays and slow disks reach it, so fencing happens. */
export const phaseTimeoutMs = 40;
/** A late message arrives up to three phase timeouts after it was sent. */
const lateMessageMaxMs = 3 * phaseTimeoutMs;
/** Backend latency: usually under 3 ms, sometimes a slow disk at up to 25 ms. */
const latency: LatencyModel = { fastMinMs: 0.05, fastMaxMs: 3, slowMaxMs: 25, slowProbability: 0.05 };
const slowDiskLatency: LatencyModel = { ...latency, slowProbability: 0.4 };
/**
 * The apparatus lease: a fenced apparatus stops serving by itself within this
 * long (its renewal is refused, or its last granted one runs out).
 */
const apparatusLeaseMs = 30;
/**
 * A fenced apparatus rejoins only this long after its fence: every message of
 * the change that fenced it has arrived or is lost by then. A stale Hold
 * that reaches an apparatus after it rejoined at the same generation would
 * install a hold nobody releases; that case is left out, not checked.
 */
const rejoinAfterMs = 2 * lateMessageMaxMs + apparatusLeaseMs + latency.slowMaxMs;
const commits: CommitModel = { commitMinMs: 0.5, commitMaxMs: 3, commitFailureProbability: 0.03 };
/** The device's copy of a mirrored extent, between the mirror and the switch changes; sometimes it fails (a read error) and the extent is unmirrored. */
const deviceCopy = { minMs: 0.5, maxMs: 5, failureProbability: 0.05 };
/**
 * Progress bound: at most four message phases (hold, apply, abort and
 * release on the longest path), each ended by its timeout at the latest,
 * plus the commit, which may wait out a fenced apparatus's lease first.
 */
export const changeDurationMaxMs = 4 * phaseTimeoutMs + commits.commitMaxMs + apparatusLeaseMs + latency.slowMaxMs;
/** How long the commit waits after a fence, per fencing model. */
const fenceWaitBeforeCommitMs: Readonly<Record<FencingModel, number>> = { device: 0, lease: apparatusLeaseMs, "lease-and-io": apparatusLeaseMs + latency.slowMaxMs };
/** Pause between changes, during which hosts keep going. */
const changeGapMaxMs = 20;
/** After the last change, hosts run this long more before the load stops. */
const loadTailMs = 20;
const thinkMaxMs = 2;

assert.ok(blockSizeBytes <= extentSizeBytes && extentSizeBytes % blockSizeBytes === 0);
assert.ok(lateMessageMaxMs > phaseTimeoutMs, "late messages must be able to miss the phase timeout");
assert.ok(latency.slowMaxMs < phaseTimeoutMs, "a drain on a slow disk must fit a phase, or every slow disk fences");

/**
 * What stops a fenced apparatus from writing. "device": the device refuses
 * its I/O from the fence on (DESIGN.md, like SCSI persistent reservations).
 * "lease": the device refuses nothing; the apparatus stops when its lease
 * runs out, and the commit waits one lease after a fence, as
 * change-executor.ts does (before the device checked keys, that was all).
 * "lease-and-io": the device refuses nothing, and the commit waits a lease
 * plus the longest backend I/O after a fence (I/O admitted just before the
 * lease ran out still lands).
 */
export type FencingModel = "device" | "lease" | "lease-and-io";

export interface SimulationOptions {
  readonly seed: number;
  /** Changes to attempt. */
  readonly moves: number;
  /** A planted bug in every apparatus, to prove the simulator catches it. */
  readonly fault?: ApparatusFault;
  /** Default "device". */
  readonly fencing?: FencingModel;
  /** Disks slow to answer far more often: I/O admitted before a fence lands long after it. */
  readonly slowDisks?: boolean;
}

export interface SimulationResult {
  readonly seed: number;
  readonly options: SimulationOptions;
  readonly violations: readonly string[];
  readonly trace: readonly string[];
  readonly changes: readonly ChangeRecord[];
  readonly hostOperations: number;
  readonly events: number;
  readonly virtualMs: number;
  readonly fencings: number;
  readonly rejoins: number;
}

/** Per-run weather: some runs are calm, some lose and delay many messages. */
function networkOf(random: Random): NetworkModel {
  return {
    delayMinMs: 0.05,
    delayMaxMs: random.pick([1, 4, 10]),
    lossProbability: random.pick([0, 0.01, 0.04]),
    lateProbability: random.pick([0, 0.01, 0.04]),
    lateMinMs: phaseTimeoutMs,
    lateMaxMs: lateMessageMaxMs,
  };
}

function initialStore(): StoreState {
  return startingStore({ volumeName, volumeExtentCount, luCount, luSizeBytes: luSizeBytes, extentSizeBytes });
}

/** Everything one run holds. */
class Simulation {
  readonly world = new VirtualWorld();
  readonly random: Random;
  readonly fencing: FencingModel;
  readonly device: SimulatedDevice;
  readonly store = new SimulatedStore(initialStore());
  readonly apparatuses = new Map<string, VirtualizationApparatus>();
  /** Apparatuses the controller has not fenced (the control range), with when the others were fenced. */
  readonly controlRange = new Set<string>();
  readonly fencedAtMs = new Map<string, number>();
  /** When the latest fence was sent, by any change (one fenced in a release phase fences after its commit). */
  lastFenceAtMs = Number.NEGATIVE_INFINITY;
  readonly link: ControlLink;
  readonly load: HostLoad;
  readonly changes: ChangeRecord[] = [];
  readonly violations: string[] = [];
  fencings = 0;
  rejoins = 0;

  constructor(readonly options: SimulationOptions) {
    this.random = new Random(options.seed);
    this.fencing = options.fencing ?? "device";
    const lus = Array.from({ length: luCount }, () => new MemoryLu(luSizeBytes));
    this.device = new SimulatedDevice(lus, this.fencing === "device", extentSizeBytes, (area) => this.mirrorOf(area), (area) => this.sourceOf(area));
    this.link = new ControlLink(this.world, this.random, networkOf(this.random));
    const blockCount = (volumeExtentCount * extentSizeBytes) / blockSizeBytes;
    this.load = new HostLoad(this.world, this.random, { volume: volumeName, blockCount, thinkMaxMs, writeProbability: 0.5, flushProbability: 0, fuaProbability: 0, spanningProbability: 0, blocksPerExtent: blockCount }, new History());
    const count = apparatusCountMin + this.random.below(apparatusCountMax - apparatusCountMin + 1);
    for (let index = 0; index < count; index += 1) {
      const id = `a${index}`;
      const backends = simulatedBackends(this.world, this.random, options.slowDisks === true ? slowDiskLatency : latency, this.device, id);
      // Hold deadlines on the virtual clock: a run's outcome depends on its seed alone, never on how fast the machine is.
      const clock = { after: (delayMs: number, fire: () => void) => this.world.timer(delayMs, fire) };
      const warn = (message: string): void => { this.world.note(message); };
      this.apparatuses.set(id, new VirtualizationApparatus({ id, backends, clock, warn, ...(options.fault === undefined ? {} : { behaviour: apparatusFaultBehaviours[options.fault] }) }));
    }
  }

  /** Where the committed table mirrors an area to: the device mirrors from the commit of the mirror change to the commit that ends it. */
  mirrorOf(area: AreaPlace): AreaPlace | undefined {
    const columns = this.store.state.volumes.find((volume) => volume.name === volumeName)?.extents;
    if (columns == null) return undefined;
    for (let extent = 0; extent < columns.lu_index.length; extent += 1) {
      const mirrorPlusOne = columns.mirror_lu_index_plus_one[extent] ?? 0;
      if (mirrorPlusOne !== 0 && columns.lu_index[extent] === area.luIndex && columns.area_index[extent] === area.areaIndex) {
        return { luIndex: mirrorPlusOne - 1, areaIndex: columns.mirror_area_index[extent] ?? 0 };
      }
    }
    return undefined;
  }

  /** The source of the mirror the committed table has onto `area`, if any: I/O addressed there is the source's. */
  sourceOf(area: AreaPlace): AreaPlace | undefined {
    const columns = this.store.state.volumes.find((volume) => volume.name === volumeName)?.extents;
    if (columns == null) return undefined;
    for (let extent = 0; extent < columns.lu_index.length; extent += 1) {
      const mirrorPlusOne = columns.mirror_lu_index_plus_one[extent] ?? 0;
      if (mirrorPlusOne - 1 === area.luIndex && columns.mirror_area_index[extent] === area.areaIndex) {
        return { luIndex: columns.lu_index[extent] ?? 0, areaIndex: columns.area_index[extent] ?? 0 };
      }
    }
    return undefined;
  }

  changeContext(): ChangeContext {
    return {
      world: this.world, random: this.random, link: this.link, store: this.store,
      apparatuses: this.apparatuses, commits, epoch, phaseTimeoutMs,
      commitWaitAfterFenceMs: fenceWaitBeforeCommitMs[this.fencing],
      onFence: (apparatusId) => { this.fence(apparatusId); },
    };
  }

  /** claim 3: out of the control range, refused by the device now (if it refuses); the apparatus stops serving within a lease. */
  fence(apparatusId: string): void {
    this.fencings += 1;
    this.controlRange.delete(apparatusId);
    this.fencedAtMs.set(apparatusId, this.world.nowMs);
    this.lastFenceAtMs = this.world.nowMs;
    this.device.fence(apparatusId);
    this.world.schedule(this.random.between(0, apparatusLeaseMs), () => {
      if (this.device.keyOf(apparatusId) !== undefined) return; // registered again meanwhile
      this.apparatusOf(apparatusId).io.fence("its registration renewal was refused");
    });
  }

  apparatusOf(apparatusId: string): VirtualizationApparatus {
    const apparatus = this.apparatuses.get(apparatusId);
    assert.ok(apparatus !== undefined);
    return apparatus;
  }

  /** A whole table through the LoadTable codec, then a new registration key: how a controller takes an apparatus in. */
  async takeIn(apparatus: VirtualizationApparatus): Promise<void> {
    const method = loadGrpc().switchyard.v1.Apparatus.service.LoadTable;
    const request = method.requestDeserialize(method.requestSerialize({ epoch, table: this.store.table() }));
    assert.ok(request.table !== null);
    await apparatus.loadTable(request.epoch, request.table);
    this.device.register(apparatus.id);
    apparatus.io.unfence();
    this.controlRange.add(apparatus.id);
    this.world.note(`${apparatus.id} takes generation ${apparatus.generation} and joins the control range`);
  }
}

/** A plan from the real planner; undefined when it refuses (before anything is held). */
function planned(simulation: Simulation, what: string, plan: () => ChangePlan): ChangePlan | undefined {
  try {
    return plan();
  } catch (error) {
    // Already there, being mirrored, or no free area.
    if (!(error instanceof ControllerError)) throw error;
    simulation.world.note(`planner refuses ${what}: ${error.code}`);
    return undefined;
  }
}

/**
 * Runs one planned change through the real core with the control range as
 * it is now. Under the lease models, a change also starts only once the
 * latest fence is as old as its commit would wait: an apparatus fenced in
 * the release phase of the change before is fenced after that commit, and
 * the next one must not commit while it may still write.
 */
async function change(simulation: Simulation, plan: ChangePlan, move: number): Promise<ChangeRecord> {
  const quietMs = fenceWaitBeforeCommitMs[simulation.fencing] - (simulation.world.nowMs - simulation.lastFenceAtMs);
  if (quietMs > 0) await simulation.world.sleep(quietMs);
  const record = await runChange(simulation.changeContext(), plan, `${plan.kind}-${plan.baseGeneration + 1}-${move}`, [...simulation.controlRange]);
  simulation.changes.push(record);
  return record;
}

/**
 * A move of a random extent to a random other LU, as a migration makes it:
 * a mirror change, the device's copy, then a switch change, each held or
 * not (heldOnCoin); when the copy or the switch fails, an unmirror change
 * leaves the extent on its source.
 */
async function moveRandomExtent(simulation: Simulation, move: number): Promise<void> {
  const { random, store, world } = simulation;
  const extentIndex = random.below(volumeExtentCount);
  const toLuId = `lu${random.below(luCount)}`;
  const mirror = planned(simulation, `extent ${extentIndex} to ${toLuId}`, () => heldOnCoin(simulation, planMirror(store.state, volumeName, [extentIndex], toLuId)));
  if (mirror === undefined || (await change(simulation, mirror, move)).outcome !== "committed") return;
  await world.sleep(random.between(deviceCopy.minMs, deviceCopy.maxMs));
  const copied = !random.chance(deviceCopy.failureProbability);
  if (copied) {
    const columns = columnsOf(simulation);
    const source = { luIndex: columns.lu_index[extentIndex] ?? 0, areaIndex: columns.area_index[extentIndex] ?? 0 };
    const destination = simulation.mirrorOf(source);
    assert.ok(destination !== undefined, `extent ${extentIndex} left mirror state before its copy`);
    simulation.device.copyArea(source, destination);
    world.note(`device copies extent ${extentIndex} to lu${destination.luIndex}:${destination.areaIndex}`);
    const planSwitch = (): ChangePlan => heldOnCoin(simulation, planMirrorEnd(store.state, volumeName, [extentIndex], "switch"));
    const switched = planned(simulation, `switch of extent ${extentIndex}`, planSwitch);
    if (switched !== undefined && (await change(simulation, switched, move)).outcome === "committed") return;
  } else {
    world.note(`device copy of extent ${extentIndex} fails`);
  }
  const unmirror = planned(simulation, `unmirror of extent ${extentIndex}`, () => heldOnCoin(simulation, planMirrorEnd(store.state, volumeName, [extentIndex], "unmirror")));
  if (unmirror !== undefined) await change(simulation, unmirror, move);
}

/**
 * Every LU here is one device's, so the controller plans a migration's
 * changes without a hold (HOLD_MODE_NONE); on a coin toss a change holds
 * writes instead, as one between two devices does, so both protocols meet
 * every fault.
 */
function heldOnCoin(simulation: Simulation, plan: ChangePlan): ChangePlan {
  if (plan.holdMode !== "HOLD_MODE_NONE" || !simulation.random.chance(0.5)) return plan;
  return { ...plan, holdMode: "HOLD_MODE_WRITES" };
}

function columnsOf(simulation: Simulation): { readonly lu_index: readonly number[]; readonly area_index: readonly number[] } {
  const columns = simulation.store.state.volumes.find((volume) => volume.name === volumeName)?.extents;
  assert.ok(columns != null);
  return columns;
}

/** Fenced apparatuses whose quiet time has passed rejoin, each on a coin toss, so some runs keep one out. */
async function rejoinFenced(simulation: Simulation): Promise<void> {
  for (const [apparatusId, fencedAtMs] of [...simulation.fencedAtMs]) {
    if (simulation.world.nowMs - fencedAtMs < rejoinAfterMs || !simulation.random.chance(0.7)) continue;
    simulation.fencedAtMs.delete(apparatusId);
    simulation.rejoins += 1;
    await simulation.takeIn(simulation.apparatusOf(apparatusId));
  }
}

async function runMoves(simulation: Simulation): Promise<void> {
  const { world } = simulation;
  for (let move = 0; move < simulation.options.moves; move += 1) {
    await world.sleep(simulation.random.between(0, changeGapMaxMs));
    if (simulation.fencedAtMs.size > 0) await world.sleep(rejoinAfterMs);
    await rejoinFenced(simulation);
    await moveRandomExtent(simulation, move);
  }
}

/** The scenario: take every apparatus in, load it with hosts, run the moves, stop, read everything back. */
async function scenario(simulation: Simulation): Promise<void> {
  for (const apparatus of simulation.apparatuses.values()) await simulation.takeIn(apparatus);
  const clients: { apparatusId: string; done: Promise<void> }[] = [];
  for (const apparatus of simulation.apparatuses.values()) {
    for (let client = 0; client < clientsPerApparatus; client += 1) clients.push({ apparatusId: apparatus.id, done: simulation.load.client(apparatus) });
  }
  await runMoves(simulation);
  await simulation.world.sleep(loadTailMs);
  simulation.load.stop();
  // Clients of fenced apparatuses may wait at a hold forever; those in the control range must finish.
  await Promise.all(clients.filter((client) => simulation.controlRange.has(client.apparatusId)).map((client) => client.done));
  await simulation.world.sleep(latency.slowMaxMs);
  const blockCount = (volumeExtentCount * extentSizeBytes) / blockSizeBytes;
  for (const apparatusId of [...simulation.controlRange].sort()) {
    for (let block = 0; block < blockCount; block += 1) await simulation.load.read(simulation.apparatusOf(apparatusId), block, true);
  }
}

/** DESIGN.md invariants that the history checker does not cover: progress, and the control range at the committed generation. */
function checkEnd(simulation: Simulation): void {
  const { violations, store } = simulation;
  for (const change of simulation.changes) {
    const durationMs = change.endedAtMs - change.startedAtMs;
    if (durationMs > changeDurationMaxMs) violations.push(`progress: change ${change.changeId} took ${durationMs.toFixed(3)} ms, bound ${changeDurationMaxMs} ms`);
  }
  for (const apparatusId of simulation.controlRange) {
    const apparatus = simulation.apparatusOf(apparatusId);
    if (apparatus.generation !== store.generation) violations.push(`${apparatusId} is in the control range at generation ${apparatus.generation}, the store at ${store.generation}`);
    const pending = apparatus.state().pending_change_id ?? "";
    if (pending !== "" || !apparatus.io.gate.empty) violations.push(`progress: ${apparatusId} still holds (pending change "${pending}")`);
  }
}

function describeStuck(simulation: Simulation): string {
  const states = [...simulation.apparatuses.values()].map((apparatus) => {
    const state = apparatus.state();
    return `${apparatus.id}: generation ${apparatus.generation}, pending ${state.pending_change_id ?? ""}, in flight ${apparatus.io.inFlight}, ${state.status ?? ""}`;
  });
  return `progress: the run stopped with the scenario unfinished (${simulation.changes.length} changes done); ${states.join("; ")}`;
}

/** Runs one seeded simulation and checks it; never throws for a violation, returns it. */
export async function simulate(options: SimulationOptions): Promise<SimulationResult> {
  assert.ok(Number.isInteger(options.moves) && options.moves >= 0);
  const simulation = new Simulation(options);
  // Settled by the scenario's promise while the world runs: read only after runUntilIdle.
  const ending: { finished: boolean; failure: Error | undefined } = { finished: false, failure: undefined };
  scenario(simulation).then(
    () => { ending.finished = true; },
    (error: unknown) => { ending.failure = error instanceof Error ? error : new Error(String(error)); },
  );
  await simulation.world.runUntilIdle();
  if (ending.failure !== undefined) throw ending.failure;
  const violations = simulation.violations;
  if (!ending.finished) violations.push(describeStuck(simulation));
  else checkEnd(simulation);
  violations.push(...simulation.link.internalErrors, ...simulation.load.violations);
  violations.push(...simulation.load.history.found().map((violation) => `${violation.kind} of block ${violation.block}: ${violation.detail}`));
  simulation.world.note(`end: generation ${simulation.store.generation}, ${simulation.load.operations} host operations, ${violations.length} violations`);
  return {
    seed: options.seed,
    options,
    violations,
    trace: simulation.world.trace,
    changes: simulation.changes,
    hostOperations: simulation.load.operations,
    events: simulation.world.eventsProcessed,
    virtualMs: simulation.world.nowMs,
    fencings: simulation.fencings,
    rejoins: simulation.rejoins,
  };
}

/** Violations one failure line shows: the first few say what broke; the rest are usually its echoes. */
const violationsShownMax = 5;

/** One line for a failing run: the seed first, so it can be replayed. */
export function describeFailure(result: SimulationResult, what: string): string {
  return `${what}: seed ${result.seed} (replay: simulate(${JSON.stringify(result.options)})): ${result.violations.slice(0, violationsShownMax).join(" | ")}`;
}
