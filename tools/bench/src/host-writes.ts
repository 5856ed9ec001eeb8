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

/** A write as it is issued: where it went, when, and what the benchmark was doing. */
export interface IssuedWrite {
  readonly extentIndex: number;
  /** Which client (apparatus) it went through. */
  readonly client: number;
  readonly phase: Phase | undefined;
  readonly round: number;
  /** Wall-clock ms, as the controller stamps phases. */
  readonly startMs: number;
}

/** Writes the log holds before it first grows: about 8 s at 500 writes/s. */
const initialLogCapacity = 4096;

/**
 * Every write's start (wall-clock ms, as the controller stamps phases),
 * latency (NaN until answered), extent, client, phase and round, in typed
 * arrays that double when full: a phase that runs long on a busy machine
 * keeps its writes. The arrays are replaced as the log grows, so read them
 * through the log each time.
 */
export class WriteLog {
  startMs = new Float64Array(initialLogCapacity);
  latencyMs = new Float64Array(initialLogCapacity).fill(Number.NaN);
  extentIndex = new Int32Array(initialLogCapacity);
  phase = new Uint8Array(initialLogCapacity);
  client = new Uint8Array(initialLogCapacity);
  /** The round of phases it was issued in (state.round). */
  round = new Uint16Array(initialLogCapacity);
  count = 0;
  skipped = 0;

  /** Logs a write just issued; returns its index, for its latency. */
  append(write: IssuedWrite): number {
    if (this.count === this.startMs.length) this.grow();
    const index = this.count;
    this.count += 1;
    this.extentIndex[index] = write.extentIndex;
    this.client[index] = write.client;
    this.phase[index] = write.phase === undefined ? 0 : phaseCodes[write.phase];
    this.round[index] = write.round;
    this.startMs[index] = write.startMs;
    return index;
  }

  private grow(): void {
    const capacity = 2 * this.startMs.length;
    this.startMs = grown(this.startMs, new Float64Array(capacity));
    this.latencyMs = grown(this.latencyMs, new Float64Array(capacity).fill(Number.NaN));
    this.extentIndex = grown(this.extentIndex, new Int32Array(capacity));
    this.phase = grown(this.phase, new Uint8Array(capacity));
    this.client = grown(this.client, new Uint8Array(capacity));
    this.round = grown(this.round, new Uint16Array(capacity));
  }
}

function grown<T extends Float64Array | Int32Array | Uint8Array | Uint16Array>(old: T, larger: T): T {
  larger.set(old);
  return larger;
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
  const running = (): boolean => !state.stop;
  while (running()) {
    const due = Math.floor(((performance.now() - startedMs) * rate) / 1000);
    for (; issued < due; issued += 1) {
      const clientIndex = next % clients.length;
      const client = clients[clientIndex];
      next += 1;
      assert.ok(client !== undefined);
      if (client.requestsInFlight >= inFlightPerConnectionMax) {
        log.skipped += 1;
        continue;
      }
      const extentIndex = Math.floor(Math.random() * extentCount);
      const index = log.append({ extentIndex, client: clientIndex, phase: state.phase, round: state.round, startMs: wallNowMs() });
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
