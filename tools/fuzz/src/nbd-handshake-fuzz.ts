/**
 * Fuzzes fixed newstyle option haggling (proto.md "Handshake"): every option
 * (EXPORT_NAME, ABORT, LIST, INFO, GO, STRUCTURED_REPLY, LIST/SET_META_CONTEXT,
 * and unknown ones), well formed or mutated (wrong lengths, wrong magic,
 * truncated), and checks each answer against the spec: the right reply
 * types, the option echoed, the right export size, or a closed connection
 * where the spec lets the server hang up.
 */
import {
  NBD_FLAG_C_FIXED_NEWSTYLE,
  NBD_FLAG_C_NO_ZEROES,
  NBD_FLAG_FIXED_NEWSTYLE,
  NBD_FLAG_READ_ONLY,
  NBD_INFO_BLOCK_SIZE,
  NBD_INFO_DESCRIPTION,
  NBD_INFO_EXPORT,
  NBD_INFO_NAME,
  NBD_INIT_PASSWD_HIGH,
  NBD_INIT_PASSWD_LOW,
  NBD_META_CONTEXT_BASE_ALLOCATION,
  NBD_OPT_ABORT,
  NBD_OPT_EXPORT_NAME,
  NBD_OPT_GO,
  NBD_OPT_INFO,
  NBD_OPT_LIST,
  NBD_OPT_LIST_META_CONTEXT,
  NBD_OPT_SET_META_CONTEXT,
  NBD_OPT_STRUCTURED_REPLY,
  NBD_OPTION_REPLY_HEADER_BYTES,
  NBD_OPTS_MAGIC_HIGH,
  NBD_OPTS_MAGIC_LOW,
  NBD_REP_ACK,
  NBD_REP_ERR_INVALID,
  NBD_REP_ERR_UNKNOWN,
  NBD_REP_ERR_UNSUP,
  NBD_REP_FLAG_ERROR,
  NBD_REP_INFO,
  NBD_REP_MAGIC_HIGH,
  NBD_REP_MAGIC_LOW,
  NBD_REP_META_CONTEXT,
  NBD_REP_SERVER,
  NBD_SERVER_GREETING_BYTES,
  NBD_STRING_MAX_BYTES,
} from "@switchyard/nbd";
import { goData, metaContextData } from "@switchyard/nbd/testing";
import { type NbdCase, type NbdFuzzExport } from "./nbd-wire.js";
import type { SeededRandom } from "./seeded-random.js";

/** What the handshake left for the transmission phase. */
export interface TransmissionEntry {
  readonly nbdExport: NbdFuzzExport;
  readonly structured: boolean;
  readonly transmissionFlags: number;
  /** Whether `base:allocation` is selected; "uncertain" after a failed SET, which the spec leaves open. */
  readonly context: "selected" | "absent" | "uncertain";
}

interface HandshakeState {
  structured: boolean;
  noZeroes: boolean;
  contextExport: string | undefined;
  contextUncertain: boolean;
  /** The export a well-formed prelude prepared for; GO picks it most of the time. */
  preparedExport: string | undefined;
}

interface OptionReply {
  readonly replyType: number;
  readonly data: Buffer;
}

/** Replies to one option before its final one: LIST sends one per export, GO a few INFOs. */
const optionRepliesMax = 64;
/** Largest option reply we accept: an INFO or SERVER reply is a 4096-byte string plus a few bytes. */
const optionReplyBytesMax = 2 * NBD_STRING_MAX_BYTES;
/** Options a fuzz case may send that the server does not know (proto.md: NBD_REP_ERR_UNSUP). */
const unknownOptions = [0, 4, 5, 11, 12, 13, 0x7fff, 0xffffffff] as const;

