/**
 * Fuzzes the transmission phase (proto.md "Transmission"): every command
 * (READ, WRITE, FLUSH, TRIM, WRITE_ZEROES, BLOCK_STATUS, CACHE, DISC, and
 * unknown ones) with random flags, offsets in range, at the end, past the end
 * and near 2^64, lengths from zero to 2^32 - 1, sometimes with a broken magic
 * or cut short. Requests go one at a time, so each answer is checked against
 * the errnos the spec allows for it and READ data against a shadow copy.
 */
import {
  NBD_CMD_BLOCK_STATUS,
  NBD_CMD_CACHE,
  NBD_CMD_DISC,
  NBD_CMD_FLAG_DF,
  NBD_CMD_FLAG_FAST_ZERO,
  NBD_CMD_FLAG_FUA,
  NBD_CMD_FLAG_NO_HOLE,
  NBD_CMD_FLAG_REQ_ONE,
  NBD_CMD_FLUSH,
  NBD_CMD_READ,
  NBD_CMD_RESIZE,
  NBD_CMD_TRIM,
  NBD_CMD_WRITE,
  NBD_CMD_WRITE_ZEROES,
  NBD_EINVAL,
  NBD_ENOSPC,
  NBD_ENOTSUP,
  NBD_EOVERFLOW,
  NBD_EPERM,
  NBD_FLAG_SEND_DF,
  NBD_FLAG_SEND_FAST_ZERO,
  NBD_FLAG_SEND_FUA,
  NBD_REQUEST_MAGIC,
  NBD_REPLY_FLAG_DONE,
  NBD_REPLY_TYPE_BLOCK_STATUS,
  NBD_REPLY_TYPE_FLAG_ERROR,
  NBD_REPLY_TYPE_NONE,
  NBD_REPLY_TYPE_OFFSET_DATA,
  NBD_REPLY_TYPE_OFFSET_HOLE,
  NBD_SIMPLE_REPLY_MAGIC,
  NBD_STRUCTURED_REPLY_MAGIC,
} from "@switchyard/nbd";
import { sendChaos } from "./nbd-handshake-fuzz.js";
import type { TransmissionEntry } from "./nbd-handshake-fuzz.js";
import type { NbdCase } from "./nbd-wire.js";
import { nbdFuzzWriteDiscardMaxBytes } from "./limits.js";

/** One request as the fuzzer sent it; offset is a BigInt so 64-bit values stay exact. */
export interface FuzzRequest {
  readonly command: number;
  readonly flags: number;
  readonly handle: bigint;
  readonly offsetBytes: bigint;
  readonly lengthBytes: number;
}

/** The answers the spec allows: any errno listed, and success only when `successAllowed`. */
export interface AllowedAnswers {
  readonly errnos: ReadonlySet<number>;
  readonly successAllowed: boolean;
}

/** Chunks one structured reply may have: one per 4 KiB of the largest READ, plus slack. */
const chunksPerReplyMax = 64;
const twoPow64 = 2n ** 64n;

/** Sends requests one at a time and checks each answer; returns when the case ends. */
export async function fuzzTransmission(fuzzCase: NbdCase, entry: TransmissionEntry, requestCount: number): Promise<void> {
  const random = fuzzCase.random;
  for (let index = 0; index < requestCount; index += 1) {
    const request = randomRequest(fuzzCase, entry);
    if (random.chance(0.01)) {
      // A mutated frame may still run (say, only its handle changed): its range is no longer known.
      forgetRange(entry, request);
      await sendChaos(fuzzCase, requestFrame(request, request.command === NBD_CMD_WRITE ? random.bytes(Math.min(request.lengthBytes, nbdFuzzWriteDiscardMaxBytes)) : undefined));
      return;
    }
    if (request.command === NBD_CMD_DISC) {
      // proto.md: no reply; the server closes once earlier requests are answered.
      fuzzCase.send("NBD_CMD_DISC", requestFrame(request));
      await fuzzCase.expectClose("NBD_CMD_DISC");
      return;
    }
    if (request.command === NBD_CMD_WRITE && request.lengthBytes > nbdFuzzWriteDiscardMaxBytes) {
      // proto.md lets a server close on a payload this large; we send none and leave.
      fuzzCase.send("NBD_CMD_WRITE (huge, no payload)", requestFrame(request));
      fuzzCase.endInput("after a huge WRITE header");
      await fuzzCase.expectClose("a huge WRITE");
      return;
    }
    const payload = request.command === NBD_CMD_WRITE ? random.bytes(request.lengthBytes) : undefined;
    fuzzCase.send(`command ${request.command}`, requestFrame(request, payload));
    const allowed = allowedAnswers(request, entry, fuzzCase.requestSizeMaxBytes);
    const errno = entry.structured ? await checkStructuredReply(fuzzCase, entry, request, allowed) : await checkSimpleReply(fuzzCase, entry, request, allowed);
    if (errno === 0) applyToShadow(entry, request, payload);
  }
  fuzzCase.endInput("case done");
  await fuzzCase.expectClose("end of input in transmission");
}

