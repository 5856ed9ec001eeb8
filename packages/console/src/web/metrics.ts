/**
 * /metrics: what this process knows, in the Prometheus text format.
 *
 * Host I/O and holds are counted by each apparatus in the process that runs
 * it, and served by that process's console (per-process metrics, as
 * Prometheus scrapes any fleet): `switchyard up` runs every apparatus in one
 * process, so its /metrics covers them all; `apparatus serve --http-port P`
 * serves its own. Gathering them through the controller instead would add a
 * fan-out RPC per scrape on the I/O processes and would lose every series
 * exactly when the controller fails over, which is when they are wanted.
 *
 * Change phase durations come from the change journal, read through the
 * Controller service like the page reads it: the controller may be on a
 * worker thread or in another process, and the journal outlives it, so any
 * console shows the same cluster-wide change history.
 */
import { Histogram, ioOperations } from "@switchyard/apparatus";
import { luIoOperations } from "@switchyard/device";
import type { ApparatusFigures, LocalFigures } from "./local-figures.js";
import type { ChangeInfo__Output, ClusterStatus__Output } from "@switchyard/proto";
import { PrometheusText, type HistogramSeries, type Sample } from "./prometheus-text.js";

/** Phases last from a millisecond (hold of an idle volume) to a minute (a copy of a gibibyte area on a slow disk). */
export const changePhaseBucketsSeconds: readonly number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

function outcomeKey(kind: string, state: string): string {
  return `${kind}\u0000${state}`;
}

/**
 * Counts each finished change of the journal once: phase durations per
 * change kind and phase, and changes per kind and outcome. It remembers only
 * the ids still in the journal, so its memory is bounded by the journal's.
 */
export class ChangeMetrics {
  /** The migrations in the journal, running or ended, as the last scrape read them. */
  private migrations: readonly ChangeInfo__Output[] = [];
  private seen = new Set<string>();
  private readonly phases = new Map<string, { readonly kind: string; readonly phase: string; readonly histogram: Histogram }>();
  /**
   * Failed migrations are written from 0 before the first one: Prometheus's
   * increase() sees no rise in a series whose first sample is already 1, so
   * the alert on them (deploy/prometheus/alerts.yml) would miss the first.
   */
  private readonly outcomes = new Map<string, { readonly kind: string; readonly state: string; count: number }>([
    [outcomeKey("migrate", "failed"), { kind: "migrate", state: "failed", count: 0 }],
  ]);

  observe(changes: readonly ChangeInfo__Output[]): void {
    this.migrations = changes.filter((change) => change.kind === "migrate");
    const present = new Set<string>();
    for (const change of changes) {
      if (change.state === "CHANGE_STATE_RUNNING") continue;
      present.add(change.id);
      if (this.seen.has(change.id)) continue;
      for (const phase of change.phases) this.phaseHistogram(change.kind, phase.phase).observe(phase.elapsed_ms / 1000);
      const state = change.state.replace("CHANGE_STATE_", "").toLowerCase();
      const key = outcomeKey(change.kind, state);
      const outcome = this.outcomes.get(key) ?? { kind: change.kind, state, count: 0 };
      outcome.count += 1;
      this.outcomes.set(key, outcome);
    }
    this.seen = present;
  }

  private phaseHistogram(kind: string, phase: string): Histogram {
    const key = `${kind}\u0000${phase}`;
    const known = this.phases.get(key);
    if (known !== undefined) return known.histogram;
    const histogram = new Histogram(changePhaseBucketsSeconds);
    this.phases.set(key, { kind, phase, histogram });
    return histogram;
  }

  write(text: PrometheusText): void {
    text.counter(
      "switchyard_changes_total",
      "Configuration changes finished, by kind and outcome (from the change journal).",
      [...this.outcomes.values()].map((entry) => ({ labels: { kind: entry.kind, state: entry.state }, value: entry.count })),
    );
    text.histogram(
      "switchyard_change_phase_duration_seconds",
      "Duration of each phase of finished configuration changes (hold, copy, apply, commit, release, abort).",
      [...this.phases.values()].map((entry) => ({ labels: { kind: entry.kind, phase: entry.phase }, histogram: entry.histogram })),
    );
    this.writeMigrations(text, Date.now());
  }

