/**
 * Reads one snapshot of the cluster through the Controller service: status,
 * volumes and changes, shaped as the CLI's --json shapes them (the same
 * functions), with each extent map cut into runs for the page's strips.
 */
import type { ChangeInfo__Output, VolumeInfo__Output } from "@switchyard/proto";
import { changeJson } from "../commands/change.js";
import { clusterStatusJson } from "../commands/cluster.js";
import type { ConsoleClient } from "../controller-client.js";
import { isEventRecord } from "./cluster-events.js";
import type { ChangeSnapshot, ExtentRun, Snapshot, VolumeSnapshot } from "./snapshot-types.js";

/**
 * Runs drawn per volume: a strip wider than a screen's pixels shows nothing
 * more, and a volume of a million extents scattered over LUs would otherwise
 * send megabytes on every update.
 */
export const stripRunsMax = 2_048;

export function extentRuns(volume: VolumeInfo__Output): { runs: ExtentRun[]; truncated: boolean } {
  const runs: { lu: string; first_extent: number; extent_count: number; first_area: number }[] = [];
  for (const extent of volume.extents) {
    const last = runs.at(-1);
    if (last !== undefined && last.lu === extent.lu && last.first_area + last.extent_count === extent.area && last.first_extent + last.extent_count === extent.index) {
      last.extent_count += 1;
      continue;
    }
    if (runs.length === stripRunsMax) return { runs, truncated: true };
    runs.push({ lu: extent.lu, first_extent: extent.index, extent_count: 1, first_area: extent.area });
  }
  return { runs, truncated: false };
}

function volumeSnapshot(volume: VolumeInfo__Output): VolumeSnapshot {
  const { runs, truncated } = extentRuns(volume);
  return {
    name: volume.name,
    size_bytes: volume.size_bytes,
    extent_size_bytes: volume.extent_size_bytes,
    extent_count: volume.extents.length,
    runs,
    runs_truncated: truncated,
  };
}

export function changeSnapshot(change: ChangeInfo__Output): ChangeSnapshot {
  const running = change.state === "CHANGE_STATE_RUNNING";
  return {
    ...changeJson(change),
    // A running change's last phase is the one it is in (its time is not known until it ends).
    phase: running ? (change.phases.at(-1)?.phase ?? "") : "",
  };
}

export async function readSnapshot(client: ConsoleClient): Promise<Snapshot> {
  const [status, volumes, changes] = await Promise.all([client.clusterStatus(), client.listVolumes(), client.listChanges()]);
  return {
    at: new Date().toISOString(),
    cluster: clusterStatusJson(status),
    volumes: volumes.map(volumeSnapshot),
    // The controller's event records are the events panel's, not changes.
    changes: changes.filter((change) => !isEventRecord(change)).map(changeSnapshot),
  };
}
