/**
 * Planted bugs of the cluster simulation's own simulated parts (issue 19
 * item 2, the fencing gaps), beside the apparatus's (ApparatusFault, from
 * @switchyard/apparatus/testing): each is the simulated device or port
 * doing the one thing the real code did before the gap was closed, so that
 * the run proves it catches that gap. Test code only, like every fault.
 *
 * "takeover-fence-swallowed": a Fence the device never answered is taken as
 * recorded, as the takeover's `catch` once took it: the controller keeps no
 * fence owed, so its commits go on while the apparatus it fenced, cut off
 * from the controllers but not from the device, renews and serves the old
 * map. Planted at the controller's device port (the controller's code runs
 * unchanged): a Fence that fails at the very moment this controller's
 * GetState of that apparatus failed is a takeover's (membership.ts takeOver
 * fences at once), and only those are swallowed; a change's failed Fence
 * still fails.
 * "unknown-id-io": the device lets I/O through from an apparatus that has no
 * registered key (a fenced one: the fence removed it) and refuses only a key
 * that another registration replaced.
 * "grant-before-save": the arbiter grants a new epoch at once and saves it
 * after; a failed save (the disk failing) crashes the device, which reopens
 * at the older epoch and grants the same one again.
 * "store-ack-before-sync": the store answers a commit before its record is
 * on the disk, so a power cut can lose a commit the controller was told of.
 * "flush-skips-lu": after a rejoin, every apparatus's backend set flushes
 * only the LUs it reached since, as the NBD backends did before the fix
 * (flushSkipsLuBackendSet, @switchyard/apparatus/testing; before a rejoin it
 * flushes as the real set does): a FLUSH after a rejoin answers OK without
 * reaching an LU that holds writes acknowledged before it, and a power cut
 * then loses them (the LUs' write cache, lu-write-cache.ts; the history
 * checker knows which writes a FLUSH made durable). The weather cuts power
 * right after a rejoined apparatus's first FLUSH now and then.
 *
 * "destination-not-aliased": the device takes I/O addressed to a live
 * mirror's destination as that area's alone, as it did before switches
 * went without a hold (HOLD_MODE_NONE): an apparatus that took the new face
 * writes the destination only, and one still on the old face reads the
 * source without that write, or an aborted switch leaves it behind.
 *
 * "early-admission-end" is the apparatus's (apparatusFaultBehaviours: a
 * request spanning extents leaves admission at its first failed part), not
 * one of these: the simulation shows it with a bad range of an LU
 * (lu-range-faults.ts) under the extent after the one a move holds, and
 * that move's LU slow (device-paths.ts), so a write spanning the two has one
 * part refused at once while the other still runs; the drain reports
 * drained, the move commits, and that part lands on the area the move
 * retired, which the device's paths report (claim 6).
 */
import type { ApparatusFault } from "@switchyard/apparatus/testing";

export type SimulatedFault = "takeover-fence-swallowed" | "unknown-id-io" | "grant-before-save" | "store-ack-before-sync" | "flush-skips-lu" | "destination-not-aliased";

/** A planted bug in every apparatus, or in the simulated device and ports. */
export type ClusterFault = ApparatusFault | SimulatedFault;

export const simulatedFaults: readonly SimulatedFault[] = ["takeover-fence-swallowed", "unknown-id-io", "grant-before-save", "store-ack-before-sync", "flush-skips-lu", "destination-not-aliased"];

export function isSimulatedFault(fault: ClusterFault): fault is SimulatedFault {
  return (simulatedFaults as readonly string[]).includes(fault);
}

/** What each planted bug of the simulated parts changes; all false is the code as built. */
export interface PlantedBugs {
  readonly swallowsFailedFences: boolean;
  readonly letsUnknownIdsIo: boolean;
  readonly grantsBeforeSave: boolean;
  readonly acksStoreBeforeSync: boolean;
  readonly flushSkipsLu: boolean;
  readonly skipsDestinationAlias: boolean;
}

export function plantedBugs(fault: ClusterFault | undefined): PlantedBugs {
  return {
    swallowsFailedFences: fault === "takeover-fence-swallowed",
    letsUnknownIdsIo: fault === "unknown-id-io",
    grantsBeforeSave: fault === "grant-before-save",
    acksStoreBeforeSync: fault === "store-ack-before-sync",
    flushSkipsLu: fault === "flush-skips-lu",
    skipsDestinationAlias: fault === "destination-not-aliased",
  };
}
