/**
 * Goal: the server answers every malformed or hostile input exactly as
 * proto.md says (an option error reply, a transmission errno, or a hard
 * disconnect of that connection only), never crashes, never leaks an open
 * export, and keeps serving well-behaved clients afterwards.
 *
 * Method: a RawPeer writes exact bytes (bad magics, oversized lengths,
 * truncated messages, unknown commands, structured-reply sessions) and reads
 * the server's bytes back; then a seeded fuzz loop throws 200 connections of
 * random and half-valid bytes at it. After each case a real NbdClient must
 * still work, `onError` (our own failures) must never have fired, and every
 * opened export must have been closed.
 */
import assert from "node:assert/strict";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { NbdClient } from "./client.js";
import {
  NBD_CMD_BLOCK_STATUS,
  NBD_CMD_CACHE,
  NBD_CMD_DISC,
  NBD_CMD_FLAG_DF,
  NBD_CMD_FLAG_FAST_ZERO,
  NBD_CMD_FLUSH,
  NBD_CMD_READ,
  NBD_CMD_WRITE,
  NBD_EINVAL,
  NBD_EIO,
  NBD_EPERM,
  NBD_FLAG_C_FIXED_NEWSTYLE,
  NBD_FLAG_C_NO_ZEROES,
  NBD_FLAG_FIXED_NEWSTYLE,
  NBD_FLAG_HAS_FLAGS,
  NBD_FLAG_NO_ZEROES,
  NBD_FLAG_SEND_DF,
  NBD_INFO_BLOCK_SIZE,
  NBD_INFO_DESCRIPTION,
  NBD_INFO_EXPORT,
  NBD_INFO_NAME,
  NBD_OPT_ABORT,
  NBD_OPT_EXPORT_NAME,
  NBD_OPT_EXTENDED_HEADERS,
  NBD_OPT_GO,
  NBD_OPT_INFO,
  NBD_OPT_LIST,
  NBD_OPT_STARTTLS,
  NBD_OPT_STRUCTURED_REPLY,
  NBD_REP_ACK,
  NBD_REP_ERR_INVALID,
  NBD_REP_ERR_POLICY,
  NBD_REP_ERR_UNKNOWN,
  NBD_REP_ERR_UNSUP,
  NBD_REP_INFO,
  NBD_REP_SERVER,
  NBD_REPLY_FLAG_DONE,
  NBD_REPLY_TYPE_ERROR,
  NBD_REPLY_TYPE_NONE,
  NBD_REPLY_TYPE_OFFSET_DATA,
  NBD_SIMPLE_REPLY_MAGIC,
  NBD_STRUCTURED_REPLY_MAGIC,
} from "./constants.js";
import { NbdError } from "./export.js";
import { MemoryExportProvider } from "./memory-export.js";
import { encodeRequest, goData, RawPeer } from "./raw-peer.js";
import { NbdServer } from "./server.js";
import { readUInt64 } from "./wire.js";

const exportSizeBytes = 1024 * 1024;
const limits = { optionPayloadMaxBytes: 8192, handshakeOptionsMax: 16, writeDiscardMaxBytes: 64 * 1024 * 1024 };

let server: NbdServer;
let provider: MemoryExportProvider;
let port: number;
const unexpectedErrors: unknown[] = [];
const peers: RawPeer[] = [];

beforeAll(async () => {
  provider = new MemoryExportProvider([
    { name: "disk", sizeBytes: exportSizeBytes, description: "the disk" },
    { name: "ro", sizeBytes: 4096, readOnly: true },
  ]);
  server = new NbdServer({ provider, port: 0, limits, onError: (error) => unexpectedErrors.push(error) });
  port = (await server.listen()).port;
});

afterAll(async () => {
  await server.close();
});

afterEach(async () => {
  for (const peer of peers.splice(0)) peer.destroy();
  // The server must still serve a well-behaved client, must have released
  // every export, and must not have failed on its own account.
  const client = await NbdClient.connect({ host: "127.0.0.1", port, exportName: "disk", timeoutMs: 5000 });
  await client.write(0, Buffer.from("alive"));
  const back = Buffer.alloc(5);
  await client.read(0, back);
  expect(back.toString()).toBe("alive");
  await client.close();
  await waitUntil(() => server.connectionCount === 0 && provider.openCount("disk") === 0 && provider.openCount("ro") === 0);
  expect(unexpectedErrors).toEqual([]);
});