/** Runs greeting, client flags and options; undefined when the case ended in the handshake. */
export async function fuzzHandshake(fuzzCase: NbdCase, optionCount: number): Promise<TransmissionEntry | undefined> {
  const greeting = await fuzzCase.readAll(NBD_SERVER_GREETING_BYTES, "the greeting");
  const magicsOk =
    greeting.readUInt32BE(0) === NBD_INIT_PASSWD_HIGH &&
    greeting.readUInt32BE(4) === NBD_INIT_PASSWD_LOW &&
    greeting.readUInt32BE(8) === NBD_OPTS_MAGIC_HIGH &&
    greeting.readUInt32BE(12) === NBD_OPTS_MAGIC_LOW;
  if (!magicsOk || (greeting.readUInt16BE(16) & NBD_FLAG_FIXED_NEWSTYLE) === 0) throw fuzzCase.failure("protocol", "greeting is not fixed newstyle");
  const random = fuzzCase.random;
  // An oldstyle-minded client or a broken one: proto.md says the server MUST close on unknown client flags.
  if (random.chance(0.03)) {
    fuzzCase.send("client flags (unknown bits)", uint32(random.pick([0x00004202, 1 << 2, 0xffffffff, random.nextUint32() | 4])));
    await fuzzCase.expectClose("unknown client flags");
    return undefined;
  }
  const noZeroes = random.chance(0.7);
  fuzzCase.send("client flags", uint32((random.chance(0.9) ? NBD_FLAG_C_FIXED_NEWSTYLE : 0) | (noZeroes ? NBD_FLAG_C_NO_ZEROES : 0)));
  const state: HandshakeState = { structured: false, noZeroes, contextExport: undefined, contextUncertain: false, preparedExport: undefined };
  // Random options seldom line up into what real clients send; a prelude like
  // qemu's (structured replies, then base:allocation) reaches BLOCK_STATUS often.
  if (random.chance(0.4)) await prelude(fuzzCase, state);
  for (let index = 0; index < optionCount; index += 1) {
    const outcome = await fuzzOption(fuzzCase, state);
    if (outcome !== "continue") return outcome;
  }
  return finishHandshake(fuzzCase, state);
}

/** One option in the middle of haggling: mostly harmless ones, sometimes one that ends the session. */
async function fuzzOption(fuzzCase: NbdCase, state: HandshakeState): Promise<TransmissionEntry | undefined | "continue"> {
  const random = fuzzCase.random;
  if (random.chance(0.04)) {
    await sendChaos(fuzzCase, optionFrame(random.pick([NBD_OPT_GO, NBD_OPT_LIST, NBD_OPT_INFO]), goData(pickName(fuzzCase), [])));
    return undefined;
  }
  const option = random.pick([
    NBD_OPT_LIST,
    NBD_OPT_INFO,
    NBD_OPT_STRUCTURED_REPLY,
    NBD_OPT_STRUCTURED_REPLY,
    NBD_OPT_LIST_META_CONTEXT,
    NBD_OPT_SET_META_CONTEXT,
    NBD_OPT_SET_META_CONTEXT,
    unknownOptions[random.below(unknownOptions.length)] ?? 0,
    NBD_OPT_GO,
    NBD_OPT_ABORT,
  ]);
  switch (option) {
    case NBD_OPT_LIST:
      await checkList(fuzzCase, random.chance(0.2) ? random.bytes(random.between(1, 16)) : Buffer.alloc(0));
      return "continue";
    case NBD_OPT_STRUCTURED_REPLY:
      await checkStructuredReply(fuzzCase, state, random.chance(0.15) ? random.bytes(random.between(1, 8)) : Buffer.alloc(0));
      return "continue";
    case NBD_OPT_LIST_META_CONTEXT:
    case NBD_OPT_SET_META_CONTEXT:
      await checkMetaContext(fuzzCase, state, option, metaContextPayload(fuzzCase));
      return "continue";
    case NBD_OPT_INFO:
    case NBD_OPT_GO:
      return checkInfoOrGo(fuzzCase, state, option, infoPayload(fuzzCase));
    case NBD_OPT_ABORT:
      await checkAbort(fuzzCase, random.chance(0.2) ? random.bytes(4) : Buffer.alloc(0));
      return undefined;
    default:
      await checkUnknown(fuzzCase, option);
      return "continue";
  }
}

