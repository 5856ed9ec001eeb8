/**
 * The decisions an apparatus makes at each step of the change protocol, as
 * one object the apparatus calls at those steps. Production uses
 * `apparatusBehaviourDefault`, the protocol as DESIGN.md states it; whoever
 * builds an apparatus may compose in another (tests do, from the `./testing`
 * subpath), so the apparatus itself has one code path.
 */
import { integerRangeRefusal, registrationKeyDigest, type DifferenceTable__Output } from "@switchyard/proto";
import { applyDifference } from "./difference.js";
import type { HeldRange } from "./hold-gate.js";
import type { TableFace } from "./configuration-faces.js";

export interface ApparatusBehaviour {
  /** Whether a message at `epoch` is obeyed, `epochSeen` being the highest heard so far (DESIGN.md: fencing token). */
  acceptsEpoch(epoch: number, epochSeen: number): boolean;
  /** The ranges a Hold installs its gate on, from those it was asked for; none: no gate. */
  rangesToHold(asked: readonly HeldRange[]): readonly HeldRange[];
  /** Whether a Hold (an Apply under HOLD_MODE_NONE) waits for the I/O admitted before it before it answers. */
  readonly drainsAtHold: boolean;
  /** Writes an Apply's diff into the standby face (checked already). */
  applyToStandby(standby: TableFace, diff: DifferenceTable__Output): void;
  /** Whether Apply lets held I/O go, instead of Release. */
  readonly releasesAtApply: boolean;
  /**
   * Whether it submits to fencing: stops serving when fenced or out of
   * contact past its lease, and presents its registration to the device so
   * that the device can refuse its I/O.
   */
  readonly submitsToFencing: boolean;
  /**
   * Whether a request spanning extents stays admitted until every part has
   * settled, even when one part fails at once (claim 6: otherwise a drain
   * reports drained while a sibling part still writes).
   */
  readonly settlesEveryPart: boolean;
  /** Whether a hold past its deadline ends by itself, failing the held requests (DESIGN.md "Progress"). */
  readonly expiresHolds: boolean;
  /** Whether the control service checks each caller's role on a server with mutual TLS (apparatus-authorization.ts). */
  readonly checksCallers: boolean;
  /** Whether it also checks that the caller holds the epoch a request acts under (lease-holder-lookup.ts). */
  readonly checksEpochHolders: boolean;
  /**
   * Why the control service refuses a request for its integers before any
   * handler runs, or undefined to run it (integer-range.ts: the epochs,
   * generations and offsets a double holds exactly).
   */
  integerRefusal(request: unknown): string | undefined;
  /** What GetState says of the registration key in force ("" until registered): the key itself never. */
  registrationInState(key: string): string;
}

/** The protocol as DESIGN.md states it. */
export const apparatusBehaviourDefault: ApparatusBehaviour = {
  acceptsEpoch: (epoch, epochSeen) => epoch >= epochSeen,
  // claim 4: hold only the changed ranges.
  rangesToHold: (asked) => asked,
  // claim 6: drained means no I/O admitted before the hold still runs.
  drainsAtHold: true,
  applyToStandby: applyDifference,
  // claim 1: held I/O runs only after the commit point, at Release.
  releasesAtApply: false,
  submitsToFencing: true,
  // claim 6: a request leaves admission once nothing of it still runs.
  settlesEveryPart: true,
  // DESIGN.md "Progress": every hold ends within a bound.
  expiresHolds: true,
  // DESIGN.md "Security": each method checks the caller's role before its handler runs.
  checksCallers: true,
  // DESIGN.md "Security": the change protocol only from the apparatus holding the lease.
  checksEpochHolders: true,
  // DESIGN.md "Errors and limits": an epoch past 2^53 - 1 would outrank every real one; refused, it changes nothing.
  integerRefusal: integerRangeRefusal,
  // DESIGN.md "Security": registration keys never appear in replies; the digest names the registration.
  registrationInState: registrationKeyDigest,
};