/**
 * The spec's answer to a request (proto.md "Request types", "Error values",
 * "Command flags", "Block size constraints"). Where several errors apply the
 * server may report any of them; where the spec says SHOULD, both ways pass.
 */
export function allowedAnswers(request: FuzzRequest, entry: TransmissionEntry, requestSizeMaxBytes: number): AllowedAnswers {
  const errnos = new Set<number>();
  let mustFail = false;
  const require = (errno: number): void => {
    errnos.add(errno);
    mustFail = true;
  };
  const permit = (errno: number): void => {
    errnos.add(errno);
  };
  const { command, flags, lengthBytes } = request;
  const flagCheck = flagsOf(request, entry);
  if (flagCheck.undocumented) require(NBD_EINVAL);
  if (flagCheck.notNegotiated) permit(NBD_EINVAL);
  const pastEnd = request.offsetBytes + BigInt(lengthBytes) > BigInt(entry.nbdExport.sizeBytes);
  const readOnly = entry.nbdExport.readOnly;
  if (lengthBytes === 0 && command !== NBD_CMD_FLUSH) permit(NBD_EINVAL);
  switch (command) {
    case NBD_CMD_READ:
      if (lengthBytes > requestSizeMaxBytes) [NBD_EINVAL, NBD_EOVERFLOW].forEach(require);
      if (pastEnd) require(NBD_EINVAL);
      break;
    case NBD_CMD_WRITE:
      if (readOnly) require(NBD_EPERM);
      if (lengthBytes > requestSizeMaxBytes) [NBD_EINVAL, NBD_EOVERFLOW].forEach(require);
      if (pastEnd) require(NBD_ENOSPC);
      break;
    case NBD_CMD_WRITE_ZEROES:
      // A read-only export does not advertise WRITE_ZEROES or TRIM: EPERM or EINVAL.
      if (readOnly) [NBD_EPERM, NBD_EINVAL].forEach(require);
      if (pastEnd) require(NBD_ENOSPC);
      // proto.md: a fast zero the server cannot do fast MUST fail with ENOTSUP; it may also just succeed.
      if ((flags & NBD_CMD_FLAG_FAST_ZERO) !== 0) permit(NBD_ENOTSUP);
      break;
    case NBD_CMD_TRIM:
      if (readOnly) [NBD_EPERM, NBD_EINVAL].forEach(require);
      if (pastEnd) require(NBD_EINVAL);
      break;
    case NBD_CMD_FLUSH:
      // proto.md: offset and length are reserved, MUST be zero.
      if (request.offsetBytes !== 0n || lengthBytes !== 0) permit(NBD_EINVAL);
      break;
    case NBD_CMD_BLOCK_STATUS:
      if (entry.context === "absent") require(NBD_EINVAL);
      if (entry.context === "uncertain") permit(NBD_EINVAL);
      if (pastEnd) require(NBD_EINVAL);
      break;
    default:
      // CACHE (not advertised), RESIZE and unknown commands: proto.md SHOULD EINVAL.
      require(NBD_EINVAL);
  }
  return { errnos, successAllowed: !mustFail };
}

