/**
 * Goal: NbdClient and NbdServer agree on every command, keep many requests
 * in flight with replies out of order, map errors to the spec's errnos, and
 * hold their limits (request size, in-flight count, handshake timeout).
 *
 * Method: a real server on 127.0.0.1 (ephemeral port) serving a
 * MemoryExportProvider; the provider's gate delays or fails chosen
 * operations so replies reorder and errors come from the export; the client
 * is ours. Every assertion is on bytes in memory or on an error code.
 */
import assert from "node:assert/strict";
import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { NbdClient, NbdClientError, listExports } from "./client.js";
import { NbdError } from "./export.js";
import type { NbdServerLimits } from "./limits.js";
import { MemoryExportProvider, type MemoryOperationGate } from "./memory-export.js";
import { NbdServer } from "./server.js";

const mebibyte = 1024 * 1024;

interface Fixture {
  readonly server: NbdServer;
  readonly provider: MemoryExportProvider;
  readonly port: number;
  readonly errors: unknown[];
}

const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startServer(limits?: Partial<NbdServerLimits>, gate?: MemoryOperationGate): Promise<Fixture> {
  const provider = new MemoryExportProvider(
    [
      { name: "disk", sizeBytes: 8 * mebibyte, description: "test disk" },
      { name: "readonly", sizeBytes: mebibyte, readOnly: true, multiConn: false, contents: Buffer.alloc(mebibyte, 0x5a) },
    ],
    gate,
  );
  const errors: unknown[] = [];
  const server = new NbdServer({ provider, port: 0, limits, onError: (error) => errors.push(error) });
  const { port } = await server.listen();
  cleanups.push(() => server.close());
  return { server, provider, port, errors };
}

async function connect(fixture: Fixture, exportName = "disk"): Promise<NbdClient> {
  const client = await NbdClient.connect({ host: "127.0.0.1", port: fixture.port, exportName, timeoutMs: 5000 });
  cleanups.push(() => client.close());
  return client;
}

function pattern(lengthBytes: number, seed: number): Buffer {
  const data = Buffer.allocUnsafe(lengthBytes);
  for (let index = 0; index < lengthBytes; index += 1) data[index] = (index * 31 + seed * 7) & 0xff;
  return data;
}

async function errorCodeOf(operation: Promise<unknown>): Promise<string> {
  const error = await operation.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  assert.ok(error instanceof NbdError, `expected an NbdError, got ${String(error)}`);
  return error.code;
}

