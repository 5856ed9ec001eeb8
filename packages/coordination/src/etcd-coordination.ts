/**
 * Coordination on etcd v3 (issue 18), through the `etcd3` client's raw KV
 * and Lease calls only (its Election and Lease helpers are not used: see
 * docs/design-notes.md, "Coordination on etcd").
 *
 * Election: a candidate grants itself an etcd lease of the term's length and
 * puts a key of its own under <prefix>election/, attached to that lease; the
 * holder is the candidate whose key has the lowest create revision. The
 * token is that create revision: etcd revisions only rise, and a key created
 * later than the holder's has a higher one, so every later holder has a
 * higher token, and no client keeps a counter. A candidate that is not the
 * holder withdraws (revokes its lease) rather than queue, so a candidate
 * that stopped asking is never made holder without knowing it.
 *
 * Fencing: every write is one Txn whose compare says "the key with create
 * revision = token still exists". The holder's key leaves only when its
 * lease ends (expiry or revoke), after which no write under its token can
 * commit, whatever the deposed holder believes. Store writes also compare
 * the store key's mod revision with the one read.
 *
 * Time: a term ends on the holder's clock one lease after it sent its last
 * granted request (coordination.ts, validUntilMs), never later; etcd keeps
 * the lease at least that long (a leader change at etcd only extends it).
 */
import assert from "node:assert/strict";
import { decodeStoreState, encodeStoreState, type StoreDelta, type StoreState } from "@switchyard/proto";
import type { Etcd3, IKeyValue, ITxnRequest, ITxnResponse } from "etcd3";
import { etcdLibrary } from "./etcd-library.js";
import {
  CoordinationError,
  isCoordinationError,
  validUntilMs,
  type Candidate,
  type Coordination,
  type CoordinationStatus,
  type RegistrationListener,
  type RegistrationStatus,
  type TermHolder,
  type StoreRead,
  type Term,
} from "./coordination.js";
import { etcdKeys, type EtcdKeys } from "./etcd-keys.js";
import { etcdStatus } from "./etcd-status.js";
import { asCoordinationError, etcdCallTimeoutMs, etcdDialTimeoutMs } from "./etcd-errors.js";
import { commitByRewrite, LastCommit } from "./store-commit.js";
import { directoryRecordsMax, recordsOf } from "./etcd-directory.js";
import { ElectionVacancyWatch } from "./etcd-vacancy.js";
import { RegistrationsWatch } from "./etcd-registrations.js";

/**
 * etcd grants no lease shorter than about 1.5 election timeouts (2 s with
 * etcd's default 1 s election timeout, about 1 s with the 500 ms of
 * scripts/etcd-cluster.sh), and counts in whole seconds.
 */
export const etcdLeaseMinMs = 2_000;
/** As the embedded arbiter's: a crashed controller blocks changes at most this long. */
export const etcdLeaseMaxMs = 300_000;
/** etcd's own request limit is 1.5 MiB (--max-request-bytes); the store must fit in one put with room for the Txn. */
export const storeBytesMax = 1 << 20;
/**
 * Attempts at one renewal, each on a member the etcd client picks at
 * random: with one member of three dead, all twelve miss a live one once in
 * 531,441 renewals (with six, once in 729: a CI run's etcd follower-kill
 * case met it), and the next renewal, a third of a term later, tries again.
 * An attempt on a dead member fails at once (connection refused); one on a
 * stalled member waits its deadline, and the term's end bounds them all.
 */
export const keepaliveAttemptsMax = 12;
/** Candidate ids and addresses are short names, as the arbiter's (device/src/arbiter.ts). */
export const candidateFieldLengthMax = 256;

const millisecondsPerSecond = 1_000;

assert.ok(etcdLeaseMinMs % millisecondsPerSecond === 0 && etcdLeaseMaxMs % millisecondsPerSecond === 0);
// A call must be able to fail before the shortest term ends (a relation
// between constants of two files, checked when either changes).
assert.ok((etcdCallTimeoutMs as number) <= (etcdLeaseMinMs as number), "an etcd call outlasts the shortest term");

export interface EtcdCoordinationOptions {
  /** Client URLs, http://host:port. */
  readonly endpoints: readonly string[];
  /** Every key lives under it (etcd-keys.ts); ends with "/". */
  readonly keyPrefix: string;
  /** The caller's clock in milliseconds (monotonic): terms end on it. */
  readonly now: () => number;
}