async function peer(): Promise<RawPeer> {
  const connected = await RawPeer.connect(port);
  peers.push(connected);
  return connected;
}

/** A peer past the greeting and client flags, in option haggling. */
async function haggling(): Promise<RawPeer> {
  const connected = await peer();
  const handshakeFlags = await connected.greeting();
  expect(handshakeFlags).toBe(NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES);
  connected.sendClientFlags(NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES);
  return connected;
}

async function transmitting(exportName = "disk", structured = false): Promise<RawPeer> {
  const connected = await peer();
  await connected.handshake(exportName, structured);
  return connected;
}

describe("handshake", () => {
  it("drops a client that sets an unknown client flag", async () => {
    const connected = await peer();
    await connected.greeting();
    connected.sendClientFlags(NBD_FLAG_C_FIXED_NEWSTYLE | 0x80);
    expect((await connected.expectClose()).length).toBe(0);
  });

  it("drops an option without the IHAVEOPT magic", async () => {
    const connected = await haggling();
    connected.send(Buffer.from("NOTMAGIC\0\0\0\x07\0\0\0\0", "latin1"));
    expect((await connected.expectClose()).length).toBe(0);
  });

  it("drops an option whose declared payload exceeds the limit, without reading it", async () => {
    const connected = await haggling();
    connected.sendOption(NBD_OPT_GO, Buffer.alloc(0), 0xfffffff0);
    expect((await connected.expectClose()).length).toBe(0);
  });

  it("answers unknown and unsupported options with NBD_REP_ERR_UNSUP, skipping their payload", async () => {
    const connected = await haggling();
    for (const option of [NBD_OPT_EXTENDED_HEADERS, 0x7fff_fff0]) {
      connected.sendOption(option, Buffer.alloc(300, 0xee));
      const reply = await connected.readOptionReply();
      expect(reply.option).toBe(option);
      expect(reply.replyType).toBe(NBD_REP_ERR_UNSUP);
    }
    // proto.md NOTLS: a server without TLS by choice answers STARTTLS with ERR_POLICY.
    connected.sendOption(NBD_OPT_STARTTLS);
    expect((await connected.readOptionReply()).replyType).toBe(NBD_REP_ERR_POLICY);
    connected.sendOption(NBD_OPT_GO, goData("disk", []));
    expect((await connected.readOptionReply()).replyType).toBe(NBD_REP_INFO);
  });

  it("answers NBD_OPT_LIST with every export, and rejects it with data", async () => {
    const connected = await haggling();
    connected.sendOption(NBD_OPT_LIST);
    const names: string[] = [];
    for (;;) {
      const reply = await connected.readOptionReply();
      if (reply.replyType === NBD_REP_ACK) break;
      expect(reply.replyType).toBe(NBD_REP_SERVER);
      names.push(reply.data.toString("utf8", 4, 4 + reply.data.readUInt32BE(0)));
    }
    expect(names).toEqual(["disk", "ro"]);
    connected.sendOption(NBD_OPT_LIST, Buffer.from("x"));
    expect((await connected.readOptionReply()).replyType).toBe(NBD_REP_ERR_INVALID);
  });

  it("answers NBD_OPT_INFO with export, name, description and block size, and stays in haggling", async () => {
    const connected = await haggling();
    connected.sendOption(NBD_OPT_INFO, goData("disk", [NBD_INFO_NAME, NBD_INFO_DESCRIPTION, NBD_INFO_BLOCK_SIZE]));
    const infos = new Map<number, Buffer>();
    for (;;) {
      const reply = await connected.readOptionReply();
      if (reply.replyType === NBD_REP_ACK) break;
      expect(reply.replyType).toBe(NBD_REP_INFO);
      infos.set(reply.data.readUInt16BE(0), reply.data.subarray(2));
    }
    const exportInfo = infos.get(NBD_INFO_EXPORT);
    assert.ok(exportInfo !== undefined);
    expect(readUInt64(exportInfo, 0)).toBe(exportSizeBytes);
    expect(exportInfo.readUInt16BE(8) & NBD_FLAG_HAS_FLAGS).toBe(NBD_FLAG_HAS_FLAGS);
    expect(exportInfo.readUInt16BE(8) & NBD_FLAG_SEND_DF).toBe(0); // No structured replies yet.
    expect(infos.get(NBD_INFO_NAME)?.toString()).toBe("disk");
    expect(infos.get(NBD_INFO_DESCRIPTION)?.toString()).toBe("the disk");
    const blockSize = infos.get(NBD_INFO_BLOCK_SIZE);
    assert.ok(blockSize !== undefined);
    expect([blockSize.readUInt32BE(0), blockSize.readUInt32BE(4), blockSize.readUInt32BE(8)]).toEqual([1, 4096, 32 * 1024 * 1024]);
    expect(provider.openCount("disk")).toBe(0); // INFO opened and closed it.
    connected.sendOption(NBD_OPT_ABORT);
    expect((await connected.readOptionReply()).replyType).toBe(NBD_REP_ACK);
    await connected.expectClose();
  });

  it("answers a malformed or unknown NBD_OPT_GO with an error and lets the client retry", async () => {
    const connected = await haggling();
    const truncated = goData("disk", []).subarray(0, 5);
    connected.sendOption(NBD_OPT_GO, truncated);
    expect((await connected.readOptionReply()).replyType).toBe(NBD_REP_ERR_INVALID);
    const lying = goData("disk", [NBD_INFO_NAME]);
    lying.writeUInt32BE(1000, 0); // Name length beyond the option data.
    connected.sendOption(NBD_OPT_GO, lying);
    expect((await connected.readOptionReply()).replyType).toBe(NBD_REP_ERR_INVALID);
    connected.sendOption(NBD_OPT_GO, goData("missing", []));
    expect((await connected.readOptionReply()).replyType).toBe(NBD_REP_ERR_UNKNOWN);
    connected.sendOption(NBD_OPT_GO, goData("disk", []));
    expect((await connected.readOptionReply()).replyType).toBe(NBD_REP_INFO);
  });

  it("refuses a second NBD_OPT_STRUCTURED_REPLY and one with data", async () => {
    const connected = await haggling();
    connected.sendOption(NBD_OPT_STRUCTURED_REPLY, Buffer.from([1]));
    expect((await connected.readOptionReply()).replyType).toBe(NBD_REP_ERR_INVALID);
    connected.sendOption(NBD_OPT_STRUCTURED_REPLY);
    expect((await connected.readOptionReply()).replyType).toBe(NBD_REP_ACK);
    connected.sendOption(NBD_OPT_STRUCTURED_REPLY);
    expect((await connected.readOptionReply()).replyType).toBe(NBD_REP_ERR_INVALID);
  });

  it("serves NBD_OPT_EXPORT_NAME with and without the 124 zero bytes", async () => {
    const withZeroes = await peer();
    await withZeroes.greeting();
    withZeroes.sendClientFlags(NBD_FLAG_C_FIXED_NEWSTYLE);
    withZeroes.sendOption(NBD_OPT_EXPORT_NAME, Buffer.from("disk"));
    const reply = await withZeroes.read(10 + 124);
    expect(readUInt64(reply, 0)).toBe(exportSizeBytes);
    expect(reply.subarray(10).every((byte) => byte === 0)).toBe(true);

    const noZeroes = await peer();
    await noZeroes.greeting();
    noZeroes.sendClientFlags(NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES);
    noZeroes.sendOption(NBD_OPT_EXPORT_NAME, Buffer.from("disk"));
    expect(readUInt64(await noZeroes.read(10), 0)).toBe(exportSizeBytes);
    // Straight into transmission: a request gets a simple reply.
    noZeroes.sendRequest({ command: NBD_CMD_FLUSH, handle: 9 });
    expect(await noZeroes.readSimpleReply()).toEqual({ magic: NBD_SIMPLE_REPLY_MAGIC, errno: 0, handle: 9 });
  });

  it("terminates the session on NBD_OPT_EXPORT_NAME for an unknown export", async () => {
    const connected = await haggling();
    connected.sendOption(NBD_OPT_EXPORT_NAME, Buffer.from("missing"));
    expect((await connected.expectClose()).length).toBe(0);
  });

  it("drops a client that haggles past handshakeOptionsMax", async () => {
    const connected = await haggling();
    for (let index = 0; index < limits.handshakeOptionsMax; index += 1) {
      connected.sendOption(NBD_OPT_STARTTLS);
      expect((await connected.readOptionReply()).replyType).toBe(NBD_REP_ERR_POLICY);
    }
    connected.sendOption(NBD_OPT_STARTTLS);
    expect((await connected.expectClose()).length).toBe(0);
  });
});

