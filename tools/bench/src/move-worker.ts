/**
 * The pause benchmark's operator: back-to-back moves through the console's
 * gRPC client, on a worker thread of its own. On the thread that times host
 * writes, each move's call and its answer (a change with every phase and
 * report) delayed the completions of host writes that happened to be due
 * then, and the bench counted that delay as the cluster's. An operator's
 * console is not the host; its CPU still counts on the same two cores, only
 * not on the host's timer.
 */
import assert from "node:assert/strict";
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";
import { ConsoleClient, quietIpServerNameWarning } from "@switchyard/console";
import { holdToReleaseMs } from "./cluster.js";
import { sleep } from "./processes.js";

/** Where the worker's console calls go, and with which certificate (none: plain). */
interface ConsoleTarget {
  readonly consoleAddress: string;
  readonly operatorFolder: string | undefined;
}

/** One phase of moves: from move number `firstMove` on until `untilMs` (wall clock), each extent in turn. */
export interface MoveOrders {
  readonly kind: "moves";
  readonly volume: string;
  readonly extentCount: number;
  readonly firstMove: number;
  readonly untilMs: number;
  readonly gapMs: number;
}

/**
 * The fair control of a phase without moves: the operator's console asks
 * for change `changeId` (a finished move: an answer the size of a move's)
 * every `paceMs` until `untilMs`, through the same apparatus and controller
 * as a move's call. Everything a move's call costs the console, the
 * apparatus forwarding it and the controller answering it happens at the
 * same pace; only the change itself does not.
 */
export interface LookOrders {
  readonly kind: "looks";
  readonly changeId: string;
  readonly untilMs: number;
  readonly paceMs: number;
}

/** One committed move as the host side classifies writes by it. */
export interface MoveWindow {
  readonly changeId: string;
  readonly extentIndex: number;
  readonly startMs: number;
  readonly endMs: number;
  readonly holdToReleaseMs: number;
  /** Each phase's elapsed time, by name: where a long hold went. */
  readonly phaseMs: ReadonlyMap<string, number>;
  /** Each phase's span, in order: which phase a slow write elsewhere began in. */
  readonly phaseSpans: readonly { readonly phase: string; readonly startMs: number; readonly endMs: number }[];
}

/** What the worker posts: each move's window, then the end of the phase (or why it failed). */
type MoveMessage =
  | { readonly kind: "window"; readonly window: MoveWindow }
  | { readonly kind: "done"; readonly looks: number }
  | { readonly kind: "failed"; readonly message: string };

