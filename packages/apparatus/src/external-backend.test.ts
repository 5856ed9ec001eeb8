// Goal: an external device's LU (any NBD server) is reached over NBD from
// the device's own process too, under the device's fencing check there; a
// server that restarts between requests costs no failed request; and the
// backend set's FLUSH of the devices' LUs does not depend on external
// servers (the I/O path flushes those a volume maps); a table without an
// external device's LU closes its connection, and a device added again under
// the same name on another server is reached there.
// Method: the project's NBD server on loopback serving memory, stopped and
// started again on the same port.
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


function externalLu(port: number): LogicalUnit__Output {
  return { index: 2, id: "ext1:disk", device_id: "ext1", size_bytes: exportBytes, extent_size_bytes: exportBytes, nbd_uri: `nbd://127.0.0.1:${port}/disk`, external: true };
}

describe("external LUs in a backend set", () => {
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
    // The devices' LUs flush while the external server is away: there are none here, so nothing fails.
    await set.flushAll();
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
