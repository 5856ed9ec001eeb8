/**
 * The one coordination interface (issue 18): election with a fencing token
 * (claim 12), the transactional configuration store, and apparatus
 * registrations and fences (claim 3). Two implementations pass one shared
 * suite (testing/coordination-suite.ts): the embedded one, over a storage
 * device's arbiter and store (embedded-coordination.ts, the default of
 * `switchyard up`), and etcd v3 (etcd-coordination.ts).
 *
 * The contract both keep:
 * - `campaign` is one attempt, never a wait: it grants the term to the
 *   candidate or names the current holder.
 * - A term's `token` is the fencing token: a later holder's is strictly
 *   higher, and every write names the token it is made under; a write under
 *   a token that is no longer the holder's is refused with NOT_HOLDER.
 * - A holder stops acting at `validUntilMs` (on the caller's clock) unless a
 *   renewal extended it: that instant is at most one lease after the send of
 *   the last request the coordinator granted, so it comes no later than the
 *   moment the coordinator can let the term lapse.
 * - A store write names the revision it read; a write on a stale revision is
 *   refused with STALE_REVISION and changes nothing.
 * - A delta (a change's commit, journal records) applies to whatever store is
 *   current when it lands, folded by the one applier (proto's
 *   store-delta.ts); a diff not based on the stored generation is refused
 *   with STALE_GENERATION and changes nothing.
 */
import type { StoreDelta, StoreState, StoreState__Output } from "@switchyard/proto";

/** Which implementation: shown by `cluster status` and /metrics (issue 18 item 6). */
export type CoordinationBackend = "embedded" | "etcd";

export interface Candidate {
  /** The controller's id (its apparatus id). */
  readonly id: string;
  /** Where followers forward console requests to, host:port. */
  readonly address: string;
}

export interface Term {
  readonly holderId: string;
  readonly holderAddress: string;
  /** The fencing token (the claims' `epoch`): strictly higher for every later holder. */
  readonly token: number;
  /** False when someone else holds the term; the fields then describe that holder. */
  readonly granted: boolean;
  readonly leaseMs: number;
  /** On the caller's clock: the holder must have stopped acting by then unless it renewed. */
  readonly validUntilMs: number;
}

export interface StoreRead {
  readonly state: StoreState__Output;
  /** What the next write must name: any committed write changes it. */
  readonly revision: number;
}

/** One member of the coordinator: the device (embedded) or an etcd member. */
export interface CoordinationMember {
  readonly name: string;
  /** Where clients reach it: host:port (embedded) or a client URL (etcd). */
  readonly endpoint: string;
  /** It answered a status request within the call timeout. */
  readonly healthy: boolean;
  /** It is the member that orders writes (etcd's Raft leader; the one device). */
  readonly leader: boolean;
}

/** What `cluster status`, the console and /metrics show of the coordination (issue 18 item 6). */
export interface CoordinationStatus {
  readonly backend: CoordinationBackend;
  readonly members: readonly CoordinationMember[];
}

/**
 * Who holds the current term: an epoch (the token) names one holder for
 * ever, so servers bind each epoch to the certificate allowed to act under
 * it (GetLeaseHolder, @switchyard/security lease-holder-check.ts).
 */
export interface TermHolder {
  readonly holderId: string;
  /** The term's token. */
  readonly epoch: number;
}

/** What a device answers an apparatus renewing its registration. */
export type RegistrationStatus = "granted" | "fenced" | "unknown";

/**
 * Where one apparatus stands after a change at the coordinator: the key it
 * may present on I/O, fenced, or neither (its registration removed without
 * a fence, or never made).
 */
export type RegistrationState =
  | { readonly kind: "registered"; readonly registrationKey: string }
  | { readonly kind: "fenced" }
  | { readonly kind: "unknown" };

/** The apparatuses whose state changed at one revision of the coordinator, or every one known after a fresh read. */
export interface RegistrationUpdate {
  /** The coordinator's revision the states are at; never lower than the previous update's. */
  readonly revision: number;
  /** True after a fresh read: `states` names every apparatus the coordinator knows, and any other is unknown. */
  readonly complete: boolean;
  readonly states: ReadonlyMap<string, RegistrationState>;
}

export type RegistrationListener = (update: RegistrationUpdate) => void;