/** Wall-clock ms, as the controller stamps phases. */
function wallNowMs(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * Moves until `orders.untilMs`, and at least one: a warm-up that ends before
 * this thread has loaded (a busy machine) still sets the fair control's pace.
 */
async function moveLoop(consoleClient: ConsoleClient, orders: MoveOrders, report: (window: MoveWindow) => void): Promise<void> {
  for (let move = orders.firstMove; move === orders.firstMove || wallNowMs() < orders.untilMs; move += 1) {
    if (orders.gapMs > 0 && move > orders.firstMove) await sleep(orders.gapMs);
    const extentIndex = move % orders.extentCount;
    // Extents start on lu0; each round of moves takes them all across, the next brings them back.
    const toLu = Math.floor(move / orders.extentCount) % 2 === 0 ? "lu1" : "lu0";
    const change = await consoleClient.submitMove(orders.volume, extentIndex, toLu);
    const first = change.phases[0];
    const last = change.phases.at(-1);
    assert.ok(first !== undefined && last !== undefined);
    report({
      changeId: change.id,
      extentIndex, startMs: first.started_at_ms, endMs: last.started_at_ms + last.elapsed_ms, holdToReleaseMs: holdToReleaseMs(change),
      phaseMs: new Map(change.phases.map((phase) => [phase.phase, phase.elapsed_ms])),
      phaseSpans: change.phases.map((phase) => ({ phase: phase.phase, startMs: phase.started_at_ms, endMs: phase.started_at_ms + phase.elapsed_ms })),
    });
  }
}

/**
 * The pace of the fair control's calls after a phase of moves: one every
 * elapsed / moves (the moves' own rate), asking for the phase's last move;
 * undefined if it made none. `elapsedMs` is how long the phase really took,
 * not its nominal length: a phase's last move may run past its end, and a
 * warm-up of no length still makes its one move.
 */
export function movePace(moved: readonly MoveWindow[], elapsedMs: number): { readonly changeId: string; readonly paceMs: number } | undefined {
  if (!(elapsedMs > 0)) throw new RangeError(`a phase of moves took ${elapsedMs} ms: no pace can come of it`);
  const last = moved.at(-1);
  return last === undefined ? undefined : { changeId: last.changeId, paceMs: elapsedMs / moved.length };
}

/** The fair control's calls (LookOrders) until `orders.untilMs`, however few fit; how many it made. */
async function lookLoop(consoleClient: ConsoleClient, orders: LookOrders): Promise<number> {
  let looks = 0;
  for (let nextMs = wallNowMs(); nextMs < orders.untilMs; nextMs += orders.paceMs) {
    await sleep(Math.max(0, nextMs - wallNowMs()));
    await consoleClient.getChange(orders.changeId);
    looks += 1;
  }
  // The phase lasts its length: a pace longer than what is left must not end it early.
  await sleep(Math.max(0, orders.untilMs - wallNowMs()));
  return looks;
}

/**
 * The operator's thread, started once (loading its modules costs CPU that
 * must not fall into a measured phase) and given one phase of moves at a time.
 */
export class MoveWorker {
  private readonly worker: Worker;
  private windows: MoveWindow[] = [];
  private settle: { resolve: (windows: MoveWindow[]) => void; reject: (error: Error) => void } | undefined;
  /** The fair control's calls in its last phase of looks. */
  looks = 0;

  /** `operatorFolder`: the certificate to call with, for an appliance with TLS. */
  constructor(consoleAddress: string, operatorFolder?: string) {
    this.worker = new Worker(new URL(import.meta.url), { workerData: { consoleAddress, operatorFolder } satisfies ConsoleTarget });
    this.worker.on("message", (message: MoveMessage) => {
      this.onMessage(message);
    });
    this.worker.on("error", (error) => {
      this.settle?.reject(error);
      this.settle = undefined;
    });
  }

  /** Moves (at least one) or looks until `orders.untilMs`; resolves with each move's window (none for looks). */
  run(orders: MoveOrders | LookOrders): Promise<MoveWindow[]> {
    assert.ok(this.settle === undefined, "one phase of moves at a time");
    this.windows = [];
    return new Promise((resolve, reject) => {
      this.settle = { resolve, reject };
      this.worker.postMessage(orders);
    });
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }

  private onMessage(message: MoveMessage): void {
    switch (message.kind) {
      case "window":
        this.windows.push(message.window);
        return;
      case "done":
        this.looks = message.looks;
        this.settle?.resolve(this.windows);
        break;
      case "failed":
        this.settle?.reject(new Error(message.message));
        break;
    }
    this.settle = undefined;
  }
}

if (!isMainThread) {
  // Node warns once per thread; this one's console calls go over TLS too.
  quietIpServerNameWarning();
  const port = parentPort;
  assert.ok(port !== null);
  const { consoleAddress, operatorFolder } = workerData as ConsoleTarget;
  const consoleClient = operatorFolder === undefined ? ConsoleClient.plain(consoleAddress) : ConsoleClient.withCertificate(consoleAddress, operatorFolder);
  port.on("message", (orders: MoveOrders | LookOrders) => {
    const phase = orders.kind === "looks"
      ? lookLoop(consoleClient, orders)
      : moveLoop(consoleClient, orders, (window) => {
        port.postMessage({ kind: "window", window } satisfies MoveMessage);
      }).then(() => 0);
    void phase.then(
      (looks) => { port.postMessage({ kind: "done", looks } satisfies MoveMessage); },
      (error: unknown) => { port.postMessage({ kind: "failed", message: String(error) } satisfies MoveMessage); },
    );
  });
}
