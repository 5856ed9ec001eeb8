// Goal (issue 18 item 4): an appliance moves onto etcd with `coordination
// export` and `coordination import`, with its volumes, extent maps and
// journal intact: after `up --dir DIR --etcd URLS` the volume shows the same
// extent map (one extent moved to lu1 before the move), the journal lists
// the committed move, and tokens start above the epochs the device granted.
// Importing again into the same prefix is refused with nothing changed.
// Method: the built CLI's `up` as a child process (free ports, small LUs,
// one apparatus) in a temporary folder; a volume created and one extent
// moved through the CLI; `up` stopped (SIGTERM); export to a file and import
// from it into a real three-member etcd (scripts/etcd-cluster.sh through
// startEtcdCluster); `up --etcd` started on the same folder and read back
// through the CLI (`volume show --json`, `change list --json`), all CLI
// commands in-process through runCli (main()). Teardown stops both processes and the
// cluster and removes the folder, whatever failed.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { etcdCoordination } from "@switchyard/coordination";
import { etcdClusterStopTimeoutMs, startEtcdCluster, type EtcdTestCluster } from "@switchyard/coordination/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CliServers, runCli } from "../src/testing.js";

const cliPath = fileURLToPath(new URL("../dist/cli.js", import.meta.url));
const upArgv = ["--grpc-port", "0", "--nbd-port", "0", "--lu-size", "16MiB", "--extent-size", "1MiB", "--apparatuses", "1"];
/** The controller on etcd is elected after `up` announces its endpoints: a command may be refused until then. */
const electionWaitMs = 15_000;
const retryPauseMs = 250;
const testTimeoutMs = 60_000;

let dir = "";
let etcd: EtcdTestCluster | undefined;
const embedded = new CliServers(cliPath);
const onEtcd = new CliServers(cliPath);

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "switchyard-coordination-commands-"));
}, testTimeoutMs);

afterAll(async () => {
  await embedded.stopAll();
  await onEtcd.stopAll();
  await etcd?.stop();
  await rm(dir, { recursive: true, force: true });
}, etcdClusterStopTimeoutMs);

/** `switchyard ARGV --json`, which must succeed: its JSON. */
async function cliJson(argv: readonly string[]): Promise<unknown> {
  const result = await runCli([...argv, "--json"]);
  expect(result, `switchyard ${argv.join(" ")}`).toMatchObject({ code: 0 });
  return JSON.parse(result.out);
}

/** `cliJson` retried while the appliance on etcd has no controller yet. */
async function cliJsonOnceElected(argv: readonly string[]): Promise<unknown> {
  const deadlineMs = performance.now() + electionWaitMs;
  for (;;) {
    const result = await runCli([...argv, "--json"]);
    if (result.code === 0) return JSON.parse(result.out);
    if (performance.now() > deadlineMs) throw new Error(`switchyard ${argv.join(" ")} failed for ${electionWaitMs} ms: ${result.err}`);
    await new Promise((resolve) => setTimeout(resolve, retryPauseMs));
  }
}

interface ChangeRow {
  readonly id: string;
  readonly kind: string;
  readonly state: string;
}

/**
 * The import, not `up --etcd`'s own seeding, put the store there: it is at
 * the revision import printed, with the volume and the committed move, before
 * any `up` runs on etcd (which uses a prefix that holds a store as it is).
 */
async function expectStoreOnEtcd(cluster: EtcdTestCluster, revision: number, moveId: string): Promise<void> {
  const reader = etcdCoordination({ endpoints: cluster.endpoints, keyPrefix: "switchyard/", now: () => performance.timeOrigin + performance.now() });
  try {
    const read = await reader.readStore();
    expect(read.revision).toBe(revision);
    expect(read.state.volumes.map((entry) => entry.name)).toEqual(["vm1"]);
    expect(read.state.journal).toContainEqual(expect.objectContaining({ change_id: moveId, state: "CHANGE_STATE_COMMITTED" }));
  } finally {
    await reader.close();
  }
}

describe("switchyard coordination export / import", () => {
  it("moves an appliance onto etcd with its volume, extent map and journal, and refuses a second import", async () => {
    const started = startEtcdCluster();
    await embedded.serve(["up", "--dir", dir, ...upArgv]);
    await cliJson(["volume", "create", "vm1", "--size", "4MiB", "--dir", dir]);
    const move = (await cliJson(["volume", "move", "vm1", "--extent", "1", "--to", "lu1", "--dir", dir])) as ChangeRow;
    expect(move.state).toBe("committed");
    const volume = (await cliJson(["volume", "show", "vm1", "--dir", dir])) as { extents: { index: number; lu: string }[] };
    expect(volume.extents.map((extent) => extent.lu.replace(/^.*:/, ""))).toEqual(["lu0", "lu1", "lu0", "lu0"]);
    const changes = (await cliJson(["change", "list", "--dir", dir])) as ChangeRow[];
    expect(changes).toContainEqual(expect.objectContaining({ id: move.id, state: "committed" }));
    await embedded.stopAll();

    const file = path.join(dir, "export.json");
    const exported = (await cliJson(["coordination", "export", "--dir", dir, "--out", file])) as { highest_epoch: number; generation: number };
    expect(exported).toMatchObject({ volumes: ["vm1"], device_id: "dev0" });
    expect(exported.highest_epoch).toBeGreaterThan(0);
    etcd = await started;
    const urls = etcd.endpoints.join(",");
    const imported = (await cliJson(["coordination", "import", "--etcd", urls, "--from", file])) as Record<string, number>;
    expect(imported).toMatchObject({ prefix: "switchyard/", volumes: ["vm1"], generation: exported.generation, highest_epoch: exported.highest_epoch });
    expect(imported.first_token_min).toBeGreaterThan(exported.highest_epoch);

    await expectStoreOnEtcd(etcd, imported.store_revision ?? 0, move.id);

    await onEtcd.serve(["up", "--dir", dir, ...upArgv, "--etcd", urls]);
    expect(await cliJsonOnceElected(["volume", "show", "vm1", "--dir", dir])).toEqual(volume);
    const changesOnEtcd = (await cliJsonOnceElected(["change", "list", "--dir", dir])) as ChangeRow[];
    expect(changesOnEtcd).toContainEqual(expect.objectContaining({ id: move.id, kind: move.kind, state: "committed" }));

    const again = await runCli(["coordination", "import", "--etcd", urls, "--from", file]);
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/^switchyard coordination import: switchyard\/ holds a store already: import into an empty prefix\n$/);
    const servedAgain = await runCli(["coordination", "import", "--etcd", urls, "--dir", dir]);
    expect(servedAgain.code).toBe(2);
    expect((await readFile(file, "utf8")).length).toBeGreaterThan(0);
  }, testTimeoutMs);
});
