/**
 * A device that follows a coordination's registrations itself (issue 18
 * item 3: losing a device must stop only I/O to its LUs, so apparatuses
 * renew with the coordination, not through a device). Each update the
 * coordination sends (followed-coordination.ts, watchRegistrations) is
 * applied to the registrations the per-I/O check reads, then saved to
 * registrations.json as the controller's RegisterKey and Fence are, so a
 * restart starts from the last state followed.
 *
 * The watch is then the one writer besides the controller's own RegisterKey
 * and Fence (which it sends after etcd's): a renewal through the device no
 * longer records its answer, since an answer read before a fence but
 * recorded after the fence's event would register the fenced apparatus
 * again.
 */
import { InvalidArgumentError, LimitExceededError } from "./errors.js";
import type { DeviceRegistrations, FollowedRegistration } from "./device-registrations.js";
import type { FollowedCoordination } from "./followed-coordination.js";

/** One update of a followed coordination's registrations (coordination's RegistrationUpdate, by shape). */
export interface FollowedRegistrationUpdate {
  readonly revision: number;
  /** True after a fresh read: every apparatus not named has neither key nor fence there. */
  readonly complete: boolean;
  readonly states: ReadonlyMap<string, FollowedRegistration>;
}

export type FollowedRegistrationListener = (update: FollowedRegistrationUpdate) => void;

/**
 * Applies `update` to `registrations`; resolves nothing, returns the states
 * it could not take (a key another apparatus holds here, a full table), each
 * said in a sentence. Removals and fences go first, so that a key one
 * apparatus gave up and another took at the same revision moves.
 */
export function applyFollowedUpdate(registrations: DeviceRegistrations, update: FollowedRegistrationUpdate): string[] {
  const states = new Map(update.states);
  if (update.complete) {
    for (const apparatusId of registrations.known()) if (!states.has(apparatusId)) states.set(apparatusId, { kind: "unknown" });
  }
  const ordered = [...states].sort(([, left], [, right]) => Number(left.kind === "registered") - Number(right.kind === "registered"));
  const refusals: string[] = [];
  for (const [apparatusId, state] of ordered) {
    try {
      registrations.follow(apparatusId, state);
    } catch (error) {
      // Bad data at the coordination is an operating error: said, and the rest of the update still applies.
      if (!(error instanceof InvalidArgumentError || error instanceof LimitExceededError)) throw error;
      refusals.push(`registration of apparatus ${apparatusId} at revision ${update.revision} not followed: ${error.message}`);
    }
  }
  return refusals;
}

/**
 * Follows `coordination`'s registration updates into `registrations`,
 * saving each; returns what stops it, or undefined when there is nothing to
 * follow (no coordination, or one that cannot be watched).
 */
export function followIfWatched(
  coordination: FollowedCoordination | undefined,
  registrations: DeviceRegistrations,
  save: () => Promise<void>,
  warn: (message: string) => void,
): (() => void) | undefined {
  if (coordination?.watchRegistrations === undefined) return undefined;
  return coordination.watchRegistrations((update) => {
    for (const refusal of applyFollowedUpdate(registrations, update)) warn(refusal);
    save().catch((error: unknown) => {
      // In memory the check already follows; the file catches up at the next update.
      warn(`registrations.json not saved after revision ${update.revision}: ${String(error)}`);
    });
  });
}