  /** Each migration's bytes copied and to copy, and its average rate from start to end (or to now while it runs). */
  private writeMigrations(text: PrometheusText, nowMs: number): void {
    const labelsOf = (migration: ChangeInfo__Output): Record<string, string> => ({
      migration: migration.id, volume: migration.copy_progress[0]?.volume ?? "", state: migration.state.replace("CHANGE_STATE_", "").toLowerCase(),
    });
    const rate = (migration: ChangeInfo__Output): number => {
      const endMs = migration.state === "CHANGE_STATE_RUNNING" ? nowMs : migration.ended_at_ms;
      const seconds = (endMs - migration.started_at_ms) / 1000;
      return seconds > 0 ? migration.copied_bytes / seconds : 0;
    };
    text.gauge("switchyard_migration_copied_bytes", "Bytes a migration has copied to its target (from its copy progress table).",
      this.migrations.map((migration) => ({ labels: labelsOf(migration), value: migration.copied_bytes })));
    text.gauge("switchyard_migration_total_bytes", "Bytes a migration has to copy in all.",
      this.migrations.map((migration) => ({ labels: labelsOf(migration), value: migration.total_bytes })));
    text.gauge("switchyard_migration_rate_bytes_per_second", "A migration's average copy rate, from its start to its end or to now while it runs.",
      this.migrations.map((migration) => ({ labels: labelsOf(migration), value: rate(migration) })));
  }
}

function ioFamilies(text: PrometheusText, apparatuses: readonly ApparatusFigures[]): void {
  const requests: Sample[] = [];
  const bytes: Sample[] = [];
  const errors: Sample[] = [];
  const latency: HistogramSeries[] = [];
  for (const apparatus of apparatuses) {
    for (const volume of apparatus.volumes) {
      volume.operations.forEach((counters, index) => {
        if (counters.requests === 0) return;
        const labels = { apparatus: apparatus.id, volume: volume.volume, operation: ioOperations[index] ?? "" };
        requests.push({ labels, value: counters.requests });
        bytes.push({ labels, value: counters.bytes });
        errors.push({ labels, value: counters.errors });
        latency.push({ labels, histogram: counters.latency });
      });
    }
  }
  text.counter("switchyard_io_requests_total", "Host requests served over NBD, by apparatus, volume and operation.", requests);
  text.counter("switchyard_io_bytes_total", "Bytes read or written by host requests that succeeded.", bytes);
  text.counter("switchyard_io_errors_total", "Host requests that failed (refused, fenced, out of range or an I/O error).", errors);
  text.histogram("switchyard_io_latency_seconds", "Host request latency from arrival to reply, including any wait at a hold.", latency);
  text.gauge(
    "switchyard_io_requests_in_flight",
    "Host requests admitted and not yet finished.",
    apparatuses.map((apparatus) => ({ labels: { apparatus: apparatus.id }, value: apparatus.inFlight })),
  );
}

function holdFamilies(text: PrometheusText, apparatuses: readonly ApparatusFigures[]): void {
  const byApparatus = (value: (apparatus: ApparatusFigures) => number): Sample[] =>
    apparatuses.map((apparatus) => ({ labels: { apparatus: apparatus.id }, value: value(apparatus) }));
  text.counter("switchyard_holds_total", "Holds installed by configuration changes (claim 4).", byApparatus((apparatus) => apparatus.holds.installed));
  text.gauge("switchyard_holds_active", "Holds in force now.", byApparatus((apparatus) => apparatus.holds.active));
  text.counter("switchyard_holds_expired_total", "Holds that passed their deadline with no Release: their volumes stop being served until a controller loads the table.", byApparatus((apparatus) => apparatus.holds.expired));
  text.counter("switchyard_held_requests_total", "Host requests that waited at a hold until it was released.", byApparatus((apparatus) => apparatus.holds.heldRequests));
  text.histogram(
    "switchyard_hold_duration_seconds",
    "How long each hold lasted, from Hold to Release (or to a whole-table load that ended it).",
    apparatuses.map((apparatus) => ({ labels: { apparatus: apparatus.id }, histogram: apparatus.holds.duration })),
  );
  text.gauge("switchyard_hold_oldest_age_seconds", "How long the oldest hold in force has lasted, 0 with none (a hold never released never reaches the histogram).",
    byApparatus((apparatus) => apparatus.holds.oldestAgeMs / 1000));
  text.gauge("switchyard_table_generation", "The configuration table generation of each apparatus's active face.", byApparatus((apparatus) => apparatus.generation));
}

