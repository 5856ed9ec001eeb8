/**
 * NBD_CMD_BLOCK_STATUS with the `base:allocation` context and FAST_ZERO
 * (NBD proto.md "Metadata querying", "base:allocation context",
 * NBD_CMD_FLAG_FAST_ZERO). The negotiation lists and selects
 * `base:allocation` and ignores a namespace it does not know; a status
 * reply covers the range from its start, and never calls a block that
 * holds data NBD_STATE_ZERO; FAST_ZERO either zeroes or says ENOTSUP.
 */
import {
  NBD_CMD_BLOCK_STATUS,
  NBD_CMD_FLAG_FAST_ZERO,
  NBD_CMD_WRITE_ZEROES,
  NBD_EINVAL,
  NBD_ENOTSUP,
  NBD_FLAG_SEND_FAST_ZERO,
  NBD_META_CONTEXT_BASE_ALLOCATION,
  NBD_OPT_GO,
  NBD_OPT_LIST_META_CONTEXT,
  NBD_OPT_SET_META_CONTEXT,
  NBD_OPT_STRUCTURED_REPLY,
  NBD_REP_ACK,
  NBD_REP_META_CONTEXT,
  NBD_REPLY_FLAG_DONE,
  NBD_REPLY_TYPE_BLOCK_STATUS,
  NBD_REPLY_TYPE_FLAG_ERROR,
  NBD_STATE_ZERO,
} from "@switchyard/nbd";
import { goData, metaContextData, type RawChunk, type RawPeer } from "@switchyard/nbd/testing";
import { expectThat } from "../check.js";
import type { CaseContext } from "../context.js";
import { blockBytes, stamp } from "../layout.js";
import type { ConformanceCase } from "./case.js";
import { greeted, hexOf, optionReplies, transmitting } from "./nbd-peer.js";

/** A namespace nobody defines: a server ignores queries it does not know (proto.md). */
const unknownContext = "conformance-unknown:nothing";
/** Chunks of one reply before DONE: a status chunk per context (one here) and an error at most. */
const chunksPerReplyMax = 8;

/** Context names of NBD_REP_META_CONTEXT replies (id, then the name). */
function contextNames(replies: readonly { replyType: number; data: Buffer }[]): { id: number; name: string }[] {
  return replies.filter((reply) => reply.replyType === NBD_REP_META_CONTEXT).map((reply) => ({ id: reply.data.readUInt32BE(0), name: reply.data.subarray(4).toString("utf8") }));
}

async function structuredReplies(peer: RawPeer): Promise<void> {
  peer.sendOption(NBD_OPT_STRUCTURED_REPLY);
  const reply = await peer.readOptionReply();
  expectThat(reply.replyType === NBD_REP_ACK, `NBD_OPT_STRUCTURED_REPLY got ${hexOf(reply.replyType)}, expected NBD_REP_ACK: block status needs structured replies`);
}

/** `base:allocation` selected (structured replies agreed before), and transmission on `exportName`; returns the context id. */
async function selectAllocation(peer: RawPeer, exportName: string): Promise<number> {
  peer.sendOption(NBD_OPT_SET_META_CONTEXT, metaContextData(exportName, [NBD_META_CONTEXT_BASE_ALLOCATION, unknownContext]));
  const set = await optionReplies(peer, NBD_OPT_SET_META_CONTEXT);
  expectThat(set.at(-1)?.replyType === NBD_REP_ACK, `NBD_OPT_SET_META_CONTEXT ended with ${hexOf(set.at(-1)?.replyType ?? 0)}, expected NBD_REP_ACK`);
  const selected = contextNames(set);
  expectThat(selected.length === 1 && selected[0]?.name === NBD_META_CONTEXT_BASE_ALLOCATION, `NBD_OPT_SET_META_CONTEXT selected ${JSON.stringify(selected)}, expected base:allocation alone`);
  peer.sendOption(NBD_OPT_GO, goData(exportName, []));
  expectThat((await optionReplies(peer, NBD_OPT_GO)).at(-1)?.replyType === NBD_REP_ACK, "NBD_OPT_GO after selecting base:allocation failed");
  return selected[0].id;
}

/** The chunks of the reply to `handle`, up to the one flagged DONE. */
async function replyChunks(peer: RawPeer, handle: number): Promise<RawChunk[]> {
  const chunks: RawChunk[] = [];
  for (let count = 0; count < chunksPerReplyMax; count += 1) {
    const chunk = await peer.readChunk();
    expectThat(chunk.handle === handle, `a reply chunk names handle ${chunk.handle}, expected ${handle}`);
    chunks.push(chunk);
    if ((chunk.flags & NBD_REPLY_FLAG_DONE) !== 0) return chunks;
  }
  throw new Error(`the reply to block status sent ${chunksPerReplyMax} chunks without NBD_REPLY_FLAG_DONE`);
}

/** The descriptors of a status chunk for `contextId`: [length, flags] pairs. */
function descriptors(chunk: RawChunk, contextId: number): [number, number][] {
  expectThat(chunk.payload.readUInt32BE(0) === contextId, `a status chunk names context ${chunk.payload.readUInt32BE(0)}, the one selected is ${contextId}`);
  const pairs: [number, number][] = [];
  for (let at = 4; at + 8 <= chunk.payload.length; at += 8) pairs.push([chunk.payload.readUInt32BE(at), chunk.payload.readUInt32BE(at + 4)]);
  return pairs;
}

