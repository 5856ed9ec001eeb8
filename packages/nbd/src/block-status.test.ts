/**
 * Goal: metadata contexts, NBD_CMD_BLOCK_STATUS with `base:allocation`, and
 * fast zero behave as proto.md says: LIST and SET answer with the right
 * replies and refusals, BLOCK_STATUS runs only for a context selected for the
 * export in use, its reply describes the export's zero and data runs
 * exactly (one descriptor with REQ_ONE, never past the request), an export
 * that cannot tell reports data, and a fast zero the export cannot do fast
 * gets ENOTSUP and changes nothing.
 *
 * Method: the sans-I/O parts (meta-context.ts, allocation.ts) on their own,
 * then a real server over in-memory exports driven byte for byte by a
 * RawPeer.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { AllocationList, allocationZeroState, appendAllocationOfBytes, decodeBlockStatus, encodeBlockStatus } from "./allocation.js";
import { NbdAllocationClient } from "./allocation-client.js";
import {
  NBD_CMD_BLOCK_STATUS,
  NBD_CMD_FLAG_FAST_ZERO,
  NBD_CMD_FLAG_FUA,
  NBD_CMD_FLAG_REQ_ONE,
  NBD_CMD_READ,
  NBD_CMD_WRITE_ZEROES,
  NBD_EINVAL,
  NBD_ENOTSUP,
  NBD_FLAG_C_FIXED_NEWSTYLE,
  NBD_FLAG_C_NO_ZEROES,
  NBD_FLAG_SEND_FAST_ZERO,
  NBD_FLAG_SEND_FUA,
  NBD_OPT_GO,
  NBD_OPT_LIST_META_CONTEXT,
  NBD_OPT_SET_META_CONTEXT,
  NBD_OPT_STRUCTURED_REPLY,
  NBD_REP_ACK,
  NBD_REP_ERR_INVALID,
  NBD_REP_ERR_UNKNOWN,
  NBD_REP_INFO,
  NBD_REP_META_CONTEXT,
  NBD_REPLY_FLAG_DONE,
  NBD_REPLY_TYPE_BLOCK_STATUS,
  NBD_REPLY_TYPE_ERROR,
  NBD_STATE_HOLE,
  NBD_STATE_ZERO,
  NBD_STRUCTURED_REPLY_MAGIC,
} from "./constants.js";
import { MemoryExportProvider } from "./memory-export.js";
import { baseAllocationContextId, listedContexts, parseMetaContextRequest, selectsBaseAllocation } from "./meta-context.js";
import { goData, metaContextData, RawPeer, type RawOptionReply } from "./raw-peer.js";
import { NbdServer } from "./server.js";

const kibibyte = 1024;
const exportSizeBytes = 1024 * kibibyte;
const holeAndZero = NBD_STATE_HOLE | NBD_STATE_ZERO;

describe("meta contexts and allocation, sans I/O", () => {
  it("parses LIST/SET data and refuses lengths that run past it", () => {
    expect(parseMetaContextRequest(metaContextData("disk", ["base:allocation", "qemu:dirty-bitmap:b"]))).toEqual({
      exportName: "disk",
      queries: ["base:allocation", "qemu:dirty-bitmap:b"],
    });
    const tooMany = metaContextData("disk", ["base:"]);
    tooMany.writeUInt32BE(2, 8);
    expect(parseMetaContextRequest(tooMany)).toMatch(/count exceeds/);
    const trailing = Buffer.concat([metaContextData("disk", []), Buffer.alloc(3)]);
    expect(parseMetaContextRequest(trailing)).toMatch(/longer than its queries/);
    expect(parseMetaContextRequest(Buffer.alloc(7))).toMatch(/shorter than 8/);
  });

  it("lists base:allocation for no query and for its namespace, selects it only by name", () => {
    expect(listedContexts([])).toEqual(["base:allocation"]);
    expect(listedContexts(["base:"])).toEqual(["base:allocation"]);
    expect(listedContexts(["qemu:"])).toEqual([]);
    expect(selectsBaseAllocation(["base:"])).toBe(false);
    expect(selectsBaseAllocation(["qemu:x", "base:allocation"])).toBe(true);
  });

  it("finds zero granules, merges neighbours, and encodes at most the request, one descriptor with REQ_ONE", () => {
    const bytes = Buffer.alloc(6 * 4096);
    bytes[4096 * 2 + 7] = 1;
    bytes[4096 * 3] = 1;
    const list = new AllocationList();
    appendAllocationOfBytes(list, bytes.subarray(0, bytes.length - 100));
    expect(list.toArray()).toEqual([
      { lengthBytes: 8192, state: allocationZeroState },
      { lengthBytes: 8192, state: 0 },
      { lengthBytes: 8192 - 100, state: allocationZeroState },
    ]);
    // Data granules with and without a zero first byte, then a short one, merge into one run.
    const data = Buffer.alloc(3 * 4096 + 10, 0xab);
    data[0] = 0;
    const dataList = new AllocationList();
    appendAllocationOfBytes(dataList, data);
    expect(dataList.toArray()).toEqual([{ lengthBytes: data.length, state: 0 }]);
    const payload = encodeBlockStatus(7, list.toArray(), bytes.length, false);
    expect(payload.readUInt32BE(0)).toBe(7);
    expect(payload.length).toBe(4 + 3 * 8);
    expect(encodeBlockStatus(7, list.toArray(), bytes.length, true).length).toBe(4 + 8);
    // An extent past the 32-bit length field is cut there and ends the reply.
    const huge = encodeBlockStatus(1, [{ lengthBytes: 2 ** 33, state: 0 }, { lengthBytes: 1, state: 1 }], 2 ** 33 + 1, false);
    expect(huge.length).toBe(12);
    expect(huge.readUInt32BE(4)).toBe(0xffffffff);
    expect(() => encodeBlockStatus(1, [{ lengthBytes: 4097, state: 0 }], 4096, false)).toThrow(/covers 4097 bytes/);
  });

  it("decodes what it encodes, cuts a last extent past the request, and refuses broken chunks", () => {
    const extents = [{ lengthBytes: 8192, state: 3 }, { lengthBytes: 4096, state: 0 }];
    expect(decodeBlockStatus(encodeBlockStatus(5, extents, 12288, false), 5, 12288)).toEqual(extents);
    // proto.md: the final extent MAY run past the request; unknown state bits are dropped.
    const long = encodeBlockStatus(5, [{ lengthBytes: 8192, state: 3 }, { lengthBytes: 65536, state: 0 }], 73728, false);
    long.writeUInt32BE(0x10, 16);
    expect(decodeBlockStatus(long, 5, 10000)).toEqual([{ lengthBytes: 8192, state: 3 }, { lengthBytes: 1808, state: 0 }]);
    expect(decodeBlockStatus(long, 6, 10000)).toMatch(/context 5, not 6/);
    expect(decodeBlockStatus(long.subarray(0, 10), 5, 10000)).toMatch(/chunk of 10 bytes/);
    const empty = encodeBlockStatus(5, extents, 12288, false);
    empty.writeUInt32BE(0, 4);
    expect(decodeBlockStatus(empty, 5, 12288)).toMatch(/length 0/);
  });
});

describe("block status and fast zero over the wire", () => {
  let server: NbdServer;
  let provider: MemoryExportProvider;
  let port: number;
  const errors: unknown[] = [];
  const peers: RawPeer[] = [];

  beforeAll(async () => {
    const contents = Buffer.alloc(exportSizeBytes);
    contents.fill(0xaa, 64 * kibibyte, 72 * kibibyte);
    contents.fill(0xbb, 512 * kibibyte, 513 * kibibyte);
    provider = new MemoryExportProvider([
      { name: "disk", sizeBytes: exportSizeBytes, contents },
      { name: "blind", sizeBytes: exportSizeBytes, contents, allocation: false },
      { name: "fast", sizeBytes: exportSizeBytes, contents, fastZero: true },
    ]);
    server = new NbdServer({ provider, port: 0, onError: (error) => errors.push(error) });
    port = (await server.listen()).port;
  });

  afterAll(async () => {
    await server.close();
  });

  afterEach(() => {
    for (const peer of peers.splice(0)) peer.destroy();
    expect(errors).toEqual([]);
  });

  async function haggling(structured: boolean): Promise<RawPeer> {
    const peer = await RawPeer.connect(port);
    peers.push(peer);
    await peer.greeting();
    peer.sendClientFlags(NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES);
    if (structured) {
      peer.sendOption(NBD_OPT_STRUCTURED_REPLY);
      expect((await peer.readOptionReply()).replyType).toBe(NBD_REP_ACK);
    }
    return peer;
  }

  /** Every reply up to and including the final ACK or error. */
  async function optionReplies(peer: RawPeer): Promise<RawOptionReply[]> {
    const replies: RawOptionReply[] = [];
    for (;;) {
      const reply = await peer.readOptionReply();
      replies.push(reply);
      if (reply.replyType !== NBD_REP_META_CONTEXT && reply.replyType !== NBD_REP_INFO) return replies;
    }
  }

  function contextOf(reply: RawOptionReply): { id: number; name: string } {
    return { id: reply.data.readUInt32BE(0), name: reply.data.toString("utf8", 4) };
  }

  /** SET base:allocation for `setFor`, then GO `goTo`; returns the transmission flags. */
  async function transmitting(setFor: string, goTo = setFor): Promise<{ peer: RawPeer; transmissionFlags: number }> {
    const peer = await haggling(true);
    peer.sendOption(NBD_OPT_SET_META_CONTEXT, metaContextData(setFor, ["base:allocation"]));
    const replies = await optionReplies(peer);
    expect(replies.map((reply) => reply.replyType)).toEqual([NBD_REP_META_CONTEXT, NBD_REP_ACK]);
    expect(contextOf(replies[0] as RawOptionReply)).toEqual({ id: baseAllocationContextId, name: "base:allocation" });
    peer.sendOption(NBD_OPT_GO, goData(goTo, []));
    const info = (await optionReplies(peer)).find((reply) => reply.replyType === NBD_REP_INFO && reply.data.readUInt16BE(0) === 0);
    return { peer, transmissionFlags: info?.data.readUInt16BE(10) ?? 0 };
  }

  /** The descriptors of a successful BLOCK_STATUS reply, as [length, state] pairs. */
  async function blockStatus(peer: RawPeer, handle: number, offsetBytes: number, lengthBytes: number, flags = 0): Promise<[number, number][]> {
    peer.sendRequest({ command: NBD_CMD_BLOCK_STATUS, handle, offsetBytes, lengthBytes, flags });
    const chunk = await peer.readChunk();
    expect({ magic: chunk.magic, flags: chunk.flags, type: chunk.replyType, handle: chunk.handle }).toEqual({
      magic: NBD_STRUCTURED_REPLY_MAGIC, flags: NBD_REPLY_FLAG_DONE, type: NBD_REPLY_TYPE_BLOCK_STATUS, handle,
    });
    expect(chunk.payload.readUInt32BE(0)).toBe(baseAllocationContextId);
    const descriptors: [number, number][] = [];
    for (let at = 4; at < chunk.payload.length; at += 8) descriptors.push([chunk.payload.readUInt32BE(at), chunk.payload.readUInt32BE(at + 4)]);
    return descriptors;
  }

  async function errnoOf(peer: RawPeer, handle: number): Promise<number> {
    const chunk = await peer.readChunk();
    expect(chunk.handle).toBe(handle);
    expect(chunk.replyType).toBe(NBD_REPLY_TYPE_ERROR);
    return chunk.payload.readUInt32BE(0);
  }

  it("lists base:allocation for any export that exists, with or without structured replies", async () => {
    const peer = await haggling(false);
    peer.sendOption(NBD_OPT_LIST_META_CONTEXT, metaContextData("disk", []));
    const listed = await optionReplies(peer);
    expect(listed.map((reply) => reply.replyType)).toEqual([NBD_REP_META_CONTEXT, NBD_REP_ACK]);
    expect(contextOf(listed[0] as RawOptionReply)).toEqual({ id: 0, name: "base:allocation" });
    peer.sendOption(NBD_OPT_LIST_META_CONTEXT, metaContextData("disk", ["qemu:dirty-bitmap:x"]));
    expect((await optionReplies(peer)).map((reply) => reply.replyType)).toEqual([NBD_REP_ACK]);
    peer.sendOption(NBD_OPT_LIST_META_CONTEXT, metaContextData("nothing", []));
    expect((await optionReplies(peer)).map((reply) => reply.replyType)).toEqual([NBD_REP_ERR_UNKNOWN]);
  });

  it("refuses SET before structured replies, and BLOCK_STATUS after it", async () => {
    const peer = await haggling(false);
    peer.sendOption(NBD_OPT_SET_META_CONTEXT, metaContextData("disk", ["base:allocation"]));
    expect((await optionReplies(peer)).map((reply) => reply.replyType)).toEqual([NBD_REP_ERR_INVALID]);
    peer.sendOption(NBD_OPT_GO, goData("disk", []));
    await optionReplies(peer);
    peer.sendRequest({ command: NBD_CMD_BLOCK_STATUS, handle: 1, lengthBytes: 4096 });
    expect((await peer.readSimpleReply()).errno).toBe(NBD_EINVAL);
  });

  it("refuses BLOCK_STATUS when the SET named another export than the one chosen", async () => {
    const { peer } = await transmitting("blind", "disk");
    peer.sendRequest({ command: NBD_CMD_BLOCK_STATUS, handle: 1, lengthBytes: 4096 });
    expect(await errnoOf(peer, 1)).toBe(NBD_EINVAL);
  });

  it("describes the export's holes and data exactly, within the request, and one extent with REQ_ONE", async () => {
    const { peer } = await transmitting("disk");
    expect(await blockStatus(peer, 1, 0, exportSizeBytes)).toEqual([
      [64 * kibibyte, holeAndZero],
      [8 * kibibyte, 0],
      [(512 - 72) * kibibyte, holeAndZero],
      [kibibyte * 4, 0],
      [exportSizeBytes - 516 * kibibyte, holeAndZero],
    ]);
    expect(await blockStatus(peer, 2, 68 * kibibyte, 8 * kibibyte)).toEqual([[4 * kibibyte, 0], [4 * kibibyte, holeAndZero]]);
    expect(await blockStatus(peer, 3, 0, exportSizeBytes, NBD_CMD_FLAG_REQ_ONE)).toEqual([[64 * kibibyte, holeAndZero]]);
    // Past the end and empty requests are invalid; the connection carries on.
    peer.sendRequest({ command: NBD_CMD_BLOCK_STATUS, handle: 4, offsetBytes: exportSizeBytes - 512, lengthBytes: 1024 });
    expect(await errnoOf(peer, 4)).toBe(NBD_EINVAL);
    peer.sendRequest({ command: NBD_CMD_BLOCK_STATUS, handle: 5, lengthBytes: 0 });
    expect(await errnoOf(peer, 5)).toBe(NBD_EINVAL);
    expect(await blockStatus(peer, 6, 512 * kibibyte, 512)).toEqual([[512, 0]]);
  });

  it("accepts FUA on BLOCK_STATUS once SEND_FUA is negotiated (proto.md: the server MUST accept FUA on every command; found by tools/fuzz)", async () => {
    const { peer, transmissionFlags } = await transmitting("disk");
    expect(transmissionFlags & NBD_FLAG_SEND_FUA).toBe(NBD_FLAG_SEND_FUA);
    expect(await blockStatus(peer, 1, 68 * kibibyte, 8 * kibibyte, NBD_CMD_FLAG_FUA)).toEqual([[4 * kibibyte, 0], [4 * kibibyte, holeAndZero]]);
    expect(await blockStatus(peer, 2, 0, exportSizeBytes, NBD_CMD_FLAG_FUA | NBD_CMD_FLAG_REQ_ONE)).toEqual([[64 * kibibyte, holeAndZero]]);
  });

  it("reports all data for an export that cannot tell", async () => {
    const { peer } = await transmitting("blind");
    expect(await blockStatus(peer, 1, 4096, 300 * kibibyte)).toEqual([[300 * kibibyte, 0]]);
  });

  it("NbdAllocationClient asks our server's block status, keeps the connection after a refused request, and closes", async () => {
    const client = await NbdAllocationClient.connect({ host: "127.0.0.1", port, exportName: "disk", timeoutMs: 5000 });
    expect(client.supported).toBe(true);
    expect(await client.allocation(60 * kibibyte, 16 * kibibyte)).toEqual([
      { lengthBytes: 4 * kibibyte, state: holeAndZero },
      { lengthBytes: 8 * kibibyte, state: 0 },
      { lengthBytes: 4 * kibibyte, state: holeAndZero },
    ]);
    await expect(client.allocation(exportSizeBytes, 4096)).rejects.toMatchObject({ code: "EINVAL" });
    const [first, second] = await Promise.all([client.allocation(0, 4096), client.allocation(512 * kibibyte, 4096)]);
    expect([first, second]).toEqual([[{ lengthBytes: 4096, state: holeAndZero }], [{ lengthBytes: 4096, state: 0 }]]);
    expect(client.isOver).toBe(false);
    await client.close();
    expect(client.isOver).toBe(true);
    await expect(NbdAllocationClient.connect({ host: "127.0.0.1", port, exportName: "nothing", timeoutMs: 5000 })).rejects.toMatchObject({ code: "UNKNOWN_EXPORT" });
  });

  it("advertises fast zero, answers ENOTSUP at once where zeroing is not fast, and zeroes where it is", async () => {
    const { peer, transmissionFlags } = await transmitting("disk");
    expect(transmissionFlags & NBD_FLAG_SEND_FAST_ZERO).toBe(NBD_FLAG_SEND_FAST_ZERO);
    peer.sendRequest({ command: NBD_CMD_WRITE_ZEROES, handle: 1, offsetBytes: 64 * kibibyte, lengthBytes: 4096, flags: NBD_CMD_FLAG_FAST_ZERO });
    expect(await errnoOf(peer, 1)).toBe(NBD_ENOTSUP);
    expect(provider.dataOf("disk")[64 * kibibyte]).toBe(0xaa);
    // FAST_ZERO belongs to WRITE_ZEROES only.
    peer.sendRequest({ command: NBD_CMD_READ, handle: 2, lengthBytes: 4096, flags: NBD_CMD_FLAG_FAST_ZERO });
    expect(await errnoOf(peer, 2)).toBe(NBD_EINVAL);

    const fast = (await transmitting("fast")).peer;
    fast.sendRequest({ command: NBD_CMD_WRITE_ZEROES, handle: 3, offsetBytes: 64 * kibibyte, lengthBytes: 8 * kibibyte, flags: NBD_CMD_FLAG_FAST_ZERO });
    // Success without data may be a simple reply (proto.md), as ours are.
    expect((await fast.readSimpleReply()).errno).toBe(0);
    expect(provider.dataOf("fast").subarray(64 * kibibyte, 72 * kibibyte).every((byte) => byte === 0)).toBe(true);
  });
});
