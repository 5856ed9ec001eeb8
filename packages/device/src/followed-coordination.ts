/**
 * A device that follows a coordination that is not its own (etcd, issue
 * 18): the controller's epochs are that coordination's tokens, the committed
 * table is its store, and registrations are its (storage-device.ts,
 * DeviceOpenOptions.coordination). Declared here by shape, so the device
 * depends on no coordination package: `@switchyard/coordination`'s
 * Coordination fits it.
 */
import { LeaseNotHeldError, StaleEpochError } from "./errors.js";
import type { RegistrationStatus } from "./device-registrations.js";
import type { FollowedRegistrationListener } from "./followed-registrations.js";
import type { EpochGrant } from "./arbiter.js";
import type { StoreState__Output } from "@switchyard/proto";

/** What a device asks of a coordination it follows: the Coordination interface's read calls. */
export interface FollowedCoordination {
  readStore(): Promise<{ readonly state: StoreState__Output }>;
  registrationStatus(apparatusId: string, registrationKey: string): Promise<RegistrationStatus>;
  /** Who holds the current term and its token; undefined when nobody does. */
  leaseHolder(): Promise<EpochGrant | undefined>;
  /**
   * Follows every registration and fence (followed-registrations.ts);
   * returns what stops it. Absent: the device asks at each renewal instead.
   */
  watchRegistrations?(listener: FollowedRegistrationListener): () => void;
}

/** Where the floor is kept across restarts: the device's arbiter (arbiter.ts raiseTo), whose saved epoch it starts from. */
export interface TokenFloorStore {
  readonly highestEpoch: number;
  raiseTo(epoch: number, holderId?: string): Promise<void>;
}

/**
 * The device's check of a followed coordination's tokens: it cannot ask
 * whether a token was granted, so it refuses only tokens below the highest
 * it has seen, as apparatuses do (claim 12). A raise is saved (arbiter.json,
 * with fsync), so a restarted device goes on refusing a deposed controller's
 * token. The check stays synchronous, the save behind it: a request whose
 * effect outlives a restart (a mirror, a scrub) waits for `durable()`
 * before it acts, while an effect held in memory only (a registration)
 * vanishes with the raise in a crash before the save, so it need not wait.
 */
export class TokenFloor {
  private highest: number;
  /** The save of the last raise. */
  private saving: Promise<void> = Promise.resolve();

  constructor(private readonly store: TokenFloorStore) {
    this.highest = store.highestEpoch;
  }

  /** Takes `token` as seen: a token the coordination named as granted to `holderId`. */
  raise(token: number, holderId: string): void {
    if (token > this.highest) this.raiseSaved(token, holderId);
  }

  check(token: number): void {
    if (token === 0) throw new LeaseNotHeldError("epoch 0 is never granted: acquire the lease first");
    if (token < this.highest) throw new StaleEpochError(token, this.highest);
    if (token > this.highest) this.raiseSaved(token, undefined);
  }

  private raiseSaved(token: number, holderId: string | undefined): void {
    this.highest = token;
    this.saving = this.store.raiseTo(token, holderId);
    // A failed save is reported to the requests that wait for it (durable()); no one waiting is no crash.
    this.saving.catch(() => undefined);
  }

  /** Resolves once the floor checked so far is on disk; rejects if the last raise's save failed. */
  durable(): Promise<void> {
    return this.saving;
  }
}