async function metaContextCase(context: CaseContext): Promise<void> {
  const peer = await greeted(context);
  try {
    await structuredReplies(peer);
    peer.sendOption(NBD_OPT_LIST_META_CONTEXT, metaContextData(context.layout.volumeA.name, []));
    const listed = await optionReplies(peer, NBD_OPT_LIST_META_CONTEXT);
    expectThat(listed.at(-1)?.replyType === NBD_REP_ACK, `NBD_OPT_LIST_META_CONTEXT ended with ${hexOf(listed.at(-1)?.replyType ?? 0)}`);
    const names = contextNames(listed).map((entry) => entry.name);
    expectThat(names.includes(NBD_META_CONTEXT_BASE_ALLOCATION), `NBD_OPT_LIST_META_CONTEXT lists ${JSON.stringify(names)}, without base:allocation`);
    await selectAllocation(peer, context.layout.volumeA.name);
  } finally {
    peer.destroy();
  }
}

async function blockStatusCase(context: CaseContext): Promise<void> {
  const dataOffset = context.offsetIn(2, 20);
  await context.volumeA.write(dataOffset, stamp(context.nextStamp()));
  await context.volumeA.writeZeroes(dataOffset + blockBytes, blockBytes);
  const peer = await greeted(context);
  try {
    await structuredReplies(peer);
    const contextId = await selectAllocation(peer, context.layout.volumeA.name);
    peer.sendRequest({ command: NBD_CMD_BLOCK_STATUS, handle: 21, offsetBytes: dataOffset, lengthBytes: 2 * blockBytes });
    const chunks = await replyChunks(peer, 21);
    const status = chunks.find((chunk) => chunk.replyType === NBD_REPLY_TYPE_BLOCK_STATUS);
    expectThat(status !== undefined, `block status of a volume got no NBD_REPLY_TYPE_BLOCK_STATUS chunk (types ${chunks.map((chunk) => hexOf(chunk.replyType)).join(", ")})`);
    const extents = descriptors(status, contextId);
    expectThat(extents.length > 0 && extents.every(([length]) => length > 0), `block status gave descriptors ${JSON.stringify(extents)}: at least one, none empty`);
    const [firstLength, firstFlags] = extents[0] ?? [0, 0];
    // The first descriptor covers the written block (at least its first byte): it must not say it reads as zeroes.
    expectThat(firstLength > 0 && (firstFlags & NBD_STATE_ZERO) === 0, `a block holding data is reported NBD_STATE_ZERO (flags ${hexOf(firstFlags)})`);
    peer.sendRequest({ command: NBD_CMD_BLOCK_STATUS, handle: 22, offsetBytes: context.layout.volumeA.areas.length * context.layout.extentSizeBytes, lengthBytes: blockBytes });
    const past = await replyChunks(peer, 22);
    const error = past.find((chunk) => (chunk.replyType & NBD_REPLY_TYPE_FLAG_ERROR) !== 0);
    expectThat(error !== undefined && error.payload.readUInt32BE(0) === NBD_EINVAL, "block status past the end was not refused with EINVAL");
  } finally {
    peer.destroy();
  }
}

async function fastZeroCase(context: CaseContext): Promise<void> {
  expectThat((context.volumeA.transmissionFlags & NBD_FLAG_SEND_FAST_ZERO) !== 0, "the features file declares fast-zero, but the export does not advertise NBD_FLAG_SEND_FAST_ZERO");
  const offset = context.offsetIn(2, 24);
  await context.volumeA.write(offset, stamp(context.nextStamp()));
  const peer = await transmitting(context, context.layout.volumeA.name);
  try {
    peer.sendRequest({ command: NBD_CMD_WRITE_ZEROES, flags: NBD_CMD_FLAG_FAST_ZERO, handle: 31, offsetBytes: offset, lengthBytes: blockBytes });
    const reply = await peer.readSimpleReply();
    // proto.md: a fast zero either zeroes or fails at once with ENOTSUP, never anything slower or vaguer.
    expectThat(reply.errno === 0 || reply.errno === NBD_ENOTSUP, `WRITE_ZEROES with FAST_ZERO got errno ${reply.errno}, expected success or ENOTSUP`);
    if (reply.errno !== 0) return;
  } finally {
    peer.destroy();
  }
  const block = Buffer.alloc(blockBytes, 0xff);
  await context.volumeA.read(offset, block);
  expectThat(block.every((byte) => byte === 0), "a FAST_ZERO WRITE_ZEROES that succeeded left data behind");
}

export const blockStatusCases: readonly ConformanceCase[] = [
  { id: "nbd-meta-context", title: "base:allocation is listed and selected; an unknown namespace is ignored", checks: "NBD proto.md NBD_OPT_LIST_META_CONTEXT, NBD_OPT_SET_META_CONTEXT", needs: ["block-status"], run: metaContextCase },
  { id: "nbd-block-status", title: "BLOCK_STATUS base:allocation covers the range and never calls data zero", checks: "NBD proto.md NBD_CMD_BLOCK_STATUS, \"base:allocation context\"", needs: ["block-status"], run: blockStatusCase },
  { id: "nbd-fast-zero", title: "WRITE_ZEROES with FAST_ZERO zeroes or fails at once with ENOTSUP", checks: "NBD proto.md NBD_CMD_FLAG_FAST_ZERO", needs: ["fast-zero", "write-zeroes"], run: fastZeroCase },
];
