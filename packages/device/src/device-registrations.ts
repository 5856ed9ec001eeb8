/**
 * Which key each apparatus presents on I/O and which apparatuses are fenced
 * (claim 3, as SCSI persistent reservations refuse a preempted initiator):
 * the device's check on every I/O an apparatus sends it (`ioRefusal`, a map
 * lookup on the hot path). Kept in registrations.json (registrations-file.ts)
 * so that a restart changes nothing.
 *
 * Writers, by coordination (issue 18): with the embedded one the
 * controller registers and fences here under its epoch. With a coordination
 * that is not the device's own (etcd), the controller does so here after
 * etcd, and the device follows etcd's registrations itself
 * (followed-registrations.ts, `follow`) when the coordination can be
 * watched; a coordination that cannot is asked at each renewal an
 * apparatus makes through the device, whose answer is `record`ed, so a
 * fence at etcd is refused here from the apparatus's next renewal on.
 */
import { InvalidArgumentError, LimitExceededError } from "./errors.js";
import type { Registrations } from "./registrations-file.js";

/** Apparatuses registered at once; far above any cluster this design serves. */
export const registrationsMax = 1024;
export const registrationKeyLengthMax = 256;

export type RegistrationStatus = "granted" | "fenced" | "unknown";

/** Where a followed coordination says an apparatus stands (followed-coordination.ts, watchRegistrations). */
export type FollowedRegistration =
  | { readonly kind: "registered"; readonly registrationKey: string }
  | { readonly kind: "fenced" }
  | { readonly kind: "unknown" };

export class DeviceRegistrations {
  private readonly keysByApparatus: Map<string, string>;
  private readonly apparatusByKey: Map<string, string>;
  /** Fenced since their last registration. */
  private readonly fencedApparatuses: Set<string>;

  constructor(saved: Registrations) {
    this.keysByApparatus = new Map(saved.keys);
    this.apparatusByKey = new Map([...saved.keys].map(([apparatusId, key]) => [key, apparatusId]));
    this.fencedApparatuses = new Set(saved.fenced);
  }

  /** What registrations.json holds. */
  get saved(): Registrations {
    return { keys: this.keysByApparatus, fenced: this.fencedApparatuses };
  }

  /** Registers (or replaces) the key `apparatusId` presents on I/O; a fenced apparatus rejoins this way. */
  register(apparatusId: string, key: string): void {
    if (apparatusId.length === 0 || key.length === 0 || key.length > registrationKeyLengthMax) {
      throw new InvalidArgumentError(`apparatus id and a key of 1 to ${registrationKeyLengthMax} characters are required`);
    }
    const holder = this.apparatusByKey.get(key);
    if (holder !== undefined && holder !== apparatusId) {
      throw new InvalidArgumentError(`registration key is already registered by apparatus ${holder}`);
    }
    if (!this.keysByApparatus.has(apparatusId) && this.keysByApparatus.size >= registrationsMax) {
      throw new LimitExceededError(`${registrationsMax} apparatuses are registered already (limit)`);
    }
    const previous = this.keysByApparatus.get(apparatusId);
    if (previous !== undefined) this.apparatusByKey.delete(previous);
    this.keysByApparatus.set(apparatusId, key);
    this.apparatusByKey.set(key, apparatusId);
    this.fencedApparatuses.delete(apparatusId);
  }

  /** Removes the apparatus's key: I/O presenting it is refused until it registers again (claim 3). */
  fence(apparatusId: string): void {
    if (!this.fencedApparatuses.has(apparatusId) && this.fencedApparatuses.size >= registrationsMax) {
      throw new LimitExceededError(`${registrationsMax} apparatuses are fenced already (limit)`);
    }
    this.fencedApparatuses.add(apparatusId);
    const key = this.keysByApparatus.get(apparatusId);
    if (key === undefined) return;
    this.keysByApparatus.delete(apparatusId);
    this.apparatusByKey.delete(key);
  }

  /** Takes the coordination's answer to a renewal as the truth about `apparatusId` (see the header). */
  record(apparatusId: string, key: string, status: RegistrationStatus): void {
    switch (status) {
      case "granted":
        this.register(apparatusId, key);
        return;
      case "fenced":
        this.fence(apparatusId);
        return;
      case "unknown":
        // Not registered under this key: a key it presented before is no longer its own.
        if (this.keysByApparatus.get(apparatusId) === key) this.forget(apparatusId, key);
        return;
      default: {
        const unhandled: never = status;
        throw new Error(`unknown registration status ${String(unhandled)}`);
      }
    }
  }

  /**
   * Takes where a followed coordination says `apparatusId` stands as the
   * truth: registered under its key, fenced, or neither (no key and no
   * fence, as the coordination holds none).
   */
  follow(apparatusId: string, state: FollowedRegistration): void {
    switch (state.kind) {
      case "registered":
        this.register(apparatusId, state.registrationKey);
        return;
      case "fenced":
        this.fence(apparatusId);
        return;
      case "unknown": {
        const key = this.keysByApparatus.get(apparatusId);
        if (key !== undefined) this.forget(apparatusId, key);
        this.fencedApparatuses.delete(apparatusId);
        return;
      }
      default: {
        const unhandled: never = state;
        throw new Error(`unknown registration state ${JSON.stringify(unhandled)}`);
      }
    }
  }

  /** Every apparatus registered or fenced here. */
  known(): Set<string> {
    return new Set([...this.keysByApparatus.keys(), ...this.fencedApparatuses]);
  }

  /** Whether `apparatusId` may renew its registration under `key` (see RenewRegistration). */
  status(apparatusId: string, key: string): RegistrationStatus {
    if (this.apparatusByKey.get(key) === apparatusId) return "granted";
    return this.fencedApparatuses.has(apparatusId) ? "fenced" : "unknown";
  }

  /**
   * Why I/O from `apparatusId` presenting `key` is refused, or undefined when
   * it may go on: a fenced apparatus, one presenting a key that a newer
   * registration replaced, and one no controller has registered (the
   * registrations survive a restart, so an unknown id is not one the device
   * forgot).
   */
  ioRefusal(apparatusId: string, key: string): string | undefined {
    if (this.fencedApparatuses.has(apparatusId)) return `apparatus ${apparatusId} is fenced: the device refuses its I/O`;
    const registered = this.keysByApparatus.get(apparatusId);
    if (registered === undefined) return `apparatus ${apparatusId} has no registration: no controller has taken it in`;
    if (registered !== key) return `apparatus ${apparatusId} presents a registration key that was replaced`;
    return undefined;
  }

  isAllowed(key: string): boolean {
    return this.apparatusByKey.has(key);
  }

  private forget(apparatusId: string, key: string): void {
    this.keysByApparatus.delete(apparatusId);
    this.apparatusByKey.delete(key);
  }
}
