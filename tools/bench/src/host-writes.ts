/**
 * Host writes for the process benchmarks: an open-loop load of 4 KiB writes
 * at random through every apparatus at a fixed rate (a held write does not
 * slow the others' issue), each one's start, latency and extent logged.
 */
import assert from "node:assert/strict";
import { NbdClient } from "@switchyard/nbd";
import type { Cluster } from "./cluster.js";
import { sleep } from "./processes.js";

const blockBytes = 4096;
const extentBytes = 4 << 20;
/** Writes issued but not answered, per connection: a stuck server shows up as skipped writes, not as unbounded memory. */
const inFlightPerConnectionMax = 256;
/** How often the open-loop issuer catches up with its schedule; Node's timers are no finer than a millisecond. */
const issueTickMs = 2;
const nbdTimeoutMs = 30_000;

/**
 * What the benchmark is doing while a write is issued: before the first
 * measured phase (undefined), a quiet phase, one of changes, or a
 * calibration: a lowest-priority busy loop beside the load (pause-latency.ts
 * --idle-load), or bursts of CPU the size of the moves' (--cpu-bursts).
 */
export type Phase = "baseline" | "moves" | "idle-load" | "cpu-bursts";
/** How each phase is logged in WriteLog.phase; 0 is before the first measured phase. */
export const phaseCodes: Readonly<Record<Phase, number>> = { baseline: 1, moves: 2, "idle-load": 3, "cpu-bursts": 4 };

/** What the benchmark tells the load as it goes: the phase and round now, and when to stop. */
export interface LoadState {
  phase: Phase | undefined;
  round: number;
  stop: boolean;
}

/** Every write's start (wall-clock ms, as the controller stamps phases), latency, extent and phase; preallocated. */
export class WriteLog {
  readonly startMs: Float64Array;
  readonly latencyMs: Float64Array;
  readonly extentIndex: Int32Array;
  readonly phase: Uint8Array;
  /** Which client (apparatus) the write went through. */
  readonly client: Uint8Array;
  /** The round of phases it was issued in (state.round). */
  readonly round: Uint16Array;
  count = 0;
  skipped = 0;

  constructor(capacity: number) {
    this.startMs = new Float64Array(capacity);
    this.latencyMs = new Float64Array(capacity).fill(Number.NaN);
    this.extentIndex = new Int32Array(capacity);
    this.phase = new Uint8Array(capacity);
    this.client = new Uint8Array(capacity);
    this.round = new Uint16Array(capacity);
  }

  get full(): boolean {
    return this.count >= this.startMs.length;
  }
}

export function wallNowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Issues writes at `rate` per second, round robin over `clients`, until `stop` is set. */
export async function writeLoad(clients: readonly NbdClient[], extentCount: number, rate: number, log: WriteLog, state: LoadState): Promise<void> {
  const data = Buffer.alloc(blockBytes, 0x5a);
  const blocksPerExtent = extentBytes / blockBytes;
  const startedMs = performance.now();
  let issued = 0;
  let next = 0;
  const pending = new Set<Promise<void>>();
  // A function, not a condition on the fields: they change while this loop awaits.
  const running = (): boolean => !state.stop && !log.full;
  while (running()) {
    const due = Math.floor(((performance.now() - startedMs) * rate) / 1000);
    for (; issued < due && !log.full; issued += 1) {
      const clientIndex = next % clients.length;
      const client = clients[clientIndex];
      next += 1;
      assert.ok(client !== undefined);
      if (client.requestsInFlight >= inFlightPerConnectionMax) {
        log.skipped += 1;
        continue;
      }
      const index = log.count;
      log.count += 1;
      const extentIndex = Math.floor(Math.random() * extentCount);
      log.extentIndex[index] = extentIndex;
      log.client[index] = clientIndex;
      log.phase[index] = state.phase === undefined ? 0 : phaseCodes[state.phase];
      log.round[index] = state.round;
      log.startMs[index] = wallNowMs();
      const offsetBytes = extentIndex * extentBytes + Math.floor(Math.random() * blocksPerExtent) * blockBytes;
      const write = client.write(offsetBytes, data).then(() => {
        log.latencyMs[index] = wallNowMs() - (log.startMs[index] ?? 0);
      });
      pending.add(write);
      void write.finally(() => pending.delete(write));
    }
    await sleep(issueTickMs);
  }
  await Promise.all(pending);
}

export async function connectAll(cluster: Cluster): Promise<NbdClient[]> {
  return Promise.all(cluster.apparatuses.map((apparatus) => {
    const [host = "", port = ""] = apparatus.nbd.split(":");
    return NbdClient.connect({ host, port: Number(port), exportName: "bench", timeoutMs: nbdTimeoutMs });
  }));
}
