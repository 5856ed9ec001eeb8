/**
 * What the web console's server sends the page: one snapshot of the cluster,
 * as JSON, on every change (server-sent events) and on request. Types only,
 * so the page's code (web/app.ts, compiled for the browser) shares them.
 * Field names follow the CLI's --json output, which the snapshot reuses.
 */

export interface LuSnapshot {
  readonly id: string;
  readonly size_bytes: number;
  readonly extent_size_bytes: number;
  readonly areas_total: number;
  readonly areas_free: number;
  readonly used_bytes: number;
  readonly free_bytes: number;
}

export interface DeviceSnapshot {
  readonly id: string;
  /** "" for an external device: it has no Device service. */
  readonly grpc: string;
  /** A third-party NBD server registered with `device add-external`. */
  readonly external: boolean;
  /** Where an external device is served (nbd://host:port/export); "" otherwise. */
  readonly nbd_uri: string;
  readonly lus: readonly LuSnapshot[];
}

export interface ApparatusSnapshot {
  readonly id: string;
  readonly nbd: string;
  readonly grpc: string;
  readonly pid: number;
  readonly state: string;
  readonly generation: number;
}

/** The cluster as `switchyard cluster status --json` prints it. */
export interface ClusterSnapshot {
  readonly generation: number;
  readonly devices: readonly DeviceSnapshot[];
  readonly apparatuses: readonly ApparatusSnapshot[];
  readonly controller: {
    readonly id: string;
    readonly epoch: number;
    readonly lease_expires_at: string;
    readonly pid: number;
    readonly thread_id: number;
  } | null;
  /** Where the election and the store live (issue 18); the controller's epoch is its token. */
  readonly coordination: CoordinationSnapshot;
}

export interface CoordinationSnapshot {
  /** "embedded" (the device) or "etcd". */
  readonly backend: string;
  readonly members: readonly { readonly name: string; readonly endpoint: string; readonly healthy: boolean; readonly leader: boolean }[];
}

/** Consecutive extents on consecutive areas of one LU: the strip draws one block per run. */
export interface ExtentRun {
  readonly lu: string;
  readonly first_extent: number;
  readonly extent_count: number;
  readonly first_area: number;
}

export interface VolumeSnapshot {
  readonly name: string;
  readonly size_bytes: number;
  readonly extent_size_bytes: number;
  readonly extent_count: number;
  readonly runs: readonly ExtentRun[];
  /** True when the volume has more runs than the strip draws (stripRunsMax); the rest are left out. */
  readonly runs_truncated: boolean;
}

/** A change as `switchyard change show --json` prints it. */
export interface ChangeJson {
  readonly id: string;
  readonly kind: string;
  readonly summary: string;
  readonly state: string;
  readonly message: string;
  readonly base_generation: number;
  readonly epoch: number;
  readonly started_at: string;
  readonly ended_at: string | null;
  /** In the order they began, each with its start (ms since the epoch). */
  readonly phases: readonly { readonly phase: string; readonly started_at_ms: number; readonly elapsed_ms: number }[];
  readonly reports: readonly { readonly phase: string; readonly apparatus: string; readonly ok: boolean; readonly message: string; readonly elapsed_ms: number }[];
  readonly fenced: readonly string[];
  /** What its Hold held: "writes", "all", "nothing" (a change whose every area was one device's, whose mirror took both faces' I/O), or null with no Hold. */
  readonly held: "writes" | "all" | "nothing" | null;
  /** A migration's progress: bytes moved of the total (0 of 0 for a change that copies no table), and per extent where it goes and how far it is. */
  readonly copied_bytes: number;
  readonly total_bytes: number;
  /** Of copied_bytes, those that were holes on both sides: the device wrote nothing there. */
  readonly hole_bytes_skipped: number;
  /** Chunk copies beyond the first, made because host writes went into a chunk while it was copied (they did not wait). */
  readonly chunks_copied_again: number;
  readonly copy_progress: readonly CopyProgressJson[];
}

export interface CopyProgressJson {
  readonly volume: string;
  readonly extent_index: number;
  /** "lu0:3": LU and area. */
  readonly source: string;
  readonly destination: string;
  readonly watermark_bytes: number;
  readonly hole_bytes_skipped: number;
  readonly chunks_copied_again: number;
  readonly state: string;
}

export interface ChangeSnapshot extends ChangeJson {
  /** The phase it is in while running ("" once finished). */
  readonly phase: string;
}

export interface Snapshot {
  /** When the server read it (ISO 8601). */
  readonly at: string;
  readonly cluster: ClusterSnapshot;
  readonly volumes: readonly VolumeSnapshot[];
  /** Oldest first, as the journal keeps them; running ones last. */
  readonly changes: readonly ChangeSnapshot[];
}

/** The page's forms post these as JSON; the fields are the CLI's option values, as text. */
export interface CreateVolumeForm {
  readonly name: string;
  readonly size: string;
  readonly lu: string;
}

export interface MoveExtentForm {
  readonly volume: string;
  readonly extent: string;
  readonly to: string;
}

export interface MigrateForm {
  readonly volume: string;
  readonly to: string;
  readonly extents: string;
  readonly rate: string;
  /** Set by the page to the migration it started: what its cancel button cancels. */
  readonly id: string;
}

/** A form's answer: an error is the line the CLI would print for the same input. */
export type FormAnswer =
  | { readonly ok: true; readonly message: string; readonly change?: ChangeSnapshot }
  | { readonly ok: false; readonly error: string };

/** One chart's series, oldest sample first, aligned with IoHistoryAnswer.times_ms. */
export interface IoSeriesJson {
  /** The volume's name or the apparatus's id. */
  readonly id: string;
  readonly iops: readonly number[];
  readonly bytes_per_second: readonly number[];
  /** null: no request finished in that interval. */
  readonly p50_ms: readonly (number | null)[];
  readonly p99_ms: readonly (number | null)[];
}

/** GET /api/io-history?search=&offset=: the charts' data (io-history.ts). */
export interface IoHistoryAnswer {
  readonly sample_interval_ms: number;
  readonly window_ms: number;
  /** The apparatus's default hold deadline: the hold strip marks a change held this long. */
  readonly hold_deadline_ms: number;
  /** When each sample was taken (ms since the epoch), oldest first. */
  readonly times_ms: readonly number[];
  readonly apparatuses: readonly IoSeriesJson[];
  /** One page of the volumes that have had I/O and whose name contains the search. */
  readonly volumes: { readonly matched: number; readonly offset: number; readonly page_size: number; readonly items: readonly IoSeriesJson[] };
}

export type ClusterEventKind = "fence" | "rejoin" | "failover" | "hold-expired" | "migration-failed" | "change-aborted" | "disk-fault";

/** One line of the events panel (cluster-events.ts). */
export interface ClusterEventJson {
  /** ISO 8601. */
  readonly at: string;
  readonly kind: ClusterEventKind;
  /** The apparatus, change or device it is about. */
  readonly subject: string;
  /** One line: why. */
  readonly cause: string;
  /** "journal": derived from the persisted change journal (survives restarts); "observed": seen by this console while it ran. */
  readonly source: "journal" | "observed";
}

/** GET /api/events: newest first. */
export interface EventsAnswer {
  readonly events: readonly ClusterEventJson[];
  /** False when the controller did not answer: only observed events are listed. */
  readonly journal_readable: boolean;
}
