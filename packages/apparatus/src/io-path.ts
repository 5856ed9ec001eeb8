/**
 * The host I/O path of one apparatus (DESIGN.md "The I/O path"):
 * admission, mapping by the active face, backend I/O. A request that spans
 * extents is split at extent boundaries and its parts run concurrently.
 */
import assert from "node:assert/strict";
import { AllocationList, NbdError, assertAllocation, type AllocationExtent, type BlockIo, type WriteZeroesFlags } from "@switchyard/nbd";
import type { BackendSet } from "./backend.js";
import type { ConfigurationFaces } from "./configuration-faces.js";
import type { ExtentMap } from "./extent-map.js";
import { Admission, HoldGate } from "./hold-gate.js";
import { IoStats, type IoOperation } from "./io-stats.js";

/**
 * The part of a host request that falls in one extent. `buffer` is the
 * request's whole READ or WRITE buffer (empty for payload-free commands) and
 * `fua` its flag, passed in rather than captured, so that READ and WRITE use
 * the module-level operations below and no closure is made per request.
 */
type PartOperation = (backend: BlockIo, luOffsetBytes: number, requestOffsetBytes: number, lengthBytes: number, buffer: Buffer, fua: boolean) => Promise<void>;

/** The bytes of `buffer` that one part covers: the buffer itself when the part is the whole request (no view made). */
function partOf(buffer: Buffer, requestOffsetBytes: number, lengthBytes: number): Buffer {
  return requestOffsetBytes === 0 && lengthBytes === buffer.length ? buffer : buffer.subarray(requestOffsetBytes, requestOffsetBytes + lengthBytes);
}

const readPart: PartOperation = (backend, luOffsetBytes, requestOffsetBytes, lengthBytes, into) =>
  backend.read(luOffsetBytes, partOf(into, requestOffsetBytes, lengthBytes));
const writePart: PartOperation = (backend, luOffsetBytes, requestOffsetBytes, lengthBytes, data, fua) =>
  backend.write(luOffsetBytes, partOf(data, requestOffsetBytes, lengthBytes), fua);
const noBuffer = Buffer.alloc(0);

/**
 * Each part of a host's WRITE_ZEROES: its FUA is one flush of the volume
 * after every part, not one per part; NO_HOLE is the host's.
 */
const partZeroesFlags: WriteZeroesFlags = { fua: false, noHole: false };
const partZeroesNoHoleFlags: WriteZeroesFlags = { fua: false, noHole: true };

/**
 * Parts of one request run at most this many at a time. A READ or WRITE
 * (32 MiB at most, extents of 1 MiB or more) has at most 33 parts and never
 * waits; a WRITE_ZEROES or TRIM may be as long as the volume (NBD proto.md:
 * the maximum block size bounds payloads only), up to 4 GiB in thousands of
 * parts, and must not start them all at once: each zeroing part holds a
 * chunk buffer on the device and a request slot of its connection.
 */
export const partsInFlightMax = 64;

const resolved: Promise<void> = Promise.resolve();

/**
 * Most bytes one block status request looks at: each LU finds zero runs by
 * reading (logical-unit.ts), so an answer for 4 GiB would read 4 GiB. A
 * shorter answer is allowed (NBD proto.md BLOCK_STATUS); clients ask again
 * from where it stopped.
 */
export const allocationAskMaxBytes = 256 * 1024 * 1024;

export class IoPath {
  private readonly faces: ConfigurationFaces;
  private readonly backends: BackendSet;
  readonly gate = new HoldGate();
  readonly admission = new Admission();
  /** Requests, bytes and latency per volume and operation, for /metrics. */
  readonly stats = new IoStats();
  private fencedReason: string | undefined;
  /** Volumes not served until the next whole table, and why (a hold that passed its deadline). */
  private readonly shut = new Map<string, string>();
  /**
   * The area placeOf chose, beside the backend it returns: read at once by
   * its caller, so that mapping a request makes no object.
   */
  private placedAreaIndex = 0;
  /** Host I/O is served until `lease.deadlineMs` (performance.now()); the contact lease moves it. */
  lease: { readonly deadlineMs: number } | undefined;

