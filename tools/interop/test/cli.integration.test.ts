// Goal: the `switchyard` CLI keeps its contract: bad arguments exit 2 with one
// line on stderr and change nothing; `volume list --json` and
// `cluster status --json` have the documented shape and agree with each other
// and with endpoints.json; `up` stops cleanly on SIGINT and SIGTERM.
// Method: run the real CLI as child processes against one `switchyard up`
// (ephemeral ports, fresh folder), compare each JSON answer with the state
// the test itself created, and start short-lived appliances for the signals.
import { access } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  Appliance,
  assertQemuIoClean,
  assertSucceeded,
  createVolume,
  describeResult,
  extentSizeBytes,
  gibibyte,
  isRecord,
  listVolumes,
  mebibyte,
  parseVolume,
  qemuIo,
  requireTools,
  type CommandResult,
} from "./appliance.js";

// The contract's default LU size; the appliance here is started without --lu-size.
const defaultLuSizeBytes = gibibyte;

let appliance: Appliance;

beforeAll(async () => {
  await requireTools(["qemu-io"]);
  appliance = await Appliance.start();
});

afterAll(async () => {
  await (appliance as Appliance | undefined)?.dispose();
});

function expectUsageError(result: CommandResult): void {
  expect(result.exitCode, describeResult(result)).toBe(2);
  const lines = result.stderr.split("\n").filter((line) => line.trim() !== "");
  expect(lines, describeResult(result)).toHaveLength(1);
}

interface LuStatus {
  readonly id: string;
  readonly size_bytes: number;
  readonly extent_size_bytes: number;
  readonly areas_total: number;
  readonly areas_free: number;
}

interface ClusterStatus {
  readonly devices: readonly { readonly id: string; readonly grpc: string; readonly lus: readonly LuStatus[] }[];
  readonly apparatuses: readonly { readonly id: string; readonly nbd: string; readonly grpc: string; readonly pid: number; readonly state: string }[];
  readonly controller: Record<string, unknown> | null;
}

function field<T>(record: Record<string, unknown>, key: string, check: (value: unknown) => value is T, where: string): T {
  const value = record[key];
  if (!check(value)) throw new Error(`${where}.${key} has the wrong type: ${JSON.stringify(value)}`);
  return value;
}

const isString = (value: unknown): value is string => typeof value === "string";
const isCount = (value: unknown): value is number => typeof value === "number" && Number.isInteger(value) && value >= 0;
const isArray = (value: unknown): value is unknown[] => Array.isArray(value);

function asRecord(value: unknown, where: string): Record<string, unknown> {
  if (!isRecord(value)) throw new Error(`${where} is not an object: ${JSON.stringify(value)}`);
  return value;
}

function parseClusterStatus(stdout: string): ClusterStatus {
  const root = asRecord(JSON.parse(stdout) as unknown, "cluster status");
  const controller = root.controller;
  if (controller !== null && !isRecord(controller)) throw new Error(`controller is neither an object nor null: ${JSON.stringify(controller)}`);
  return {
    devices: field(root, "devices", isArray, "status").map((value, deviceIndex) => {
      const where = `devices[${deviceIndex}]`;
      const device = asRecord(value, where);
      return {
        id: field(device, "id", isString, where),
        grpc: field(device, "grpc", isString, where),
        lus: field(device, "lus", isArray, where).map((luValue, luIndex) => {
          const at = `${where}.lus[${luIndex}]`;
          const lu = asRecord(luValue, at);
          return {
            id: field(lu, "id", isString, at),
            size_bytes: field(lu, "size_bytes", isCount, at),
            extent_size_bytes: field(lu, "extent_size_bytes", isCount, at),
            areas_total: field(lu, "areas_total", isCount, at),
            areas_free: field(lu, "areas_free", isCount, at),
          };
        }),
      };
    }),
    apparatuses: field(root, "apparatuses", isArray, "status").map((value, index) => {
      const where = `apparatuses[${index}]`;
      const apparatus = asRecord(value, where);
      return {
        id: field(apparatus, "id", isString, where),
        nbd: field(apparatus, "nbd", isString, where),
        grpc: field(apparatus, "grpc", isString, where),
        pid: field(apparatus, "pid", isCount, where),
        state: field(apparatus, "state", isString, where),
      };
    }),
    controller,
  };
}

async function clusterStatus(): Promise<ClusterStatus> {
  const result = await appliance.cli(["cluster", "status", "--json"]);
  assertSucceeded(result);
  return parseClusterStatus(result.stdout);
}

function freeAreasByLu(status: ClusterStatus): Map<string, number> {
  return new Map(status.devices.flatMap((device) => device.lus.map((lu) => [lu.id, lu.areas_free] as const)));
}

async function volumeNames(): Promise<string[]> {
  return (await listVolumes(appliance)).map((volume) => volume.name);
}

