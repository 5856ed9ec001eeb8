// Goal: the console's commands keep their contract (issue 6): every command
// answers --help with an example; `device list`, `apparatus list | fence |
// rejoin`, `change watch` and `device add-external` (an nbdkit export, which
// the appliance's in-process apparatuses then serve extents from) print
// tables or the documented JSON, exit 0 on
// success, 1 when the operation fails and 2 with one line on bad input; a
// fence by an operator stops I/O through that apparatus at once and lasts
// across a restart of the appliance until `apparatus rejoin`.
// Method: the real CLI as child processes against `switchyard up` (ephemeral
// ports, fresh folder); host I/O with qemu-io; JSON checked field by field.
import { readFile, rm, truncate, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  Appliance,
  assertQemuIoClean,
  assertOneLineFailure,
  assertSucceeded,
  createVolume,
  describeResult,
  isRecord,
  jsonOfSuccess,
  makeScratchDir,
  qemuIo,
  requireTools,
  runCli,
} from "./appliance.js";
import { inTurns } from "./in-turns.js";
import { Nbdkit } from "./nbdkit.js";

let appliance: Appliance;
/** Ours, not the appliance's: the test restarts the appliance in it. */
let dir: string;

beforeAll(async () => {
  await requireTools(["qemu-io"]);
  dir = await makeScratchDir();
  appliance = await Appliance.start({ dir });
  await createVolume(appliance, "c1", "8MiB", ["--lu", "lu0"]);
});

afterAll(async () => {
  await (appliance as Appliance | undefined)?.dispose();
  await rm(dir, { recursive: true, force: true });
});



function records(value: unknown, where: string): Record<string, unknown>[] {
  if (!Array.isArray(value)) throw new Error(`${where} is not an array: ${JSON.stringify(value)}`);
  return value.map((item, index) => {
    if (!isRecord(item)) throw new Error(`${where}[${index}] is not an object`);
    return item;
  });
}

async function apparatusStates(): Promise<Map<string, unknown>> {
  const listed = records(jsonOfSuccess(await appliance.cli(["apparatus", "list", "--json"])), "apparatus list");
  for (const apparatus of listed) {
    expect(Object.keys(apparatus).sort()).toEqual(["generation", "grpc", "id", "nbd", "pid", "state"]);
  }
  return new Map(listed.map((apparatus) => [String(apparatus.id), apparatus.state]));
}

