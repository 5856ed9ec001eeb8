/**
 * What the web console reads of its own process: the apparatuses' I/O and
 * hold counters and the devices' error counts, as plain data. They are
 * taken on the thread that serves hosts, where the counters live, and read
 * wherever the console runs: on that thread with `--processors 1`, else on
 * a thread of its own (console-thread.ts), which asks for them over a
 * MessagePort. Plain data crosses one by structured clone; nothing here
 * has methods or live references the console could call back through.
 */
import type { VirtualizationApparatus } from "@switchyard/apparatus";
import { luIoOperations, type LuIoOperation } from "@switchyard/device";

/** A histogram's cumulative reading (apparatus io-stats.ts Histogram). */
export interface HistogramFigures {
  readonly boundsSeconds: readonly number[];
  /** counts[i]: observations in (bounds[i-1], bounds[i]]; the last slot is above every bound. */
  readonly counts: Float64Array;
  readonly sumSeconds: number;
  readonly count: number;
}

/** One operation's counters of one volume (apparatus io-stats.ts OperationStats). */
export interface OperationFigures {
  readonly requests: number;
  readonly bytes: number;
  readonly errors: number;
  readonly latency: HistogramFigures;
}

export interface VolumeIoFigures {
  readonly volume: string;
  /** Indexed like ioOperations (apparatus io-stats.ts). */
  readonly operations: readonly OperationFigures[];
}

export interface HoldFigures {
  readonly installed: number;
  readonly active: number;
  readonly expired: number;
  readonly heldRequests: number;
  readonly duration: HistogramFigures;
  /** How long the oldest hold in force has lasted; 0 with none. */
  readonly oldestAgeMs: number;
}

export interface ApparatusFigures {
  readonly id: string;
  readonly volumes: readonly VolumeIoFigures[];
  readonly inFlight: number;
  readonly holds: HoldFigures;
  /** The configuration table generation of its active face. */
  readonly generation: number;
}

export interface LuFigures {
  readonly id: string;
  /** Failed I/O of the LU's file so far, per operation. */
  readonly errors: Readonly<Record<LuIoOperation, number>>;
  readonly errorsTotal: number;
  readonly lastError: string;
}

export interface DeviceFigures {
  readonly id: string;
  /** Failed writes of its configuration store so far. */
  readonly storeWriteErrors: number;
  readonly lus: readonly LuFigures[];
}

export interface LocalFigures {
  readonly apparatuses: readonly ApparatusFigures[];
  readonly devices: readonly DeviceFigures[];
}

/** How the console gets this process's figures: at once on the same thread, or through a MessagePort. */
export type LocalFiguresSource = () => Promise<LocalFigures>;

/** What a device in this process shows: its id, its configuration store's failed writes, and each LU's failed I/O. */
export interface MeteredDevice {
  readonly id: string;
  readonly store: { readonly writeErrors: number };
  readonly lus: readonly MeteredLu[];
}

/** An LU's failed I/O, as the device counts it (LuIoErrors). */
export interface MeteredLu {
  readonly id: string;
  readonly ioErrors: { count(operation: LuIoOperation): number; readonly total: number; readonly lastError: string };
}

function histogramFigures(histogram: HistogramFigures): HistogramFigures {
  // A copy of the counts, also on the console's own thread: its source answers
  // through a promise, and host I/O continuations that run before the console
  // reads it would otherwise make the buckets disagree with `count`.
  return { boundsSeconds: histogram.boundsSeconds, counts: Float64Array.from(histogram.counts), sumSeconds: histogram.sumSeconds, count: histogram.count };
}

function apparatusFigures(apparatus: VirtualizationApparatus): ApparatusFigures {
  const { stats } = apparatus.io.gate;
  return {
    id: apparatus.id,
    volumes: apparatus.io.stats.snapshot().map((volume) => ({
      volume: volume.volume,
      operations: volume.operations.map((counters) => ({ requests: counters.requests, bytes: counters.bytes, errors: counters.errors, latency: histogramFigures(counters.latency) })),
    })),
    inFlight: apparatus.io.inFlight,
    holds: {
      installed: stats.holdsInstalled, active: stats.holdsActive, expired: stats.holdsExpired, heldRequests: stats.heldRequests,
      duration: histogramFigures(stats.duration), oldestAgeMs: apparatus.io.gate.oldestHoldAgeMs(),
    },
    generation: apparatus.generation,
  };
}

function deviceFigures(device: MeteredDevice): DeviceFigures {
  return {
    id: device.id,
    storeWriteErrors: device.store.writeErrors,
    lus: device.lus.map((lu) => ({
      id: lu.id,
      errors: Object.fromEntries(luIoOperations.map((operation) => [operation, lu.ioErrors.count(operation)])) as Record<LuIoOperation, number>,
      errorsTotal: lu.ioErrors.total,
      lastError: lu.ioErrors.lastError,
    })),
  };
}

/** This thread's apparatuses and devices, read now. */
export function takeLocalFigures(apparatuses: readonly VirtualizationApparatus[], devices: readonly MeteredDevice[]): LocalFigures {
  return { apparatuses: apparatuses.map(apparatusFigures), devices: devices.map(deviceFigures) };
}

/** A source for a console on this thread. */
export function figuresHere(apparatuses: readonly VirtualizationApparatus[], devices: readonly MeteredDevice[]): LocalFiguresSource {
  return () => Promise.resolve(takeLocalFigures(apparatuses, devices));
}