  /**
   * @param settlesEveryPart a request of several parts leaves admission only
   *   once all have settled (ApparatusBehaviour; false only in tests).
   */
  constructor(faces: ConfigurationFaces, backends: BackendSet, private readonly settlesEveryPart = true) {
    this.faces = faces;
    this.backends = backends;
  }

  /** Requests admitted and not yet finished. */
  get inFlight(): number {
    return this.admission.inFlight;
  }

  /** Every request from now on fails with ESHUTDOWN (claim 3: removed from the control range). */
  fence(reason: string): void {
    this.fencedReason = reason;
  }

  unfence(): void {
    this.fencedReason = undefined;
  }

  /** Every request to `volume` from now on fails with ESHUTDOWN, until reopenAll(). */
  shutVolume(volume: string, reason: string): void {
    this.shut.set(volume, reason);
  }

  /** A whole table was loaded: every volume it has is served again. */
  reopenAll(): void {
    this.shut.clear();
  }

  get volumesShut(): string[] {
    return [...this.shut.keys()];
  }

  /** Fenced, or out of contact with the device for longer than its lease. */
  get fenced(): boolean {
    return this.fencedReason !== undefined || this.outOfContact();
  }

  private outOfContact(): boolean {
    return this.lease !== undefined && performance.now() > this.lease.deadlineMs;
  }

  read(volume: string, offsetBytes: number, into: Buffer): Promise<void> {
    return this.run(volume, "read", offsetBytes, into.length, readPart, into, false);
  }

  write(volume: string, offsetBytes: number, data: Buffer, fua: boolean): Promise<void> {
    return this.run(volume, "write", offsetBytes, data.length, writePart, data, fua);
  }

  async writeZeroes(volume: string, offsetBytes: number, lengthBytes: number, flags: WriteZeroesFlags): Promise<void> {
    const partFlags = flags.noHole ? partZeroesNoHoleFlags : partZeroesFlags;
    await this.run(volume, "write_zeroes", offsetBytes, lengthBytes, (backend, luOffset, _requestOffset, length) =>
      backend.writeZeroes(luOffset, length, partFlags), noBuffer, false);
    const fua = flags.fua;
    if (fua) await this.flushVolume(volume);
  }

  /**
   * How a range of the volume is allocated: each extent's part asked of the
   * backend its reads go to (one that cannot tell reports data), in volume
   * order, up to the first part answered short. Held like a read.
   */
  async allocation(volume: string, offsetBytes: number, lengthBytes: number): Promise<readonly AllocationExtent[]> {
    const askedBytes = Math.min(lengthBytes, allocationAskMaxBytes);
    const answers = new Map<number, { lengthBytes: number; extents: readonly AllocationExtent[] }>();
    await this.run(volume, "block_status", offsetBytes, askedBytes, async (backend, luOffset, requestOffset, length) => {
      const extents = backend.allocation === undefined ? [{ lengthBytes: length, state: 0 }] : await backend.allocation(luOffset, length);
      assertAllocation(extents, length);
      answers.set(requestOffset, { lengthBytes: length, extents });
    }, noBuffer, false);
    const list = new AllocationList();
    for (const requestOffset of [...answers.keys()].sort((left, right) => left - right)) {
      const answer = answers.get(requestOffset);
      assert.ok(answer !== undefined && requestOffset === list.lengthBytes, "block status parts out of order");
      list.appendAll(answer.extents);
      // The next part starts where this one was asked to end, not where its answer stopped.
      if (list.lengthBytes < requestOffset + answer.lengthBytes) break;
    }
    return list.toArray();
  }

  /** TRIM is advisory (NBD proto.md): the range is checked and left as it is. */
  async trim(volume: string, offsetBytes: number, lengthBytes: number): Promise<void> {
    await this.run(volume, "trim", offsetBytes, lengthBytes, () => Promise.resolve(), noBuffer, false);
  }