describe("switchyard console commands", () => {
  it("answers --help for every command it lists, each with an example", async () => {
    const overview = await runCli(["--help"]);
    assertSucceeded(overview);
    const listed = overview.stdout.slice(overview.stdout.indexOf("Commands:"), overview.stdout.indexOf("Example:"));
    const commandLines = listed.split("\n").filter((line) => /^ {2}[a-z]+( [a-z-]+)? {2,}/.test(line));
    const commands = commandLines.map((line) => line.trim().split(/ {2,}/)[0]?.split(" ") ?? []);
    expect(commands.map((words) => words.join(" "))).toEqual(expect.arrayContaining(["device list", "device add-external", "apparatus list", "apparatus fence", "apparatus rejoin", "change watch"]));
    const helps = await inTurns(commands.map((words) => () => runCli([...words, "--help"])));
    helps.forEach((help, index) => {
      assertSucceeded(help);
      expect(help.stdout, `switchyard ${commands[index]?.join(" ") ?? ""} --help`).toMatch(/Example/);
    });
  });

  it("refuses bad input to every client command with exit 2 and one line that says what was wrong, changing nothing", async () => {
    const before = await appliance.cli(["volume", "list", "--json"]);
    const cases: readonly (readonly [readonly string[], RegExp])[] = [
      [["volume", "show"], /missing volume NAME/],
      [["volume", "show", "nosuch"], /no volume nosuch/],
      [["volume", "create", "x", "--size", "4MiB", "--lu", "lu9"], /no LU lu9; LUs are lu0, lu1/],
      [["volume", "create", "BAD/NAME", "--size", "4MiB"], /volume name "BAD\/NAME" must be/],
      [["volume", "create", "x", "--size"], /--size.*argument.*; --help shows the usage/],
      [["volume", "move", "c1", "--extent", "x", "--to", "lu1"], /--extent "x" must be a whole number/],
      [["volume", "move", "c1", "--extent", "99", "--to", "lu1"], /volume c1 has extents 0 to 1, not 99/],
      [["volume", "move", "c1", "--extent", "0", "--to", "lu9"], /no LU lu9/],
      [["volume", "move", "c1", "--to", "lu1"], /--extent is required/],
      [["volume", "resize", "c1", "--size", "3"], /not a multiple of 512 bytes/],
      [["volume", "delete", "nosuch"], /no volume nosuch/],
      [["change", "show", "nosuch"], /no change nosuch; 'switchyard change list' shows them/],
      [["change", "list", "extra"], /unexpected argument "extra"; --help shows the usage/],
      [["device", "list", "--bogus"], /unknown option --bogus; --help lists the options/],
      [["apparatus", "list", "--json=3"], /does not take an argument/],
      [["apparatus", "rejoin"], /missing apparatus ID/],
      [["cluster", "status", "extra"], /unexpected argument/],
      [["migrate", "c1"], /--to is required/],
      [["migrate", "c1", "--to", "lu9"], /no LU lu9/],
      [["migrate", "c1", "--to", "lu1", "--extents", "3-1"], /--extents "3-1" must be an extent index or a range like 4-9/],
      [["migrate", "c1", "--to", "lu1", "--extents", "5-9"], /volume c1 has extents 0 to 1; 5-9 is not a range of them/],
      [["migrate", "c1", "--to", "lu1", "--rate", "fast"], /--rate "fast" must be a size per second/],
      [["migrate", "nosuch", "--to", "lu1"], /no volume nosuch/],
      [["migrate", "cancel", "nosuch"], /no change nosuch/],
      [["migrate", "c1", "--to", "nosuch:lu0"], /no LU nosuch:lu0; LUs are lu0, lu1/],
      [["device", "add-external"], /missing device NAME/],
      [["device", "add-external", "x"], /missing nbd:\/\/HOST:PORT\/EXPORT/],
      [["device", "add-external", "x", "http://127.0.0.1:10900/disk"], /is not an NBD URI; give nbd:\/\/HOST:PORT\/EXPORT/],
      [["device", "add-external", "x", "nbd://127.0.0.1/disk"], /is not an NBD URI/],
      [["device", "add-external", "x", "nbd://127.0.0.1:10900/disk", "--extent-size", "big"], /--extent-size "big" is not a size/],
      [["device", "add-external", "lu0", "nbd://127.0.0.1:10900/disk"], /a device or LU named lu0 exists already/],
      [["device", "remove-external"], /missing device NAME/],
      [["device", "remove-external", "nosuch"], /no external device nosuch/],
    ];
    const results = await inTurns(cases.map(([args]) => () => appliance.cli([...args])));
    results.forEach((result, index) => {
      assertOneLineFailure(result, 2, cases[index]?.[1] ?? /never/);
    });
    expect((await appliance.cli(["volume", "list", "--json"])).stdout).toBe(before.stdout);
  });

  it("lists devices with used and free bytes that agree with cluster status", async () => {
    const devices = records(jsonOfSuccess(await appliance.cli(["device", "list", "--json"])), "device list");
    const status = jsonOfSuccess(await appliance.cli(["cluster", "status", "--json"]));
    expect(isRecord(status) ? status.devices : undefined).toEqual(devices);
    // The embedded coordination is the device itself, healthy since it just answered.
    expect(isRecord(status) ? status.coordination : undefined).toEqual({
      backend: "embedded",
      members: [{ name: "dev0", endpoint: appliance.endpoints.device.grpc, healthy: true, leader: true }],
    });
    const lus = records(devices[0]?.lus, "device list[0].lus");
    for (const lu of lus) {
      const { extent_size_bytes: extent, areas_total: total, areas_free: free, used_bytes: used, free_bytes: freeBytes } = lu;
      expect([extent, total, free, used, freeBytes].every((value) => typeof value === "number")).toBe(true);
      expect(used).toBe(((total as number) - (free as number)) * (extent as number));
      expect(freeBytes).toBe((free as number) * (extent as number));
    }
    // The 8 MiB volume on lu0 is two 4 MiB areas in use.
    expect(lus.find((lu) => lu.id === "lu0")?.used_bytes).toBe(8 * 1024 * 1024);
    const table = await appliance.cli(["device", "list"]);
    assertSucceeded(table);
    expect(table.stdout).toMatch(/^DEVICE\s+LU\s+SIZE\s+EXTENT\s+USED\s+FREE/m);
  });

  it("fences an apparatus by hand, refuses its I/O, keeps the fence across a restart, and rejoins it", async () => {
    expect(await apparatusStates()).toEqual(new Map([["a0", "serving"], ["a1", "serving"]]));
    assertQemuIoClean(await qemuIo(appliance.nbdUri("c1", 1), ["write -P 0x31 0 64k"]));

    const fenced = jsonOfSuccess(await appliance.cli(["apparatus", "fence", "a1", "--json"]));
    expect(isRecord(fenced) ? fenced.state : undefined).toBe("fenced");
    expect(await apparatusStates()).toEqual(new Map([["a0", "serving"], ["a1", "fenced"]]));
    const refused = await qemuIo(appliance.nbdUri("c1", 1), ["read 0 4k"]);
    expect(refused.stdout + refused.stderr, describeResult(refused)).toMatch(/failed|error/i);
    // The other apparatus serves on, and sees what was written through the fenced one before.
    assertQemuIoClean(await qemuIo(appliance.nbdUri("c1", 0), ["read -P 0x31 0 64k"]));

    assertOneLineFailure(await appliance.cli(["apparatus", "fence", "a1"]), 1, /fenced already.*apparatus rejoin a1/);
    assertOneLineFailure(await appliance.cli(["apparatus", "fence", "nosuch"]), 2, /no apparatus "nosuch"; apparatuses are a0, a1/);
    assertOneLineFailure(await appliance.cli(["apparatus", "fence"]), 2, /apparatus ID/);

    // A restart brings a new controller: the store's record keeps a1 out.
    await appliance.stop();
    appliance = await Appliance.start({ dir });
    expect((await apparatusStates()).get("a1")).toBe("fenced");

    const rejoined = jsonOfSuccess(await appliance.cli(["apparatus", "rejoin", "a1", "--json"]));
    expect(isRecord(rejoined) ? rejoined.state : undefined).toBe("serving");
    assertQemuIoClean(await qemuIo(appliance.nbdUri("c1", 1), ["read -P 0x31 0 64k"]));
    assertOneLineFailure(await appliance.cli(["apparatus", "rejoin", "a1"]), 1, /not fenced/);
  });

  it("watches a change to its end, in lines for people and JSON lines for scripts", async () => {
    const moved = jsonOfSuccess(await appliance.cli(["volume", "move", "c1", "--extent", "1", "--to", "lu1", "--json"]));
    const id = isRecord(moved) ? moved.id : undefined;
    expect(typeof id).toBe("string");
    const watched = await appliance.cli(["change", "watch", String(id), "--json"]);
    assertSucceeded(watched);
    const updates = watched.stdout.trim().split("\n").map((line) => JSON.parse(line) as unknown);
    expect(updates.length).toBeGreaterThanOrEqual(1);
    const last = updates.at(-1);
    expect(isRecord(last) ? [last.id, last.state] : undefined).toEqual([id, "committed"]);
    expect(isRecord(last) ? records(last.phases, "phases").map((phase) => phase.phase) : undefined).toEqual(["mirror", "copy", "switch"]);
    const human = await appliance.cli(["change", "watch", String(id)]);
    assertSucceeded(human);
    expect(human.stdout).toMatch(new RegExp(`${String(id)}\\s+committed\\s.*phases: mirror \\d+ ms, copy \\d+ ms, switch \\d+ ms`));
    assertOneLineFailure(await appliance.cli(["change", "watch", "nosuch"]), 2, /no change nosuch/);
  });

  it("registers an nbdkit export as a device and moves an extent onto it and back through the in-process apparatuses", async () => {
    await requireTools(["nbdkit"]);
    const disk = join(dir, "external.img");
    await writeFile(disk, "");
    await truncate(disk, 64 * 1024 * 1024);
    const nbdkit = await Nbdkit.start(disk);
    try {
      const added = jsonOfSuccess(await appliance.cli(["device", "add-external", "ext9", nbdkit.uri("disk"), "--json"]));
      expect(isRecord(added) ? [added.id, added.external, added.nbd_uri] : added).toEqual(["ext9", true, nbdkit.uri("disk")]);
      assertQemuIoClean(await qemuIo(appliance.nbdUri("c1", 0), ["write -P 0x61 1M 64k"]));
      // A device with one LU is named by the device; DEVICE:LU names any LU.
      const onto = jsonOfSuccess(await appliance.cli(["volume", "move", "c1", "--extent", "0", "--to", "ext9", "--json"]));
      expect(isRecord(onto) ? [onto.state, onto.summary] : onto).toEqual(["committed", expect.stringMatching(/to ext9:disk:0$/)]);
      assertQemuIoClean(await qemuIo(appliance.nbdUri("c1", 1), ["read -P 0x61 1M 64k"]));
      const devices = records(jsonOfSuccess(await appliance.cli(["device", "list", "--json"])), "device list");
      expect(records(devices.find((device) => device.id === "ext9")?.lus, "ext9 lus")[0]?.used_bytes).toBe(4 * 1024 * 1024);
      const back = jsonOfSuccess(await appliance.cli(["volume", "move", "c1", "--extent", "0", "--to", "dev0:lu0", "--json"]));
      expect(isRecord(back) ? back.state : back).toBe("committed");
      assertQemuIoClean(await qemuIo(appliance.nbdUri("c1", 0), ["read -P 0x61 1M 64k"]));
      assertOneLineFailure(await appliance.cli(["volume", "create", "onext", "--size", "4MiB", "--lu", "ext9:disk"]), 1, /on external device ext9: create the volume on a device LU, then 'switchyard migrate onext --to ext9:disk'/);
    } finally {
      await nbdkit.kill();
    }
  });

  it("removes an external device only once nothing is on it, and takes the name back for another server", async () => {
    await requireTools(["nbdkit"]);
    const disks = [join(dir, "first.img"), join(dir, "second.img")];
    for (const disk of disks) {
      await writeFile(disk, "");
      await truncate(disk, 64 * 1024 * 1024);
    }
    const [first, second] = await Promise.all([Nbdkit.start(disks[0] ?? ""), Nbdkit.start(disks[1] ?? "")]);
    try {
      assertSucceeded(await appliance.cli(["device", "add-external", "ext8", first.uri("disk")]));
      assertQemuIoClean(await qemuIo(appliance.nbdUri("c1", 0), ["write -P 0x62 1M 64k"]));
      assertSucceeded(await appliance.cli(["volume", "move", "c1", "--extent", "0", "--to", "ext8"]));
      // Both apparatuses open the first server, so a stale connection would show later.
      for (const apparatus of [0, 1]) assertQemuIoClean(await qemuIo(appliance.nbdUri("c1", apparatus), ["read -P 0x62 1M 64k"]));
      const deviceIds = async (): Promise<unknown[]> => records(jsonOfSuccess(await appliance.cli(["device", "list", "--json"])), "device list").map((device) => device.id);
      const generation = async (): Promise<unknown> => {
        const status = jsonOfSuccess(await appliance.cli(["cluster", "status", "--json"]));
        return isRecord(status) ? status.generation : status;
      };
      const before = await generation();
      assertOneLineFailure(await appliance.cli(["device", "remove-external", "ext8"]), 1, /device ext8 still holds extents of volume c1 \(1\); move them off first/);
      assertOneLineFailure(await appliance.cli(["device", "remove-external", "dev0"]), 1, /dev0 is the Switchyard device, not an external one/);
      expect(await generation()).toBe(before);
      expect(await deviceIds()).toContain("ext8");
      assertSucceeded(await appliance.cli(["volume", "move", "c1", "--extent", "0", "--to", "dev0:lu0"]));
      const removed = jsonOfSuccess(await appliance.cli(["device", "remove-external", "ext8", "--json"]));
      expect(isRecord(removed) ? [removed.id, removed.nbd_uri] : removed).toEqual(["ext8", first.uri("disk")]);
      expect(await deviceIds()).not.toContain("ext8");
      // The same name on another server: the apparatuses must reach the new one, not a connection kept from the old.
      assertSucceeded(await appliance.cli(["device", "add-external", "ext8", second.uri("disk")]));
      assertSucceeded(await appliance.cli(["volume", "move", "c1", "--extent", "0", "--to", "ext8"]));
      assertQemuIoClean(await qemuIo(appliance.nbdUri("c1", 1), ["read -P 0x62 1M 64k"]));
      // A host write through each apparatus lands in the second server's file.
      assertQemuIoClean(await qemuIo(appliance.nbdUri("c1", 0), ["write -P 0x63 1M 64k"]));
      assertQemuIoClean(await qemuIo(appliance.nbdUri("c1", 1), ["write -P 0x64 2M 64k"]));
      const onSecond = await readFile(disks[1] ?? "");
      expect(onSecond.subarray(1024 * 1024, 1024 * 1024 + 65536).every((byte) => byte === 0x63)).toBe(true);
      expect(onSecond.subarray(2 * 1024 * 1024, 2 * 1024 * 1024 + 65536).every((byte) => byte === 0x64)).toBe(true);
      assertSucceeded(await appliance.cli(["volume", "move", "c1", "--extent", "0", "--to", "dev0:lu0"]));
      assertSucceeded(await appliance.cli(["device", "remove-external", "ext8"]));
    } finally {
      await Promise.all([first.kill(), second.kill()]);
    }
  });
});
