// Goal: the device's probe of an NBD export (for `device add-external`)
// refuses a URI the cluster does not take before connecting, with the line the
// console shows, reports size, read-only and export name of one it reaches,
// and says EXTERNAL_UNREACHABLE for a server that is not there.
// Method: an in-memory NBD server on loopback with a writable and a
// read-only export; port 1 for a server that does not listen.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NbdServer } from "@switchyard/nbd";
import { MemoryExportProvider } from "@switchyard/nbd/testing";
import { parseExternalUri, probeNbdExport } from "./nbd-probe.js";

const mebibyte = 1024 * 1024;
let server: NbdServer;
let port = 0;

beforeAll(async () => {
  const provider = new MemoryExportProvider([{ name: "disk", sizeBytes: 8 * mebibyte }, { name: "ro", sizeBytes: mebibyte, readOnly: true }]);
  server = new NbdServer({ provider, port: 0 });
  ({ port } = await server.listen());
});

afterAll(async () => {
  await server.close();
});

describe("parseExternalUri", () => {
  it("takes nbd://HOST:PORT with or without an export", () => {
    expect(parseExternalUri("nbd://127.0.0.1:10900/disk")).toEqual({ host: "127.0.0.1", port: 10900, exportName: "disk" });
    expect(parseExternalUri("nbd://storage.example:10809")).toEqual({ host: "storage.example", port: 10809, exportName: "" });
    expect(parseExternalUri("nbd://[::1]:10809/a.b-c_d")).toEqual({ host: "::1", port: 10809, exportName: "a.b-c_d" });
  });

  it.each([
    ["http://127.0.0.1:10900/disk", /is not an NBD URI; give nbd:\/\/HOST:PORT\/EXPORT/],
    ["nbd://127.0.0.1/disk", /is not an NBD URI/],
    ["nbd://127.0.0.1:0/disk", /is not an NBD URI/],
    ["nbd://127.0.0.1:65536/disk", /is not an NBD URI/],
    ["nbd://127.0.0.1:10900/a/b", /export name "a\/b" must be/],
    ["nbd://127.0.0.1:10900/a:b", /export name "a:b" must be/],
  ])("refuses %s", (text, message) => {
    expect(() => parseExternalUri(text)).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT", message: expect.stringMatching(message) as unknown }));
  });
});

describe("probeNbdExport", () => {
  it("reports the size, read-only flag and export name of what the server serves", async () => {
    expect(await probeNbdExport(`nbd://127.0.0.1:${port}/disk`)).toEqual({ sizeBytes: 8 * mebibyte, readOnly: false, exportName: "disk" });
    expect(await probeNbdExport(`nbd://127.0.0.1:${port}/ro`)).toEqual({ sizeBytes: mebibyte, readOnly: true, exportName: "ro" });
  });

  it("refuses bad input before connecting, and names a server it cannot reach", async () => {
    await expect(probeNbdExport(`nbd://127.0.0.1:${port}/a/b`)).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expect(probeNbdExport("nbd://127.0.0.1:1/disk")).rejects.toMatchObject({ code: "EXTERNAL_UNREACHABLE", message: expect.stringMatching(/ECONNREFUSED/) as unknown });
    await expect(probeNbdExport(`nbd://127.0.0.1:${port}/nosuch`)).rejects.toMatchObject({ code: "EXTERNAL_UNREACHABLE" });
  });
});