  /** NBD proto.md: FLUSH makes durable every write completed before it, on any connection. */
  async flush(volume: string): Promise<void> {
    const startedMs = performance.now();
    let failed = true;
    try {
      this.assertServing(volume);
      await this.flushVolume(volume);
      failed = false;
    } finally {
      this.stats.record(volume, "flush", 0, startedMs, failed);
    }
  }

  /**
   * Every device LU the table names (issue 19: a FLUSH covers writes other
   * apparatuses made on LUs this one never reached, and those a mirror made
   * on a destination the volume maps once switched), and the external LUs
   * that `volume` maps now. An
   * external server (one NBD server per LU) is flushed only for the volumes
   * it holds: while it is down, a FLUSH of a volume that has no extent there
   * still succeeds. Its FLUSH covers writes from every apparatus's connection
   * (NBD proto.md), so one apparatus's FLUSH covers the others' writes too.
   */
  private async flushVolume(volume: string): Promise<void> {
    const face = this.faces.active;
    const map = face.volumes.get(volume);
    const external = Array.from(face.lus.values()).filter((lu) => lu.external);
    const mapped = map === undefined || external.length === 0 ? [] : external.filter((lu) => map.luIndex.includes(lu.index) || map.mirrorLuIndexPlusOne.includes(lu.index + 1));
    await Promise.all([this.backends.flushAll(Array.from(face.lus.values())), ...mapped.map((lu) => this.backends.backend(lu).flush())]);
  }

  /**
   * A fence lasts until the controller registers the apparatus again. Being
   * out of contact lasts only until a renewal is granted: the device grants
   * one only under a key the controller registered and never fenced (a
   * restarted device, say), so this apparatus's table is still the current one.
   */
  private assertServing(volume: string): void {
    if (this.fencedReason !== undefined) throw new NbdError("ESHUTDOWN", `apparatus fenced: ${this.fencedReason}`);
    const shut = this.shut.size === 0 ? undefined : this.shut.get(volume);
    if (shut !== undefined) throw new NbdError("ESHUTDOWN", `volume ${volume} is not served: ${shut}`);
    if (this.outOfContact()) throw new NbdError("ESHUTDOWN", "apparatus out of contact: no renewal of its registration within its lease");
  }

  /**
   * Runs one host request and counts it, failed or not, with the time it
   * took from arrival (one async frame per request: the count is taken in
   * its finally, not in a wrapper).
   */
  private async run(volume: string, kind: IoOperation, offsetBytes: number, lengthBytes: number, operation: PartOperation, buffer: Buffer, fua: boolean): Promise<void> {
    const startedMs = performance.now();
    let failed = true;
    try {
      this.assertServing(volume);
      if (!this.gate.empty) {
        const isWrite = kind !== "read" && kind !== "block_status";
        // claim 4: held only where a change remaps; asked again after each release.
        for (let held = this.gate.wait(volume, offsetBytes, lengthBytes, isWrite); held !== undefined; held = this.gate.wait(volume, offsetBytes, lengthBytes, isWrite)) {
          await held;
        }
        this.assertServing(volume);
      }
      // From here to begin() nothing awaits: the face that maps the request is the one it is admitted under.
      const map = this.faces.active.volumes.get(volume);
      if (map === undefined) throw new NbdError("ESHUTDOWN", `volume ${volume} is no longer served`);
      if (offsetBytes + lengthBytes > map.sizeBytes) {
        throw new NbdError("EINVAL", `range ${offsetBytes}+${lengthBytes} is past the end of ${volume} (${map.sizeBytes} bytes)`);
      }
      const tick = this.admission.begin();
      try {
        await this.forEachPart(map, offsetBytes, lengthBytes, operation, buffer, fua);
      } finally {
        this.admission.end(tick);
      }
      failed = false;
    } finally {
      this.stats.record(volume, kind, lengthBytes, startedMs, failed);
    }
  }

