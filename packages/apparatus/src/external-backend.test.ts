// Goal: an external device's LU (any NBD server) is reached over NBD from
// the device's own process too, under the device's fencing check there; a
// server that restarts between requests costs no failed request; and the
// backend set's FLUSH of the devices' LUs does not depend on external
// servers (the I/O path flushes those a volume maps); a table without an
// external device's LU closes its connection, and a device added again under
// the same name on another server is reached there.
// Block status comes from the server's own, or is all data from a server
// without it.
// Method: the project's NBD server on loopback serving memory, stopped and
// started again on the same port; a fake server without structured replies.
import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { NbdServer } from "@switchyard/nbd";
import { MemoryExportProvider, waitForConnections } from "@switchyard/nbd/testing";
import type { LogicalUnit__Output } from "@switchyard/proto";
import { LocalBackendSet } from "./backend.js";
import { NbdBackendSet } from "./nbd-backend.js";

const exportBytes = 1024 * 1024;
const servers: NbdServer[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function serve(provider: MemoryExportProvider, port = 0): Promise<{ server: NbdServer; port: number }> {
  const server = new NbdServer({ provider, port, host: "127.0.0.1" });
  const address = await server.listen();
  servers.push(server);
  return { server, port: address.port };
}


/**
 * A fake old server: fixed newstyle, but every option other than GO is
 * unsupported (no structured replies, no meta contexts). Enough for a client
 * to find out it cannot ask block status.
 */
async function serveWithoutStructuredReplies(): Promise<{ port: number; close: () => void }> {
  const sockets: net.Socket[] = [];
  const server = net.createServer((socket) => {
    sockets.push(socket);
    const greeting = Buffer.alloc(18);
    greeting.write("NBDMAGICIHAVEOPT", 0, "latin1");
    greeting.writeUInt16BE(3, 16);
    socket.write(greeting);
    let pending = Buffer.alloc(0);
    let flagsRead = false;
    socket.on("data", (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      // Client flags, then options: 8 bytes of magic, option, data length, data.
      if (!flagsRead && pending.length >= 4) {
        pending = pending.subarray(4);
        flagsRead = true;
      }
      while (flagsRead && pending.length >= 16 && pending.length >= 16 + pending.readUInt32BE(12)) {
        const option = pending.readUInt32BE(8);
        pending = pending.subarray(16 + pending.readUInt32BE(12));
        const reply = Buffer.alloc(20);
        reply.writeUInt32BE(0x0003e889, 0);
        reply.writeUInt32BE(0x045565a9, 4);
        reply.writeUInt32BE(option, 8);
        // NBD_REP_ERR_UNSUP to everything; the client aborts after it.
        reply.writeUInt32BE(0x80000001, 12);
        socket.write(reply);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no TCP address");
  return {
    port: address.port,
    close: () => {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}

function externalLu(port: number): LogicalUnit__Output {
  return { index: 2, id: "ext1:disk", device_id: "ext1", size_bytes: exportBytes, extent_size_bytes: exportBytes, nbd_uri: `nbd://127.0.0.1:${port}/disk`, external: true };
}

describe("external LUs in a backend set", () => {
  it("answer block status with the server's own, or all data from a server that has none, and reconnect after a restart", async () => {
    const contents = Buffer.alloc(exportBytes);
    contents.fill(7, 8192, 12288);
    const provider = new MemoryExportProvider([{ name: "disk", sizeBytes: exportBytes, contents }]);
    const { server, port } = await serve(provider);
    const set = new NbdBackendSet();
    const backend = set.backend(externalLu(port));
    expect(await backend.allocation?.(0, 65536)).toEqual([
      { lengthBytes: 8192, state: 3 },
      { lengthBytes: 4096, state: 0 },
      { lengthBytes: 65536 - 12288, state: 3 },
    ]);
    await server.close();
    await expect(backend.allocation?.(0, 4096)).rejects.toMatchObject({ code: "EIO" });
    await serve(provider, port);
    expect(await backend.allocation?.(8192, 4096)).toEqual([{ lengthBytes: 4096, state: 0 }]);
    await set.close();
    // A server without structured replies cannot answer: the backend reports data, which is always true.
    const blind = await serveWithoutStructuredReplies();
    const blindSet = new NbdBackendSet();
    expect(await blindSet.backend(externalLu(blind.port)).allocation?.(0, 65536)).toEqual([{ lengthBytes: 65536, state: 0 }]);
    await blindSet.close();
    blind.close();
  });

  it("are reached over NBD in the device's process, and refused once the device refuses the apparatus", async () => {
    const provider = new MemoryExportProvider([{ name: "disk", sizeBytes: exportBytes }]);
    const { port } = await serve(provider);
    const fenced = new Set<string>();
    const set = new LocalBackendSet(new Map(), (apparatusId) => (fenced.has(apparatusId) ? `apparatus ${apparatusId} is fenced` : undefined));
    set.identify({ apparatusId: "a0", key: "k" });
    const lu = externalLu(port);
    await set.backend(lu).write(4096, Buffer.from("external"), true);
    expect(provider.dataOf("disk").subarray(4096, 4104).toString()).toBe("external");
    fenced.add("a0");
    await expect(set.backend(lu).read(0, Buffer.alloc(8))).rejects.toMatchObject({ code: "EPERM" });
    await set.close();
  });

  it("reconnect to a server that restarted while idle, and leave it out of flushAll", async () => {
    const provider = new MemoryExportProvider([{ name: "disk", sizeBytes: exportBytes }]);
    const first = await serve(provider);
    const set = new NbdBackendSet();
    const lu = externalLu(first.port);
    await set.backend(lu).write(0, Buffer.from("before"), false);
    await first.server.close();
    // The devices' LUs flush while the external server is away: there are none here, and the table's external LU is left out.
    await set.flushAll([lu]);
    await serve(provider, first.port);
    const back = Buffer.alloc(6);
    await set.backend(lu).read(0, back);
    expect(back.toString()).toBe("before");
    await set.close();
  });
});

describe("retainExternal", () => {
  it.each([
    ["in the device's process", (): LocalBackendSet | NbdBackendSet => new LocalBackendSet(new Map(), () => undefined)],
    ["over NBD", (): LocalBackendSet | NbdBackendSet => new NbdBackendSet()],
  ])("closes the connection to a removed device and reaches a new server under the same LU id (%s)", async (_where, makeSet) => {
    const firstProvider = new MemoryExportProvider([{ name: "disk", sizeBytes: exportBytes }]);
    const secondProvider = new MemoryExportProvider([{ name: "disk", sizeBytes: exportBytes }]);
    const first = await serve(firstProvider);
    const second = await serve(secondProvider);
    const set = makeSet();
    set.identify({ apparatusId: "a0", key: "k" });
    const lu = externalLu(first.port);
    await set.backend(lu).write(0, Buffer.from("first"), false);
    set.retainExternal([lu]);
    expect(first.server.connectionCount).toBe(1);
    set.retainExternal([]);
    await waitForConnections(first.server, 0);
    const again = externalLu(second.port);
    set.retainExternal([again]);
    await set.backend(again).write(0, Buffer.from("second"), false);
    expect(secondProvider.dataOf("disk").subarray(0, 6).toString()).toBe("second");
    expect(firstProvider.dataOf("disk").subarray(0, 6).toString()).toBe("first\0");
    await set.close();
  });
});