/** The term this client holds or asked for, with what fences it. */
interface Session {
  readonly candidate: Candidate;
  readonly leaseId: string;
  readonly candidateKey: Buffer;
  readonly token: number;
  readonly leaseMs: number;
  validUntilMs: number;
}

export function etcdCoordination(options: EtcdCoordinationOptions): Coordination {
  assert.ok(options.endpoints.length > 0, "etcd needs at least one endpoint");
  const client = new (etcdLibrary().Etcd3)({
    hosts: [...options.endpoints],
    dialTimeout: etcdDialTimeoutMs,
    // Streams (the keepalive) get their own deadline at the call.
    defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + etcdCallTimeoutMs }),
  });
  return new EtcdCoordination(client, etcdKeys(options.keyPrefix), options.now);
}

class EtcdCoordination implements Coordination {
  readonly backend = "etcd";
  private session: Session | undefined;
  private readonly vacancies: ElectionVacancyWatch;
  /** The store as this holder's last commitDelta left it (store-commit.ts): the next one folds into it without a read. */
  private readonly lastCommit = new LastCommit();
  /** Registration watches still running, stopped by close. */
  private readonly registrationWatches = new Set<RegistrationsWatch>();

  constructor(
    private readonly client: Etcd3,
    private readonly keys: EtcdKeys,
    private readonly now: () => number,
  ) {
    this.vacancies = new ElectionVacancyWatch(client, keys.electionPrefix);
  }

  /** Told when the holder a lost campaign named has lost its key (etcd-vacancy.ts): campaign at once. */
  onVacancy(listener: () => void): () => void {
    return this.vacancies.subscribe(listener);
  }

  /** Follows registrations and fences at etcd (etcd-registrations.ts); returns what stops it. */
  watchRegistrations(listener: RegistrationListener): () => void {
    const watch = new RegistrationsWatch(this.client, this.keys, listener);
    this.registrationWatches.add(watch);
    return () => {
      this.registrationWatches.delete(watch);
      void watch.stop();
    };
  }

  async campaign(candidate: Candidate, leaseMs: number): Promise<Term> {
    validateCandidate(candidate, leaseMs);
    const held = this.session;
    if (held !== undefined && held.candidate.id === candidate.id && held.leaseMs === leaseMs) {
      // The holder asking again extends its term, as with the arbiter; once
      // the term is lost, it campaigns afresh for a new token.
      try {
        return await this.renew(termOf(held));
      } catch (error) {
        if (!isCoordinationError(error, "LEASE_LOST")) throw error;
      }
    }
    await this.withdraw();
    const sentAtMs = this.now();
    const granted = await etcdCall("campaign", () => this.client.leaseClient.leaseGrant({ TTL: leaseMs / millisecondsPerSecond }));
    // Until the campaign is decided the lease is nobody's session: on any
    // failure it is revoked, so this client never holds a term it did not see granted.
    let decided: Term | undefined;
    try {
      decided = await this.decide(candidate, granted.ID, leaseMs, sentAtMs);
      return decided;
    } finally {
      if (decided?.granted !== true) await this.revoke(granted.ID);
    }
  }

  /** Puts the candidate's key on its lease and sees whether it is the lowest; makes it the session if so. */
  private async decide(candidate: Candidate, leaseId: string, leaseMs: number, sentAtMs: number): Promise<Term> {
    const candidateKey = this.keys.candidate(leaseId);
    // The key's create revision is read back in the same Txn, not taken from
    // the put's revision: the client may retry a put whose answer was lost,
    // and the second put's revision is not the key's create revision.
    const answer = await this.txn("campaign", {
      success: [
        { request_put: { key: candidateKey, value: Buffer.from(JSON.stringify(candidate)), lease: leaseId } },
        { request_range: { key: candidateKey } },
      ],
    });
    const created = answer.responses[1]?.response_range.kvs[0];
    assert.ok(created !== undefined, "a Txn's range sees the put before it");
    const token = revisionOf(created.create_revision);
    const first = await this.lowestCandidate();
    const holding = first?.key.equals(candidateKey) === true;
    this.vacancies.follow(holding ? undefined : first?.key);
    if (!holding) return notGranted(first, leaseMs, sentAtMs);
    const session: Session = { candidate, leaseId, candidateKey, token, leaseMs, validUntilMs: validUntilMs(sentAtMs, leaseMs) };
    this.session = session;
    return termOf(session);
  }

