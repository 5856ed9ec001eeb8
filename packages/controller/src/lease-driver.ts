/**
 * Drives the lease core (lease-core.ts, claim 12) over the Device service
 * and the scheduler: it sends the core's acquire and renew requests, gives
 * it their answers or their silence, ticks it at a third of the lease, and
 * hands what the core decides (lead, look after, step down, a new leader)
 * to whoever composes it. The decisions stay in the core.
 */
import type { Lease__Output } from "@switchyard/proto";
import type { DevicePort } from "./device-port.js";
import type { HolderProbe } from "./holder-probe.js";
import { HolderWatchCore, holderProbeIntervalMs, type HolderWatchCommand } from "./holder-watch.js";
import { LeaseCore, type LeaseCommand } from "./lease-core.js";
import type { CancelTimer, Scheduler } from "./scheduler.js";
import type { Warn } from "./environment.js";

/** What the composition does when the core decides. */
export interface LeaseDuties {
  /** This controller leads at a new epoch: take over. */
  lead(): Promise<void>;
  /** Renewed: look after the apparatuses. */
  lookAfter(): Promise<void>;
  /** The lease is gone: forget what was kept under it. */
  stepDown(reason: string): void;
  /** The leader's address changed ("" for nobody). */
  leader(address: string): void;
}

export interface LeaseDriverOptions {
  readonly id: string;
  /** Registered with the lease for consoles to find the controller. */
  readonly address: string;
  readonly leaseMs: number;
  readonly device: DevicePort;
  readonly scheduler: Scheduler;
  readonly warn: Warn;
  readonly duties: LeaseDuties;
  /**
   * Probes the holder's address while following, where the coordinator can
   * end a dead holder's term (DevicePort.endDeadHoldersTerm; holder-watch.ts).
   */
  readonly holderProbe?: HolderProbe;
}

export class LeaseDriver {
  private readonly options: LeaseDriverOptions;
  private readonly core: LeaseCore;
  private cancelTimer: CancelTimer | undefined;
  /** The arbiter's last grant, for the status (its expiry); only the core says whether this controller may act. */
  private granted: Lease__Output | undefined;
  /** A takeover or a look-after under way (care). */
  private caring: Promise<void> | undefined;
  private closed = false;
  /** The takeover at this epoch failed: the next renewal tries it again. */
  private takeoverOwed = false;
  /** Stops the coordinator's vacancy notices (DevicePort.onLeaseVacant), where it gives them. */
  private stopVacancies: (() => void) | undefined;
  private readonly holderWatch: HolderWatchCore;
  /** The next probe of the holder, while one is due or running. */
  private cancelProbe: CancelTimer | undefined;
  private probing = false;

  constructor(options: LeaseDriverOptions) {
    this.options = options;
    this.core = new LeaseCore(options.leaseMs);
    this.holderWatch = new HolderWatchCore(options.address);
  }

  /** The first step of the campaign; resolves after its answer, and after the takeover if it won. */
  start(): Promise<void> {
    this.stopVacancies = this.options.device.onLeaseVacant?.(() => {
      this.vacancy();
    });
    return this.tick();
  }

  /** The time on the scheduler's clock. */
  now(): number {
    return this.options.scheduler.now();
  }

  /** The epoch this controller may act under now, if it holds a valid lease. */
  epochNow(): number | undefined {
    return this.core.epochAt(this.options.scheduler.now());
  }

  /** The arbiter's grant while this controller leads. */
  get lease(): Lease__Output | undefined {
    return this.epochNow() === undefined ? undefined : this.granted;
  }

  close(): void {
    this.closed = true;
    this.cancelTimer?.();
    this.cancelProbe?.();
    this.stopVacancies?.();
  }

  /** One step of the campaign; the next is due at a third of the lease whatever this one waits for. */
  private tick(): Promise<void> {
    return this.step(this.core.onTick(this.options.scheduler.now()));
  }

  /** The holder's term ended at the coordinator: a follower campaigns now (the core decides), the ticks counting from here. */
  private vacancy(): void {
    if (this.closed) return;
    const commands = this.core.onVacancy(this.options.scheduler.now());
    if (commands.length > 0) void this.step(commands);
  }

  /** Performs a campaign step's commands with the next tick set at the core's time for it (one timer at a time). */
  private step(commands: readonly LeaseCommand[]): Promise<void> {
    this.cancelTimer?.();
    if (!this.closed) this.cancelTimer = this.options.scheduler.at(this.core.nextTickMs, () => void this.tick());
    return this.perform(commands);
  }

