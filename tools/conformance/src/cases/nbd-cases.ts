/**
 * The apparatus's NBD server against the NBD protocol (NetworkBlockDevice/nbd
 * doc/proto.md): the fixed newstyle handshake and its options, block size
 * constraints, FLUSH and FUA, TRIM, WRITE_ZEROES and the error values. The
 * handshake and the malformed requests go through a raw peer that sends
 * exact bytes; the rest through an ordinary client.
 */
import {
  NBD_CMD_FLAG_FUA,
  NBD_CMD_READ,
  NBD_EINVAL,
  NBD_FLAG_HAS_FLAGS,
  NBD_FLAG_SEND_FLUSH,
  NBD_FLAG_SEND_FUA,
  NBD_FLAG_SEND_TRIM,
  NBD_FLAG_SEND_WRITE_ZEROES,
  NBD_INFO_BLOCK_SIZE,
  NBD_INFO_EXPORT,
  NBD_OPT_ABORT,
  NBD_OPT_GO,
  NBD_OPT_INFO,
  NBD_OPT_LIST,
  NBD_REP_ACK,
  NBD_REP_ERR_UNKNOWN,
  NBD_REP_ERR_UNSUP,
  NBD_REP_INFO,
  NBD_REP_SERVER,
  NBD_SIMPLE_REPLY_MAGIC,
  type NbdClient,
} from "@switchyard/nbd";
import { goData } from "@switchyard/nbd/testing";
import { expectThat } from "../check.js";
import type { CaseContext } from "../context.js";
import { blockBytes, stamp } from "../layout.js";
import type { ConformanceCase } from "./case.js";
import { expectNbdError, greeted, hexOf, optionReplies, transmitting } from "./nbd-peer.js";

/** An option number nobody defines: the server must answer NBD_REP_ERR_UNSUP. */
const unknownOption = 0x7fff_0001;
/** A command number nobody defines: EINVAL (proto.md "Error values"). */
const unknownCommand = 0x1f;
/** A command flag bit nobody defines. */
const unknownCommandFlag = 1 << 14;
/** proto.md: the minimum block size cannot be larger than 64 KiB. */
const blockSizeMinimumMaxBytes = 1 << 16;

async function handshakeCase(context: CaseContext): Promise<void> {
  const peer = await greeted(context);
  try {
    peer.sendOption(NBD_OPT_LIST);
    const listed = await optionReplies(peer, NBD_OPT_LIST);
    expectThat(listed.at(-1)?.replyType === NBD_REP_ACK, "NBD_OPT_LIST did not end with NBD_REP_ACK");
    const names = listed.filter((reply) => reply.replyType === NBD_REP_SERVER).map((reply) => reply.data.subarray(4, 4 + reply.data.readUInt32BE(0)).toString("utf8"));
    for (const volume of [context.layout.volumeA.name, context.layout.volumeB.name]) {
      expectThat(names.includes(volume), `NBD_OPT_LIST does not list volume ${volume} (it lists ${JSON.stringify(names)})`);
    }
    peer.sendOption(unknownOption);
    const unknown = await peer.readOptionReply();
    expectThat(unknown.replyType === NBD_REP_ERR_UNSUP, `an unknown option got reply ${hexOf(unknown.replyType)}, expected NBD_REP_ERR_UNSUP`);
    peer.sendOption(NBD_OPT_INFO, goData("no-such-volume", []));
    const missing = await optionReplies(peer, NBD_OPT_INFO);
    expectThat(missing.at(-1)?.replyType === NBD_REP_ERR_UNKNOWN, `NBD_OPT_INFO of an unknown export ended with ${hexOf(missing.at(-1)?.replyType ?? 0)}, expected NBD_REP_ERR_UNKNOWN`);
    peer.sendOption(NBD_OPT_INFO, goData(context.layout.volumeA.name, []));
    const info = await optionReplies(peer, NBD_OPT_INFO);
    expectThat(info.at(-1)?.replyType === NBD_REP_ACK, "NBD_OPT_INFO of a volume did not end with NBD_REP_ACK");
    const exportInfo = info.find((reply) => reply.replyType === NBD_REP_INFO && reply.data.readUInt16BE(0) === NBD_INFO_EXPORT);
    expectThat(exportInfo !== undefined, "NBD_OPT_INFO sent no NBD_INFO_EXPORT (proto.md: the server MUST send it)");
    const sizeBytes = Number(exportInfo.data.readBigUInt64BE(2));
    const expectedBytes = context.layout.volumeA.areas.length * context.layout.extentSizeBytes;
    expectThat(sizeBytes === expectedBytes, `NBD_INFO_EXPORT says ${sizeBytes} bytes, the volume has ${expectedBytes}`);
    expectThat((exportInfo.data.readUInt16BE(10) & NBD_FLAG_HAS_FLAGS) !== 0, "the transmission flags lack NBD_FLAG_HAS_FLAGS");
    peer.sendOption(NBD_OPT_ABORT);
    // proto.md: the server SHOULD answer NBD_OPT_ABORT with an ACK, then close.
    const rest = await peer.expectClose();
    expectThat(rest.length === 0 || rest.readUInt32BE(12) === NBD_REP_ACK, "NBD_OPT_ABORT was not answered with NBD_REP_ACK before the close");
  } finally {
    peer.destroy();
  }
}