  async renew(term: Term): Promise<Term> {
    assert.ok(term.granted, "only a granted term is renewed");
    const session = this.session;
    if (session?.token !== term.token) {
      throw new CoordinationError("LEASE_LOST", `token ${term.token} is not this client's term: campaign again`);
    }
    const sentAtMs = this.now();
    if (sentAtMs >= session.validUntilMs) {
      await this.withdraw();
      throw new CoordinationError("LEASE_LOST", `the term with token ${term.token} lapsed at ${session.validUntilMs} ms (now ${sentAtMs} ms): campaign again`);
    }
    const ttlSeconds = await this.keepaliveOnce(session);
    if (ttlSeconds <= 0) {
      this.session = undefined;
      throw new CoordinationError("LEASE_LOST", `etcd says the lease of token ${term.token} has ended: campaign again`);
    }
    session.validUntilMs = validUntilMs(sentAtMs, session.leaseMs);
    return termOf(session);
  }

  /**
   * The store key and the enrolled apparatuses' records in one Txn (one
   * revision): the records stand in the state's `apparatuses` over any of
   * the same id stored there (etcd-directory.ts), as Device.Enroll writes
   * them into the device's store. The revision is the store key's alone:
   * an enrollment does not make a holder's write stale.
   */
  async readStore(): Promise<StoreRead> {
    const { apparatuses } = this.keys;
    const answer = await this.txn("readStore", {
      success: [
        { request_range: { key: this.keys.store } },
        { request_range: { key: apparatuses.prefix, range_end: apparatuses.end, limit: directoryRecordsMax + 1 } },
      ],
    });
    const [store, enrolled] = answer.responses;
    assert.ok(store !== undefined && enrolled !== undefined, "a Txn answers each of its requests");
    const stored = store.response_range.kvs[0];
    // Never written: the empty store, at revision 0 (etcd's mod revision of a missing key).
    const state = decodeStoreState(stored === undefined ? new Uint8Array(0) : stored.value);
    const records = recordsOf(enrolled.response_range.kvs);
    const others = state.apparatuses.filter((existing) => !records.some((record) => record.id === existing.id));
    return { state: { ...state, apparatuses: [...others, ...records] }, revision: stored === undefined ? 0 : revisionOf(stored.mod_revision) };
  }

  writeStore(token: number, expectedRevision: number, state: StoreState): Promise<number> {
    // A whole write the last commit did not make: the next commit reads the store.
    this.lastCommit.forget();
    return this.write(token, expectedRevision, state);
  }

  private async write(token: number, expectedRevision: number, state: StoreState): Promise<number> {
    assert.ok(Number.isSafeInteger(expectedRevision) && expectedRevision >= 0, "revisions are non-negative integers");
    const bytes = Buffer.from(encodeStoreState(state));
    if (bytes.length > storeBytesMax) {
      throw new CoordinationError("LIMIT_EXCEEDED", `the store is ${bytes.length} bytes, over the ${storeBytesMax}-byte limit of one etcd write`);
    }
    const candidateKey = this.candidateKeyOf(token);
    const answer = await this.txn("writeStore", {
      compare: [holderCompare(candidateKey, token), { key: this.keys.store, target: "Mod", result: "Equal", mod_revision: expectedRevision }],
      success: [{ request_put: { key: this.keys.store, value: bytes } }],
      failure: [{ request_range: { key: candidateKey, keys_only: true } }, { request_range: { key: this.keys.store } }],
    });
    if (!answer.succeeded) {
      if (!holderStillThere(answer, token)) throw notHolder(token);
      // The etcd client retries a call whose answer was lost, perhaps on another member: the store holding exactly
      // these bytes is this write, landed by the first try (store-commit.ts says why a refusal here would be wrong).
      const stored = answer.responses[1]?.response_range.kvs[0];
      if (stored !== undefined && stored.value.equals(bytes)) return revisionOf(stored.mod_revision);
      throw new CoordinationError("STALE_REVISION", `the store changed since revision ${expectedRevision}: read again and retry`);
    }
    return revisionOf(answer.header.revision);
  }

  /** Read, fold, Txn under the token and the revision read (store-commit.ts): the store is one key. */
  commitDelta(token: number, delta: StoreDelta): Promise<number> {
    return commitByRewrite({ readStore: () => this.readStore(), writeStore: (...write) => this.write(...write) }, token, delta, this.lastCommit);
  }

  async registerKey(token: number, apparatusId: string, registrationKey: string): Promise<void> {
    if (registrationKey.length === 0 || registrationKey.length > candidateFieldLengthMax) {
      throw new CoordinationError("INVALID_ARGUMENT", `a registration key of 1 to ${candidateFieldLengthMax} characters is required`);
    }
    const candidateKey = this.candidateKeyOf(token);
    const answer = await this.txn("registerKey", {
      compare: [holderCompare(candidateKey, token)],
      success: [
        { request_put: { key: this.keys.registration(apparatusId), value: Buffer.from(registrationKey) } },
        { request_delete_range: { key: this.keys.fenced(apparatusId) } },
      ],
    });
    if (!answer.succeeded) throw notHolder(token);
  }