  private async perform(commands: readonly LeaseCommand[]): Promise<void> {
    const { id, address, device, duties } = this.options;
    const leaseMs = this.core.leaseMs;
    for (const command of commands) {
      switch (command.kind) {
        case "acquire":
          await this.ask(() => device.acquireLease({ candidate_id: id, candidate_address: address, lease_ms: leaseMs }));
          break;
        case "renew":
          await this.ask(() => device.renewLease({ holder_id: id, epoch: command.epoch, lease_ms: leaseMs }));
          break;
        case "lead":
          await this.care("lead");
          break;
        case "look-after":
          void this.care("look-after");
          break;
        case "step-down":
          this.granted = undefined;
          this.takeoverOwed = false;
          duties.stepDown(command.reason);
          break;
        case "leader":
          duties.leader(command.address);
          break;
      }
    }
  }

  /** Sends a lease request and gives the core its answer, or its silence. */
  private async ask(request: () => Promise<Lease__Output>): Promise<void> {
    const now = (): number => this.options.scheduler.now();
    let lease: Lease__Output;
    try {
      lease = await request();
    } catch (error: unknown) {
      this.options.warn(`controller ${this.options.id}: the arbiter did not answer: ${String(error)}`);
      await this.perform(this.core.onSilence(now()));
      return;
    }
    if (lease.granted) this.granted = lease;
    if (lease.granted) this.holderWatch.stop();
    else this.followHolder(lease.holder_address, lease.epoch);
    await this.perform(this.core.onAnswer({ granted: lease.granted, epoch: lease.epoch, holderAddress: lease.holder_address, leaseMs: lease.lease_ms }, now()));
  }

  /**
   * Takes over on winning the lease, and looks after the apparatuses after
   * each renewal; never two at once. A look-after finding one under way is
   * skipped; a takeover waits for it.
   */
  private async care(asked: "lead" | "look-after"): Promise<void> {
    if (asked === "look-after" && this.caring !== undefined) return;
    const { duties } = this.options;
    // A takeover that failed (a store read unanswered, say) is tried again instead of the look-after:
    // until it succeeds, holds a predecessor left are nobody's to end.
    const kind = this.takeoverOwed ? "lead" : asked;
    const work = (this.caring ?? Promise.resolve()).then(() => (kind === "lead" ? duties.lead() : duties.lookAfter()));
    const settled: Promise<void> = work.then(() => {
      if (kind === "lead") this.takeoverOwed = false;
    }, (error: unknown) => {
      if (kind === "lead") this.takeoverOwed = true;
      this.options.warn(`controller ${this.options.id}: ${String(error)}`);
    }).finally(() => {
      if (this.caring === settled) this.caring = undefined;
    });
    this.caring = settled;
    await settled;
  }

  /** A refused campaign named the holder: probe its address, where a dead holder's term can be ended. */
  private followHolder(address: string, epoch: number): void {
    if (this.options.holderProbe === undefined || this.options.device.endDeadHoldersTerm === undefined) return;
    this.holderWatch.follow(address, epoch);
    this.probeLater();
  }

  /** One probe at a time, holderProbeIntervalMs after the last. */
  private probeLater(): void {
    const command = this.holderWatch.next();
    if (this.closed || this.probing || command === undefined) return;
    this.probing = true;
    this.cancelProbe = this.options.scheduler.at(this.options.scheduler.now() + holderProbeIntervalMs, () => void this.probe(command));
  }

  private async probe(command: HolderWatchCommand): Promise<void> {
    const probe = this.options.holderProbe;
    if (probe === undefined || this.closed) return;
    const outcome = await probe(command.address);
    this.probing = false;
    this.cancelProbe = undefined;
    const next = this.holderWatch.onProbe(command.address, command.epoch, outcome);
    if (next?.kind === "end-term") await this.endTerm(next);
    this.probeLater();
  }

  /** The holder's process is gone: its term ends at the coordinator now, and this follower campaigns. */
  private async endTerm(command: HolderWatchCommand): Promise<void> {
    const { id, device, warn } = this.options;
    warn(`controller ${id}: the controller at ${command.address} (epoch ${command.epoch}) refuses connections: its process is gone, so its term ends now`);
    try {
      await device.endDeadHoldersTerm?.(command.epoch);
    } catch (error: unknown) {
      warn(`controller ${id}: ending the term at epoch ${command.epoch} failed (it runs out by itself): ${String(error)}`);
    }
    this.vacancy();
  }
}