/** Flag bits a command does not document (must fail), and documented ones not negotiated (may fail). */
function flagsOf(request: FuzzRequest, entry: TransmissionEntry): { undocumented: boolean; notNegotiated: boolean } {
  const negotiated = entry.transmissionFlags;
  // proto.md: FUA is valid on every command once SEND_FUA is negotiated, and the server MUST accept it.
  let documented = NBD_CMD_FLAG_FUA;
  let usable = (negotiated & NBD_FLAG_SEND_FUA) !== 0 ? NBD_CMD_FLAG_FUA : 0;
  if (request.command === NBD_CMD_READ) {
    documented |= NBD_CMD_FLAG_DF;
    if ((negotiated & NBD_FLAG_SEND_DF) !== 0) usable |= NBD_CMD_FLAG_DF;
  }
  if (request.command === NBD_CMD_WRITE_ZEROES) {
    documented |= NBD_CMD_FLAG_NO_HOLE | NBD_CMD_FLAG_FAST_ZERO;
    usable |= NBD_CMD_FLAG_NO_HOLE | ((negotiated & NBD_FLAG_SEND_FAST_ZERO) !== 0 ? NBD_CMD_FLAG_FAST_ZERO : 0);
  }
  if (request.command === NBD_CMD_BLOCK_STATUS) {
    documented |= NBD_CMD_FLAG_REQ_ONE;
    usable |= NBD_CMD_FLAG_REQ_ONE;
  }
  return { undocumented: (request.flags & ~documented) !== 0, notNegotiated: (request.flags & documented & ~usable) !== 0 };
}

function checkErrno(fuzzCase: NbdCase, request: FuzzRequest, allowed: AllowedAnswers, errno: number): void {
  const ok = errno === 0 ? allowed.successAllowed : allowed.errnos.has(errno);
  if (!ok) {
    const expected = [...(allowed.successAllowed ? [0] : []), ...allowed.errnos].join(" or ");
    throw fuzzCase.failure(
      "wrong-answer",
      `command ${request.command} flags 0x${request.flags.toString(16)} offset ${request.offsetBytes} length ${request.lengthBytes}: errno ${errno}, expected ${expected}`,
    );
  }
}

async function checkSimpleReply(fuzzCase: NbdCase, entry: TransmissionEntry, request: FuzzRequest, allowed: AllowedAnswers, read?: Buffer): Promise<number> {
  const reply = read ?? (await fuzzCase.readAll(16, `the reply to command ${request.command}`));
  if (reply.readUInt32BE(0) !== NBD_SIMPLE_REPLY_MAGIC) throw fuzzCase.failure("protocol", "simple reply without its magic");
  if (reply.readBigUInt64BE(8) !== request.handle) throw fuzzCase.failure("protocol", "reply to a handle never sent");
  const errno = reply.readUInt32BE(4);
  checkErrno(fuzzCase, request, allowed, errno);
  if (errno === 0 && request.command === NBD_CMD_READ) {
    // proto.md: with structured replies, a successful READ MUST use chunks.
    if (entry.structured) throw fuzzCase.failure("protocol", "a simple reply to a successful READ with structured replies");
    const data = await fuzzCase.readAll(request.lengthBytes, "READ data");
    checkData(fuzzCase, entry, Number(request.offsetBytes), data);
  }
  if (errno === 0 && request.command === NBD_CMD_BLOCK_STATUS) throw fuzzCase.failure("protocol", "a simple reply to a successful BLOCK_STATUS");
  return errno;
}

/** Reads chunks until DONE; returns the errno (0 when no error chunk came). */
async function checkStructuredReply(fuzzCase: NbdCase, entry: TransmissionEntry, request: FuzzRequest, allowed: AllowedAnswers): Promise<number> {
  let errno = 0;
  let coveredBytes = 0;
  let statusChunks = 0;
  for (let index = 0; index < chunksPerReplyMax; index += 1) {
    const start = await fuzzCase.readAll(16, `a reply chunk to command ${request.command}`);
    // proto.md: even with structured replies, a server MAY answer a request without reply data simply.
    if (index === 0 && start.readUInt32BE(0) === NBD_SIMPLE_REPLY_MAGIC) return checkSimpleReply(fuzzCase, entry, request, allowed, start);
    if (start.readUInt32BE(0) !== NBD_STRUCTURED_REPLY_MAGIC) throw fuzzCase.failure("protocol", "chunk without the structured reply magic");
    const header = Buffer.concat([start, await fuzzCase.readAll(4, "the chunk length")]);
    if (header.readBigUInt64BE(8) !== request.handle) throw fuzzCase.failure("protocol", "chunk for a handle never sent");
    const chunkFlags = header.readUInt16BE(4);
    const chunkType = header.readUInt16BE(6);
    const payload = await fuzzCase.readAll(header.readUInt32BE(16), "chunk payload");
    if ((chunkType & NBD_REPLY_TYPE_FLAG_ERROR) !== 0) {
      if (payload.length < 6) throw fuzzCase.failure("protocol", "error chunk shorter than 6 bytes");
      errno = payload.readUInt32BE(0);
      // proto.md: an error chunk's errno is never zero.
      if (errno === 0) throw fuzzCase.failure("protocol", "error chunk with errno 0");
    } else if (chunkType === NBD_REPLY_TYPE_OFFSET_DATA || chunkType === NBD_REPLY_TYPE_OFFSET_HOLE) {
      coveredBytes += checkReadChunk(fuzzCase, entry, request, chunkType, payload);
    } else if (chunkType === NBD_REPLY_TYPE_BLOCK_STATUS) {
      statusChunks += 1;
      checkBlockStatus(fuzzCase, request, payload);
    } else if (chunkType !== NBD_REPLY_TYPE_NONE) {
      throw fuzzCase.failure("protocol", `chunk type ${chunkType}`);
    }
    if ((chunkFlags & NBD_REPLY_FLAG_DONE) === 0) continue;
    checkErrno(fuzzCase, request, allowed, errno);
    if (errno === 0 && request.command === NBD_CMD_READ && coveredBytes !== request.lengthBytes) throw fuzzCase.failure("wrong-answer", `READ covered ${coveredBytes} of ${request.lengthBytes} bytes`);
    if (errno === 0 && request.command === NBD_CMD_BLOCK_STATUS && statusChunks !== 1) throw fuzzCase.failure("wrong-answer", `${statusChunks} block status chunks for one context`);
    return errno;
  }
  throw fuzzCase.failure("protocol", `more than ${chunksPerReplyMax} chunks in one reply`);
}

