// Goal: each crash point signals the controller's process exactly where its
// name says, and at the message phases only the victim (an apparatus other
// than the controller's own) gets the message, its answer first; the
// decorator travels to a worker thread as a module that rebuilds it from
// plain settings. Method: the decorator over fake ports that record what
// crosses them, with process.kill replaced by a recorder.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ChangeEffects } from "../change-driver.js";
import type { EffectKind, MessagePhase } from "../change-run.js";
import { changePortsDecorator, crashPointsModule, crashingPorts, type TestCrash } from "./crash-points.js";

/** What crossed the ports and when the process was signalled, in order. */
let events: string[] = [];

function fakePorts(): ChangeEffects {
  return {
    fence: (apparatusId) => {
      events.push(`fence ${apparatusId}`);
      return Promise.resolve();
    },
    isSilence: () => false,
    storedGeneration: () => Promise.resolve(0),
    send: (phase: MessagePhase, apparatusId: string) => {
      events.push(`${phase} ${apparatusId}`);
      return Promise.resolve({ ok: true, message: "" });
    },
    effect: (kind: EffectKind) => {
      events.push(kind);
      return Promise.resolve();
    },
  };
}

const change = { changeId: "c1", apparatusIds: ["a1", "a2", "a3"], selfId: "a1" };

function decorated(crash: TestCrash): ChangeEffects {
  return crashingPorts(crash)(fakePorts(), change);
}

/** Resolves with the answer, or "pending" if none came within a turn of the event loop. */
async function answerOf(sent: Promise<unknown>): Promise<unknown> {
  return Promise.race([sent, new Promise((resolve) => setTimeout(() => { resolve("pending"); }, 10))]);
}

beforeEach(() => {
  events = [];
  vi.spyOn(process, "kill").mockImplementation((_pid, signal) => {
    events.push(`signal ${String(signal)}`);
    return true;
  });
  vi.spyOn(process.stderr, "write").mockImplementation(() => true);
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe("crash points", () => {
  it("before-hold signals before the first Hold leaves, once per change", async () => {
    const ports = decorated({ point: "before-hold", signal: "SIGKILL" });
    await ports.send("hold", "a1");
    await ports.send("hold", "a2");
    expect(events).toEqual(["signal SIGKILL", "hold a1", "hold a2"]);
  });

  it.each([
    ["after-hold", "hold"],
    ["after-apply", "apply"],
    ["during-release", "release"],
  ] as const)("%s sends %s only to an apparatus other than the controller's own, and signals after its answer", async (point, phase) => {
    const ports = decorated({ point, signal: "SIGSTOP" });
    expect(await answerOf(ports.send(phase, "a1"))).toBe("pending");
    expect(await answerOf(ports.send(phase, "a2"))).toEqual({ ok: true, message: "" });
    expect(await answerOf(ports.send(phase, "a3"))).toBe("pending");
    expect(events).toEqual([`${phase} a2`, "signal SIGSTOP"]);
  });

  it("after-commit signals once the commit is done", async () => {
    const ports = decorated({ point: "after-commit", signal: "SIGKILL" });
    await ports.send("hold", "a2");
    await ports.effect("commit");
    expect(events).toEqual(["hold a2", "commit", "signal SIGKILL"]);
  });

  it("passes fences and other phases through untouched", async () => {
    const ports = decorated({ point: "after-apply", signal: "SIGKILL" });
    await ports.fence("a3");
    await ports.send("hold", "a1");
    await ports.send("abort", "a3");
    expect(events).toEqual(["fence a3", "hold a1", "abort a3"]);
  });

  it("names itself as a module whose factory rebuilds the decorator from its settings, and refuses other settings", async () => {
    const crash: TestCrash = { point: "after-commit", signal: "SIGKILL" };
    const source = crashPointsModule(crash);
    expect(structuredClone(source)).toEqual(source);
    const loaded: unknown = await import(source.url);
    expect(loaded).toHaveProperty("changePortsDecorator", changePortsDecorator);
    const ports = changePortsDecorator(source.settings)(fakePorts(), change);
    await ports.effect("commit");
    expect(events).toEqual(["commit", "signal SIGKILL"]);
    expect(() => changePortsDecorator({ point: "nowhere", signal: "SIGKILL" })).toThrow(/settings must be a TestCrash/);
  });
});