async function prelude(fuzzCase: NbdCase, state: HandshakeState): Promise<void> {
  const exportName = fuzzCase.random.pick(fuzzCase.exports).name;
  await checkStructuredReply(fuzzCase, state, Buffer.alloc(0));
  await checkMetaContext(fuzzCase, state, NBD_OPT_SET_META_CONTEXT, metaContextData(exportName, [NBD_META_CONTEXT_BASE_ALLOCATION]));
  state.preparedExport = exportName;
}

/** Ends haggling the way most clients do (GO), the old way (EXPORT_NAME), or by leaving. */
async function finishHandshake(fuzzCase: NbdCase, state: HandshakeState): Promise<TransmissionEntry | undefined> {
  const random = fuzzCase.random;
  const roll = random.below(100);
  if (roll < 70) {
    const exportName = random.chance(0.9) ? (state.preparedExport ?? random.pick(fuzzCase.exports).name) : pickName(fuzzCase);
    const entry = await checkInfoOrGo(fuzzCase, state, NBD_OPT_GO, goData(exportName, randomInfoTypes(random)));
    return entry === "continue" ? undefined : entry;
  }
  if (roll < 92) return checkExportName(fuzzCase, state, random.chance(0.9) ? random.pick(fuzzCase.exports).name : pickName(fuzzCase));
  fuzzCase.endInput("client leaves during the handshake");
  await fuzzCase.expectClose("end of input in the handshake");
  return undefined;
}

/**
 * A frame cut short, its declared length wrong, or its magic broken: the
 * stream cannot be resynchronised, so the oracle is only that the server
 * closes once our input ends (no hang) and keeps running (checked by the caller).
 */
export async function sendChaos(fuzzCase: NbdCase, frame: Buffer): Promise<void> {
  const random = fuzzCase.random;
  const mutated = Buffer.from(frame);
  const kind = random.below(4);
  if (kind === 0 && mutated.length > 0) {
    const at = random.below(Math.min(8, mutated.length));
    mutated[at] = (mutated[at] ?? 0) ^ (1 << random.below(8));
  }
  if (kind === 1 && mutated.length >= 16) mutated.writeUInt32BE(random.pick([0xffffffff, 0x7fffffff, random.nextUint32(), mutated.length]), 12);
  const cut = kind === 2 ? random.below(mutated.length) : mutated.length;
  const tail = kind === 3 ? random.bytes(random.between(1, 40)) : Buffer.alloc(0);
  fuzzCase.send("mutated frame", Buffer.concat([mutated.subarray(0, cut), tail]));
  fuzzCase.endInput("after a mutated frame");
  await fuzzCase.expectClose("end of input after a mutated frame");
}

async function checkList(fuzzCase: NbdCase, data: Buffer): Promise<void> {
  fuzzCase.send("NBD_OPT_LIST", optionFrame(NBD_OPT_LIST, data));
  // proto.md: NBD_OPT_LIST with data is invalid.
  if (data.length > 0) {
    await expectError(fuzzCase, NBD_OPT_LIST, [NBD_REP_ERR_INVALID]);
    return;
  }
  const replies = await readReplies(fuzzCase, NBD_OPT_LIST, [NBD_REP_SERVER]);
  expectFinal(fuzzCase, replies, [NBD_REP_ACK]);
  const listed = replies.slice(0, -1).map((reply) => reply.data.toString("utf8", 4, 4 + reply.data.readUInt32BE(0)));
  const expected = fuzzCase.exports.map((nbdExport) => nbdExport.name);
  if (listed.join("\n") !== expected.join("\n")) throw fuzzCase.failure("wrong-answer", `NBD_OPT_LIST listed [${listed.join(", ")}], not [${expected.join(", ")}]`);
}