  async fence(token: number, apparatusId: string): Promise<void> {
    const candidateKey = this.candidateKeyOf(token);
    const answer = await this.txn("fence", {
      compare: [holderCompare(candidateKey, token)],
      success: [
        { request_put: { key: this.keys.fenced(apparatusId), value: Buffer.alloc(0) } },
        { request_delete_range: { key: this.keys.registration(apparatusId) } },
      ],
    });
    if (!answer.succeeded) throw notHolder(token);
  }

  async registrationStatus(apparatusId: string, registrationKey: string): Promise<RegistrationStatus> {
    // One Txn: both keys from the same revision.
    const answer = await this.txn("registrationStatus", {
      success: [{ request_range: { key: this.keys.registration(apparatusId) } }, { request_range: { key: this.keys.fenced(apparatusId) } }],
    });
    const [registration, fenced] = answer.responses;
    assert.ok(registration !== undefined && fenced !== undefined, "a Txn answers each of its requests");
    if (registration.response_range.kvs[0]?.value.toString() === registrationKey) return "granted";
    return fenced.response_range.kvs.length > 0 ? "fenced" : "unknown";
  }

  async leaseHolder(): Promise<TermHolder | undefined> {
    const first = await this.lowestCandidate("leaseHolder");
    return first === undefined ? undefined : { holderId: parseCandidate(first.value).id, epoch: revisionOf(first.create_revision) };
  }

  async endTerm(token: number): Promise<boolean> {
    const first = await this.lowestCandidate("endTerm");
    if (first === undefined || revisionOf(first.create_revision) !== token) return false;
    // Revoking the lease deletes the holder's key: the vacancy watch wakes the followers, and its Txns stop matching.
    await this.revoke(first.lease);
    return true;
  }

  status(): Promise<CoordinationStatus> {
    return etcdStatus(this.client);
  }

  async close(): Promise<void> {
    await this.vacancies.close();
    await Promise.all([...this.registrationWatches].map((watch) => watch.stop()));
    this.registrationWatches.clear();
    await this.withdraw();
    this.client.close();
  }

  /** The candidate key of the term `token` this client holds; NOT_HOLDER for any other token. */
  private candidateKeyOf(token: number): Buffer {
    assert.ok(Number.isSafeInteger(token) && token > 0, "tokens are positive revisions");
    const session = this.session;
    if (session?.token !== token) throw notHolder(token);
    return session.candidateKey;
  }

  /**
   * One renewal of the session's lease, tried again on UNAVAILABLE: each
   * attempt opens a keepalive stream to a member the client picks at
   * random, and a dead member fails a stream without the client learning to
   * avoid it. Every attempt must be answered while the term still stands, or
   * it is worthless. Resolves with the TTL etcd answers (0: the lease ended).
   */
  private async keepaliveOnce(session: Session): Promise<number> {
    let lastError: CoordinationError | undefined;
    for (let attempt = 0; attempt < keepaliveAttemptsMax; attempt += 1) {
      const remainingMs = session.validUntilMs - this.now();
      if (remainingMs <= 0) break;
      try {
        return await keepaliveAttempt(this.client, session.leaseId, Math.min(etcdCallTimeoutMs, remainingMs));
      } catch (error) {
        const mapped = asCoordinationError("renew", error);
        if (mapped.code !== "UNAVAILABLE") throw mapped;
        lastError = mapped;
      }
    }
    throw lastError ?? new CoordinationError("UNAVAILABLE", "renew: the term ended before etcd answered a keepalive");
  }

  private lowestCandidate(what = "campaign"): Promise<IKeyValue | undefined> {
    return etcdCall(what, async () => {
      const answer = await this.client.kv.range({
        key: this.keys.electionPrefix,
        range_end: this.keys.electionRangeEnd,
        sort_target: "Create",
        sort_order: "Ascend",
        limit: 1,
      });
      return answer.kvs[0];
    });
  }

  private txn(what: string, request: ITxnRequest): Promise<ITxnResponse> {
    return etcdCall(what, () => this.client.kv.txn(request));
  }

  /**
   * Ends this client's candidacy or term at etcd at once, so that a
   * successor need not wait out the lease. Best effort: a revoke that fails
   * leaves the lease to lapse on its own within one term.
   */
  private async withdraw(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    if (session !== undefined) await this.revoke(session.leaseId);
  }

