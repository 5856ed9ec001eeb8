/**
 * The thread of a follower's etcd client (followed-thread.ts): runs
 * etcdCoordination and answers the caller's requests over the parent port,
 * one message each, until asked to close.
 */
import assert from "node:assert/strict";
import { parentPort, workerData } from "node:worker_threads";
import { encodeStoreState } from "@switchyard/proto";
import { CoordinationError, type Coordination } from "./coordination.js";
import { etcdCoordination } from "./etcd-coordination.js";
import type { FollowedCall, FollowedFailure, FollowedReply, FollowedRequest, FollowedThreadOptions, FollowedValue } from "./followed-thread.js";

async function answer(coordination: Coordination, call: FollowedCall): Promise<FollowedValue> {
  switch (call.name) {
    case "readStore": {
      const read = await coordination.readStore();
      return { name: "readStore", stateBytes: encodeStoreState(read.state), revision: read.revision };
    }
    case "registrationStatus":
      return { name: "registrationStatus", status: await coordination.registrationStatus(call.apparatusId, call.registrationKey) };
    case "leaseHolder":
      return { name: "leaseHolder", holder: await coordination.leaseHolder() };
  }
}

function failureOf(error: unknown): FollowedFailure {
  if (error instanceof CoordinationError) return { code: error.code, message: error.message };
  return { code: "UNAVAILABLE", message: error instanceof Error ? error.message : String(error) };
}

function main(): void {
  const parent = parentPort;
  assert.ok(parent !== null, "followed-worker.js runs as a worker thread (followed-thread.ts)");
  const options = workerData as FollowedThreadOptions;
  // The caller's clock is not this thread's; a follower holds no term, so the clock only times calls.
  const coordination = etcdCoordination({ ...options, now: () => performance.timeOrigin + performance.now() });
  const watches = new Map<number, () => void>();
  const reply = (message: FollowedReply): void => {
    parent.postMessage(message);
  };
  parent.on("message", (request: FollowedRequest) => {
    switch (request.kind) {
      case "call":
        answer(coordination, request.call).then(
          (value) => { reply({ kind: "answer", id: request.id, value }); },
          (error: unknown) => { reply({ kind: "failure", id: request.id, failure: failureOf(error) }); },
        );
        return;
      case "watch": {
        assert.ok(coordination.watchRegistrations !== undefined, "etcdCoordination watches registrations");
        watches.set(request.watchId, coordination.watchRegistrations((update) => { reply({ kind: "update", watchId: request.watchId, update }); }));
        return;
      }
      case "unwatch":
        watches.get(request.watchId)?.();
        watches.delete(request.watchId);
        return;
      case "close":
        for (const stop of watches.values()) stop();
        watches.clear();
        void coordination.close().catch(() => undefined).finally(() => {
          reply({ kind: "closed" });
          parent.close();
        });
        return;
    }
  });
}

main();