async function checkStructuredReply(fuzzCase: NbdCase, state: HandshakeState, data: Buffer): Promise<void> {
  fuzzCase.send("NBD_OPT_STRUCTURED_REPLY", optionFrame(NBD_OPT_STRUCTURED_REPLY, data));
  // proto.md: data makes it invalid; a second request SHOULD get NBD_REP_ERR_INVALID.
  if (data.length > 0 || state.structured) {
    await expectError(fuzzCase, NBD_OPT_STRUCTURED_REPLY, [NBD_REP_ERR_INVALID]);
    return;
  }
  expectFinal(fuzzCase, await readReplies(fuzzCase, NBD_OPT_STRUCTURED_REPLY, []), [NBD_REP_ACK]);
  state.structured = true;
}

async function checkMetaContext(fuzzCase: NbdCase, state: HandshakeState, option: number, data: Buffer): Promise<void> {
  fuzzCase.send(option === NBD_OPT_SET_META_CONTEXT ? "NBD_OPT_SET_META_CONTEXT" : "NBD_OPT_LIST_META_CONTEXT", optionFrame(option, data));
  const request = parseMetaContextData(data);
  const isSet = option === NBD_OPT_SET_META_CONTEXT;
  const replies = await readReplies(fuzzCase, option, [NBD_REP_META_CONTEXT]);
  const final = replies[replies.length - 1] as OptionReply;
  const failed = final.replyType !== NBD_REP_ACK;
  if (isSet) {
    // A SET replaces the selection; whether a failed one clears it the spec leaves open.
    state.contextExport = undefined;
    state.contextUncertain = failed;
  }
  const refusals = metaContextRefusals(fuzzCase, state, isSet, failed, request);
  expectFinal(fuzzCase, replies, refusals ?? [NBD_REP_ACK]);
  if (refusals !== undefined || request === undefined) return;
  const names = replies.slice(0, -1).map((reply) => reply.data.toString("utf8", 4));
  const wanted = request.queries.length === 0 ? !isSet : request.queries.includes(NBD_META_CONTEXT_BASE_ALLOCATION) || (!isSet && request.queries.includes("base:"));
  if (names.some((name) => name !== NBD_META_CONTEXT_BASE_ALLOCATION) || names.length !== (wanted ? 1 : 0)) {
    throw fuzzCase.failure("wrong-answer", `meta context queries [${request.queries.join(", ")}] answered [${names.join(", ")}]`);
  }
  if (isSet && wanted) state.contextExport = request.exportName;
}

/** The refusals proto.md calls for, or undefined when the option must succeed. */
function metaContextRefusals(
  fuzzCase: NbdCase,
  state: HandshakeState,
  isSet: boolean,
  failed: boolean,
  request: { exportName: string } | undefined,
): readonly number[] | undefined {
  // proto.md: both need structured replies first (SET MUST fail; LIST SHOULD).
  if (isSet && !state.structured) return [NBD_REP_ERR_INVALID];
  if (request === undefined) return [NBD_REP_ERR_INVALID];
  if (!hasExport(fuzzCase, request.exportName)) return [NBD_REP_ERR_UNKNOWN, NBD_REP_ERR_INVALID];
  if (!isSet && !state.structured && failed) return [NBD_REP_ERR_INVALID];
  return undefined;
}

async function checkInfoOrGo(fuzzCase: NbdCase, state: HandshakeState, option: number, data: Buffer): Promise<TransmissionEntry | "continue"> {
  fuzzCase.send(option === NBD_OPT_GO ? "NBD_OPT_GO" : "NBD_OPT_INFO", optionFrame(option, data));
  const request = parseInfoData(data);
  const replies = await readReplies(fuzzCase, option, [NBD_REP_INFO]);
  const nbdExport = request === undefined ? undefined : fuzzCase.exportNamed(request.name);
  // proto.md: malformed data is NBD_REP_ERR_INVALID; an export that is not there, NBD_REP_ERR_UNKNOWN.
  const allowed = request === undefined ? [NBD_REP_ERR_INVALID] : nbdExport === undefined ? [NBD_REP_ERR_UNKNOWN, NBD_REP_ERR_INVALID] : [NBD_REP_ACK];
  expectFinal(fuzzCase, replies, allowed);
  if (request === undefined || nbdExport === undefined) return "continue";
  const exportInfo = replies.find((reply) => reply.data.readUInt16BE(0) === NBD_INFO_EXPORT);
  // proto.md: NBD_INFO_EXPORT MUST be sent before a successful NBD_REP_ACK.
  if (exportInfo?.data.length !== 12) throw fuzzCase.failure("wrong-answer", "no well-formed NBD_INFO_EXPORT before NBD_REP_ACK");
  const transmissionFlags = checkExportInfo(fuzzCase, nbdExport, readUInt64Exact(exportInfo.data, 2), exportInfo.data.readUInt16BE(10));
  if (option === NBD_OPT_INFO) return "continue";
  return transmissionEntry(state, nbdExport, request.name, transmissionFlags);
}

