// Goal: the device keeps open only the external LUs the store lists: a
// removed external device's connection closes, and the same LU id on another
// server is opened there. Method: two of the project's NBD servers on
// loopback, serving memory, and a store LU list changed in place.
import { afterEach, describe, expect, it } from "vitest";
import type { LogicalUnit__Output } from "@switchyard/proto";
import { ExternalLus } from "./external-lu.js";
import { NbdServer } from "@switchyard/nbd";
import { MemoryExportProvider, waitForConnections } from "@switchyard/nbd/testing";

const exportBytes = 1024 * 1024;
const servers: NbdServer[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function serve(): Promise<{ server: NbdServer; provider: MemoryExportProvider; lu: LogicalUnit__Output }> {
  const provider = new MemoryExportProvider([{ name: "disk", sizeBytes: exportBytes }]);
  const server = new NbdServer({ provider, port: 0, host: "127.0.0.1" });
  const { port } = await server.listen();
  servers.push(server);
  const lu = { index: 2, id: "ext1:disk", device_id: "ext1", size_bytes: exportBytes, extent_size_bytes: exportBytes, nbd_uri: `nbd://127.0.0.1:${port}/disk`, external: true };
  return { server, provider, lu };
}


describe("ExternalLus.retainListed", () => {
  it("closes an LU the store stopped listing, and opens the same id on its new server", async () => {
    const first = await serve();
    const second = await serve();
    let listed: LogicalUnit__Output[] = [first.lu];
    const lus = new ExternalLus(() => listed);
    await lus.get("ext1:disk").write(0, Buffer.from("first"), false);
    lus.retainListed();
    expect(first.server.connectionCount).toBe(1);
    listed = [];
    lus.retainListed();
    await waitForConnections(first.server, 0);
    expect(() => lus.get("ext1:disk")).toThrow(/no LU "ext1:disk"/);
    listed = [second.lu];
    await lus.get("ext1:disk").write(0, Buffer.from("second"), false);
    expect(second.provider.dataOf("disk").subarray(0, 6).toString()).toBe("second");
    await lus.close();
  });
});
