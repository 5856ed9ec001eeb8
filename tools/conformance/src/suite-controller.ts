/**
 * The suite as the configuration change controller, the way the real one
 * does it (packages/controller, cluster-controller.ts): it takes the
 * controller lease from the device's arbiter (claim 12) and renews it, so
 * every message carries a current epoch; it registers the apparatus under a
 * fresh key at the device and then with the apparatus; and it sends the
 * change protocol's messages with a deadline each.
 */
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { leaseMinMs } from "@switchyard/device";
import * as grpc from "@grpc/grpc-js";
import {
  callUnary,
  controlChannelOptions,
  deadlineAfter,
  loadGrpc,
  type AbortReport__Output,
  type AbortRequest,
  type ApparatusClient,
  type ApparatusState__Output,
  type ApplyReport__Output,
  type ApplyRequest,
  type ConfigurationTable,
  type DeviceClient,
  type HealthClient,
  type HoldReport__Output,
  type HoldRequest,
  type Lease__Output,
  type ReleaseReport__Output,
  type ReleaseRequest,
  type StoreSnapshot__Output,
} from "@switchyard/proto";
import { suiteIdentities } from "./certificates.js";
import { CheckFailure } from "./check.js";

/** One control call: longer than a drain the suite provokes (a slow disk), short enough to fail a stuck apparatus soon. */
export const callTimeoutMs = 8_000;
/** The controller lease the suite asks for; renewed every third of it. */
const leaseMs = 10_000;
/**
 * The lease the apparatus gets: short, so that a fenced apparatus notices
 * within seconds, and long enough that its renewals (every quarter lease,
 * each given that long) outlast a busy machine. At 1 s, four renewals in a
 * row could miss with a dozen suites running at once in CI, and the
 * apparatus would show itself fenced in the middle of an unrelated case:
 * the likely cause of a malformed-diff failure there.
 */
export const apparatusLeaseMs = 3_000;
/** The lowest epoch the stale-epoch case sends: a real term, not the "no epoch" 0. */
export const staleEpochMin = 1;
/** Past a lease's end by this much, the arbiter (on its own clock) has surely let it lapse. */
const leaseLapseSlackMs = 50;
/** The suite's name at the arbiter: its controller certificate's id (the device checks that they match). */
const candidateId = suiteIdentities.controller.id;

export class SuiteController {
  readonly device: DeviceClient;
  readonly apparatus: ApparatusClient;
  readonly health: HealthClient;
  readonly deviceAddress: string;
  private lease: Lease__Output | undefined;
  private renewTimer: NodeJS.Timeout | undefined;
  /** The last renewal's failure, reported by `epoch` so that a lost lease fails the next case, not the process. */
  private renewFailure: string | undefined;
  apparatusId = "";
  registrationKey = "";

  /** `credentials`: the suite's controller certificate in a run with TLS, plain without. */
  constructor(deviceAddress: string, readonly apparatusAddress: string, readonly credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure()) {
    const v1 = loadGrpc().switchyard.v1;
    this.deviceAddress = deviceAddress;
    this.device = new v1.Device(deviceAddress, credentials, controlChannelOptions);
    this.apparatus = new v1.Apparatus(apparatusAddress, credentials, controlChannelOptions);
    this.health = new (loadGrpc().grpc.health.v1.Health)(apparatusAddress, credentials);
  }

  private async acquire(durationMs: number): Promise<Lease__Output> {
    const lease = await callUnary<Lease__Output>((done) =>
      this.device.AcquireLease({ candidate_id: candidateId, candidate_address: "", lease_ms: durationMs }, { deadline: deadlineAfter(callTimeoutMs) }, done),
    );
    if (!lease.granted) {
      throw new CheckFailure(
        `the device's controller lease is held by ${lease.holder_id} (epoch ${lease.epoch}): the suite must be the only controller ` +
          "(start the apparatus with --no-candidate, and no other controller)",
      );
    }
    return lease;
  }