/** An OFFSET_DATA or OFFSET_HOLE chunk must lie in the request and match the shadow; returns its length. */
function checkReadChunk(fuzzCase: NbdCase, entry: TransmissionEntry, request: FuzzRequest, chunkType: number, payload: Buffer): number {
  if (request.command !== NBD_CMD_READ || payload.length < 8) throw fuzzCase.failure("protocol", "a content chunk outside a READ");
  const offsetBytes = payload.readBigUInt64BE(0);
  const data = chunkType === NBD_REPLY_TYPE_OFFSET_DATA ? payload.subarray(8) : Buffer.alloc(payload.length === 12 ? payload.readUInt32BE(8) : -1);
  if (offsetBytes < request.offsetBytes || offsetBytes + BigInt(data.length) > request.offsetBytes + BigInt(request.lengthBytes)) {
    throw fuzzCase.failure("protocol", "a content chunk outside its request");
  }
  checkData(fuzzCase, entry, Number(offsetBytes), data);
  return data.length;
}

function checkBlockStatus(fuzzCase: NbdCase, request: FuzzRequest, payload: Buffer): void {
  // proto.md: 4 + a positive multiple of 8; descriptors nonzero; REQ_ONE means one.
  if (request.command !== NBD_CMD_BLOCK_STATUS || payload.length < 12 || (payload.length - 4) % 8 !== 0) throw fuzzCase.failure("protocol", "malformed block status chunk");
  const count = (payload.length - 4) / 8;
  if ((request.flags & NBD_CMD_FLAG_REQ_ONE) !== 0 && count !== 1) throw fuzzCase.failure("protocol", `${count} descriptors with REQ_ONE`);
  for (let index = 0; index < count; index += 1) {
    if (payload.readUInt32BE(4 + 8 * index) === 0) throw fuzzCase.failure("protocol", "a block status descriptor of length 0");
  }
}

function checkData(fuzzCase: NbdCase, entry: TransmissionEntry, offsetBytes: number, data: Buffer): void {
  const { shadow, known } = entry.nbdExport;
  for (let index = 0; index < data.length; index += 1) {
    const at = offsetBytes + index;
    if (known[at] === 1 && shadow[at] !== data[index]) throw fuzzCase.failure("wrong-answer", `READ byte at ${at} is ${data[index]}, wrote ${shadow[at]}`);
  }
}

function applyToShadow(entry: TransmissionEntry, request: FuzzRequest, payload: Buffer | undefined): void {
  const start = Number(request.offsetBytes);
  const end = start + request.lengthBytes;
  const { shadow, known } = entry.nbdExport;
  if (request.command === NBD_CMD_WRITE && payload !== undefined) {
    payload.copy(shadow, start);
    known.fill(1, start, end);
  } else if (request.command === NBD_CMD_WRITE_ZEROES) {
    shadow.fill(0, start, end);
    known.fill(1, start, end);
  } else if (request.command === NBD_CMD_TRIM) {
    // proto.md: after TRIM the contents are unspecified until rewritten.
    known.fill(0, start, end);
  }
}

