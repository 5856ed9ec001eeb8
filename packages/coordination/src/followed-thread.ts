/**
 * A follower's etcd client on a thread of its own (issue 20 item 3). A
 * device that follows etcd, and an apparatus that renews its registration
 * there, ask etcd a few read calls and keep a registration watch open; the
 * etcd client under them (grpc-js, HTTP/2, protobuf) would otherwise parse
 * every watch event and answer on the thread that parses, maps and answers
 * host requests. Here the client runs in a worker thread
 * (followed-worker.ts) and each call crosses a MessagePort: the caller gets
 * the same answers and the same CoordinationError codes as from
 * etcdCoordination, and the store as the same decoded protobuf.
 *
 * Every call is bounded: one the thread does not answer within
 * followedAnswerTimeoutMs fails with UNAVAILABLE, as does every call in
 * flight when the thread ends.
 */
import { Worker } from "node:worker_threads";
import { decodeStoreState } from "@switchyard/proto";
import { CoordinationError, type Coordination, type CoordinationErrorCode, type RegistrationListener, type RegistrationStatus, type RegistrationUpdate, type StoreRead, type TermHolder } from "./coordination.js";
import { etcdCallTimeoutMs, etcdDialTimeoutMs } from "./etcd-errors.js";

/** The calls a follower makes: a device (device's FollowedCoordination) or an apparatus renewing (etcdContactRenewal). */
export type FollowedClient = Pick<Coordination, "readStore" | "registrationStatus" | "leaseHolder" | "watchRegistrations" | "close">;

/** Where the client on the thread connects: etcdCoordination's options without the clock, which the thread has its own of. */
export interface FollowedThreadOptions {
  readonly endpoints: readonly string[];
  readonly keyPrefix: string;
}

/**
 * The longest an answer may take: a dial and one call at etcd's own
 * deadlines (leaseHolder makes one call, the others one transaction), plus
 * a second for the hop and a busy thread.
 */
export const followedAnswerTimeoutMs = etcdDialTimeoutMs + etcdCallTimeoutMs + 1_000;
/** A closing thread gets this long to close its etcd client before it is terminated. */
export const followedCloseTimeoutMs = 5_000;

/** A call the thread makes on its client. */
export type FollowedCall =
  | { readonly name: "readStore" }
  | { readonly name: "registrationStatus"; readonly apparatusId: string; readonly registrationKey: string }
  | { readonly name: "leaseHolder" };

/** From the caller to the thread. */
export type FollowedRequest =
  | { readonly kind: "call"; readonly id: number; readonly call: FollowedCall }
  | { readonly kind: "watch"; readonly watchId: number }
  | { readonly kind: "unwatch"; readonly watchId: number }
  | { readonly kind: "close" };

/** A call's answer: the store travels as its protobuf bytes, decoded on the caller's side as etcdCoordination decodes it. */
export type FollowedValue =
  | { readonly name: "readStore"; readonly stateBytes: Uint8Array; readonly revision: number }
  | { readonly name: "registrationStatus"; readonly status: RegistrationStatus }
  | { readonly name: "leaseHolder"; readonly holder: TermHolder | undefined };

/** A CoordinationError as plain data; any other error arrives as UNAVAILABLE with its message. */
export interface FollowedFailure {
  readonly code: CoordinationErrorCode;
  readonly message: string;
}

/** From the thread to the caller. */
export type FollowedReply =
  | { readonly kind: "answer"; readonly id: number; readonly value: FollowedValue }
  | { readonly kind: "failure"; readonly id: number; readonly failure: FollowedFailure }
  | { readonly kind: "update"; readonly watchId: number; readonly update: RegistrationUpdate }
  | { readonly kind: "closed" };

/**
 * The worker script in the package's build: `dist/` seen from `dist/`
 * (the built package) or from `src/` (tests importing the sources), since a
 * worker thread cannot load TypeScript.
 */
const workerScript = new URL("../dist/followed-worker.js", import.meta.url);

interface Pending {
  resolve(value: FollowedValue): void;
  reject(error: Error): void;
  readonly timer: NodeJS.Timeout;
}

class FollowedThread implements FollowedClient {
  private readonly pending = new Map<number, Pending>();
  private readonly watches = new Map<number, RegistrationListener>();
  private nextId = 1;
  /** Why calls fail now: the thread ended or is closing. */
  private endedReason: string | undefined;
  private closing: Promise<void> | undefined;

