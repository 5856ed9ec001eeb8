/**
 * The shared suite every Coordination implementation passes
 * (coordination.ts), as every abstract-level store passes abstract-level's:
 * a test file runs it against its implementation with a factory that makes
 * a fresh coordinator per case and opens clients onto it, one per
 * controller.
 *
 * Method: real time, short terms (the target's `leaseMs`); a handover
 * between holders is made by letting the first holder's term lapse (no
 * implementation has to offer a resignation), polled for within a bound.
 * Every refusal is asserted by its code, and what a refused write would
 * have changed is read back unchanged.
 *
 * The runner's functions come in as an argument, not as an import of vitest
 * (as in nbd's block-io-suite.ts): only the types are taken here.
 */
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import type { StoreState, StoreState__Output } from "@switchyard/proto";
import type { describe, expect, it } from "vitest";
import { CoordinationError, type Candidate, type Coordination, type CoordinationErrorCode, type Term } from "../coordination.js";
import { commitDeltaCases } from "./commit-delta-cases.js";

/** How often a candidate asks again while waiting for a term to lapse: a tenth of the shortest term. */
const campaignRetryMs = 200;
/**
 * Beyond one lease, how long a successor may wait for the term: etcd checks
 * for expired leases every 500 ms and its leader may be busy on a loaded
 * two-core machine.
 */
const handoverMarginMs = 5_000;

/** Candidates racing for one term: more than a pair, so that a race among the losers would show. */
const concurrentCandidatesCount = 5;

export interface CoordinationSuiteRunner {
  readonly describe: typeof describe;
  readonly it: typeof it;
  readonly expect: typeof expect;
}

/** A fresh coordinator (empty store, no holder) and clients onto it. */
export interface CoordinationUnderTest {
  /** A new client, as a controller on another machine would open. */
  connect(): Coordination;
  /** Closes every client it opened and ends the coordinator. */
  close(): Promise<void>;
}

export interface CoordinationSuiteTarget {
  readonly name: string;
  /** A term length the implementation takes; short, so that handovers are quick. */
  readonly leaseMs: number;
  /** Bound on one case, on a loaded machine. */
  readonly caseTimeoutMs: number;
  fresh(): Promise<CoordinationUnderTest>;
}

const alice: Candidate = { id: "alice", address: "127.0.0.1:7001" };
const bob: Candidate = { id: "bob", address: "127.0.0.1:7002" };