/** Everything one scrape renders. */
export interface MetricsSources {
  /** The apparatuses and devices in this process (a device only in `switchyard up`), read for this scrape. */
  readonly figures: LocalFigures;
  readonly changes: ChangeMetrics;
  readonly journalReadable: boolean;
  /** The cluster as the controller answered this scrape, or undefined if it did not. */
  readonly cluster: ClusterStatus__Output | undefined;
}

/**
 * The cluster as the controller sees it (every apparatus and LU, in this
 * process or not): whether a controller answered, which apparatuses are
 * fenced, and each LU's areas, for the alerts of deploy/prometheus.
 */
function clusterFamilies(text: PrometheusText, cluster: ClusterStatus__Output | undefined): void {
  const controllerUp = cluster?.controller !== undefined && cluster.controller !== null;
  text.gauge("switchyard_controller_up", "1 if a controller holding the lease answered this scrape, 0 if none did.", [{ labels: {}, value: controllerUp ? 1 : 0 }]);
  const apparatuses = cluster?.apparatuses ?? [];
  text.gauge("switchyard_apparatus_fenced", "1 if the controller has fenced the apparatus (out of the control range; the device refuses its I/O).",
    apparatuses.map((apparatus) => ({ labels: { apparatus: apparatus.id }, value: apparatus.state === "APPARATUS_STATUS_FENCED" ? 1 : 0 })));
  const lus = (cluster?.devices ?? []).flatMap((device) => device.lus.map((lu) => ({ labels: { device: device.id, lu: lu.id }, lu })));
  text.gauge("switchyard_lu_areas", "Storage areas an LU is cut into.", lus.map(({ labels, lu }) => ({ labels, value: lu.areas_total })));
  text.gauge("switchyard_lu_areas_free", "Storage areas of an LU that no volume uses.", lus.map(({ labels, lu }) => ({ labels, value: lu.areas_free })));
  const coordination = cluster?.coordination ?? null;
  const members = coordination === null ? [] : coordination.members.map((member) => ({ labels: { backend: coordination.backend, member: member.name }, member }));
  text.gauge("switchyard_coordination_member_healthy", "1 if the coordination member (the device, or an etcd member) answered the controller's status request.",
    members.map(({ labels, member }) => ({ labels, value: member.healthy ? 1 : 0 })));
  text.gauge("switchyard_coordination_member_leader", "1 for the member that orders the coordination's writes (etcd's Raft leader; the one device).",
    members.map(({ labels, member }) => ({ labels, value: member.leader ? 1 : 0 })));
  text.gauge("switchyard_controller_token", "The controller's fencing token (its lease epoch; an etcd revision on etcd).",
    cluster?.controller == null ? [] : [{ labels: { controller: cluster.controller.id }, value: cluster.controller.epoch }]);
}

/** The whole /metrics page. A controller that does not answer shows as switchyard_change_journal_up 0 rather than failing the scrape: the I/O series are still good. */
export function renderMetrics(sources: MetricsSources): string {
  const text = new PrometheusText();
  ioFamilies(text, sources.figures.apparatuses);
  holdFamilies(text, sources.figures.apparatuses);
  sources.changes.write(text);
  text.gauge("switchyard_change_journal_up", "1 if this scrape read the change journal from the controller, 0 if the controller did not answer.", [
    { labels: {}, value: sources.journalReadable ? 1 : 0 },
  ]);
  clusterFamilies(text, sources.cluster);
  text.counter("switchyard_store_write_errors_total", "Failed writes of the configuration store's files (each refused a change or a registration; the store retries at the next write).",
    sources.figures.devices.map((device) => ({ labels: { device: device.id }, value: device.storeWriteErrors })));
  text.counter("switchyard_lu_io_errors_total", "Failed reads, writes and flushes of an LU's file (EIO, ENOSPC, ...): which device and LU a host's I/O error came from.",
    sources.figures.devices.flatMap((device) => device.lus.flatMap((lu) => luIoOperations.map((operation) => ({ labels: { device: device.id, lu: lu.id, operation }, value: lu.errors[operation] })))));
  return text.toString();
}
