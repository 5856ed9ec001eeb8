// Goal: `coordination export` and `import` refuse what they must before
// touching anything: export of a folder a live process serves (exit 2, one
// line), of a folder with no device (exit 2); import without --etcd, with
// both or neither of --dir and --from, with a prefix that is not a path
// (exit 2); an export document whose summary does not match its store
// bytes, and an etcd that does not answer (exit 1, one line). And an export round-trips: the document's store decodes
// to what the device holds.
// Method: real devices (small LUs) in temporary folders, the commands run
// in-process through runCli (main()); the live process is this test's parent (alive,
// and not this process, which refuseIfServed lets through). No etcd: every
// case is refused before import connects, or finds no one on a closed
// loopback port (a real etcd is in test/coordination-commands.integration.test.ts).
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { openTestDevice } from "@switchyard/device/testing";
import { decodeStoreState } from "@switchyard/proto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { endpointFilePath } from "../endpoints.js";
import { runCli } from "../testing.js";

let dir = "";

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "switchyard-coordination-"));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A stopped device in `folder`, as `up` would have left it. */
async function stoppedDevice(folder: string): Promise<void> {
  const device = await openTestDevice(folder, { deviceId: "dev0" });
  await device.close();
}

const etcdUrl = "http://127.0.0.1:2379";

describe("switchyard coordination export", () => {
  it("refuses a folder that a live process serves: exit 2, one line", async () => {
    await stoppedDevice(dir);
    await writeFile(endpointFilePath(dir), JSON.stringify({ pid: process.ppid, controller: { grpc: "127.0.0.1:1" }, apparatuses: [] }));
    const result = await runCli(["coordination", "export", "--dir", dir]);
    expect(result.code).toBe(2);
    expect(result.out).toBe("");
    expect(result.err).toMatch(new RegExp(`^switchyard coordination export: .* is served already by pid ${process.ppid}; stop it first.*\\n$`));
    expect(result.err.split("\n")).toHaveLength(2);
  });

  it("refuses a folder without a device: exit 2", async () => {
    const result = await runCli(["coordination", "export", "--dir", dir]);
    expect(result.code).toBe(2);
    expect(result.err).toMatch(/holds no device\.json: not a device's folder; give the data folder of a stopped 'switchyard up'\n$/);
  });

  it("writes the store's bytes, which decode to the device's store, and a summary", async () => {
    await stoppedDevice(dir);
    const out = path.join(dir, "export.json");
    const result = await runCli(["coordination", "export", "--dir", dir, "--out", out, "--json"]);
    expect(result).toMatchObject({ code: 0, err: "" });
    expect(JSON.parse(result.out)).toMatchObject({ out, device_id: "dev0", volumes: [], highest_epoch: 0 });
    const document = JSON.parse(await readFile(out, "utf8")) as { store_state: string };
    const state = decodeStoreState(Buffer.from(document.store_state, "base64"));
    expect(state.lus.map((lu) => lu.id)).toEqual(["lu0", "lu1"]);
  });
});

describe("switchyard coordination import", () => {
  it.each([
    [["--dir", "x"], "--etcd URLS is required"],
    [["--etcd", etcdUrl], "give either --dir DIR"],
    [["--etcd", etcdUrl, "--dir", "x", "--from", "y"], "give either --dir DIR"],
    [["--etcd", etcdUrl, "--dir", "x", "--prefix", "noslash"], "--prefix must end in"],
    [["--etcd", "localhost", "--dir", "x"], "--etcd takes client URLs"],
  ])("refuses %j with exit 2 and one line", async (argv, message) => {
    const result = await runCli(["coordination", "import", ...argv]);
    expect(result.code).toBe(2);
    expect(result.err).toContain(message);
    expect(result.err.split("\n")).toHaveLength(2);
  });

  it("says in one line, exit 1, that etcd did not answer", async () => {
    await stoppedDevice(dir);
    // Port 1 on loopback: nothing listens, so the connection is refused at once.
    const result = await runCli(["coordination", "import", "--etcd", "http://127.0.0.1:1", "--dir", dir]);
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/^switchyard coordination import: etcd did not answer at http:\/\/127\.0\.0\.1:1 \(.*\); no store was written\n$/);
  });

  it("refuses an export document whose summary was edited: exit 1, nothing sent to etcd", async () => {
    await stoppedDevice(dir);
    const out = path.join(dir, "export.json");
    expect((await runCli(["coordination", "export", "--dir", dir, "--out", out])).code).toBe(0);
    const document = JSON.parse(await readFile(out, "utf8")) as Record<string, unknown>;
    await writeFile(out, JSON.stringify({ ...document, volumes: ["vm9"] }));
    const result = await runCli(["coordination", "import", "--etcd", etcdUrl, "--from", out]);
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/its summary does not match its store_state \(was it edited\?\); export again\n$/);
  });
});
