// Goal: the device's copy between two external devices moves exactly one
// area's bytes between two NBD servers in 4 MiB pieces, touches nothing
// else, and fails with a line that names the device at the end that failed. Method: two real NBD servers on
// loopback (the project's own, serving memory), one of them failing writes.
import { afterEach, describe, expect, it } from "vitest";
import { NbdError, NbdServer } from "@switchyard/nbd";
import { MemoryExportProvider, type MemoryOperationGate } from "@switchyard/nbd/testing";
import { streamAreaCopy, streamChunkBytes, type CopyEnd } from "./external-copy.js";

const areaBytes = 3 * streamChunkBytes + 4096;
const areasPerExport = 3;
const servers: NbdServer[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function serve(contents: Buffer, gate?: MemoryOperationGate): Promise<{ provider: MemoryExportProvider; uri: string }> {
  const provider = new MemoryExportProvider([{ name: "disk", sizeBytes: areaBytes * areasPerExport, contents }], gate);
  const server = new NbdServer({ provider, port: 0, host: "127.0.0.1" });
  const { port } = await server.listen();
  servers.push(server);
  return { provider, uri: `nbd://127.0.0.1:${port}/disk` };
}

function end(deviceId: string, uri: string, areaIndex: number): CopyEnd {
  return { luId: `${deviceId}:disk`, deviceId, nbdUri: uri, areaIndex };
}

function pattern(lengthBytes: number, seed: number): Buffer {
  const data = Buffer.allocUnsafe(lengthBytes);
  for (let index = 0; index < lengthBytes; index += 1) data[index] = (index * 13 + seed) & 0xff;
  return data;
}

describe("streamAreaCopy", () => {
  it("copies one area, in 4 MiB chunks, and nothing around it", async () => {
    const source = await serve(pattern(areaBytes * areasPerExport, 1));
    const writes: number[] = [];
    const destination = await serve(Buffer.alloc(0), (info) => {
      if (info.operation === "write") writes.push(info.lengthBytes);
      return undefined;
    });
    await streamAreaCopy(end("ext0", source.uri, 2), end("ext1", destination.uri, 1), areaBytes, areaBytes);
    const written = destination.provider.dataOf("disk");
    expect(written.subarray(areaBytes, 2 * areaBytes).equals(source.provider.dataOf("disk").subarray(2 * areaBytes, 3 * areaBytes))).toBe(true);
    expect(written.subarray(0, areaBytes).every((byte) => byte === 0)).toBe(true);
    expect(written.subarray(2 * areaBytes).every((byte) => byte === 0)).toBe(true);
    expect(writes).toEqual([streamChunkBytes, streamChunkBytes, streamChunkBytes, 4096]);
  });

  it("names the external device when it fails a write, and when it cannot be reached", async () => {
    const source = await serve(pattern(areaBytes * areasPerExport, 2));
    const failing = await serve(Buffer.alloc(0), (info) => (info.operation === "write" ? Promise.reject(new NbdError("EIO", "disk gone")) : undefined));
    await expect(streamAreaCopy(end("ext0", source.uri, 0), end("ext1", failing.uri, 0), areaBytes, areaBytes)).rejects.toThrow(
      `external device ext1 (${failing.uri}) failed a write`,
    );
    // Port 1: nothing listens there, so the connection is refused at once.
    await expect(streamAreaCopy(end("ext0", source.uri, 0), end("ext2", "nbd://127.0.0.1:1/disk", 0), areaBytes, areaBytes)).rejects.toThrow(
      /external device ext2 \(nbd:\/\/127.0.0.1:1\/disk\) could not be reached/,
    );
  });
});
