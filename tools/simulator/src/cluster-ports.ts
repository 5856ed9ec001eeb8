/**
 * The ports a ClusterController runs over in the cluster simulation: its
 * scheduler, its Device calls and its Apparatus calls, each message carried
 * through the services' own protobuf codecs after a seeded delay, or lost.
 * A controller is a node that can crash: from then on none of its timers
 * fires and none of its calls is answered, so its code stops where it was,
 * as a killed process's does.
 */
import { ApparatusError, type VirtualizationApparatus } from "@switchyard/apparatus";
import type { ApparatusPort, DevicePort, Scheduler } from "@switchyard/controller";
import type { ApparatusState__Output, ApplyRequest__Output, HoldRequest__Output } from "@switchyard/proto";
import { DeviceError, grpcStatusOf } from "@switchyard/device";
import { loadGrpc, registrationKeyDigest } from "@switchyard/proto";
import type { ClusterDevice } from "./cluster-device.js";
import type { Random } from "./prng.js";
import type { VirtualWorld } from "./virtual-world.js";

/** gRPC's status numbers the ports answer with (grpc.status in @grpc/grpc-js). */
const deadlineExceededStatus = 4;
const failedPreconditionStatus = 9;
const unimplementedStatus = 12;

/** A failed call as grpc-js reports one: a status code and the peer's details. */
export class RpcFailure extends Error {
  constructor(readonly code: number, readonly details: string) {
    super(`${code} ${details}`);
    this.name = "RpcFailure";
  }
}

export interface WireModel {
  readonly delayMinMs: number;
  readonly delayMaxMs: number;
  /** A request or an answer that never arrives. */
  readonly lossProbability: number;
  /** An answer to CommitDelta that never arrives though the commit took place. */
  readonly commitAnswerLossProbability: number;
  /**
   * A Fence request the device never gets: rare on a real network, but the
   * one loss the fencing argument must survive (a fence owed blocks every
   * commit until the device has it), so the sweep meets it often, as it
   * meets lost commit answers.
   */
  readonly fenceLossProbability: number;
  /** How long a Device call waits for its answer (grpcDevicePort's deadlines, scaled down). */
  readonly deviceCallTimeoutMs: number;
}

/** A serve function's answer: the response message, or a promise of it. */
type Served = object | Promise<object>;

interface Method {
  requestSerialize(value: object): Buffer;
  requestDeserialize(bytes: Buffer): unknown;
  responseSerialize(value: object): Buffer;
  responseDeserialize(bytes: Buffer): unknown;
}

/** A controller process: its clock, and whether it still runs. */
export class ControllerNode {
  alive = true;
  /** Calls lost or left unanswered, by what they were. */
  lostCommitAnswers = 0;
  /** Fence requests lost on their way to the device. */
  lostFences = 0;
  /**
   * When each apparatus's last GetState from this node failed (virtual ms):
   * a takeover fences at once an apparatus whose GetState failed
   * (membership.ts takeOver), so a Fence at that same moment is a takeover's.
   */
  readonly getStateFailedAtMs = new Map<string, number>();

  constructor(readonly id: string, readonly world: VirtualWorld, readonly random: Random, private readonly wireNow: () => WireModel, readonly internalErrors: string[]) {}

  /** The network as it is now: the run calms it at its end. */
  get wire(): WireModel {
    return this.wireNow();
  }

  /** The virtual clock; timers of a crashed node never fire. */
  scheduler(): Scheduler {
    return {
      now: () => this.world.nowMs,
      at: (atMs, fire) => {
        let cancelled = false;
        this.world.scheduleAt(Math.max(atMs, this.world.nowMs), () => {
          if (!cancelled && this.alive) fire();
        });
        return () => {
          cancelled = true;
        };
      },
    };
  }

