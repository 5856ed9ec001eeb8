/**
 * A virtualization apparatus: it serves host I/O to virtual volumes through
 * its configuration table, and takes table changes from the controller.
 */
import assert from "node:assert/strict";
import type {
  ApparatusState,
  ApparatusStatus,
  ApplyReport,
  ConfigurationTable__Output,
  DifferenceTable__Output,
  HoldReport,
  HoldRequest__Output,
  ApplyRequest__Output,
  ReleaseRequest__Output,
  ReleaseReport,
  AbortRequest__Output,
  AbortReport,
  RegisterRequest__Output,
  RegisterReport,
  RelayLink,
} from "@switchyard/proto";
import type * as grpc from "@grpc/grpc-js";
import { applyDifference, checkDifference } from "./difference.js";
import { heldRanges } from "./held-ranges.js";
import { ContactLease, leaseMaxMs, leaseMinMs, type ContactRenewalPort } from "./contact-lease.js";
import { deviceLeaseHolders, type LeaseHolderSource } from "./lease-holder-lookup.js";
import { LeaseHolderCheck, nodeCredentials, type NodeCredentials } from "@switchyard/security";
import type { NbdExport, NbdExportListing, NbdExportProvider } from "@switchyard/nbd";
import type { BackendSet } from "./backend.js";
import { ConfigurationFaces } from "./configuration-faces.js";
import { apparatusBehaviourDefault, type ApparatusBehaviour } from "./apparatus-behaviour.js";
import { ApparatusError } from "./errors.js";
import { systemApparatusClock, type ApparatusClock, type CancelTimer } from "./apparatus-clock.js";
import type { HeldRange } from "./hold-gate.js";
import { IoPath } from "./io-path.js";
import { VolumeExport } from "./volume-export.js";

/** How long a Hold, or a table load, waits for I/O in flight to finish before it reports failure. */
export const drainTimeoutMs = 5_000;
/**
 * A hold that lasts this long without Release, Abort or a whole table ends
 * by itself: the apparatus stops serving the held volumes, failing their
 * held and new requests with ESHUTDOWN, until a controller loads the table.
 * Well above the phase timeout (2 s) and the apparatus lease (3 s), so only
 * a controller gone with no successor reaches it; no host request waits
 * longer than this (and one phase) at a hold.
 */
export const holdDeadlineMsDefault = 10_000;

interface PendingChange {
  readonly changeId: string;
  /** "aborted": flipped back, still holding until Release. */
  phase: "held" | "applied" | "aborted";
  /**
   * False for HOLD_MODE_NONE: nothing is held, and Apply answers once the
   * requests admitted under the old face have ended (the device's mirror
   * takes either face's I/O until the commit, area-mirror.ts).
   */
  readonly holds: boolean;
  readonly holdReport: HoldReport;
  diff: DifferenceTable__Output | undefined;
  applied: Promise<ApplyReport> | undefined;
}

interface FinishedChange {
  readonly changeId: string;
  readonly outcome: "released" | "aborted";
  readonly releasedRequests: number;
}

export interface ApparatusOptions {
  readonly id: string;
  readonly backends: BackendSet;
  /** How it decides at each protocol step (apparatus-behaviour.ts); the protocol as DESIGN.md states it if absent. */
  readonly behaviour?: ApparatusBehaviour;
  /**
   * Serve no host I/O until a controller registers it (an apparatus started
   * on its own, which may not have the current table yet).
   */
  readonly fencedUntilRegistered?: boolean;
  /** A hold's deadline (holdDeadlineMsDefault if absent). */
  readonly holdDeadlineMs?: number;
  /** Timers of hold deadlines (Node's if absent). */
  readonly clock?: ApparatusClock;
  /** Where it says what it did on its own (a hold that expired); process.emitWarning if absent. */
  readonly warn?: (message: string) => void;
  /**
   * Its identity folder (@switchyard/security layout.ts): registration
   * renewals present its certificate to the device, and serveApparatus
   * serves its gRPC with it over mutual TLS, each call checked against
   * apparatus-authorization.ts. Plain gRPC both ways if absent.
   */
  readonly tlsFolder?: string;
  /**
   * The device that grants epochs (host:port): with mutual TLS, the
   * apparatus asks it who holds an epoch the first time a caller acts under
   * it, and refuses callers other than that holder (lease-holder-lookup.ts).
   */
  readonly deviceAddress?: string;
  /**
   * Where it renews its registration (contact-lease.ts): with etcd, the
   * coordination itself, so that no device is on its liveness path (issue
   * 18 item 3). Absent: the device each Register names, over gRPC. Closed
   * with the apparatus.
   */
  readonly contactRenewal?: ContactRenewalPort;
  /** Where it asks who holds a new epoch (default: its device, GetLeaseHolder); on etcd, etcd. */
  readonly leaseHolders?: LeaseHolderSource;
  /**
   * The device in this process (the embedded appliance): its calls to the
   * device at `address` go over `link` (RelayLink in proto), not TLS on the
   * thread that serves hosts. Closed with the apparatus.
   */
  readonly deviceLink?: { readonly address: string; readonly link: RelayLink };
  /** Where this apparatus is reached, for GetState. */
  readonly nbdAddress?: string;
  readonly grpcAddress?: string;
}