async function checkExportName(fuzzCase: NbdCase, state: HandshakeState, exportName: string): Promise<TransmissionEntry | undefined> {
  fuzzCase.send("NBD_OPT_EXPORT_NAME", optionFrame(NBD_OPT_EXPORT_NAME, Buffer.from(exportName, "utf8")));
  const nbdExport = fuzzCase.exportNamed(exportName);
  // proto.md: an unknown export after EXPORT_NAME can only be answered by closing.
  if (nbdExport === undefined) {
    await fuzzCase.expectClose("NBD_OPT_EXPORT_NAME for an unknown export");
    return undefined;
  }
  const reply = await fuzzCase.readAll(10 + (state.noZeroes ? 0 : 124), "the NBD_OPT_EXPORT_NAME reply");
  const transmissionFlags = checkExportInfo(fuzzCase, nbdExport, readUInt64Exact(reply, 0), reply.readUInt16BE(8));
  return transmissionEntry(state, nbdExport, exportName, transmissionFlags);
}

async function checkAbort(fuzzCase: NbdCase, data: Buffer): Promise<void> {
  fuzzCase.send("NBD_OPT_ABORT", optionFrame(NBD_OPT_ABORT, data));
  // proto.md: the server SHOULD answer NBD_REP_ACK (or may just close), then closes.
  const header = await fuzzCase.read(NBD_OPTION_REPLY_HEADER_BYTES);
  if (header !== "closed") checkReplyHeader(fuzzCase, header, NBD_OPT_ABORT);
  await fuzzCase.expectClose("NBD_OPT_ABORT");
}

async function checkUnknown(fuzzCase: NbdCase, option: number): Promise<void> {
  const data = fuzzCase.random.bytes(fuzzCase.random.below(24));
  fuzzCase.send(`option ${option}`, optionFrame(option, data));
  // STARTTLS and EXTENDED_HEADERS are known options we do not offer: any error; others MUST be UNSUP.
  const known = option === 5 || option === 11;
  const replies = await readReplies(fuzzCase, option, []);
  const final = replies[replies.length - 1] as OptionReply;
  if (known && final.replyType >= NBD_REP_FLAG_ERROR) return;
  expectFinal(fuzzCase, replies, [NBD_REP_ERR_UNSUP]);
}

async function expectError(fuzzCase: NbdCase, option: number, allowed: readonly number[]): Promise<void> {
  expectFinal(fuzzCase, await readReplies(fuzzCase, option, []), allowed);
}

function expectFinal(fuzzCase: NbdCase, replies: readonly OptionReply[], allowed: readonly number[]): void {
  const final = replies[replies.length - 1] as OptionReply;
  if (!allowed.includes(final.replyType)) {
    throw fuzzCase.failure("wrong-answer", `option answered 0x${final.replyType.toString(16)}, expected one of ${allowed.map((type) => `0x${type.toString(16)}`).join(", ")}`);
  }
}