  constructor(private readonly worker: Worker) {
    worker.on("message", (reply: FollowedReply) => {
      this.receive(reply);
    });
    worker.on("error", (error: Error) => {
      this.end(`the etcd client's thread failed: ${error.message}`);
    });
    worker.on("exit", (code: number) => {
      this.end(`the etcd client's thread exited with code ${code}`);
    });
  }

  async readStore(): Promise<StoreRead> {
    const value = await this.call({ name: "readStore" });
    if (value.name !== "readStore") throw this.mismatch("readStore", value);
    return { state: decodeStoreState(value.stateBytes), revision: value.revision };
  }

  async registrationStatus(apparatusId: string, registrationKey: string): Promise<RegistrationStatus> {
    const value = await this.call({ name: "registrationStatus", apparatusId, registrationKey });
    if (value.name !== "registrationStatus") throw this.mismatch("registrationStatus", value);
    return value.status;
  }

  async leaseHolder(): Promise<TermHolder | undefined> {
    const value = await this.call({ name: "leaseHolder" });
    if (value.name !== "leaseHolder") throw this.mismatch("leaseHolder", value);
    return value.holder;
  }

  watchRegistrations(listener: RegistrationListener): () => void {
    const watchId = this.nextId;
    this.nextId += 1;
    this.watches.set(watchId, listener);
    this.post({ kind: "watch", watchId });
    return () => {
      if (!this.watches.delete(watchId)) return;
      this.post({ kind: "unwatch", watchId });
    };
  }

  /** Closes the client on the thread, then ends the thread; terminated if it takes longer than followedCloseTimeoutMs. */
  close(): Promise<void> {
    this.closing ??= this.closeThread();
    return this.closing;
  }

  private async closeThread(): Promise<void> {
    if (this.endedReason !== undefined) return;
    this.endedReason = "the etcd client is closed";
    this.watches.clear();
    const exited = new Promise<void>((resolve) => {
      this.worker.once("exit", () => {
        resolve();
      });
    });
    const timer = setTimeout(() => {
      void this.worker.terminate();
    }, followedCloseTimeoutMs);
    this.post({ kind: "close" });
    await exited;
    clearTimeout(timer);
    this.failPending(this.endedReason);
  }

  private call(call: FollowedCall): Promise<FollowedValue> {
    if (this.endedReason !== undefined) return Promise.reject(new CoordinationError("UNAVAILABLE", this.endedReason));
    const id = this.nextId;
    this.nextId += 1;
    return new Promise<FollowedValue>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new CoordinationError("UNAVAILABLE", `etcd ${call.name}: no answer from the etcd client's thread within ${followedAnswerTimeoutMs} ms`));
      }, followedAnswerTimeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.post({ kind: "call", id, call });
    });
  }

  private receive(reply: FollowedReply): void {
    if (reply.kind === "update") {
      this.watches.get(reply.watchId)?.(reply.update);
      return;
    }
    if (reply.kind === "closed") return;
    const waiting = this.pending.get(reply.id);
    if (waiting === undefined) return;
    this.pending.delete(reply.id);
    clearTimeout(waiting.timer);
    if (reply.kind === "answer") waiting.resolve(reply.value);
    else waiting.reject(new CoordinationError(reply.failure.code, reply.failure.message));
  }

  private post(request: FollowedRequest): void {
    this.worker.postMessage(request);
  }

  private end(reason: string): void {
    this.endedReason ??= reason;
    this.failPending(reason);
  }

  private failPending(reason: string): void {
    for (const waiting of this.pending.values()) {
      clearTimeout(waiting.timer);
      waiting.reject(new CoordinationError("UNAVAILABLE", reason));
    }
    this.pending.clear();
  }

  private mismatch(asked: string, value: FollowedValue): Error {
    return new Error(`the etcd client's thread answered ${asked} with ${value.name}`);
  }
}

/** An etcd client for a follower, on a new worker thread; close() ends the thread. */
export function followedEtcdOnThread(options: FollowedThreadOptions): FollowedClient {
  const worker = new Worker(workerScript, { workerData: { endpoints: [...options.endpoints], keyPrefix: options.keyPrefix } satisfies FollowedThreadOptions });
  return new FollowedThread(worker);
}