export class VirtualizationApparatus {
  readonly id: string;
  readonly faces = new ConfigurationFaces();
  readonly io: IoPath;
  nbdAddress: string;
  grpcAddress: string;
  /** Its gRPC credentials, as a server and as a client (options.tlsFolder). */
  readonly credentials: NodeCredentials;
  private readonly backends: BackendSet;
  private readonly behaviour: ApparatusBehaviour;
  private epochSeen = 0;
  private readonly contact: ContactLease;
  /** Which certificate may act under each epoch: checked before the handlers when its gRPC has mutual TLS (serve.ts). */
  readonly holders: LeaseHolderCheck;
  private readonly deviceHolders: LeaseHolderSource;
  private readonly deviceLink: ApparatusOptions["deviceLink"];
  /** The change between Hold and Release (or Abort), if any. */
  private pending: PendingChange | undefined;
  /** Reports of the last finished change, to answer a repeated Release or Abort as before. */
  private finished: FinishedChange | undefined;
  private readonly holdDeadlineMs: number;
  private readonly clock: ApparatusClock;
  private readonly warn: (message: string) => void;
  /** The deadline of the hold in force, if any. */
  private holdDeadline: { readonly changeId: string; readonly cancel: CancelTimer } | undefined;

  constructor(options: ApparatusOptions) {
    assert.ok(options.id.length > 0);
    this.id = options.id;
    this.backends = options.backends;
    const behaviour = options.behaviour ?? apparatusBehaviourDefault;
    this.behaviour = behaviour;
    this.io = new IoPath(this.faces, options.backends, behaviour.settlesEveryPart);
    this.credentials = nodeCredentials(options.tlsFolder);
    this.deviceLink = options.deviceLink;
    const deviceClientOptions = (address: string): grpc.ClientOptions => (address === this.deviceLink?.address ? { interceptors: [this.deviceLink.link.interceptor()] } : {});
    this.contact = new ContactLease((reason) => {
      if (behaviour.submitsToFencing) this.io.fence(reason);
    }, { credentials: this.credentials.channel, deviceClientOptions, ...(options.contactRenewal === undefined ? {} : { renewal: options.contactRenewal }) });
    if (behaviour.submitsToFencing) this.io.lease = this.contact;
    this.deviceHolders = options.leaseHolders ?? deviceLeaseHolders(options.deviceAddress, this.credentials.channel, deviceClientOptions(options.deviceAddress ?? ""));
    this.holders = new LeaseHolderCheck(this.deviceHolders.lookup);
    if (options.fencedUntilRegistered === true) this.io.fence("not registered by a controller yet");
    this.holdDeadlineMs = options.holdDeadlineMs ?? holdDeadlineMsDefault;
    this.clock = options.clock ?? systemApparatusClock;
    this.warn = options.warn ?? ((message) => { process.emitWarning(message); });
    this.nbdAddress = options.nbdAddress ?? "";
    this.grpcAddress = options.grpcAddress ?? "";
  }

  /** Whether its control service checks callers' roles (its behaviour decides; serve.ts asks). */
  get checksCallers(): boolean {
    return this.behaviour.checksCallers;
  }

  /** Whether its control service checks that each caller holds the request's epoch (its behaviour decides; serve.ts asks). */
  get checksEpochHolders(): boolean {
    return this.behaviour.checksEpochHolders;
  }

  /** Why the control service refuses `request` for its integers before a handler runs (its behaviour decides; apparatus-service.ts asks). */
  integerRefusal(request: unknown): string | undefined {
    return this.behaviour.integerRefusal(request);
  }

  get generation(): number {
    return this.faces.active.generation;
  }

