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
import type { EpochGrant } from "./arbiter.js";
import type { StoreState__Output } from "@switchyard/proto";

/** What a device asks of a coordination it follows: the Coordination interface's read calls. */
export interface FollowedCoordination {
  readStore(): Promise<{ readonly state: StoreState__Output }>;
  registrationStatus(apparatusId: string, registrationKey: string): Promise<RegistrationStatus>;
  /** Who holds the current term and its token; undefined when nobody does. */
  leaseHolder(): Promise<EpochGrant | undefined>;
}

/**
 * The device's check of a followed coordination's tokens: it cannot ask
 * whether a token was granted, so it refuses only tokens below the highest
 * it has seen, as apparatuses do (claim 12). Kept in memory: after a restart
 * the arbiter's saved epoch is the floor until the controller's next request.
 */
export class TokenFloor {
  constructor(private highest: number) {}

  /** Takes `token` as seen: a token the coordination named as granted. */
  raise(token: number): void {
    this.highest = Math.max(this.highest, token);
  }

  check(token: number): void {
    if (token === 0) throw new LeaseNotHeldError("epoch 0 is never granted: acquire the lease first");
    if (token < this.highest) throw new StaleEpochError(token, this.highest);
    this.highest = token;
  }
}