/** Replies to one option up to its final one (ACK or an error); every header checked. */
async function readReplies(fuzzCase: NbdCase, option: number, intermediate: readonly number[]): Promise<OptionReply[]> {
  const replies: OptionReply[] = [];
  for (let index = 0; index < optionRepliesMax; index += 1) {
    const header = await fuzzCase.readAll(NBD_OPTION_REPLY_HEADER_BYTES, "an option reply");
    const replyType = checkReplyHeader(fuzzCase, header, option);
    const dataBytes = header.readUInt32BE(16);
    const data = dataBytes === 0 ? Buffer.alloc(0) : await fuzzCase.readAll(dataBytes, "option reply data");
    replies.push({ replyType, data });
    if (replyType === NBD_REP_ACK || replyType >= NBD_REP_FLAG_ERROR) {
      // proto.md: an ACK carries no data; an error's data is a string (at most 4096 bytes).
      if (replyType === NBD_REP_ACK && dataBytes !== 0) throw fuzzCase.failure("protocol", "NBD_REP_ACK with data");
      if (replyType >= NBD_REP_FLAG_ERROR && dataBytes > NBD_STRING_MAX_BYTES) throw fuzzCase.failure("protocol", "error message longer than 4096 bytes");
      return replies;
    }
    if (!intermediate.includes(replyType)) throw fuzzCase.failure("protocol", `reply type 0x${replyType.toString(16)} to option ${option}`);
  }
  throw fuzzCase.failure("protocol", `more than ${optionRepliesMax} replies to option ${option}`);
}

function checkReplyHeader(fuzzCase: NbdCase, header: Buffer, option: number): number {
  if (header.readUInt32BE(0) !== NBD_REP_MAGIC_HIGH || header.readUInt32BE(4) !== NBD_REP_MAGIC_LOW) throw fuzzCase.failure("protocol", "option reply without its magic");
  if (header.readUInt32BE(8) !== option) throw fuzzCase.failure("protocol", `reply names option ${header.readUInt32BE(8)}, not ${option}`);
  if (header.readUInt32BE(16) > optionReplyBytesMax) throw fuzzCase.failure("protocol", `option reply of ${header.readUInt32BE(16)} bytes`);
  return header.readUInt32BE(12);
}

/** The size and flags the server announced must be the export's; returns the flags. */
function checkExportInfo(fuzzCase: NbdCase, nbdExport: NbdFuzzExport, sizeBytes: number, flags: number): number {
  if (sizeBytes !== nbdExport.sizeBytes) throw fuzzCase.failure("wrong-answer", `export ${nbdExport.name} announced ${sizeBytes} bytes, not ${nbdExport.sizeBytes}`);
  if (((flags & NBD_FLAG_READ_ONLY) !== 0) !== nbdExport.readOnly) throw fuzzCase.failure("wrong-answer", `export ${nbdExport.name} read-only flag wrong`);
  return flags;
}

function transmissionEntry(state: HandshakeState, nbdExport: NbdFuzzExport, requestedName: string, transmissionFlags: number): TransmissionEntry {
  const selected = state.structured && state.contextExport === requestedName;
  const context = state.contextUncertain ? "uncertain" : selected ? "selected" : "absent";
  return { nbdExport, structured: state.structured, transmissionFlags, context };
}

/** proto.md NBD_OPT_INFO/GO data: name length, name, info count, info types; undefined if malformed. */
function parseInfoData(data: Buffer): { name: string; infoCount: number } | undefined {
  if (data.length < 6) return undefined;
  const nameBytes = data.readUInt32BE(0);
  if (nameBytes > NBD_STRING_MAX_BYTES || 4 + nameBytes + 2 > data.length) return undefined;
  const infoCount = data.readUInt16BE(4 + nameBytes);
  if (data.length !== 4 + nameBytes + 2 + 2 * infoCount) return undefined;
  return { name: data.toString("utf8", 4, 4 + nameBytes), infoCount };
}