  /** The NBD exports: one per volume of the active face. */
  exports(): NbdExportProvider {
    return {
      list: (): NbdExportListing[] =>
        Array.from(this.faces.active.volumes.values(), (map) => ({
          name: map.name,
          description: `Switchyard volume ${map.name} via apparatus ${this.id}`,
        })),
      open: (name: string): NbdExport | undefined => {
        const map = this.faces.active.volumes.get(name);
        return map === undefined ? undefined : new VolumeExport(this.io, name, map.sizeBytes);
      },
    };
  }

  /** Refuses a message from a controller older than one already heard (DESIGN.md: fencing token). */
  checkEpoch(epoch: number): void {
    // An epoch the device named as granted counts as seen: every one below it is a deposed controller's.
    const seen = Math.max(this.epochSeen, this.holders.newestEpoch);
    if (!this.behaviour.acceptsEpoch(epoch, seen)) {
      throw new ApparatusError("STALE_EPOCH", `stale epoch ${epoch}: apparatus ${this.id} has seen epoch ${seen}`);
    }
    this.epochSeen = Math.max(seen, epoch);
  }

  private statusWord(): ApparatusStatus {
    if (this.io.fenced) return "APPARATUS_STATUS_FENCED";
    return this.io.gate.empty ? "APPARATUS_STATUS_SERVING" : "APPARATUS_STATUS_HELD";
  }

  /**
   * Hold (claims 1, 4, 6): stop admitting I/O that touches the ranges, wait
   * for the I/O admitted before, and report drained. A repeated Hold of the
   * pending change is answered as before.
   */
  async hold(request: HoldRequest__Output): Promise<HoldReport> {
    this.checkEpoch(request.epoch);
    const pending = this.pending;
    if (pending?.changeId === request.change_id) return pending.holdReport;
    if (pending !== undefined) throw new ApparatusError("CHANGE_IN_PROGRESS", `change ${pending.changeId} is between Hold and Release`);
    if (this.finished?.changeId === request.change_id) {
      throw new ApparatusError("CHANGE_IN_PROGRESS", `change ${request.change_id} was already ${this.finished.outcome}: a new change needs a new id`);
    }
    if (request.base_generation !== this.generation) {
      throw new ApparatusError("WRONG_GENERATION", `Hold for generation ${request.base_generation}, but apparatus ${this.id} is at ${this.generation}`);
    }
    const asked = heldRanges(this.faces.active, request);
    const holds = request.mode !== "HOLD_MODE_NONE";
    const ranges = holds ? this.behaviour.rangesToHold(asked) : [];
    if (ranges.length > 0) {
      this.io.gate.install(request.change_id, ranges, request.mode === "HOLD_MODE_WRITES" ? "writes" : "all");
      this.armHoldDeadline(request.change_id, ranges);
    }
    const startedMs = performance.now();
    let drained: number;
    try {
      drained = holds && this.behaviour.drainsAtHold ? await this.drain() : 0;
    } catch (error) {
      this.endHold(request.change_id);
      throw error;
    }
    const holdReport: HoldReport = {
      apparatus_id: this.id,
      change_id: request.change_id,
      drained_requests: drained,
      drain_ms: Math.round(performance.now() - startedMs),
    };
    this.pending = { changeId: request.change_id, phase: "held", holds, holdReport, diff: undefined, applied: undefined };
    return holdReport;
  }

  /**
   * Apply (claims 2, 13): write the diff into the standby face and flip.
   * Held I/O stays held until Release. Under HOLD_MODE_NONE it answers once
   * the requests admitted under the old face have ended: the commit that
   * ends the device's mirror must find none of them still on their way.
   */
  async apply(request: ApplyRequest__Output): Promise<ApplyReport> {
    this.checkEpoch(request.epoch);
    const pending = this.pendingChange(request.change_id, "Apply");
    // A late Apply must not flip an apparatus that was told to abort.
    if (pending.phase === "aborted") throw new ApparatusError("CHANGE_IN_PROGRESS", `change ${pending.changeId} was aborted: waiting for its Release`);
    if (pending.applied !== undefined) return pending.applied;
    const diff = request.diff;
    if (diff === null) throw new ApparatusError("INVALID_DIFF", "malformed diff: Apply carries no difference table");
    if (diff.base_generation !== this.generation) {
      throw new ApparatusError("WRONG_GENERATION", `diff from generation ${diff.base_generation}, but apparatus ${this.id} is at ${this.generation}`);
    }
    checkDifference(this.faces.standby, diff);
    this.behaviour.applyToStandby(this.faces.standby, diff);
    this.faces.flip();
    if (this.behaviour.releasesAtApply) this.endHold(request.change_id);
    pending.phase = "applied";
    pending.diff = diff;
    const report: ApplyReport = { apparatus_id: this.id, change_id: request.change_id, generation: this.generation, active_face: this.faces.activeFaceIndex };
    pending.applied = pending.holds || !this.behaviour.drainsAtHold ? Promise.resolve(report) : this.drain().then(() => report);
    return pending.applied;
  }