function forgetRange(entry: TransmissionEntry, request: FuzzRequest): void {
  const sizeBytes = BigInt(entry.nbdExport.sizeBytes);
  if (request.offsetBytes >= sizeBytes) return;
  const end = request.offsetBytes + BigInt(request.lengthBytes);
  entry.nbdExport.known.fill(0, Number(request.offsetBytes), Number(end < sizeBytes ? end : sizeBytes));
}

function randomRequest(fuzzCase: NbdCase, entry: TransmissionEntry): FuzzRequest {
  const random = fuzzCase.random;
  const command = random.pick([
    NBD_CMD_READ, NBD_CMD_READ, NBD_CMD_WRITE, NBD_CMD_WRITE, NBD_CMD_FLUSH, NBD_CMD_TRIM, NBD_CMD_WRITE_ZEROES,
    NBD_CMD_BLOCK_STATUS, NBD_CMD_BLOCK_STATUS, NBD_CMD_CACHE, NBD_CMD_RESIZE, random.between(9, 0xffff),
  ]);
  const finalCommand = random.chance(0.01) ? NBD_CMD_DISC : command;
  const flags = random.chance(0.1) ? random.below(0x10000) : random.chance(0.5) ? 0 : randomDocumentedFlags(fuzzCase);
  const sizeBytes = entry.nbdExport.sizeBytes;
  const lengthBytes = randomLength(fuzzCase, finalCommand);
  const offsetBytes = randomOffset(fuzzCase, sizeBytes, lengthBytes);
  const handle = (BigInt(random.nextUint32()) << 32n) | BigInt(random.nextUint32());
  return { command: finalCommand, flags, handle, offsetBytes, lengthBytes };
}

function randomDocumentedFlags(fuzzCase: NbdCase): number {
  const random = fuzzCase.random;
  let flags = 0;
  for (const flag of [NBD_CMD_FLAG_FUA, NBD_CMD_FLAG_NO_HOLE, NBD_CMD_FLAG_DF, NBD_CMD_FLAG_REQ_ONE, NBD_CMD_FLAG_FAST_ZERO]) if (random.chance(0.3)) flags |= flag;
  return flags;
}

function randomLength(fuzzCase: NbdCase, command: number): number {
  const random = fuzzCase.random;
  const maxBytes = fuzzCase.requestSizeMaxBytes;
  if (command === NBD_CMD_FLUSH) return random.chance(0.9) ? 0 : random.below(4096);
  const roll = random.below(100);
  if (roll < 5) return 0;
  if (roll < 75) return random.between(1, 4096);
  if (roll < 85) return random.between(maxBytes - 2, maxBytes + 2);
  if (roll < 92) return random.between(maxBytes + 1, nbdFuzzWriteDiscardMaxBytes);
  return random.pick([0xffffffff, 0x80000000, random.nextUint32(), 2 ** 25 + 1]);
}

function randomOffset(fuzzCase: NbdCase, sizeBytes: number, lengthBytes: number): bigint {
  const random = fuzzCase.random;
  const roll = random.below(100);
  if (roll < 80) return BigInt(random.below(Math.max(1, sizeBytes - Math.min(lengthBytes, sizeBytes) + 1)));
  if (roll < 90) return BigInt(Math.max(0, sizeBytes - Math.min(sizeBytes, lengthBytes) + random.between(-2, 2)));
  // Offsets whose sum with the length wraps past 2^64 in a careless 64-bit check, or loses precision in a double.
  const huge = [twoPow64 - 1n, twoPow64 - BigInt(Math.max(1, lengthBytes)), 2n ** 63n, 2n ** 53n + 1n, BigInt(random.nextUint32()) << 32n];
  return random.pick(huge);
}

export function requestFrame(request: FuzzRequest, payload?: Buffer): Buffer {
  const header = Buffer.allocUnsafe(28);
  header.writeUInt32BE(NBD_REQUEST_MAGIC, 0);
  header.writeUInt16BE(request.flags, 4);
  header.writeUInt16BE(request.command, 6);
  header.writeBigUInt64BE(request.handle, 8);
  header.writeBigUInt64BE(request.offsetBytes, 16);
  header.writeUInt32BE(request.lengthBytes, 24);
  return payload === undefined ? header : Buffer.concat([header, payload]);
}