export function coordinationSuite(runner: CoordinationSuiteRunner, target: CoordinationSuiteTarget): void {
  const { describe, it, expect } = runner;
  /** Runs `body` with a fresh coordinator that is closed however the case ends. */
  const withFresh = (body: (under: CoordinationUnderTest) => Promise<void>) => async (): Promise<void> => {
    const under = await target.fresh();
    try {
      await body(under);
    } finally {
      await under.close();
    }
  };
  const options = { timeout: target.caseTimeoutMs };

  describe(`coordination suite: ${target.name}`, () => {
    it("grants the term to one candidate at a time, and again to its holder under the same token", options, withFresh(async (under) => {
      const first = under.connect();
      const second = under.connect();
      const held = await first.campaign(alice, target.leaseMs);
      expect(held).toMatchObject({ granted: true, holderId: "alice", holderAddress: alice.address });
      const refused = await second.campaign(bob, target.leaseMs);
      expect(refused).toMatchObject({ granted: false, holderId: "alice", token: held.token });
      const again = await first.campaign(alice, target.leaseMs);
      expect(again).toMatchObject({ granted: true, token: held.token });
    }));

    it("grants exactly one of several candidates campaigning at once, and the others name it", options, withFresh(async (under) => {
      const candidates = Array.from({ length: concurrentCandidatesCount }, (_, index) => ({ id: `candidate-${index}`, address: `127.0.0.1:${7100 + index}` }));
      const terms = await Promise.all(candidates.map((candidate) => under.connect().campaign(candidate, target.leaseMs)));
      const granted = terms.filter((term) => term.granted);
      expect(granted).toHaveLength(1);
      for (const term of terms) expect(term).toMatchObject({ holderId: granted[0]?.holderId, token: granted[0]?.token });
    }));

    it("names the holder of the newest term and its token, and the successor's once it takes over", options, withFresh(async (under) => {
      const first = under.connect();
      const second = under.connect();
      const held = await first.campaign(alice, target.leaseMs);
      expect(await second.leaseHolder()).toEqual({ holderId: "alice", epoch: held.token });
      const taken = await campaignUntilGranted(second, bob, target.leaseMs);
      expect(await first.leaseHolder()).toEqual({ holderId: "bob", epoch: taken.token });
    }));

    it("gives every later holder a strictly higher token", options, withFresh(async (under) => {
      const first = under.connect();
      const second = under.connect();
      const tokens: number[] = [];
      tokens.push((await first.campaign(alice, target.leaseMs)).token);
      tokens.push((await campaignUntilGranted(second, bob, target.leaseMs)).token);
      tokens.push((await campaignUntilGranted(first, alice, target.leaseMs)).token);
      expect(tokens[1]).toBeGreaterThan(tokens[0] ?? Infinity);
      expect(tokens[2]).toBeGreaterThan(tokens[1] ?? Infinity);
    }));

    it("refuses every write of a deposed holder and keeps the successor's", options, withFresh(async (under) => {
      const deposed = under.connect();
      const successor = under.connect();
      const old = await deposed.campaign(alice, target.leaseMs);
      const before = await deposed.readStore();
      const now = await campaignUntilGranted(successor, bob, target.leaseMs);
      await expectCode(expect, deposed.writeStore(old.token, before.revision, nextState(before.state, "late")), "NOT_HOLDER");
      await expectCode(expect, deposed.registerKey(old.token, "apparatus-1", "late-key"), "NOT_HOLDER");
      await expectCode(expect, deposed.fence(old.token, "apparatus-1"), "NOT_HOLDER");
      const unchanged = await successor.readStore();
      expect(unchanged.revision).toBe(before.revision);
      expect(await successor.registrationStatus("apparatus-1", "late-key")).toBe("unknown");
      const written = await successor.writeStore(now.token, unchanged.revision, nextState(unchanged.state, "successor"));
      expect(written).toBeGreaterThan(unchanged.revision);
    }));

    it("refuses a write on a stale revision and changes nothing", options, withFresh(async (under) => {
      const holder = under.connect();
      const term = await holder.campaign(alice, target.leaseMs);
      const read = await holder.readStore();
      const first = await holder.writeStore(term.token, read.revision, nextState(read.state, "first"));
      expect(first).toBeGreaterThan(read.revision);
      await expectCode(expect, holder.writeStore(term.token, read.revision, nextState(read.state, "second")), "STALE_REVISION");
      const after = await holder.readStore();
      expect(after.revision).toBe(first);
      expect(after.state.apparatuses.map((record) => record.id)).toEqual([...read.state.apparatuses.map((record) => record.id), "first"]);
      expect(after.state.generation).toBe(read.state.generation + 1);
    }));

    it("keeps a renewed term, and loses it one lease after the last renewal", options, withFresh(async (under) => {
      const holder = under.connect();
      const successor = under.connect();
      let term = await holder.campaign(alice, target.leaseMs);
      const renewals = 4;
      for (let index = 0; index < renewals; index += 1) {
        await sleep(Math.floor(target.leaseMs / 3));
        const renewed = await holder.renew(term);
        expect(renewed.token).toBe(term.token);
        expect(renewed.validUntilMs).toBeGreaterThan(term.validUntilMs);
        term = renewed;
      }
      // Four renewals a third of a lease apart: the term outlived its first lease.
      expect((await successor.campaign(bob, target.leaseMs)).granted).toBe(false);
      const lastRenewedAtMs = performance.now();
      const successorTerm = await campaignUntilGranted(successor, bob, target.leaseMs);
      expect(performance.now() - lastRenewedAtMs).toBeLessThan(target.leaseMs + handoverMarginMs);
      expect(successorTerm.token).toBeGreaterThan(term.token);
      await expectCode(expect, holder.renew(term), "LEASE_LOST");
    }));

    it("reports its backend and its members, one of them the healthy leader", options, withFresh(async (under) => {
      const status = await under.connect().status();
      expect(status.members.length).toBeGreaterThan(0);
      const leaders = status.members.filter((member) => member.leader);
      expect(leaders).toHaveLength(1);
      expect(leaders[0]?.healthy).toBe(true);
    }));

    it("registers, fences and registers again an apparatus", options, withFresh(async (under) => {
      const holder = under.connect();
      const term = await holder.campaign(alice, target.leaseMs);
      await holder.registerKey(term.token, "apparatus-1", "key-1");
      expect(await holder.registrationStatus("apparatus-1", "key-1")).toBe("granted");
      expect(await holder.registrationStatus("apparatus-1", "key-other")).toBe("unknown");
      expect(await holder.registrationStatus("apparatus-2", "key-2")).toBe("unknown");
      await holder.fence(term.token, "apparatus-1");
      expect(await holder.registrationStatus("apparatus-1", "key-1")).toBe("fenced");
      await holder.registerKey(term.token, "apparatus-1", "key-1b");
      expect(await holder.registrationStatus("apparatus-1", "key-1b")).toBe("granted");
      expect(await holder.registrationStatus("apparatus-1", "key-1")).toBe("unknown");
    }));

    commitDeltaCases(runner, target, { options, withFresh, campaignUntilGranted });
  });
}

/** Campaigns until granted: the current holder's term must lapse first. */
export async function campaignUntilGranted(client: Coordination, candidate: Candidate, leaseMs: number): Promise<Term> {
  const deadlineMs = performance.now() + leaseMs + handoverMarginMs;
  for (;;) {
    const term = await client.campaign(candidate, leaseMs);
    if (term.granted) return term;
    if (performance.now() > deadlineMs) {
      throw new Error(`${candidate.id} was not granted the term within ${leaseMs + handoverMarginMs} ms (held by ${term.holderId})`);
    }
    await sleep(campaignRetryMs);
  }
}

/** The store with one more generation and one more apparatus record, named `marker`, so a write is seen in what it changed. */
export function nextState(state: StoreState__Output, marker: string): StoreState {
  assert.ok(Number.isSafeInteger(state.generation), "states read back carry their generation as a number");
  return {
    ...state,
    generation: state.generation + 1,
    apparatuses: [...state.apparatuses, { id: marker, nbd: "127.0.0.1:10809", grpc: "127.0.0.1:7000" }],
  };
}

async function expectCode(expect: CoordinationSuiteRunner["expect"], promise: Promise<unknown>, code: CoordinationErrorCode): Promise<void> {
  const error: unknown = await promise.then(() => undefined, (caught: unknown) => caught);
  expect(error).toBeInstanceOf(CoordinationError);
  expect((error as CoordinationError).code).toBe(code);
}