  /**
   * Release (claim 1): held I/O runs through the active face; then the old
   * face catches up. After an Abort the active face is the old one again,
   * and nothing needs catching up.
   */
  release(request: ReleaseRequest__Output): ReleaseReport {
    this.checkEpoch(request.epoch);
    const finished = this.finished;
    if (finished?.changeId === request.change_id) return { apparatus_id: this.id, change_id: finished.changeId, released_requests: finished.releasedRequests };
    const pending = this.pendingChange(request.change_id, "Release");
    const releasedRequests = this.endHold(pending.changeId);
    if (pending.diff !== undefined) applyDifference(this.faces.standby, pending.diff);
    return this.finish(pending.changeId, pending.phase === "aborted" ? "aborted" : "released", releasedRequests);
  }

  /**
   * Abort, before the commit point: flip back to the old face, and keep
   * holding until Release. Releasing here would be unsafe: under a
   * writes-only hold, an apparatus that has not got its Abort yet still reads
   * the new area, and must not miss writes this one lets through to the old
   * area. The controller sends Release once every apparatus has flipped back.
   */
  abort(request: AbortRequest__Output): AbortReport {
    this.checkEpoch(request.epoch);
    const repeated = this.repeatedFinish(request.change_id, "aborted");
    if (repeated !== undefined) return { apparatus_id: this.id, change_id: request.change_id, generation: this.generation };
    const pending = this.pendingChange(request.change_id, "Abort");
    if (pending.phase === "applied") {
      this.faces.flip();
      this.faces.installStandby(this.faces.active.clone());
    }
    pending.phase = "aborted";
    pending.diff = undefined;
    return { apparatus_id: this.id, change_id: request.change_id, generation: this.generation };
  }

  /** The hold's deadline (holdDeadlineMs): past it, the held volumes stop being served (expireHold). */
  private armHoldDeadline(changeId: string, ranges: readonly HeldRange[]): void {
    this.holdDeadline?.cancel();
    if (!this.behaviour.expiresHolds) return;
    const cancel = this.clock.after(this.holdDeadlineMs, () => {
      this.expireHold(changeId, ranges);
    });
    this.holdDeadline = { changeId, cancel };
  }

  /** Lifts a change's hold and its deadline; returns how many requests it held. */
  private endHold(changeId: string): number {
    if (this.holdDeadline?.changeId === changeId) {
      this.holdDeadline.cancel();
      this.holdDeadline = undefined;
    }
    return this.io.gate.release(changeId);
  }

  /**
   * No Release, Abort or table came within the deadline: the controller is
   * gone and no successor has taken over. The held volumes stop being served
   * (their held requests wake to ESHUTDOWN), so no host waits for ever, and
   * stay so until a controller loads the table: this apparatus cannot know
   * which face is the committed one.
   */
  private expireHold(changeId: string, ranges: readonly HeldRange[]): void {
    if (this.holdDeadline?.changeId !== changeId) return;
    this.holdDeadline = undefined;
    const volumes = [...new Set(ranges.map((range) => range.volume))];
    const reason = `the hold of change ${changeId} passed its ${this.holdDeadlineMs} ms deadline with no Release; a controller must load the table`;
    for (const volume of volumes) this.io.shutVolume(volume, reason);
    this.io.gate.stats.holdsExpired += 1;
    const released = this.io.gate.release(changeId);
    this.warn(`apparatus ${this.id}: ${reason}; ${released} held requests fail and ${volumes.join(", ")} is not served`);
  }

  private pendingChange(changeId: string, what: string): PendingChange {
    const pending = this.pending;
    if (pending?.changeId !== changeId) {
      throw new ApparatusError("UNKNOWN_CHANGE", `${what} for change ${changeId}, but the pending change is ${pending?.changeId ?? "none"}`);
    }
    return pending;
  }