function isPowerOfTwo(value: number): boolean {
  return value > 0 && (value & (value - 1)) === 0;
}

async function blockSizeCase(context: CaseContext): Promise<void> {
  const peer = await greeted(context);
  try {
    peer.sendOption(NBD_OPT_GO, goData(context.layout.volumeA.name, [NBD_INFO_BLOCK_SIZE]));
    const replies = await optionReplies(peer, NBD_OPT_GO);
    expectThat(replies.at(-1)?.replyType === NBD_REP_ACK, "NBD_OPT_GO of a volume did not end with NBD_REP_ACK");
    const info = replies.find((reply) => reply.replyType === NBD_REP_INFO && reply.data.readUInt16BE(0) === NBD_INFO_BLOCK_SIZE);
    const sizeBytes = context.layout.volumeA.areas.length * context.layout.extentSizeBytes;
    const [minimum, preferred, maximum] = info === undefined ? [1, blockBytes, 0xffff_ffff] : [info.data.readUInt32BE(2), info.data.readUInt32BE(6), info.data.readUInt32BE(10)];
    const seen = `minimum ${minimum}, preferred ${preferred}, maximum ${maximum}`;
    expectThat(isPowerOfTwo(minimum) && minimum <= blockSizeMinimumMaxBytes, `block sizes ${seen}: the minimum must be a power of two up to 64 KiB`);
    expectThat(isPowerOfTwo(preferred) && preferred >= minimum, `block sizes ${seen}: the preferred must be a power of two at least the minimum`);
    expectThat(maximum === 0xffff_ffff || (maximum % minimum === 0 && maximum >= Math.min(preferred, sizeBytes)), `block sizes ${seen}: the maximum must be a multiple of the minimum, at least the preferred`);
    // Transmission: a read longer than the maximum block size is refused with EINVAL and the connection lives on.
    if (maximum < 0xffff_ffff) {
      peer.sendRequest({ command: NBD_CMD_READ, handle: 1, offsetBytes: 0, lengthBytes: maximum + minimum });
      const reply = await peer.readSimpleReply();
      expectThat(reply.magic === NBD_SIMPLE_REPLY_MAGIC && reply.errno === NBD_EINVAL, `a read over the maximum block size got errno ${reply.errno}, expected EINVAL`);
    }
    if (minimum > 1) {
      peer.sendRequest({ command: NBD_CMD_READ, handle: 2, offsetBytes: 1, lengthBytes: minimum });
      const reply = await peer.readSimpleReply();
      expectThat(reply.errno === NBD_EINVAL, `a read not aligned to the minimum block size got errno ${reply.errno}, expected EINVAL`);
    }
    peer.sendRequest({ command: NBD_CMD_READ, handle: 3, offsetBytes: 0, lengthBytes: preferred });
    const reply = await peer.readSimpleReply();
    expectThat(reply.errno === 0 && reply.handle === 3, `a read of the preferred block size got errno ${reply.errno}`);
  } finally {
    peer.destroy();
  }
}

function flagsOf(client: NbdClient): number {
  return client.transmissionFlags;
}

async function flushFuaCase(context: CaseContext): Promise<void> {
  const client = context.volumeA;
  const flags = flagsOf(client);
  expectThat((flags & NBD_FLAG_SEND_FLUSH) !== 0, "the export does not advertise NBD_FLAG_SEND_FLUSH: a write-through apparatus must accept FLUSH");
  expectThat((flags & NBD_FLAG_SEND_FUA) !== 0, "the export does not advertise NBD_FLAG_SEND_FUA");
  const value = context.nextStamp();
  await client.write(context.offsetIn(3, 9), stamp(value), true);
  await client.flush();
  expectThat((await context.readStamp(client, context.offsetIn(3, 9))) === value, "a FUA write did not read back");
}