describe("NbdClient ↔ NbdServer", () => {
  it("negotiates the export's size, flags and block sizes", async () => {
    const fixture = await startServer();
    const client = await connect(fixture);
    expect(client.sizeBytes).toBe(8 * mebibyte);
    expect(client.canMultiConn).toBe(true);
    expect(client.readOnly).toBe(false);
    expect(client.blockSizeMinimumBytes).toBe(1);
    expect(client.blockSizePreferredBytes).toBe(4096);
    expect(client.blockSizeMaximumBytes).toBe(32 * mebibyte);
    const readOnly = await connect(fixture, "readonly");
    expect(readOnly.readOnly).toBe(true);
    expect(readOnly.canMultiConn).toBe(false);
  });

  it("round-trips write, read, flush, trim and write zeroes", async () => {
    const fixture = await startServer();
    const client = await connect(fixture);
    const data = pattern(256 * 1024, 1);
    await client.write(4096, data);
    await client.write(4096 + data.length, data.subarray(0, 100), true);
    await client.flush();
    const back = Buffer.alloc(data.length + 100);
    await client.read(4096, back);
    expect(back.subarray(0, data.length).equals(data)).toBe(true);
    expect(back.subarray(data.length).equals(data.subarray(0, 100))).toBe(true);
    expect(fixture.provider.dataOf("disk").subarray(4096, 4096 + data.length).equals(data)).toBe(true);

    await client.trim(4096, 4096);
    await client.writeZeroes(8192, 8192, true);
    await client.read(4096, back);
    expect(back.subarray(0, 12288).every((byte) => byte === 0)).toBe(true);
    expect(back.subarray(12288, data.length).equals(data.subarray(12288))).toBe(true);
  });

  it("handles zero-length requests without disconnecting", async () => {
    const fixture = await startServer();
    const client = await connect(fixture);
    await client.read(0, Buffer.alloc(0));
    await client.write(0, Buffer.alloc(0));
    await client.trim(0, 0);
    await client.writeZeroes(0, 0);
    const one = Buffer.alloc(1);
    await client.read(8 * mebibyte - 1, one);
  });

  it("keeps hundreds of requests in flight and matches out-of-order replies", async () => {
    const completedSlowly = new Set<number>();
    // Every third operation waits 30 ms, so later requests overtake it.
    const gate: MemoryOperationGate = (info) =>
      (info.offsetBytes / 4096) % 3 === 0
        ? new Promise((resolve) =>
            setTimeout(() => {
              completedSlowly.add(info.offsetBytes);
              resolve();
            }, 30),
          )
        : undefined;
    const fixture = await startServer({}, gate);
    const client = await connect(fixture);
    const requestCount = 300;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: requestCount }, (_, index) =>
        client.write(index * 4096, pattern(4096, index)).then(() => order.push(index)),
      ),
    );
    expect(order).toHaveLength(requestCount);
    expect(order).not.toEqual([...order].sort((left, right) => left - right));
    const reads = Array.from({ length: requestCount }, () => Buffer.alloc(4096));
    const readOrder: number[] = [];
    await Promise.all(reads.map((into, index) => client.read(index * 4096, into).then(() => readOrder.push(index))));
    expect(readOrder).not.toEqual([...readOrder].sort((left, right) => left - right));
    reads.forEach((into, index) => {
      expect(into.equals(pattern(4096, index)), `read ${index}`).toBe(true);
    });
    expect(completedSlowly.size).toBe(requestCount / 3);
  });

  it("answers the spec's errnos: EINVAL, ENOSPC, EPERM", async () => {
    const fixture = await startServer();
    const client = await connect(fixture);
    const end = 8 * mebibyte;
    // proto.md "Error values": reads and trims past the end are EINVAL,
    // writes and write-zeroes past the end are ENOSPC.
    expect(await errorCodeOf(client.read(end - 10, Buffer.alloc(11)))).toBe("EINVAL");
    expect(await errorCodeOf(client.read(2 ** 52, Buffer.alloc(1)))).toBe("EINVAL");
    expect(await errorCodeOf(client.trim(end, 1))).toBe("EINVAL");
    expect(await errorCodeOf(client.write(end - 1, Buffer.alloc(2)))).toBe("ENOSPC");
    expect(await errorCodeOf(client.writeZeroes(end, 4096))).toBe("ENOSPC");
    const readOnly = await connect(fixture, "readonly");
    expect(await errorCodeOf(readOnly.write(0, Buffer.alloc(512)))).toBe("EPERM");
    expect(await errorCodeOf(readOnly.trim(0, 512))).toBe("EPERM");
    expect(await errorCodeOf(readOnly.writeZeroes(0, 512))).toBe("EPERM");
    const back = Buffer.alloc(512);
    await readOnly.read(0, back);
    expect(back.every((byte) => byte === 0x5a)).toBe(true);
    // The connection survives every error reply.
    await client.write(0, Buffer.from("still here"));
    expect(fixture.errors).toEqual([]);
  });

  it("maps an export's NbdError to its errno and any other failure to EIO", async () => {
    const failure = new Error("disk on fire");
    const gate: MemoryOperationGate = (info) => {
      if (info.offsetBytes === 0) return Promise.reject(new NbdError("ENOSPC", "thin pool full"));
      if (info.offsetBytes === 4096) return Promise.reject(failure);
      if (info.offsetBytes === 8192) throw new NbdError("EOVERFLOW", "thrown synchronously");
      if (info.offsetBytes === 12288) throw failure;
      return undefined;
    };
    const fixture = await startServer({}, gate);
    const client = await connect(fixture);
    expect(await errorCodeOf(client.write(0, Buffer.alloc(16)))).toBe("ENOSPC");
    expect(await errorCodeOf(client.read(4096, Buffer.alloc(16)))).toBe("EIO");
    expect(await errorCodeOf(client.trim(8192, 16))).toBe("EOVERFLOW");
    expect(await errorCodeOf(client.writeZeroes(12288, 16))).toBe("EIO");
    expect(fixture.errors).toEqual([failure, failure]);
    await client.read(16384, Buffer.alloc(16));
  });

  it("refuses reads and writes over the maximum block size, runs longer zeroing, and drops absurd write payloads", async () => {
    const requestSizeMaxBytes = 64 * 1024;
    const fixture = await startServer({ requestSizeMaxBytes, writeDiscardMaxBytes: 256 * 1024 });
    const client = await connect(fixture);
    expect(client.blockSizeMaximumBytes).toBe(requestSizeMaxBytes);
    expect(await errorCodeOf(client.read(0, Buffer.alloc(requestSizeMaxBytes + 1)))).toBe("EINVAL");
    // The maximum bounds payloads only (proto.md): a longer WRITE_ZEROES runs.
    for (let index = 0; index < 4; index += 1) await client.write(index * requestSizeMaxBytes, pattern(requestSizeMaxBytes, 2));
    await client.writeZeroes(0, 4 * requestSizeMaxBytes);
    expect(fixture.provider.dataOf("disk").subarray(0, 4 * requestSizeMaxBytes).every((byte) => byte === 0)).toBe(true);
    // The payload of a refused write is read and discarded; the stream stays in step.
    expect(await errorCodeOf(client.write(0, pattern(requestSizeMaxBytes + 1, 3)))).toBe("EINVAL");
    expect(fixture.provider.dataOf("disk").subarray(0, 16).every((byte) => byte === 0)).toBe(true);
    await client.trim(0, 4 * mebibyte); // TRIM has no maximum block size.
    await client.write(0, pattern(requestSizeMaxBytes, 4));
    const back = Buffer.alloc(requestSizeMaxBytes);
    await client.read(0, back);
    expect(back.equals(pattern(requestSizeMaxBytes, 4))).toBe(true);
    // Past writeDiscardMaxBytes the server hangs up instead of reading on.
    expect(await errorCodeOf(client.write(0, Buffer.alloc(256 * 1024 + 1)))).toBe("EIO");
    expect(await errorCodeOf(client.flush())).toBe("EIO");
  });

  it("stops reading at inFlightMax and resumes as requests complete", async () => {
    const inFlightMax = 4;
    let running = 0;
    let runningMax = 0;
    const releases: (() => void)[] = [];
    const gate: MemoryOperationGate = () => {
      running += 1;
      runningMax = Math.max(runningMax, running);
      return new Promise((resolve) => {
        releases.push(() => {
          running -= 1;
          resolve();
        });
      });
    };
    const fixture = await startServer({ inFlightMax }, gate);
    const client = await connect(fixture);
    const all = Promise.all(Array.from({ length: 40 }, (_, index) => client.read(index * 512, Buffer.alloc(512))));
    for (let released = 0; released < 40; ) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      expect(running).toBeLessThanOrEqual(inFlightMax);
      const batch = releases.splice(0);
      released += batch.length;
      for (const release of batch) release();
    }
    await all;
    expect(runningMax).toBe(inFlightMax);
  });

  it("lists exports and resolves the empty name to the only export", async () => {
    const fixture = await startServer();
    const entries = await listExports({ host: "127.0.0.1", port: fixture.port, timeoutMs: 5000 });
    expect(entries).toEqual([
      { name: "disk", description: "test disk" },
      { name: "readonly", description: "" },
    ]);
    // Two exports: the empty name names none of them.
    const error = await NbdClient.connect({ host: "127.0.0.1", port: fixture.port, exportName: "", timeoutMs: 5000 }).catch(
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(NbdClientError);
    expect((error as NbdClientError).code).toBe("UNKNOWN_EXPORT");

    const single = new NbdServer({ provider: new MemoryExportProvider([{ name: "only", sizeBytes: 4096 }]), port: 0 });
    const { port } = await single.listen();
    cleanups.push(() => single.close());
    const client = await NbdClient.connect({ host: "127.0.0.1", port, exportName: "", timeoutMs: 5000 });
    expect(client.sizeBytes).toBe(4096);
    await client.close();
  });

  it("rejects an unknown export with UNKNOWN_EXPORT", async () => {
    const fixture = await startServer();
    const error = await NbdClient.connect({ host: "127.0.0.1", port: fixture.port, exportName: "nope", timeoutMs: 5000 }).catch(
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(NbdClientError);
    expect((error as NbdClientError).code).toBe("UNKNOWN_EXPORT");
  });

  it("closes cleanly: DISC after in-flight replies, later calls ESHUTDOWN, export released", async () => {
    let release: (() => void) | undefined;
    const gate: MemoryOperationGate = (info) =>
      info.operation === "write" ? new Promise((resolve) => (release = resolve)) : undefined;
    const fixture = await startServer({}, gate);
    const client = await connect(fixture);
    expect(fixture.provider.openCount("disk")).toBe(1);
    const write = client.write(0, Buffer.from("last words"));
    const closing = client.close();
    expect(await errorCodeOf(client.read(0, Buffer.alloc(1)))).toBe("ESHUTDOWN");
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.ok(release !== undefined);
    release();
    await write;
    await closing;
    expect(await errorCodeOf(client.flush())).toBe("ESHUTDOWN");
    expect(fixture.provider.dataOf("disk").toString("utf8", 0, 10)).toBe("last words");
    await waitUntil(() => fixture.server.connectionCount === 0 && fixture.provider.openCount("disk") === 0);
  });

  it("server close finishes in-flight requests, then every client call fails", async () => {
    let release: (() => void) | undefined;
    const gate: MemoryOperationGate = (info) =>
      info.operation === "read" ? new Promise((resolve) => (release = resolve)) : undefined;
    const fixture = await startServer({}, gate);
    const client = await connect(fixture);
    await client.write(0, Buffer.from("abc"));
    const into = Buffer.alloc(3);
    const read = client.read(0, into);
    await waitUntil(() => release !== undefined);
    const closing = fixture.server.close();
    assert.ok(release !== undefined);
    release();
    await read;
    expect(into.toString()).toBe("abc");
    await closing;
    expect(fixture.server.connectionCount).toBe(0);
    expect(["EIO", "ESHUTDOWN"]).toContain(await errorCodeOf(client.flush()));
  });

  it("drops a handshake that does not finish in time", async () => {
    const fixture = await startServer({ handshakeTimeoutMs: 100 });
    const socket = net.connect({ host: "127.0.0.1", port: fixture.port });
    socket.on("error", () => undefined);
    socket.resume(); // Consume the greeting, so the server's close is seen.
    const started = Date.now();
    await new Promise((resolve) => socket.once("close", resolve));
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    expect(Date.now() - started).toBeLessThan(2000);
    await waitUntil(() => fixture.server.connectionCount === 0);
  });

  it("fails pending requests with EIO when the server vanishes, and times out a stuck request", async () => {
    const gate: MemoryOperationGate = () => new Promise(() => undefined);
    // The stuck read never completes, so the server waits this long for it
    // after the client leaves before it drops the socket.
    const fixture = await startServer({ disconnectTimeoutMs: 100 }, gate);
    const client = await NbdClient.connect({ host: "127.0.0.1", port: fixture.port, exportName: "disk", timeoutMs: 200 });
    const started = Date.now();
    expect(await errorCodeOf(client.read(0, Buffer.alloc(1)))).toBe("EIO");
    expect(Date.now() - started).toBeLessThan(2000);
    expect(await errorCodeOf(client.read(0, Buffer.alloc(1)))).toBe("EIO");
  });
});

