/**
 * The controller's side of arbitration (claim 12) as a sans-I/O core: it
 * takes the time and the arbiter's answers and returns what to do, so the
 * same code runs in production (cluster-controller.ts drives it over gRPC
 * and the system scheduler) and in the simulator (tools/simulator, on
 * virtual time with lost and late answers).
 *
 * candidate -> (acquire granted) -> leader -> (renew refused, or no renewal
 * before the lease runs out) -> candidate
 * The lease counts from when the request was sent, not from its answer: the
 * arbiter's clock started no earlier, so this side never believes in a
 * lease longer than the arbiter grants it. Past that point the controller
 * must not act (the fencing token, the epoch, keeps a deposed controller
 * harmless; this keeps a correct one from trying).
 */
import assert from "node:assert/strict";

/** What the arbiter answered to an acquire or a renewal. */
export interface LeaseAnswer {
  readonly granted: boolean;
  readonly epoch: number;
  /** The address of whoever holds the lease now ("" for nobody). */
  readonly holderAddress: string;
  /** How long the lease was granted for, from the arbiter's receipt of the request. */
  readonly leaseMs: number;
}

export type LeaseCommand =
  /** Ask the arbiter for the lease (AcquireLease). */
  | { readonly kind: "acquire" }
  /** Extend the lease held at `epoch` (RenewLease). */
  | { readonly kind: "renew"; readonly epoch: number }
  /** This controller leads from now on at `epoch`: take over (load every apparatus, finish what a predecessor left). */
  | { readonly kind: "lead"; readonly epoch: number }
  /** Renewed: look after the apparatuses (keys, rejoins) while leading. */
  | { readonly kind: "look-after"; readonly epoch: number }
  /** The lease at `epoch` is gone: stop acting under it. */
  | { readonly kind: "step-down"; readonly epoch: number; readonly reason: string }
  /** The leader's address changed, as the arbiter names it ("" for nobody). */
  | { readonly kind: "leader"; readonly address: string };

interface HeldLease {
  readonly epoch: number;
  /** On this side's clock: from here on, the lease may be another's. */
  readonly validUntilMs: number;
}

export class LeaseCore {
  /** How long this controller asks the lease for; it renews at a third of it. */
  readonly leaseMs: number;
  private held: HeldLease | undefined;
  /** The request in flight and when it was sent; one at a time. */
  private asking: { readonly kind: "acquire" | "renew"; readonly sentAtMs: number } | undefined;
  private leaderAddress = "";
  private nextTickAtMs = 0;
  /** The holder's term ended while a campaign was in flight: that campaign may have seen it still there. */
  private vacantWhileAsking = false;

  constructor(leaseMs: number) {
    assert.ok(Number.isFinite(leaseMs) && leaseMs > 0, `lease of ${leaseMs} ms`);
    this.leaseMs = leaseMs;
  }

  /** When onTick is due next: a renewal at a third of the lease, or the next campaign. */
  get nextTickMs(): number {
    return this.nextTickAtMs;
  }

  /** The epoch this controller may act under at `nowMs`, or undefined if it holds no valid lease. */
  epochAt(nowMs: number): number | undefined {
    const held = this.held;
    return held !== undefined && nowMs < held.validUntilMs ? held.epoch : undefined;
  }

  /** One step of the campaign: acquire while a candidate, renew while leading; never two requests at once. */
  onTick(nowMs: number): LeaseCommand[] {
    this.nextTickAtMs = nowMs + this.renewIntervalMs;
    const commands = this.expire(nowMs);
    if (this.asking !== undefined) return commands;
    const held = this.held;
    this.asking = { kind: held === undefined ? "acquire" : "renew", sentAtMs: nowMs };
    commands.push(held === undefined ? { kind: "acquire" } : { kind: "renew", epoch: held.epoch });
    return commands;
  }

  /**
   * The coordinator says the holder's term ended (etcd's watch): a follower
   * campaigns now instead of at its next tick. A leader ignores it (its own
   * renewals say whether it still holds); with a request in flight, the
   * campaign goes again as soon as that one is refused.
   */
  onVacancy(nowMs: number): LeaseCommand[] {
    if (this.held !== undefined) return [];
    if (this.asking !== undefined) {
      this.vacantWhileAsking = true;
      return [];
    }
    return this.onTick(nowMs);
  }

  /** The arbiter's answer to the request in flight. */
  onAnswer(answer: LeaseAnswer, nowMs: number): LeaseCommand[] {
    const asking = this.asking;
    assert.ok(asking !== undefined, "an answer with no request in flight");
    assert.ok(answer.leaseMs >= 0 && Number.isInteger(answer.epoch) && answer.epoch >= 0);
    this.asking = undefined;
    const commands = this.expire(nowMs);
    if (asking.kind === "acquire") this.announce(answer.holderAddress, commands);
    if (answer.granted) this.vacantWhileAsking = false;
    if (!answer.granted) {
      if (this.held !== undefined) commands.push(this.stepDown(`the arbiter refused to renew epoch ${this.held.epoch}`));
      return this.campaignAgainIfVacant(commands, nowMs);
    }
    const validUntilMs = asking.sentAtMs + answer.leaseMs;
    const previous = this.held;
    assert.ok(previous === undefined || answer.epoch >= previous.epoch, `granted epoch ${answer.epoch} below the held ${previous?.epoch ?? 0}`);
    if (previous !== undefined && previous.epoch !== answer.epoch) commands.push(this.stepDown(`the arbiter moved the lease on to epoch ${answer.epoch}`));
    // An answer that comes after its own lease ran out grants nothing usable.
    if (validUntilMs <= nowMs) return commands;
    const continuing = this.held !== undefined;
    this.held = { epoch: answer.epoch, validUntilMs };
    commands.push(continuing ? { kind: "look-after", epoch: answer.epoch } : { kind: "lead", epoch: answer.epoch });
    return commands;
  }

  /** The request in flight got no answer (a timeout, a broken channel): the lease runs out by itself. */
  onSilence(nowMs: number): LeaseCommand[] {
    assert.ok(this.asking !== undefined, "silence with no request in flight");
    this.asking = undefined;
    // The next tick campaigns anyway; a vacancy kept for a later refusal would only add a campaign then.
    this.vacantWhileAsking = false;
    return this.expire(nowMs);
  }

  /** A vacancy came while the refused campaign was in flight: one more campaign at once, not at the next tick. */
  private campaignAgainIfVacant(commands: LeaseCommand[], nowMs: number): LeaseCommand[] {
    if (!this.vacantWhileAsking) return commands;
    this.vacantWhileAsking = false;
    this.asking = { kind: "acquire", sentAtMs: nowMs };
    commands.push({ kind: "acquire" });
    return commands;
  }

  private get renewIntervalMs(): number {
    return Math.max(1, Math.floor(this.leaseMs / 3));
  }

  private expire(nowMs: number): LeaseCommand[] {
    const held = this.held;
    if (held === undefined || nowMs < held.validUntilMs) return [];
    return [this.stepDown(`the lease at epoch ${held.epoch} ran out without a renewal`)];
  }

  private stepDown(reason: string): LeaseCommand {
    const held = this.held;
    assert.ok(held !== undefined);
    this.held = undefined;
    return { kind: "step-down", epoch: held.epoch, reason };
  }

  private announce(address: string, commands: LeaseCommand[]): void {
    if (address === this.leaderAddress) return;
    this.leaderAddress = address;
    commands.push({ kind: "leader", address });
  }
}