async function trimCase(context: CaseContext): Promise<void> {
  const client = context.volumeA;
  // proto.md: a client MUST NOT send TRIM unless the server advertised it; nothing more to check then.
  if ((flagsOf(client) & NBD_FLAG_SEND_TRIM) === 0) return;
  await client.trim(context.offsetIn(3, 10), blockBytes);
  await client.trim(context.offsetIn(3, 11), blockBytes, true);
  await expectNbdError(client.trim(client.sizeBytes - blockBytes, 2 * blockBytes), "EINVAL", "a TRIM past the end");
}

async function writeZeroesCase(context: CaseContext): Promise<void> {
  const client = context.volumeA;
  if ((flagsOf(client) & NBD_FLAG_SEND_WRITE_ZEROES) === 0) return;
  for (const noHole of [false, true]) {
    const offset = context.offsetIn(3, noHole ? 13 : 12);
    await client.write(offset, stamp(context.nextStamp()));
    await client.writeZeroes(offset, blockBytes, noHole);
    const block = Buffer.alloc(blockBytes, 0xff);
    await client.read(offset, block);
    expectThat(block.every((byte) => byte === 0), `after WRITE_ZEROES${noHole ? " with NO_HOLE" : ""} the block does not read as zeroes`);
  }
  await expectNbdError(client.writeZeroes(client.sizeBytes - blockBytes, 2 * blockBytes), "ENOSPC", "a WRITE_ZEROES past the end");
}

async function errorsCase(context: CaseContext): Promise<void> {
  const client = context.volumeA;
  const end = client.sizeBytes;
  await expectNbdError(client.read(end - blockBytes, Buffer.alloc(2 * blockBytes)), "EINVAL", "a READ past the end");
  await expectNbdError(client.write(end - blockBytes, Buffer.alloc(2 * blockBytes)), "ENOSPC", "a WRITE past the end");
  const peer = await transmitting(context, context.layout.volumeA.name);
  try {
    peer.sendRequest({ command: unknownCommand, handle: 11 });
    const unknown = await peer.readSimpleReply();
    expectThat(unknown.handle === 11 && unknown.errno === NBD_EINVAL, `an unknown command got errno ${unknown.errno}, expected EINVAL`);
    peer.sendRequest({ command: NBD_CMD_READ, flags: unknownCommandFlag | NBD_CMD_FLAG_FUA, handle: 12, offsetBytes: 0, lengthBytes: blockBytes });
    const flagged = await peer.readSimpleReply();
    expectThat(flagged.handle === 12 && flagged.errno === NBD_EINVAL, `a READ with an unknown flag got errno ${flagged.errno}, expected EINVAL`);
    // The connection must survive request errors (proto.md: errors are per request).
    peer.sendRequest({ command: NBD_CMD_READ, handle: 13, offsetBytes: 0, lengthBytes: blockBytes });
    const good = await peer.readSimpleReply();
    expectThat(good.handle === 13 && good.errno === 0, `a READ after refused requests got errno ${good.errno}`);
    await peer.read(blockBytes);
  } finally {
    peer.destroy();
  }
}

export const nbdCases: readonly ConformanceCase[] = [
  { id: "nbd-handshake", title: "the fixed newstyle handshake: LIST, INFO, unknown options and exports, ABORT", checks: "NBD proto.md \"Newstyle negotiation\", \"Option types\"", run: handshakeCase },
  { id: "nbd-block-size", title: "block size constraints are consistent and enforced", checks: "NBD proto.md \"Block size constraints\"", run: blockSizeCase },
  { id: "nbd-flush-fua", title: "FLUSH and FUA are advertised and work", checks: "NBD proto.md NBD_CMD_FLUSH, NBD_CMD_FLAG_FUA", run: flushFuaCase },
  { id: "nbd-trim", title: "TRIM works when advertised, and past the end is EINVAL", checks: "NBD proto.md NBD_CMD_TRIM", run: trimCase },
  { id: "nbd-write-zeroes", title: "WRITE_ZEROES reads back as zeroes, and past the end is ENOSPC", checks: "NBD proto.md NBD_CMD_WRITE_ZEROES", run: writeZeroesCase },
  { id: "nbd-errors", title: "error values: past the end, unknown commands and flags; the connection lives on", checks: "NBD proto.md \"Error values\"", run: errorsCase },
];
