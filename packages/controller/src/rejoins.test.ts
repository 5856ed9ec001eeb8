// Goal: what the controller sees outside any change becomes an event in the
// journal (issue 21): a rejoin, an operator's fence and, when the apparatus
// taken back had shut volumes at a hold's deadline, the expired hold first;
// an apparatus that cannot load the table is fenced, and that is an event
// too; refusals note nothing.
// Method: Rejoins over a membership and a table kept in memory; the events
// it notes are collected.
import { describe, expect, it } from "vitest";
import type { StoreState__Output } from "@switchyard/proto";
import { ControllerError } from "./errors.js";
import { Rejoins, type RejoinMembers } from "./rejoins.js";
import type { StoreRead } from "./table-keeper.js";

const stored = { generation: 7, fenced_by_operator: [] as string[] } as unknown as StoreState__Output;

class Members implements RejoinMembers {
  readonly fenced = new Set<string>();
  readonly byOperator = new Set<string>();
  readonly shut = new Map<string, readonly string[]>();
  loadFails = false;
  readonly rejoined: string[] = [];

  named(apparatusId: string): { id: string; grpc: string; nbd: string } {
    if (!["a1", "a2"].includes(apparatusId)) throw new ControllerError("NOT_FOUND", `no apparatus ${apparatusId}`);
    return { id: apparatusId, grpc: "", nbd: "" };
  }
  isFenced(apparatusId: string): boolean {
    return this.fenced.has(apparatusId);
  }
  isOperatorFenced(apparatusId: string): boolean {
    return this.byOperator.has(apparatusId);
  }
  operatorFence(apparatusId: string, fenced: boolean): void {
    if (fenced) this.byOperator.add(apparatusId);
    else this.byOperator.delete(apparatusId);
  }
  fence(apparatusId: string): Promise<void> {
    this.fenced.add(apparatusId);
    return Promise.resolve();
  }
  rejoin(apparatusId: string): Promise<void> {
    if (this.loadFails) return Promise.reject(new Error("4 DEADLINE_EXCEEDED"));
    this.fenced.delete(apparatusId);
    this.rejoined.push(apparatusId);
    return Promise.resolve();
  }
  takeVolumesShut(apparatusId: string): readonly string[] {
    const shut = this.shut.get(apparatusId) ?? [];
    this.shut.delete(apparatusId);
    return shut;
  }
}

function rejoinsOver(members: Members): { rejoins: Rejoins; events: string[] } {
  const events: string[] = [];
  const table = {
    read: (): Promise<StoreRead> => Promise.resolve({ state: stored, sequence: 1 }),
    write: (): Promise<void> => Promise.resolve(),
  };
  const rejoins = new Rejoins({
    members, table, serialized: (work) => work(), epoch: () => 3, warn: () => undefined,
    note: (kind, subject, cause) => { events.push(`${kind} ${subject}: ${cause}`); },
  });
  return { rejoins, events };
}

describe("Rejoins", () => {
  it("notes an operator's fence and the rejoin that lifts it", async () => {
    const members = new Members();
    const { rejoins, events } = rejoinsOver(members);
    await rejoins.fenceByOperator("a1");
    await rejoins.rejoin("a1");
    expect(events).toEqual([
      "fence a1: a1 was fenced by an operator ('switchyard apparatus fence'); 'switchyard apparatus rejoin a1' takes it back",
      "rejoin a1: a1 loaded the whole table at generation 7 and serves again (an operator's rejoin lifted its fence)",
    ]);
  });

  it("notes the expired hold of an apparatus that shut volumes, before it is taken back, once", async () => {
    const members = new Members();
    members.shut.set("a2", ["vm1", "vm2"]);
    const { rejoins, events } = rejoinsOver(members);
    await rejoins.restore("a2");
    await rejoins.restore("a2");
    expect(events).toEqual([
      "hold-expired a2: a hold on a2 passed its deadline with no Release: it shut vm1, vm2 until the controller loaded the table",
      "rejoin a2: a2 stopped serving on its own (its lease ran out, or a hold passed its deadline) and loaded the table at generation 7 again",
      "rejoin a2: a2 stopped serving on its own (its lease ran out, or a hold passed its deadline) and loaded the table at generation 7 again",
    ]);
  });

  it("fences one that cannot load the table, and says so", async () => {
    const members = new Members();
    members.loadFails = true;
    const { rejoins, events } = rejoinsOver(members);
    await rejoins.restore("a1");
    expect(members.isFenced("a1")).toBe(true);
    expect(events).toEqual(["fence a1: a1 stopped serving on its own and could not load the table: Error: 4 DEADLINE_EXCEEDED"]);
  });

  it("notes nothing for what it refuses", async () => {
    const members = new Members();
    const { rejoins, events } = rejoinsOver(members);
    await expect(rejoins.rejoin("a1")).rejects.toThrow(/a1 is not fenced: there is nothing to rejoin/);
    await rejoins.fenceByOperator("a1");
    await expect(rejoins.fenceByOperator("a1")).rejects.toThrow(/a1 is fenced already/);
    expect(events).toHaveLength(1);
  });
});