  /**
   * Takes the controller lease; refuses to go on if another controller
   * holds it. On a fresh device the first term is epoch 1, and the only
   * stale epoch below it would be 0, which an apparatus may refuse as
   * malformed rather than stale; so the suite lets a short first term lapse
   * and takes the next, leaving epoch 1 as a deposed controller's.
   */
  async takeLease(): Promise<void> {
    const first = await this.acquire(leaseMinMs);
    if (first.epoch < staleEpochMin + 1) await sleep(leaseMinMs + leaseLapseSlackMs);
    const lease = await this.acquire(leaseMs);
    this.lease = lease;
    this.renewTimer = setInterval(() => void this.renew(), Math.floor(leaseMs / 3));
    this.renewTimer.unref();
  }

  private async renew(): Promise<void> {
    const lease = this.lease;
    if (lease === undefined) return;
    try {
      this.lease = await callUnary<Lease__Output>((done) =>
        this.device.RenewLease({ holder_id: candidateId, epoch: lease.epoch, lease_ms: leaseMs }, { deadline: deadlineAfter(callTimeoutMs) }, done),
      );
      this.renewFailure = undefined;
    } catch (error) {
      this.renewFailure = `the suite could not renew its controller lease: ${String(error)}`;
    }
  }

  /** The fencing token every message carries. */
  get epoch(): number {
    if (this.lease === undefined) throw new CheckFailure("the suite holds no controller lease");
    if (this.renewFailure !== undefined) throw new CheckFailure(this.renewFailure);
    return this.lease.epoch;
  }

  async readStore(): Promise<StoreSnapshot__Output> {
    return callUnary<StoreSnapshot__Output>((done) =>
      this.device.ReadStore({ omit_extents: false, omit_journal: true }, { deadline: deadlineAfter(callTimeoutMs) }, done),
    );
  }

  /** Takes the apparatus into the control range under a fresh key, as a controller's rejoin does. */
  async register(): Promise<void> {
    const epoch = this.epoch;
    const key = `${this.apparatusId}:${randomBytes(8).toString("hex")}`;
    await callUnary((done) => this.device.RegisterKey({ epoch, apparatus_id: this.apparatusId, registration_key: key }, { deadline: deadlineAfter(callTimeoutMs) }, done));
    this.registrationKey = key;
    await callUnary((done) =>
      this.apparatus.Register(
        { epoch, registration_key: key, lease_ms: apparatusLeaseMs, device_address: this.deviceAddress },
        { deadline: deadlineAfter(callTimeoutMs) },
        done,
      ),
    );
  }

  /** Claim 3: removed from the control range; the device refuses its renewals and its I/O. */
  async fence(): Promise<void> {
    const epoch = this.epoch;
    await callUnary((done) => this.device.Fence({ epoch, apparatus_id: this.apparatusId }, { deadline: deadlineAfter(callTimeoutMs) }, done));
  }

  getState(): Promise<ApparatusState__Output> {
    return callUnary<ApparatusState__Output>((done) => this.apparatus.GetState({}, { deadline: deadlineAfter(callTimeoutMs) }, done));
  }

  async loadTable(table: ConfigurationTable, epoch = this.epoch): Promise<void> {
    await callUnary((done) => this.apparatus.LoadTable({ epoch, table }, { deadline: deadlineAfter(callTimeoutMs) }, done));
  }

  hold(request: HoldRequest): Promise<HoldReport__Output> {
    return callUnary<HoldReport__Output>((done) => this.apparatus.Hold(request, { deadline: deadlineAfter(callTimeoutMs) }, done));
  }

  apply(request: ApplyRequest): Promise<ApplyReport__Output> {
    return callUnary<ApplyReport__Output>((done) => this.apparatus.Apply(request, { deadline: deadlineAfter(callTimeoutMs) }, done));
  }

  release(request: ReleaseRequest): Promise<ReleaseReport__Output> {
    return callUnary<ReleaseReport__Output>((done) => this.apparatus.Release(request, { deadline: deadlineAfter(callTimeoutMs) }, done));
  }

  abort(request: AbortRequest): Promise<AbortReport__Output> {
    return callUnary<AbortReport__Output>((done) => this.apparatus.Abort(request, { deadline: deadlineAfter(callTimeoutMs) }, done));
  }

  close(): void {
    if (this.renewTimer !== undefined) clearInterval(this.renewTimer);
    this.device.close();
    this.apparatus.close();
    this.health.close();
  }
}