describe("switchyard CLI", () => {
  it("exits 2 with one stderr line for an unknown command, a missing --size and a bad size, and changes nothing", async () => {
    const namesBefore = await volumeNames();
    expectUsageError(await appliance.cli(["frobnicate"]));
    expectUsageError(await appliance.cli(["volume", "frobnicate"]));
    expectUsageError(await appliance.cli(["volume", "create", "nosize"]));
    expectUsageError(await appliance.cli(["volume", "create", "badsize", "--size", "12XB"]));
    expectUsageError(await appliance.cli(["volume", "create", "negative", "--size", "-1MiB"]));
    expect(await volumeNames()).toEqual(namesBefore);
  });

  it("prints every apparatus's NBD endpoint when up", async () => {
    // With no volume yet there is no nbd://…/VOLUME URI to print; the
    // restart test checks the URIs of an existing volume.
    for (const apparatus of appliance.endpoints.apparatuses) {
      await appliance.waitForStdout(apparatus.nbd);
      expect(appliance.stdout, `stdout of switchyard up:\n${appliance.stdout}`).toContain(apparatus.nbd);
    }
  });

  it("reports cluster status with the documented shape, matching endpoints.json", async () => {
    const status = await clusterStatus();
    expect(status.devices.map((device) => device.id)).toEqual(["dev0"]);
    const device = status.devices[0];
    expect(device?.grpc).toBe(appliance.endpoints.device.grpc);
    expect(device?.lus.map((lu) => lu.id)).toEqual(["lu0", "lu1"]);
    for (const lu of device?.lus ?? []) {
      expect(lu.size_bytes).toBe(defaultLuSizeBytes);
      expect(lu.extent_size_bytes).toBe(extentSizeBytes);
      // Metadata may take some of an LU, never more areas than fit in it.
      expect(lu.areas_total).toBeGreaterThan(0);
      expect(lu.areas_total).toBeLessThanOrEqual(lu.size_bytes / lu.extent_size_bytes);
      expect(lu.areas_free).toBeLessThanOrEqual(lu.areas_total);
    }
    expect(status.apparatuses.map(({ id, nbd, grpc }) => ({ id, nbd, grpc }))).toEqual(
      appliance.endpoints.apparatuses.map(({ id, nbd, grpc }) => ({ id, nbd, grpc })),
    );
    for (const apparatus of status.apparatuses) {
      expect(apparatus.pid).toBeGreaterThan(0);
      expect(apparatus.state).not.toBe("");
    }
  });

  it("creates, lists and deletes a volume on a chosen LU, accounting for its storage areas", async () => {
    const sizeBytes = 3 * extentSizeBytes;
    const freeBefore = freeAreasByLu(await clusterStatus());

    const created = await appliance.cli(["volume", "create", "onlu1", "--size", `${sizeBytes / mebibyte}MiB`, "--lu", "lu1", "--json"]);
    assertSucceeded(created);
    const createdVolume = parseVolume(JSON.parse(created.stdout) as unknown, "volume create --json");

    const listed = (await listVolumes(appliance)).find((volume) => volume.name === "onlu1");
    expect(listed).toEqual(createdVolume);
    expect(listed?.size_bytes).toBe(sizeBytes);
    expect(listed?.extents.map((extent) => extent.index)).toEqual([0, 1, 2]);
    expect(listed?.extents.map((extent) => extent.lu)).toEqual(["lu1", "lu1", "lu1"]);
    const areas = listed?.extents.map((extent) => extent.area) ?? [];
    expect(new Set(areas).size, "two extents share a storage area").toBe(areas.length);

    const freeAfterCreate = freeAreasByLu(await clusterStatus());
    expect(freeAfterCreate.get("lu1")).toBe((freeBefore.get("lu1") ?? Number.NaN) - 3);
    expect(freeAfterCreate.get("lu0")).toBe(freeBefore.get("lu0"));

    // A second volume with the same name is refused and changes nothing.
    const duplicate = await appliance.cli(["volume", "create", "onlu1", "--size", "4MiB"]);
    expect(duplicate.exitCode, describeResult(duplicate)).not.toBe(0);
    expect((await listVolumes(appliance)).filter((volume) => volume.name === "onlu1")).toEqual([createdVolume]);

    assertSucceeded(await appliance.cli(["volume", "delete", "onlu1"]));
    expect(await volumeNames()).not.toContain("onlu1");
    expect(freeAreasByLu(await clusterStatus())).toEqual(freeBefore);
  });

  it("gives a new volume zeros, even where a deleted volume's data was", async () => {
    // Fill every area a volume gets, delete it, and take the same areas back.
    await createVolume(appliance, "old", "8MiB", ["--lu", "lu0"]);
    assertQemuIoClean(await qemuIo(appliance.nbdUri("old"), [`write -P 0xee 0 ${8 * mebibyte}`, "flush"]));
    assertSucceeded(await appliance.cli(["volume", "delete", "old"]));
    await createVolume(appliance, "new", "8MiB", ["--lu", "lu0"]);
    assertQemuIoClean(await qemuIo(appliance.nbdUri("new"), [`read -P 0 0 ${8 * mebibyte}`]));
  });
});

describe("switchyard up shutdown", () => {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    it(`exits 0 on ${signal} and removes endpoints.json`, async () => {
      const shortLived = await Appliance.start({ apparatusCount: 1 });
      try {
        expect(shortLived.endpoints.apparatuses.map((apparatus) => apparatus.id)).toEqual(["a0"]);
        const status = await shortLived.stop(signal);
        expect(status, `stderr:\n${shortLived.stderr}`).toEqual({ code: 0, signal: null });
        await expect(access(shortLived.endpointsPath)).rejects.toThrow(/ENOENT/);
      } finally {
        await shortLived.dispose();
      }
    });
  }
});