  /** Runs the parts; a request inside one extent (nearly every one) is one call, with no async frame of its own. */
  private forEachPart(map: ExtentMap, offsetBytes: number, lengthBytes: number, operation: PartOperation, buffer: Buffer, fua: boolean): Promise<void> {
    if (lengthBytes === 0) return resolved;
    const extentSize = map.extentSizeBytes;
    const first = Math.floor(offsetBytes / extentSize);
    const last = Math.floor((offsetBytes + lengthBytes - 1) / extentSize);
    if (first !== last) return this.forEachPartInWaves(map, offsetBytes, lengthBytes, operation, buffer, fua);
    const backend = this.placeOf(map, first);
    return operation(backend, this.placedAreaIndex * extentSize + (offsetBytes % extentSize), 0, lengthBytes, buffer, fua);
  }

  private async forEachPartInWaves(map: ExtentMap, offsetBytes: number, lengthBytes: number, operation: PartOperation, buffer: Buffer, fua: boolean): Promise<void> {
    const extentSize = map.extentSizeBytes;
    const first = Math.floor(offsetBytes / extentSize);
    const last = Math.floor((offsetBytes + lengthBytes - 1) / extentSize);
    for (let waveFirst = first; waveFirst <= last; waveFirst += partsInFlightMax) {
      const waveLast = Math.min(last, waveFirst + partsInFlightMax - 1);
      const parts: Promise<void>[] = [];
      for (let extent = waveFirst; extent <= waveLast; extent += 1) {
        const partStart = Math.max(offsetBytes, extent * extentSize);
        const partEnd = Math.min(offsetBytes + lengthBytes, (extent + 1) * extentSize);
        // A later wave maps after an await, still right: a change that remaps these
        // extents holds them and drains this admitted request before it applies (claim 4).
        const backend = this.placeOf(map, extent);
        parts.push(startPart(operation, backend, this.placedAreaIndex * extentSize + partStart - extent * extentSize, partStart - offsetBytes, partEnd - partStart, buffer, fua));
      }
      await (this.settlesEveryPart ? allSettledOrFirstError(parts) : Promise.all(parts));
    }
  }

  /**
   * Where an extent's I/O goes: its area; or, while it is in mirror state
   * from an external device's area onto one of a device's own, that area:
   * the device there passes writes on to the source and keeps the watermark
   * (the external server cannot), and reads come from the source through it.
   * Returns the backend and leaves the area in `placedAreaIndex`.
   */
  private placeOf(map: ExtentMap, extent: number): BlockIo {
    const lus = this.faces.active.lus;
    const luIndex = map.luIndex[extent];
    const areaIndex = map.areaIndex[extent];
    assert.ok(luIndex !== undefined && areaIndex !== undefined, `extent ${extent} out of range in ${map.name}`);
    const lu = lus.get(luIndex);
    assert.ok(lu !== undefined, `LU index ${luIndex} unknown`);
    const mirrorLuPlusOne = map.mirrorLuIndexPlusOne[extent] ?? 0;
    const mirrorLu = mirrorLuPlusOne === 0 ? undefined : lus.get(mirrorLuPlusOne - 1);
    if (lu.external && mirrorLu !== undefined && !mirrorLu.external) {
      this.placedAreaIndex = map.mirrorAreaIndex[extent] ?? 0;
      return this.backends.backend(mirrorLu);
    }
    this.placedAreaIndex = areaIndex;
    return this.backends.backend(lu);
  }
}

/**
 * One part of a request of several, a synchronous throw turned into a
 * rejection: its siblings already started are still waited for.
 */
function startPart(operation: PartOperation, backend: BlockIo, luOffsetBytes: number, requestOffsetBytes: number, lengthBytes: number, buffer: Buffer, fua: boolean): Promise<void> {
  try {
    return operation(backend, luOffsetBytes, requestOffsetBytes, lengthBytes, buffer, fua);
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}

/**
 * Waits for every part, then fails with the first failure: a request whose
 * part failed at once stays admitted while its siblings still write, or a
 * drain could report drained with writes still landing.
 */
async function allSettledOrFirstError(parts: readonly Promise<void>[]): Promise<void> {
  const outcomes = await Promise.allSettled(parts);
  const failed = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === "rejected");
  if (failed !== undefined) throw failed.reason;
}