export interface Coordination {
  readonly backend: CoordinationBackend;
  /** One attempt to become the holder for `leaseMs`; see the contract above. */
  campaign(candidate: Candidate, leaseMs: number): Promise<Term>;
  /**
   * Calls `listener` when the holder a lost campaign named has ended its
   * term at the coordinator, so a follower campaigns at once rather than at
   * its next step; returns what stops it. Only a hint: the campaign decides.
   * Absent where the coordinator cannot tell (the embedded arbiter is asked
   * at each campaign step).
   */
  onVacancy?(listener: () => void): () => void;
  /**
   * Ends the term at `token` now, if it is still the holder's: for a holder
   * whose process is known gone (controller holder-watch.ts), so that its
   * followers need not wait the term out. Resolves false when that term no
   * longer holds. Absent where the coordinator cannot (the embedded arbiter).
   */
  endTerm?(token: number): Promise<boolean>;
  /** Extends a granted term; LEASE_LOST once it has lapsed or been taken. */
  renew(term: Term): Promise<Term>;
  /** A consistent snapshot of the whole store. */
  readStore(): Promise<StoreRead>;
  /** Replaces the store under `token`, if nothing was written since `expectedRevision`; resolves with the new revision. */
  writeStore(token: number, expectedRevision: number, state: StoreState): Promise<number>;
  /**
   * Folds `delta` into the store under `token` (claim 1: a change's commit
   * point; claim 2: it carries the diff, not the table); resolves with the
   * new revision. It does not depend on what the caller read: a concurrent
   * write of the same holder is folded into, not overwritten.
   */
  commitDelta(token: number, delta: StoreDelta): Promise<number>;
  /** Registers (or replaces) the key `apparatusId` presents on I/O; clears a fence. */
  registerKey(token: number, apparatusId: string, registrationKey: string): Promise<void>;
  /** Removes the apparatus's registration: it must stop serving (claim 3). */
  fence(token: number, apparatusId: string): Promise<void>;
  /**
   * Follows every registration and fence as the coordinator orders them, so
   * a device checks I/O against them without apparatus renewals passing
   * through it (issue 18 item 3: losing a device stops only I/O to its
   * LUs). The first update names every apparatus known; later ones only
   * those that changed, in revision order. Returns what stops it. Absent
   * where the device is the coordinator (embedded).
   */
  watchRegistrations?(listener: RegistrationListener): () => void;
  registrationStatus(apparatusId: string, registrationKey: string): Promise<RegistrationStatus>;
  /** The holder of the newest term and its token; undefined when none is known (etcd: nobody holds one now). */
  leaseHolder(): Promise<TermHolder | undefined>;
  /** The members and their health; never rejects for a member that does not answer (it is shown unhealthy). */
  status(): Promise<CoordinationStatus>;
  /** Ends this client's connections; a held term lapses at its coordinator. */
  close(): Promise<void>;
}

/**
 * Operating errors of every implementation, mapped by each to these codes
 * (at the gRPC edge: NOT_HOLDER and LEASE_LOST are FAILED_PRECONDITION,
 * STALE_REVISION is ABORTED, UNAVAILABLE is UNAVAILABLE, LIMIT_EXCEEDED is
 * RESOURCE_EXHAUSTED, STALE_GENERATION and MIRROR_NOT_IN_SYNC are
 * FAILED_PRECONDITION).
 */
export type CoordinationErrorCode =
  | "NOT_HOLDER"
  | "LEASE_LOST"
  | "STALE_REVISION"
  /** A delta's diff is not based on the stored generation: another change committed first. */
  | "STALE_GENERATION"
  /** The embedded store refused to switch an extent onto a mirror destination not in sync (device-mirrors.ts checkCommit). */
  | "MIRROR_NOT_IN_SYNC"
  | "UNAVAILABLE"
  | "INVALID_ARGUMENT"
  | "LIMIT_EXCEEDED";

export class CoordinationError extends Error {
  readonly code: CoordinationErrorCode;
  constructor(code: CoordinationErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "CoordinationError";
    this.code = code;
  }
}

/** Whether `error` is a CoordinationError with `code`. */
export function isCoordinationError(error: unknown, code: CoordinationErrorCode): boolean {
  return error instanceof CoordinationError && error.code === code;
}

/**
 * The instant a holder must stop acting: one lease after it sent the request
 * that was granted (issue 18: assume loss after one TTL, not two). The
 * coordinator started its own count no earlier than it received that
 * request, so this instant comes first on any two clocks that run at the
 * same rate.
 */
export function validUntilMs(sentAtMs: number, leaseMs: number): number {
  return sentAtMs + leaseMs;
}

/** A holder renews at a third of its lease: two renewals can fail before the term lapses. */
export function renewIntervalMs(leaseMs: number): number {
  return Math.floor(leaseMs / renewFractionDivisor);
}
const renewFractionDivisor = 3;