  /**
   * One call: the request goes out after a delay (or is lost), is served,
   * and its answer comes back after a delay (or is lost); the caller hears
   * DEADLINE_EXCEEDED at `timeoutMs` if nothing came. A crashed node hears
   * nothing ever.
   */
  call<T>(method: Method, request: object, timeoutMs: number, serve: (decoded: unknown) => Served, what: string, answerLossProbability = 0, requestLossProbability = 0): Promise<T> {
    const { world, random, wire } = this;
    const bytes = method.requestSerialize(request);
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const settle = (done: () => void): void => {
        if (settled || !this.alive) return;
        settled = true;
        done();
      };
      world.schedule(timeoutMs, () => {
        settle(() => { reject(new RpcFailure(deadlineExceededStatus, `${what}: no answer within ${timeoutMs} ms`)); });
      });
      if (random.chance(wire.lossProbability + requestLossProbability)) {
        if (requestLossProbability > 0) {
          this.lostFences += 1;
          world.note(`${this.id}'s ${what} lost on its way`);
        }
        return;
      }
      world.schedule(random.between(wire.delayMinMs, wire.delayMaxMs), () => {
        const answer = (deliver: () => void): void => {
          if (random.chance(wire.lossProbability + answerLossProbability)) {
            if (answerLossProbability > 0) this.lostCommitAnswers += 1;
            world.note(`answer to ${this.id}'s ${what} lost`);
            return;
          }
          world.schedule(random.between(wire.delayMinMs, wire.delayMaxMs), () => { settle(deliver); });
        };
        // A handler that throws at once answers as one that rejects.
        Promise.resolve().then(() => serve(method.requestDeserialize(bytes))).then(
          (response) => {
            const back = method.responseDeserialize(method.responseSerialize(response)) as T;
            answer(() => { resolve(back); });
          },
          (error: unknown) => {
            const failure = refusalOf(error, what, this.internalErrors);
            if (failure !== undefined) answer(() => { reject(failure); });
          },
        );
      });
    });
  }
}

/** A refusal as the caller hears it; undefined (and a violation recorded) for an error no service would send. */
function refusalOf(error: unknown, what: string, internalErrors: string[]): RpcFailure | undefined {
  if (error instanceof RpcFailure) return error;
  if (error instanceof DeviceError) return new RpcFailure(grpcStatusOf(error), error.message);
  if (error instanceof ApparatusError) return new RpcFailure(failedPreconditionStatus, `${error.code}: ${error.message}`);
  internalErrors.push(`${what} threw: ${String(error)}`);
  return undefined;
}

/**
 * The device as one controller node reaches it; every call silent while the
 * device is down. `swallowsFailedFences` plants takeover-fence-swallowed
 * (cluster-faults.ts): a Fence that failed is answered as recorded.
 */
export function simulatedDevicePort(node: ControllerNode, device: ClusterDevice, swallowsFailedFences: boolean): DevicePort {
  const methods = loadGrpc().switchyard.v1.Device.service;
  const timeoutMs = node.wire.deviceCallTimeoutMs;
  const call = <T>(name: keyof typeof methods, request: object, serve: (decoded: never) => Served, answerLoss = 0, requestLoss = 0): Promise<T> =>
    node.call<T>(methods[name] as Method, request, timeoutMs, (decoded) => {
      if (!device.up) return new Promise<object>(() => undefined);
      return serve(decoded as never);
    }, `Device.${String(name)}`, answerLoss, requestLoss);
  const fence = (request: Parameters<DevicePort["fence"]>[0]): Promise<Record<string, never>> => {
    const sent = call<Record<string, never>>("Fence", request, (decoded) => device.fence(decoded), 0, node.wire.fenceLossProbability);
    const inTakeover = node.getStateFailedAtMs.get(request.apparatus_id ?? "") === node.world.nowMs;
    if (!swallowsFailedFences || !inTakeover) return sent;
    return sent.catch(() => {
      node.world.note(`${node.id} takes its failed Fence of ${request.apparatus_id ?? ""} as recorded`);
      return {};
    });
  };
  const notSimulated = (name: string): Promise<never> => Promise.reject(new RpcFailure(unimplementedStatus, `${name}: external devices are not simulated`));
  return {
    acquireLease: (request) => call("AcquireLease", request, (decoded) => device.acquireLease(decoded)),
    renewLease: (request) => call("RenewLease", request, (decoded) => device.renewLease(decoded)),
    readStore: (request) => call("ReadStore", request, (decoded) => device.readStore(decoded)),
    writeStore: (request) => call("WriteStore", request, (decoded) => device.writeStore(decoded)),
    commitDelta: (request) => call("CommitDelta", request, (decoded) => device.commitDelta(decoded), node.wire.commitAnswerLossProbability),
    registerKey: (request) => call("RegisterKey", request, (decoded) => device.registerKey(decoded)),
    fence,
    scrubAreas: (request) => call("ScrubAreas", request, (decoded) => device.scrubAreas(decoded)),
    startMirror: (request) => call("StartMirror", request, (decoded) => device.startMirror(decoded)),
    listMirrors: (request) => node.call(methods.ListMirrors, request, timeoutMs + (request.wait_ms ?? 0), (decoded) => {
      if (!device.up) return new Promise<object>(() => undefined);
      return device.listMirrors(decoded as never);
    }, "Device.ListMirrors"),
    probeNbdExport: () => notSimulated("ProbeNbdExport"),
    // Disk faults are not simulated: the controller's check finds nothing to record.
    getInventory: () => notSimulated("GetInventory"),
    close: () => undefined,
  };
}