/**
 * A fake server that completes NBD_OPT_GO for any name, then lets the test
 * answer each request header with whatever bytes it likes.
 */
async function fakeServer(onRequest: (socket: net.Socket, request: Buffer) => void): Promise<number> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => undefined);
    let stage = 0;
    let pending = Buffer.alloc(0);
    // NBDMAGIC, IHAVEOPT, FIXED_NEWSTYLE | NO_ZEROES.
    socket.write(Buffer.from("4e42444d41474943" + "49484156454f5054" + "0003", "hex"));
    socket.on("data", (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      if (stage === 0 && pending.length >= 4 + 16) {
        const optionBytes = 4 + 16 + pending.readUInt32BE(4 + 12);
        if (pending.length < optionBytes) return;
        pending = pending.subarray(optionBytes);
        const info = Buffer.alloc(12);
        info.writeUInt32BE(0x100000, 6); // 1 MiB, NBD_FLAG_HAS_FLAGS only.
        info.writeUInt16BE(1, 10);
        socket.write(Buffer.concat([optionReply(3, info), optionReply(1, Buffer.alloc(0))]));
        stage = 1;
      }
      while (stage === 1 && pending.length >= 28) {
        onRequest(socket, pending.subarray(0, 28));
        pending = pending.subarray(28);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanups.push(
    () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => {
          resolve();
        });
      }),
  );
  const address = server.address();
  assert.ok(address !== null && typeof address === "object");
  return address.port;
}