  private repeatedFinish(changeId: string, outcome: FinishedChange["outcome"]): ReleaseReport | undefined {
    const finished = this.finished;
    if (finished?.changeId !== changeId) return undefined;
    if (finished.outcome !== outcome) {
      throw new ApparatusError("UNKNOWN_CHANGE", `change ${changeId} was already ${finished.outcome}`);
    }
    return { apparatus_id: this.id, change_id: changeId, released_requests: finished.releasedRequests };
  }

  private finish(changeId: string, outcome: FinishedChange["outcome"], releasedRequests: number): ReleaseReport {
    this.pending = undefined;
    this.finished = { changeId, outcome, releasedRequests };
    return { apparatus_id: this.id, change_id: changeId, released_requests: releasedRequests };
  }

  /**
   * Register: the controller takes this apparatus into its control range (at
   * start, or on rejoin after LoadTable). It serves again, and renews its
   * registration with the device from now on (contact-lease.ts).
   */
  register(request: RegisterRequest__Output): RegisterReport {
    this.checkEpoch(request.epoch);
    if (request.registration_key === "" || request.device_address === "") {
      throw new ApparatusError("INVALID_REGISTRATION", "Register needs a registration_key and a device_address");
    }
    if (request.lease_ms < leaseMinMs || request.lease_ms > leaseMaxMs) {
      throw new ApparatusError("INVALID_REGISTRATION", `lease_ms ${request.lease_ms} is not within ${leaseMinMs} to ${leaseMaxMs}`);
    }
    this.contact.start(this.id, request.registration_key, request.lease_ms, request.device_address);
    // The identity is what lets the device refuse this apparatus's I/O once it is fenced.
    if (this.behaviour.submitsToFencing) this.backends.identify({ apparatusId: this.id, key: request.registration_key });
    this.io.unfence();
    return { apparatus_id: this.id, generation: this.generation };
  }

  /**
   * Loads a whole table (start, rejoin, volume create or delete), replacing
   * any change in progress. I/O on a
   * volume the new table no longer has is refused from the flip on; the load
   * returns once the I/O admitted before it has finished, so the areas of a
   * deleted volume can be given to another.
   */
  async loadTable(epoch: number, table: ConfigurationTable__Output): Promise<void> {
    this.checkEpoch(epoch);
    try {
      this.faces.load(table);
    } catch (error) {
      throw new ApparatusError("INVALID_TABLE", `table refused: ${String(error)}`, { cause: error });
    }
    // The whole table supersedes a change this apparatus was left holding
    // (fenced in the middle of it): its held I/O goes on under the new table.
    const abandoned = this.pending;
    if (abandoned !== undefined) {
      this.pending = undefined;
      this.endHold(abandoned.changeId);
    }
    // The table is the controller's word on every volume: those a hold's deadline shut are served again.
    this.io.reopenAll();
    await this.drain();
    this.backends.retainExternal(table.lus);
  }

  /** Waits for the I/O admitted so far; returns how many requests that was. */
  private async drain(): Promise<number> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        reject(new ApparatusError("DRAIN_TIMEOUT", `I/O in flight on apparatus ${this.id} did not finish within ${drainTimeoutMs} ms`));
      }, drainTimeoutMs);
    });
    try {
      return await Promise.race([this.io.admission.barrier(), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  state(): ApparatusState {
    return {
      apparatus_id: this.id,
      generation: this.generation,
      active_face: this.faces.activeFaceIndex,
      holds: this.io.gate.summaries().map((hold) => ({
        change_id: hold.changeId,
        ranges: hold.ranges.map((range) => ({ volume: range.volume, offset_bytes: range.startBytes, length_bytes: range.endBytes - range.startBytes })),
        mode: hold.scope === "writes" ? "HOLD_MODE_WRITES" : "HOLD_MODE_ALL",
        held_requests: hold.heldRequests,
      })),
      pending_change_id: this.pending?.changeId ?? "",
      pending_phase: this.pending?.phase ?? "",
      epoch_seen: this.epochSeen,
      status: this.statusWord(),
      pid: process.pid,
      nbd_address: this.nbdAddress,
      grpc_address: this.grpcAddress,
      requests_in_flight: this.io.inFlight,
      volumes_shut: this.io.volumesShut,
      registration_key_sha256: this.behaviour.registrationInState(this.contact.registrationKey),
    };
  }

  async close(): Promise<void> {
    this.contact.close();
    this.deviceHolders.close();
    this.deviceLink?.link.close();
    await this.backends.close();
  }
}