describe("transmission", () => {
  it("drops a request with the wrong magic, even after valid ones", async () => {
    const connected = await transmitting();
    connected.sendRequest({ command: NBD_CMD_FLUSH, handle: 1 });
    expect((await connected.readSimpleReply()).errno).toBe(0);
    connected.sendRequest({ command: NBD_CMD_READ, handle: 2, lengthBytes: 512, magic: 0x12560953 });
    expect((await connected.expectClose()).length).toBe(0);
  });

  it("drops garbage sent right after NBD_OPT_GO", async () => {
    const connected = await transmitting();
    connected.send(Buffer.from("GET / HTTP/1.1\r\nHost: example\r\n\r\n"));
    expect((await connected.expectClose()).length).toBe(0);
  });

  it("answers unknown commands, unadvertised commands and unknown flags with EINVAL, and carries on", async () => {
    const connected = await transmitting();
    const cases = [
      { command: 0x1234, handle: 1 },
      { command: NBD_CMD_CACHE, handle: 2, lengthBytes: 512 },
      // No meta context was selected.
      { command: NBD_CMD_BLOCK_STATUS, handle: 3, lengthBytes: 512 },
      { command: NBD_CMD_READ, handle: 4, lengthBytes: 512, flags: 0x8000 },
      // DF is only valid once structured replies are negotiated.
      { command: NBD_CMD_READ, handle: 5, lengthBytes: 512, flags: NBD_CMD_FLAG_DF },
      // FAST_ZERO is valid on WRITE_ZEROES only.
      { command: NBD_CMD_READ, handle: 6, lengthBytes: 512, flags: NBD_CMD_FLAG_FAST_ZERO },
      // FLUSH's offset and length MUST be zero.
      { command: NBD_CMD_FLUSH, handle: 7, lengthBytes: 1 },
    ];
    for (const request of cases) {
      connected.sendRequest(request);
      expect(await connected.readSimpleReply()).toEqual({ magic: NBD_SIMPLE_REPLY_MAGIC, errno: NBD_EINVAL, handle: request.handle });
    }
    // A refused READ carries no payload: the next reply follows at once.
    connected.sendRequest({ command: NBD_CMD_READ, handle: 8, lengthBytes: 4 });
    expect((await connected.readSimpleReply()).errno).toBe(0);
    expect((await connected.read(4)).length).toBe(4);
  });

  it("reads and discards the payload of a refused WRITE, then answers it", async () => {
    const connected = await transmitting("ro");
    const payload = Buffer.alloc(3000, 0x11);
    connected.sendRequest({ command: NBD_CMD_WRITE, handle: 1, offsetBytes: 0 }, payload);
    connected.sendRequest({ command: NBD_CMD_WRITE, handle: 2, offsetBytes: 0, flags: 0x4000 }, payload);
    expect(await connected.readSimpleReply()).toEqual({ magic: NBD_SIMPLE_REPLY_MAGIC, errno: NBD_EPERM, handle: 1 });
    expect(await connected.readSimpleReply()).toEqual({ magic: NBD_SIMPLE_REPLY_MAGIC, errno: NBD_EINVAL, handle: 2 });
    expect(provider.dataOf("ro").every((byte) => byte === 0)).toBe(true);
  });

  it("drops a WRITE whose payload is too big to bother discarding", async () => {
    const connected = await transmitting();
    connected.sendRequest({ command: NBD_CMD_WRITE, handle: 1, lengthBytes: limits.writeDiscardMaxBytes + 1 });
    expect((await connected.expectClose()).length).toBe(0);
  });

  it("survives a client that disconnects halfway through a header or a WRITE payload", async () => {
    const truncatedHeader = await transmitting();
    truncatedHeader.send(encodeRequest({ command: NBD_CMD_READ, handle: 1, lengthBytes: 512 }).subarray(0, 13));
    await delay(20);
    truncatedHeader.destroy();

    const halfWrite = await transmitting();
    halfWrite.send(encodeRequest({ command: NBD_CMD_WRITE, handle: 1, offsetBytes: 4096 }, Buffer.alloc(65536, 0x77)).subarray(0, 28 + 30000));
    await delay(20);
    expect(provider.openCount("disk")).toBe(1);
    halfWrite.destroy();
    await waitUntil(() => provider.openCount("disk") === 0);
    // The incomplete write never reached the export.
    expect(provider.dataOf("disk").subarray(4096, 4096 + 30000).every((byte) => byte !== 0x77)).toBe(true);
  });

  it("finishes in-flight requests after NBD_CMD_DISC, then closes without replying to DISC", async () => {
    const connected = await transmitting();
    const writes = [1, 2, 3].map((handle) => encodeRequest({ command: NBD_CMD_WRITE, handle, offsetBytes: handle * 512 }, Buffer.alloc(512, handle)));
    connected.send(Buffer.concat([...writes, encodeRequest({ command: NBD_CMD_DISC, handle: 4 })]));
    connected.socket.end(); // Half-close after DISC, as libnbd does.
    const rest = await connected.expectClose();
    expect(rest.length).toBe(3 * 16);
    const handles = [0, 1, 2].map((index) => {
      expect(rest.readUInt32BE(index * 16)).toBe(NBD_SIMPLE_REPLY_MAGIC);
      expect(rest.readUInt32BE(index * 16 + 4)).toBe(0);
      return rest.readUInt32BE(index * 16 + 12);
    });
    expect(handles.sort()).toEqual([1, 2, 3]);
    expect(provider.dataOf("disk")[3 * 512]).toBe(3);
  });

  it("uses structured replies once negotiated: OFFSET_DATA, NONE, and ERROR chunks", async () => {
    const connected = await peer();
    const { transmissionFlags } = await connected.handshake("disk", true);
    expect(transmissionFlags & NBD_FLAG_SEND_DF).toBe(NBD_FLAG_SEND_DF);
    provider.dataOf("disk").fill(0x42, 8192, 8192 + 100);

    connected.sendRequest({ command: NBD_CMD_READ, handle: 1, offsetBytes: 8192, lengthBytes: 100, flags: NBD_CMD_FLAG_DF });
    const data = await connected.readChunk();
    expect([data.magic, data.flags, data.replyType, data.handle]).toEqual([
      NBD_STRUCTURED_REPLY_MAGIC,
      NBD_REPLY_FLAG_DONE,
      NBD_REPLY_TYPE_OFFSET_DATA,
      1,
    ]);
    expect(readUInt64(data.payload, 0)).toBe(8192);
    expect(data.payload.subarray(8).equals(Buffer.alloc(100, 0x42))).toBe(true);

    connected.sendRequest({ command: NBD_CMD_READ, handle: 2, offsetBytes: 0, lengthBytes: 0 });
    const none = await connected.readChunk();
    expect([none.flags, none.replyType, none.handle, none.payload.length]).toEqual([NBD_REPLY_FLAG_DONE, NBD_REPLY_TYPE_NONE, 2, 0]);

    connected.sendRequest({ command: NBD_CMD_READ, handle: 3, offsetBytes: exportSizeBytes, lengthBytes: 1 });
    const error = await connected.readChunk();
    expect([error.flags, error.replyType, error.handle]).toEqual([NBD_REPLY_FLAG_DONE, NBD_REPLY_TYPE_ERROR, 3]);
    expect(error.payload.readUInt32BE(0)).toBe(NBD_EINVAL);
    const messageBytes = error.payload.readUInt16BE(4);
    expect(messageBytes).toBe(error.payload.length - 6);
    expect(messageBytes).toBeGreaterThan(0);

    // Other successful commands may use simple replies (proto.md).
    connected.sendRequest({ command: NBD_CMD_FLUSH, handle: 4 });
    expect(await connected.readSimpleReply()).toEqual({ magic: NBD_SIMPLE_REPLY_MAGIC, errno: 0, handle: 4 });
  });

  it("answers an export failure with EIO in a structured ERROR chunk and reports it once", async () => {
    const failure = new Error("media error");
    provider.gate = (info) => (info.offsetBytes === 512 * 1024 ? Promise.reject(failure) : undefined);
    try {
      const connected = await transmitting("disk", true);
      connected.sendRequest({ command: NBD_CMD_READ, handle: 1, offsetBytes: 512 * 1024, lengthBytes: 16 });
      const chunk = await connected.readChunk();
      expect(chunk.replyType).toBe(NBD_REPLY_TYPE_ERROR);
      expect(chunk.payload.readUInt32BE(0)).toBe(NBD_EIO);
      expect(unexpectedErrors.splice(0)).toEqual([failure]);
      provider.gate = (info) => (info.offsetBytes === 512 * 1024 ? Promise.reject(new NbdError("ENOSPC", "full")) : undefined);
      connected.sendRequest({ command: NBD_CMD_WRITE, handle: 2, offsetBytes: 512 * 1024 }, Buffer.alloc(16));
      const full = await connected.readChunk();
      expect(full.payload.readUInt32BE(0)).toBe(28);
      expect(full.payload.toString("utf8", 6)).toBe("full");
      expect(unexpectedErrors).toEqual([]);
    } finally {
      provider.gate = undefined;
    }
  });
});