function optionReply(replyType: number, data: Buffer): Buffer {
  const header = Buffer.alloc(20);
  header.write("0003e889045565a9", 0, "hex");
  header.writeUInt32BE(7, 8);
  header.writeUInt32BE(replyType, 12);
  header.writeUInt32BE(data.length, 16);
  return Buffer.concat([header, data]);
}

function simpleReply(request: Buffer, errno: number, handleDelta = 0): Buffer {
  const reply = Buffer.alloc(16);
  reply.writeUInt32BE(0x67446698, 0);
  reply.writeUInt32BE(errno, 4);
  reply.writeUInt32BE(request.readUInt32BE(8), 8);
  reply.writeUInt32BE(request.readUInt32BE(12) + handleDelta, 12);
  return reply;
}

describe("NbdClient against a misbehaving server", () => {
  it("fails the request whose data is cut off, every pending one, and every later one with EIO", async () => {
    let requests = 0;
    const port = await fakeServer((socket, request) => {
      requests += 1;
      // The first read gets its header and half its data, then the server dies.
      if (requests === 1) socket.write(Buffer.concat([simpleReply(request, 0), Buffer.alloc(2048)]));
      if (requests === 3) socket.destroy();
    });
    const client = await NbdClient.connect({ host: "127.0.0.1", port, exportName: "x", timeoutMs: 5000 });
    expect(client.sizeBytes).toBe(mebibyte);
    const results = await Promise.all([
      errorCodeOf(client.read(0, Buffer.alloc(4096))),
      errorCodeOf(client.read(0, Buffer.alloc(4096))),
      errorCodeOf(client.flush()),
    ]);
    expect(results).toEqual(["EIO", "EIO", "EIO"]);
    expect(await errorCodeOf(client.flush())).toBe("EIO");
  });

  it("treats a reply to an unknown handle, or a structured reply it never asked for, as fatal", async () => {
    for (const badReply of [(request: Buffer) => simpleReply(request, 0, 1), (request: Buffer) => Buffer.concat([Buffer.from("668e33ef", "hex"), request.subarray(4, 16)])]) {
      const port = await fakeServer((socket, request) => socket.write(badReply(request)));
      const client = await NbdClient.connect({ host: "127.0.0.1", port, exportName: "x", timeoutMs: 5000 });
      expect(await errorCodeOf(client.flush())).toBe("EIO");
    }
  });

  it("reads an unexpected errno as EINVAL (proto.md), without disconnecting", async () => {
    const port = await fakeServer((socket, request) => socket.write(simpleReply(request, request.readUInt32BE(12) === 1 ? 99 : 0)));
    const client = await NbdClient.connect({ host: "127.0.0.1", port, exportName: "x", timeoutMs: 5000 });
    expect(await errorCodeOf(client.flush())).toBe("EINVAL");
    await client.flush();
  });
});

async function waitUntil(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