/** proto.md LIST/SET_META_CONTEXT data: name, query count, queries; undefined if malformed. */
function parseMetaContextData(data: Buffer): { exportName: string; queries: string[] } | undefined {
  if (data.length < 8) return undefined;
  const nameBytes = data.readUInt32BE(0);
  if (nameBytes > NBD_STRING_MAX_BYTES || 8 + nameBytes > data.length) return undefined;
  const count = data.readUInt32BE(4 + nameBytes);
  const queries: string[] = [];
  let at = 8 + nameBytes;
  for (let index = 0; index < count; index += 1) {
    if (at + 4 > data.length) return undefined;
    const queryBytes = data.readUInt32BE(at);
    if (queryBytes > NBD_STRING_MAX_BYTES || at + 4 + queryBytes > data.length) return undefined;
    queries.push(data.toString("utf8", at + 4, at + 4 + queryBytes));
    at += 4 + queryBytes;
  }
  return at === data.length ? { exportName: data.toString("utf8", 4, 4 + nameBytes), queries } : undefined;
}

function infoPayload(fuzzCase: NbdCase): Buffer {
  const data = goData(pickName(fuzzCase), randomInfoTypes(fuzzCase.random));
  return mutateLengthFields(fuzzCase.random, data);
}

function metaContextPayload(fuzzCase: NbdCase): Buffer {
  const random = fuzzCase.random;
  const queries: string[] = [];
  const count = random.below(4);
  for (let index = 0; index < count; index += 1) queries.push(random.pick([NBD_META_CONTEXT_BASE_ALLOCATION, "base:", "qemu:dirty-bitmap:x", "x-fuzz:thing", "", "base:allocation\u0000"]));
  return mutateLengthFields(random, metaContextData(pickName(fuzzCase), queries));
}

/** Sometimes corrupts a length or count inside the option data; the declared option length stays right. */
function mutateLengthFields(random: SeededRandom, data: Buffer): Buffer {
  if (!random.chance(0.2) || data.length < 4) return data;
  const mutated = Buffer.from(data);
  if (random.chance(0.5)) mutated.writeUInt32BE(random.pick([0xffffffff, data.length, data.readUInt32BE(0) + 1, random.below(64)]), 0);
  else return random.chance(0.5) ? mutated.subarray(0, random.below(mutated.length)) : Buffer.concat([mutated, random.bytes(random.between(1, 6))]);
  return mutated;
}

function randomInfoTypes(random: SeededRandom): number[] {
  const infoTypes: number[] = [];
  const count = random.below(4);
  for (let index = 0; index < count; index += 1) infoTypes.push(random.pick([NBD_INFO_EXPORT, NBD_INFO_NAME, NBD_INFO_DESCRIPTION, NBD_INFO_BLOCK_SIZE, random.below(0x10000)]));
  return infoTypes;
}

/** An export name: mostly real ones, else missing, empty, NUL-laden or over the spec's 4096 bytes. */
function pickName(fuzzCase: NbdCase): string {
  const random = fuzzCase.random;
  const roll = random.below(10);
  if (roll < 6) return random.pick(fuzzCase.exports).name;
  if (roll === 6) return "";
  if (roll === 7) return `${random.pick(fuzzCase.exports).name}\u0000`;
  if (roll === 8 && random.chance(0.1)) return "n".repeat(NBD_STRING_MAX_BYTES + 1);
  return `missing-${random.below(1000)}`;
}

function hasExport(fuzzCase: NbdCase, name: string): boolean {
  return fuzzCase.exportNamed(name) !== undefined;
}

export function optionFrame(option: number, data: Buffer): Buffer {
  const header = Buffer.allocUnsafe(16);
  header.writeUInt32BE(NBD_OPTS_MAGIC_HIGH, 0);
  header.writeUInt32BE(NBD_OPTS_MAGIC_LOW, 4);
  header.writeUInt32BE(option >>> 0, 8);
  header.writeUInt32BE(data.length, 12);
  return Buffer.concat([header, data]);
}

function uint32(value: number): Buffer {
  const data = Buffer.allocUnsafe(4);
  data.writeUInt32BE(value >>> 0, 0);
  return data;
}

/** A 64-bit field that must be exact: export sizes are below 2^53. */
function readUInt64Exact(data: Buffer, at: number): number {
  return Number(data.readBigUInt64BE(at));
}
