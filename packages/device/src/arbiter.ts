/**
 * The arbiter (claim 12): grants a time-bound lease on the controller role,
 * with an epoch that rises with every new holder and is the fencing token
 * every store write, registration and copy is checked against.
 *
 * Decisions are made synchronously on a clock the caller passes in (the
 * arbiter's own clock; a monotonic one is best), so tests drive time by hand.
 * The one effect is durable: a new epoch is saved (arbiter.json, written
 * with fsync and rename) before it is granted, so epochs rise across device
 * restarts, with the id it was granted to (so that after a restart the
 * device still knows whose certificate may act under it). What is not
 * saved is the lease itself: after a restart the first candidate gets the
 * next epoch, and the deposed holder is fenced by the epoch checks, not by
 * timing.
 */
import assert from "node:assert/strict";
import { DeviceCorruptError, InvalidArgumentError, LeaseNotHeldError } from "./errors.js";
import { readFileIfExists, writeFileDurably } from "./durable-file.js";
import { nodeFiles, type DeviceFiles } from "./device-files.js";

/** Shorter leases could not be renewed in time across a few network round trips. */
export const leaseMinMs = 100;
/** A crashed controller blocks configuration changes at most this long. */
export const leaseMaxMs = 300_000;
/** Holder ids and addresses are short names (an apparatus id, host:port). */
export const holderIdLengthMax = 256;
export const holderAddressLengthMax = 256;

export interface LeaseState {
  readonly holderId: string;
  readonly holderAddress: string;
  readonly epoch: number;
  /** On the arbiter's clock. */
  readonly expiresAtMs: number;
  readonly leaseMs: number;
  /** False when the lease is held by someone else; the fields then describe that holder. */
  readonly granted: boolean;
}

/** An epoch and the candidate it was granted to: a fact for ever, as no epoch is granted twice. */
export interface EpochGrant {
  readonly holderId: string;
  readonly epoch: number;
}

export interface ArbiterOptions {
  /** The highest epoch ever granted, as last saved. */
  readonly highestEpoch: number;
  /** Who it was granted to, as last saved; undefined in a file from before holders were saved. */
  readonly highestHolderId?: string;
  /** Makes `epoch` durable as the highest epoch, granted to `holderId`; called in rising order, one at a time. */
  readonly saveHighestEpoch: (epoch: number, holderId: string | undefined) => Promise<void>;
}

interface Holder {
  readonly id: string;
  address: string;
  readonly epoch: number;
  expiresAtMs: number;
  leaseMs: number;
  /** The save of its epoch: until it has succeeded, the epoch is not granted. */
  readonly saved: Promise<void>;
}

export class Arbiter {
  private highest: number;
  /** The newest epoch whose grant is durable, and its holder. */
  private granted: EpochGrant | undefined;
  private holder: Holder | undefined;
  /** Time never runs backwards for the arbiter, even if its clock does. */
  private lastNowMs = 0;
  private readonly saveHighestEpoch: (epoch: number, holderId: string | undefined) => Promise<void>;
  private saveTail: Promise<unknown> = Promise.resolve();

  constructor(options: ArbiterOptions) {
    assert.ok(Number.isSafeInteger(options.highestEpoch) && options.highestEpoch >= 0);
    this.highest = options.highestEpoch;
    const holderId = options.highestHolderId;
    if (holderId !== undefined && options.highestEpoch > 0) this.granted = { holderId, epoch: options.highestEpoch };
    this.saveHighestEpoch = options.saveHighestEpoch;
  }

  /**
   * An arbiter whose highest epoch lives in `filePath` (created at 0 when
   * missing), reached through `files` (node:fs unless a test passes another DeviceFiles).
   */
  static async open(filePath: string, files: DeviceFiles = nodeFiles): Promise<Arbiter> {
    const saved = await readArbiterFile(filePath, files);
    return new Arbiter({
      ...saved,
      saveHighestEpoch: (epoch, holderId) =>
        writeFileDurably(files, filePath, JSON.stringify({ formatVersion, highestEpoch: epoch, holderId }) + "\n"),
    });
  }

  /** The highest epoch granted (or being granted): store writes below it are stale. */
  get highestEpoch(): number {
    return this.highest;
  }

  /** The newest epoch granted and its holder, whether or not the lease still runs; undefined before the first. */
  get newestGrant(): EpochGrant | undefined {
    return this.granted;
  }

  /** The current lease, if one has not expired at `nowMs`. */
  lease(nowMs: number): LeaseState | undefined {
    const now = this.advance(nowMs);
    const holder = this.holder;
    if (holder === undefined || now >= holder.expiresAtMs) return undefined;
    return describe(holder, true);
  }

  /**
   * Grants the lease when nobody holds it, it has expired, or the candidate
   * already holds it (then it is extended under the same epoch). A new holder
   * gets the highest epoch + 1, saved before the grant is returned. When
   * someone else holds it, resolves with `granted: false` and that holder.
   */
  async acquire(candidateId: string, candidateAddress: string, leaseMs: number, nowMs: number): Promise<LeaseState> {
    validateName("candidate id", candidateId, holderIdLengthMax);
    validateName("candidate address", candidateAddress, holderAddressLengthMax, true);
    validateLeaseMs(leaseMs);
    const now = this.advance(nowMs);
    const holder = this.holder;
    if (holder !== undefined && now < holder.expiresAtMs) {
      if (holder.id !== candidateId) return describe(holder, false);
      holder.address = candidateAddress;
      holder.expiresAtMs = now + leaseMs;
      holder.leaseMs = leaseMs;
      // Its epoch is granted only once durable: a holder asking again while the save runs waits for it too.
      await holder.saved;
      return describe(holder, true);
    }
    // A new term, even for the previous holder after expiry: it was bound to
    // stop acting, and a new epoch tells its late messages apart.
    this.highest += 1;
    const epoch = this.highest;
    const fresh: Holder = { id: candidateId, address: candidateAddress, epoch, expiresAtMs: now + leaseMs, leaseMs, saved: this.save(epoch, candidateId) };
    this.holder = fresh;
    try {
      await fresh.saved;
    } catch (error) {
      // Never granted: a restart would read the older epoch and could grant this one again.
      if (this.holder === fresh) this.holder = undefined;
      throw error;
    }
    if (this.granted === undefined || epoch > this.granted.epoch) this.granted = { holderId: candidateId, epoch };
    return describe(fresh, true);
  }