  private async revoke(leaseId: string): Promise<void> {
    try {
      await this.client.leaseClient.leaseRevoke({ ID: leaseId });
    } catch (error) {
      const mapped = asCoordinationError("withdraw", error);
      // Unanswered, or already ended: either way it lapses within one term.
      if (mapped.code !== "UNAVAILABLE" && mapped.code !== "LEASE_LOST") throw mapped;
    }
  }
}

/** One keepalive on a stream of its own, bounded by `timeoutMs`; resolves with the TTL etcd answers (0: the lease is gone). */
async function keepaliveAttempt(client: Etcd3, leaseId: string, timeoutMs: number): Promise<number> {
  return etcdCall("renew", async () => {
    const stream = await client.leaseClient.leaseKeepAlive({ deadline: Date.now() + timeoutMs });
    try {
      const answer = await new Promise<{ TTL: string }>((resolve, reject) => {
        stream.on("data", resolve);
        stream.on("error", reject);
        stream.on("end", () => { reject(new CoordinationError("UNAVAILABLE", "the keepalive stream ended unanswered")); });
        stream.write({ ID: leaseId });
      });
      return Number(answer.TTL);
    } finally {
      stream.cancel();
    }
  });
}

function etcdCall<Result>(what: string, call: () => Promise<Result>): Promise<Result> {
  return call().catch((error: unknown) => {
    throw asCoordinationError(what, error);
  });
}

function holderCompare(candidateKey: Buffer, token: number): NonNullable<ITxnRequest["compare"]>[number] {
  // A missing key compares with create revision 0 (etcd's applyCompare), so this fails once the holder's lease ended.
  return { key: candidateKey, target: "Create", result: "Equal", create_revision: token };
}

function holderStillThere(answer: ITxnResponse, token: number): boolean {
  const holder = answer.responses[0]?.response_range.kvs[0];
  return holder !== undefined && revisionOf(holder.create_revision) === token;
}

function notHolder(token: number): CoordinationError {
  return new CoordinationError("NOT_HOLDER", `token ${token} no longer holds the term: a later holder may have written`);
}

function termOf(session: Session): Term {
  return {
    holderId: session.candidate.id,
    holderAddress: session.candidate.address,
    token: session.token,
    granted: true,
    leaseMs: session.leaseMs,
    validUntilMs: session.validUntilMs,
  };
}

/** The holder as the election keys name it; for a term not granted, validUntilMs is when the caller asked. */
function notGranted(first: IKeyValue | undefined, leaseMs: number, sentAtMs: number): Term {
  if (first === undefined) {
    // Our own key was gone before we looked: our lease ended at once (a very slow campaign).
    throw new CoordinationError("UNAVAILABLE", "the candidate's lease ended during its campaign: campaign again");
  }
  const holder = parseCandidate(first.value);
  return { holderId: holder.id, holderAddress: holder.address, token: revisionOf(first.create_revision), granted: false, leaseMs, validUntilMs: sentAtMs };
}

function parseCandidate(value: Buffer): Candidate {
  const parsed: unknown = JSON.parse(value.toString("utf8"));
  assert.ok(typeof parsed === "object" && parsed !== null && "id" in parsed && "address" in parsed &&
    typeof parsed.id === "string" && typeof parsed.address === "string", "election keys hold a candidate");
  return { id: parsed.id, address: parsed.address };
}

function revisionOf(decimal: string): number {
  const revision = Number(decimal);
  assert.ok(Number.isSafeInteger(revision) && revision >= 0, `etcd revision ${decimal} is not a safe integer`);
  return revision;
}

function validateCandidate(candidate: Candidate, leaseMs: number): void {
  if (candidate.id.length === 0 || candidate.id.length > candidateFieldLengthMax || candidate.address.length > candidateFieldLengthMax) {
    throw new CoordinationError("INVALID_ARGUMENT", `candidate id must be 1 to ${candidateFieldLengthMax} characters and address at most ${candidateFieldLengthMax}`);
  }
  if (!Number.isSafeInteger(leaseMs) || leaseMs < etcdLeaseMinMs || leaseMs > etcdLeaseMaxMs || leaseMs % millisecondsPerSecond !== 0) {
    throw new CoordinationError("INVALID_ARGUMENT", `an etcd term of ${leaseMs} ms must be whole seconds from ${etcdLeaseMinMs} to ${etcdLeaseMaxMs} ms`);
  }
}
