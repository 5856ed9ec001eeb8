/**
 * The control network between the controller and the apparatuses. Every
 * Hold, Apply, Release and Abort is encoded with the Apparatus service's own
 * protobuf codec, carried after a seeded delay (or lost, or held back past
 * the phase timeout), decoded and handed to the real apparatus; its report
 * or refusal comes back the same way. A lost or late reply is what makes the
 * change-control loop fence an apparatus (claim 3).
 */
import assert from "node:assert/strict";
import { ApparatusError, type VirtualizationApparatus } from "@switchyard/apparatus";
import type { ChangePlan, MessagePhase } from "@switchyard/controller";
import { loadGrpc } from "@switchyard/proto";
import type { Random } from "./prng.js";
import type { VirtualWorld } from "./virtual-world.js";

export interface NetworkModel {
  readonly delayMinMs: number;
  readonly delayMaxMs: number;
  /** A message (request or reply) that never arrives. */
  readonly lossProbability: number;
  /** A message that arrives, but between lateMinMs and lateMaxMs after it was sent. */
  readonly lateProbability: number;
  readonly lateMinMs: number;
  readonly lateMaxMs: number;
}

/** What the controller hears back: a report, or a refusal with the apparatus's reason. */
export interface PhaseReply {
  readonly ok: boolean;
  readonly message: string;
}

/** One request/reply exchange of a phase, on the wire: bytes out, the apparatus serving them, bytes back. */
interface Exchange {
  readonly requestBytes: Buffer;
  serve(bytes: Buffer): Promise<Buffer>;
  describe(replyBytes: Buffer): string;
}

function exchangeOf(phase: MessagePhase, apparatus: VirtualizationApparatus, changeId: string, epoch: number, plan: ChangePlan): Exchange {
  const methods = loadGrpc().switchyard.v1.Apparatus.service;
  switch (phase) {
    case "hold": {
      const method = methods.Hold;
      const request = { change_id: changeId, epoch, base_generation: plan.baseGeneration, ranges: [...plan.holdRanges], mode: plan.holdMode };
      return {
        requestBytes: method.requestSerialize(request),
        serve: async (bytes) => method.responseSerialize(await apparatus.hold(method.requestDeserialize(bytes))),
        // drain_ms is real time measured inside the apparatus: left out, or traces would differ run to run.
        describe: (bytes) => `drained ${method.responseDeserialize(bytes).drained_requests} requests`,
      };
    }
    case "apply": {
      const method = methods.Apply;
      return {
        requestBytes: method.requestSerialize({ change_id: changeId, epoch, diff: plan.diff }),
        serve: async (bytes) => method.responseSerialize(await apparatus.apply(method.requestDeserialize(bytes))),
        describe: (bytes) => `at generation ${method.responseDeserialize(bytes).generation}`,
      };
    }
    case "release": {
      const method = methods.Release;
      return {
        requestBytes: method.requestSerialize({ change_id: changeId, epoch }),
        serve: (bytes) => Promise.resolve().then(() => method.responseSerialize(apparatus.release(method.requestDeserialize(bytes)))),
        describe: (bytes) => `released ${method.responseDeserialize(bytes).released_requests} requests`,
      };
    }
    case "abort": {
      const method = methods.Abort;
      return {
        requestBytes: method.requestSerialize({ change_id: changeId, epoch }),
        serve: (bytes) => Promise.resolve().then(() => method.responseSerialize(apparatus.abort(method.requestDeserialize(bytes)))),
        describe: (bytes) => `back at generation ${method.responseDeserialize(bytes).generation}`,
      };
    }
  }
}

export class ControlLink {
  private readonly world: VirtualWorld;
  private readonly random: Random;
  private readonly model: NetworkModel;
  /** Errors an apparatus threw that are not ApparatusErrors: broken invariants, reported as violations. */
  readonly internalErrors: string[] = [];

  constructor(world: VirtualWorld, random: Random, model: NetworkModel) {
    assert.ok(model.delayMinMs >= 0 && model.delayMinMs <= model.delayMaxMs && model.lateMinMs <= model.lateMaxMs);
    this.world = world;
    this.random = random;
    this.model = model;
  }

  /** Sends one phase of a change to one apparatus; `onReply` runs if and when its answer arrives. */
  send(phase: MessagePhase, apparatus: VirtualizationApparatus, changeId: string, epoch: number, plan: ChangePlan, onReply: (reply: PhaseReply) => void): void {
    const exchange = exchangeOf(phase, apparatus, changeId, epoch, plan);
    const what = `${phase} ${changeId}`;
    this.carry(`${what} -> ${apparatus.id}`, () => {
      this.world.note(`${apparatus.id} receives ${what}`);
      exchange.serve(exchange.requestBytes).then(
        (replyBytes) => {
          this.carry(`${what} report <- ${apparatus.id}`, () => {
            onReply({ ok: true, message: exchange.describe(replyBytes) });
          });
        },
        (error: unknown) => {
          if (!(error instanceof ApparatusError)) {
            this.internalErrors.push(`${apparatus.id} threw on ${what}: ${String(error)}`);
            return;
          }
          const message = `${error.code}: ${error.message}`;
          this.carry(`${what} refusal <- ${apparatus.id}`, () => {
            onReply({ ok: false, message });
          });
        },
      );
    });
  }

  /** Delivers after a seeded delay, late, or never. */
  private carry(what: string, deliver: () => void): void {
    const model = this.model;
    if (this.random.chance(model.lossProbability)) {
      this.world.note(`lost ${what}`);
      return;
    }
    const late = this.random.chance(model.lateProbability);
    const delayMs = late ? this.random.between(model.lateMinMs, model.lateMaxMs) : this.random.between(model.delayMinMs, model.delayMaxMs);
    if (late) this.world.note(`late ${what} by ${delayMs.toFixed(3)} ms`);
    this.world.schedule(delayMs, deliver);
  }
}