/** What the simulation does when a controller registers an apparatus (the apparatus's side of Register). */
export type RegisterApparatus = (apparatus: VirtualizationApparatus, key: string, leaseMs: number) => void;

/** What the simulation tells an apparatus's port: the key it renews with, and whether the control network reaches it now. */
export interface ApparatusReach {
  keyOf(apparatusId: string): string;
  /** False while the apparatus is cut off from every controller (its path to the device still works). */
  reachable(apparatusId: string): boolean;
  /** The apparatus answered this Hold: from now on, it says, nothing it admitted before the Hold is still running (HOLD_MODE_NONE: see applied). */
  held(apparatusId: string, request: HoldRequest__Output): void;
  /** An Apply of `changeId` reached the apparatus: it flips now. */
  applying(apparatusId: string, changeId: string): void;
  /** The apparatus answered that Apply: under HOLD_MODE_NONE, nothing it admitted before the flip is still running. */
  applied(apparatusId: string, changeId: string): void;
}

/** One apparatus as one controller node reaches it over the control network; a request sent while it is cut off never arrives. */
export function simulatedApparatusPort(node: ControllerNode, apparatus: VirtualizationApparatus, register: RegisterApparatus, reach: ApparatusReach): ApparatusPort {
  const methods = loadGrpc().switchyard.v1.Apparatus.service;
  const call = <T>(name: keyof typeof methods, request: object, timeoutMs: number, serve: (decoded: never) => Served): Promise<T> =>
    node.call<T>(methods[name] as Method, request, timeoutMs, (decoded) => {
      if (!reach.reachable(apparatus.id)) return new Promise<object>(() => undefined);
      return serve(decoded as never);
    }, `${apparatus.id}.${String(name)}`);
  const getState = (timeoutMs: number): Promise<ApparatusState__Output> =>
    call<ApparatusState__Output>("GetState", {}, timeoutMs, () => ({ ...apparatus.state(), registration_key_sha256: registrationKeyDigest(reach.keyOf(apparatus.id)) })).catch((error: unknown) => {
      node.getStateFailedAtMs.set(apparatus.id, node.world.nowMs);
      throw error;
    });
  return {
    hold: (request, timeoutMs) => call("Hold", request, timeoutMs, async (decoded: HoldRequest__Output) => {
      const report = await apparatus.hold(decoded);
      reach.held(apparatus.id, decoded);
      return report;
    }),
    apply: (request, timeoutMs) => call("Apply", request, timeoutMs, async (decoded: ApplyRequest__Output) => {
      reach.applying(apparatus.id, decoded.change_id);
      const report = await apparatus.apply(decoded);
      reach.applied(apparatus.id, decoded.change_id);
      return report;
    }),
    release: (request, timeoutMs) => call("Release", request, timeoutMs, (decoded) => apparatus.release(decoded)),
    abort: (request, timeoutMs) => call("Abort", request, timeoutMs, (decoded) => apparatus.abort(decoded)),
    // The digest of the key it renews with, as the real apparatus reports its contact lease's.
    getState,
    loadTable: async (request, timeoutMs) => {
      await call("LoadTable", request, timeoutMs, async (decoded: { epoch: number; table: Parameters<VirtualizationApparatus["loadTable"]>[1] | null }) => {
        if (decoded.table === null) throw new ApparatusError("INVALID_TABLE", "LoadTable needs a table");
        await apparatus.loadTable(decoded.epoch, decoded.table);
        return {};
      });
    },
    register: async (request, timeoutMs) => {
      await call("Register", request, timeoutMs, (decoded: { epoch: number; registration_key: string; lease_ms: number }) => {
        apparatus.checkEpoch(decoded.epoch);
        register(apparatus, decoded.registration_key, decoded.lease_ms);
        return { apparatus_id: apparatus.id, generation: apparatus.generation };
      });
    },
    close: () => undefined,
  };
}