  /** Extends the lease of its current holder; anyone else is refused with LEASE_NOT_HELD. */
  renew(holderId: string, epoch: number, leaseMs: number, nowMs: number): LeaseState {
    validateName("holder id", holderId, holderIdLengthMax);
    validateLeaseMs(leaseMs);
    const now = this.advance(nowMs);
    const holder = this.holder;
    if (holder?.id !== holderId || holder.epoch !== epoch) {
      const current = holder === undefined ? "nobody" : `${holder.id} with epoch ${holder.epoch}`;
      throw new LeaseNotHeldError(`${holderId} with epoch ${epoch} does not hold the lease (held by ${current})`);
    }
    if (now >= holder.expiresAtMs) {
      throw new LeaseNotHeldError(
        `the lease of ${holderId} (epoch ${epoch}) expired at ${holder.expiresAtMs} ms (now ${now} ms): acquire it again`,
      );
    }
    holder.expiresAtMs = now + leaseMs;
    holder.leaseMs = leaseMs;
    return describe(holder, true);
  }

  private advance(nowMs: number): number {
    assert.ok(Number.isFinite(nowMs) && nowMs >= 0, "the arbiter's clock must give milliseconds");
    this.lastNowMs = Math.max(this.lastNowMs, Math.floor(nowMs));
    return this.lastNowMs;
  }

  /** Saves in the order epochs were decided, so the file never goes back to a lower epoch. */
  /**
   * Raises the highest epoch to a token of a coordination the device follows
   * (etcd, issue 18; the arbiter grants nothing then), durably, so that a
   * restarted device keeps refusing the tokens below it. Saved in rising
   * order with every other save; resolves once this one is on disk. The
   * holder is saved when the caller knows it (etcd named it).
   */
  raiseTo(epoch: number, holderId?: string): Promise<void> {
    assert.ok(Number.isSafeInteger(epoch) && epoch > this.highest, `epoch ${epoch} does not raise the highest ${this.highest}`);
    this.highest = epoch;
    return this.save(epoch, holderId);
  }

  private save(epoch: number, holderId: string | undefined): Promise<void> {
    const saved = this.saveTail.then(() => this.saveHighestEpoch(epoch, holderId));
    // A failed save is reported to its own acquire; the next save still runs.
    this.saveTail = saved.catch(() => undefined);
    return saved;
  }
}

const formatVersion = 1;

/** What arbiter.json records: the highest epoch (0 without the file) and, since holders are saved, whom it was granted to. */
export async function readArbiterFile(filePath: string, files: DeviceFiles = nodeFiles): Promise<{ highestEpoch: number; highestHolderId?: string }> {
  const bytes = await readFileIfExists(files, filePath);
  if (bytes === undefined) return { highestEpoch: 0 };
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString("utf8"));
  } catch (error) {
    throw new DeviceCorruptError(`${filePath} is not JSON: the highest epoch is lost`, { cause: error });
  }
  if (typeof parsed !== "object" || parsed === null || !("highestEpoch" in parsed) || !("formatVersion" in parsed) ||
    parsed.formatVersion !== formatVersion || typeof parsed.highestEpoch !== "number" ||
    !Number.isSafeInteger(parsed.highestEpoch) || parsed.highestEpoch < 0) {
    throw new DeviceCorruptError(`${filePath} does not hold a highest epoch in format ${formatVersion}`);
  }
  const holderId = "holderId" in parsed ? parsed.holderId : undefined;
  if (holderId !== undefined && (typeof holderId !== "string" || holderId.length === 0 || holderId.length > holderIdLengthMax)) {
    throw new DeviceCorruptError(`${filePath} names no valid holder of epoch ${parsed.highestEpoch}`);
  }
  return holderId === undefined ? { highestEpoch: parsed.highestEpoch } : { highestEpoch: parsed.highestEpoch, highestHolderId: holderId };
}

/** The highest epoch arbiter.json records (0 without the file); reads only. */
export async function readHighestEpoch(filePath: string, files: DeviceFiles = nodeFiles): Promise<number> {
  return (await readArbiterFile(filePath, files)).highestEpoch;
}

function describe(holder: Holder, granted: boolean): LeaseState {
  return {
    holderId: holder.id,
    holderAddress: holder.address,
    epoch: holder.epoch,
    expiresAtMs: holder.expiresAtMs,
    leaseMs: holder.leaseMs,
    granted,
  };
}

function validateLeaseMs(leaseMs: number): void {
  if (!Number.isSafeInteger(leaseMs) || leaseMs < leaseMinMs || leaseMs > leaseMaxMs) {
    throw new InvalidArgumentError(`lease of ${leaseMs} ms must be from ${leaseMinMs} to ${leaseMaxMs} ms`);
  }
}

function validateName(what: string, value: string, lengthMax: number, emptyAllowed = false): void {
  if ((!emptyAllowed && value.length === 0) || value.length > lengthMax) {
    const range = emptyAllowed ? `at most ${lengthMax}` : `1 to ${lengthMax}`;
    throw new InvalidArgumentError(`${what} must be ${range} characters long, not ${value.length}`);
  }
}
