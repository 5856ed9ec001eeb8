/**
 * Disk faults as journal events (issue 21): a host sees only EIO or ENOSPC;
 * the device counts each failed read, write and flush of an LU's file and
 * keeps the newest failure with its time (GetInventory). While it leads,
 * the controller looks every `diskFaultCheckIntervalMs` and records a
 * failure newer than the last one recorded for that LU, at the failure's
 * own time, so the console's events panel shows it after any restart.
 *
 * The last recorded time per LU comes from the journal at a takeover, so a
 * successor records nothing twice; one failure the device reports again
 * after its own restart is not newer, and a device restart forgets its
 * counts (a failure before it that nobody saw stays unrecorded).
 */
import type { Inventory__Output, JournalEntry__Output } from "@switchyard/proto";
import type { DevicePort } from "./device-port.js";
import { eventRecordKind } from "./event-records.js";

/** How often the leading controller reads the device's inventory for new failures: within a scrape or two of the console's. */
export const diskFaultCheckIntervalMs = 5_000;

/** One failure to record: "DEVICE/LU", the cause line, and the failure's time. */
export interface DiskFault {
  readonly subject: string;
  readonly cause: string;
  readonly atMs: number;
}

const summaryPrefix = "disk-fault ";

export class DiskFaultWatch {
  /** Per "DEVICE/LU": the time of the newest failure recorded. */
  private readonly recordedAtMs = new Map<string, number>();
  private nextCheckAtMs = 0;

  /** What the journal holds already (a takeover reads it whole). */
  seed(journal: readonly JournalEntry__Output[]): void {
    for (const entry of journal) {
      if (entry.kind !== eventRecordKind || !entry.summary.startsWith(summaryPrefix)) continue;
      const subject = entry.summary.slice(summaryPrefix.length);
      this.recordedAtMs.set(subject, Math.max(this.recordedAtMs.get(subject) ?? 0, entry.started_at_ms));
    }
  }

  /** Whether a check is due at `nowMs`; if so, the next one is due an interval later. */
  due(nowMs: number): boolean {
    if (nowMs < this.nextCheckAtMs) return false;
    this.nextCheckAtMs = nowMs + diskFaultCheckIntervalMs;
    return true;
  }

  /** When a check is due: the failures newer than the journal's; none when the device does not answer (asked again next time). */
  async check(device: Pick<DevicePort, "getInventory">, nowMs: number): Promise<DiskFault[]> {
    if (!this.due(nowMs)) return [];
    const inventory = await device.getInventory({}).catch(() => undefined);
    return inventory === undefined ? [] : this.newFaults(inventory);
  }

  /** The LUs whose newest failure is newer than the one recorded; each is taken as recorded. */
  newFaults(inventory: Inventory__Output): DiskFault[] {
    const faults: DiskFault[] = [];
    for (const lu of inventory.lus) {
      const atMs = Math.round(lu.last_io_error_at_ms);
      const subject = `${inventory.device_id}/${lu.id}`;
      if (atMs === 0 || atMs <= (this.recordedAtMs.get(subject) ?? 0)) continue;
      this.recordedAtMs.set(subject, atMs);
      const count = lu.io_errors_total;
      faults.push({ subject, atMs, cause: `${count} failed I/O${count === 1 ? "" : "s"} of LU ${lu.id}'s file on device ${inventory.device_id} so far; the newest: ${lu.last_io_error}` });
    }
    return faults;
  }
}