describe("fuzz", () => {
  it("survives 200 connections of seeded random and half-valid bytes", { timeout: 60_000 }, async () => {
    const seed = Number(process.env.NBD_FUZZ_SEED ?? 0x5eed);
    const random = mulberry32(seed);
    const connectionCount = 200;
    for (let index = 0; index < connectionCount; index += 1) {
      const connected = await RawPeer.connect(port);
      const kind = index % 4;
      if (kind >= 1) {
        await connected.greeting();
        connected.sendClientFlags(NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES);
      }
      if (kind === 2) connected.sendOption(Math.floor(random() * 12), randomBytes(random, Math.floor(random() * 64)));
      if (kind === 3) {
        connected.sendOption(NBD_OPT_GO, goData("disk", []));
        connected.send(fuzzedRequests(random));
      } else {
        connected.send(randomBytes(random, 1 + Math.floor(random() * 200)));
      }
      // Give the server a moment to react, then leave abruptly.
      await delay(random() < 0.5 ? 0 : 2);
      connected.destroy();
    }
    await waitUntil(() => server.connectionCount === 0, 10_000);
    expect(provider.openCount("disk"), `seed ${seed}`).toBe(0);
  });
});

/** Valid request headers with random fields, and random bytes between some. */
function fuzzedRequests(random: () => number): Buffer {
  const parts: Buffer[] = [];
  for (let count = 1 + Math.floor(random() * 6); count > 0; count -= 1) {
    const command = Math.floor(random() * 9);
    const lengthBytes = random() < 0.8 ? Math.floor(random() * 8192) : Math.floor(random() * 0xffffffff);
    const offsetBytes = random() < 0.8 ? Math.floor(random() * exportSizeBytes) : Math.floor(random() * 2 ** 52);
    const flags = random() < 0.7 ? 0 : Math.floor(random() * 0x10000);
    const payload = command === NBD_CMD_WRITE && lengthBytes <= 8192 ? randomBytes(random, lengthBytes) : undefined;
    parts.push(encodeRequest({ command, flags, handle: Math.floor(random() * 0xffffffff), offsetBytes, lengthBytes }, payload));
    if (random() < 0.2) parts.push(randomBytes(random, Math.floor(random() * 40)));
  }
  return Buffer.concat(parts);
}

function randomBytes(random: () => number, byteCount: number): Buffer {
  const data = Buffer.allocUnsafe(byteCount);
  for (let index = 0; index < byteCount; index += 1) data[index] = Math.floor(random() * 256);
  return data;
}

/** A small seeded PRNG, so a failing fuzz run replays from its seed. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
  };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitUntil(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await delay(5);
  }
}
