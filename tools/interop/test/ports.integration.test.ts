// Goal: appliances share one machine without colliding. The device's LU
// export port follows --nbd-port (it stayed 10899 before), so two appliances
// given different ports both serve; a port already taken is refused before
// anything starts, with one line naming the port and the option that sets it
// (exit 2), by `up`, `device serve` and `apparatus serve`; and a second
// `switchyard up` given no port option, its defaults taken by the first,
// serves on free ports and says so, while a second `up` on a data folder
// already served is refused.
// Method: real `switchyard up` processes; ports held by a net.Server of the
// test; explicit ports found free by listening on them first.
import { createServer, type Server } from "node:net";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Appliance, assertOneLineFailure, assertSucceeded, createVolume, runCli, type Endpoints } from "./appliance.js";

/** Where explicit port runs are looked for: above the defaults (8080, 10809, 50051) and below Linux's ephemeral range. */
const portSearchLowest = 20_000;
const portSearchSpan = 12_000;
/** Random bases tried before giving up: on a busy machine a few are taken. */
const portSearchTriesMax = 50;
/** The device's NBD port is the NBD port plus this (deviceNbdPortOffset in the console's up.ts). */
const deviceNbdPortOffset = 90;
const luSizeArgs = ["--lu-size", "64MiB"] as const;

function listenOn(port: number): Promise<Server | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => { resolve(undefined); });
    server.listen({ host: "127.0.0.1", port, exclusive: true }, () => { resolve(server); });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => { resolve(); }));
}

/** A base port B such that B + each offset is free now (listened on, then let go). */
async function freeBase(offsets: readonly number[]): Promise<number> {
  for (let attempt = 0; attempt < portSearchTriesMax; attempt += 1) {
    const base = portSearchLowest + Math.floor(Math.random() * portSearchSpan);
    const held = await Promise.all(offsets.map((offset) => listenOn(base + offset)));
    await Promise.all(held.filter((server) => server !== undefined).map(closeServer));
    if (held.every((server) => server !== undefined)) return base;
  }
  throw new Error(`no free run of ports found in ${portSearchTriesMax} tries`);
}

function portOf(address: string): number {
  return Number(address.slice(address.lastIndexOf(":") + 1));
}

function portsOf(endpoints: Endpoints): number[] {
  return [endpoints.device.grpc, endpoints.device.nbd, endpoints.controller.grpc, ...endpoints.apparatuses.flatMap((entry) => [entry.nbd, entry.grpc])].map(portOf);
}

const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start(portArgs: readonly string[]): Promise<Appliance> {
  const appliance = await Appliance.start({ portArgs, extraArgs: luSizeArgs });
  cleanups.push(() => appliance.dispose());
  return appliance;
}

/** A port held by the test for the rest of the test; the two below it were free too (a gRPC run ends on it). */
async function heldPort(): Promise<number> {
  const port = (await freeBase([0, 1, 2])) + 2;
  const server = await listenOn(port);
  if (server === undefined) throw new Error(`port ${port} was taken between the search and the hold`);
  cleanups.push(() => closeServer(server));
  return port;
}

async function scratchDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "switchyard-ports-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

describe("ports", () => {
  it("the device's LU port follows --nbd-port: two appliances given different ports both serve", async () => {
    const layout = [0, 1, deviceNbdPortOffset];
    const grpcLayout = [0, 1, 2, 3];
    const first = { nbd: await freeBase(layout), grpc: await freeBase(grpcLayout) };
    const one = await start(["--nbd-port", String(first.nbd), "--grpc-port", String(first.grpc), "--http-port", "0"]);
    const second = { nbd: await freeBase(layout), grpc: await freeBase(grpcLayout) };
    const two = await start(["--nbd-port", String(second.nbd), "--grpc-port", String(second.grpc), "--http-port", "0"]);
    expect(portOf(one.endpoints.device.nbd)).toBe(first.nbd + deviceNbdPortOffset);
    expect(portOf(two.endpoints.device.nbd)).toBe(second.nbd + deviceNbdPortOffset);
    expect(one.endpoints.apparatuses.map((entry) => portOf(entry.nbd))).toEqual([first.nbd, first.nbd + 1]);
    await createVolume(one, "left", "8MiB");
    await createVolume(two, "right", "8MiB");
  });

  it("a port already taken is refused before anything starts: one line naming the port and its option, exit 2", async () => {
    const taken = await heldPort();
    const dir = await scratchDir();
    const free = ["--grpc-port", "0", "--nbd-port", "0", "--device-nbd-port", "0", "--http-port", "0"];
    const cases: readonly (readonly [readonly string[], RegExp])[] = [
      [["up", "--dir", dir, ...free, "--nbd-port", String(taken)], new RegExp(`port ${taken} \\(apparatus a0's NBD\\) is already in use; pass --nbd-port`)],
      [["up", "--dir", dir, ...free, "--device-nbd-port", String(taken)], new RegExp(`port ${taken} \\(the device's LUs over NBD\\) is already in use; pass --device-nbd-port`)],
      [["up", "--dir", dir, ...free, "--http-port", String(taken)], new RegExp(`port ${taken} \\(the web console\\) is already in use; pass --http-port`)],
      [["up", "--dir", dir, ...free, "--grpc-port", String(taken - 2), "--apparatuses", "1"], new RegExp(`port ${taken} \\(the controller's gRPC\\) is already in use; pass --grpc-port`)],
      [["device", "serve", "--dir", dir, "--nbd-port", "0", "--grpc-port", String(taken)], new RegExp(`port ${taken} \\(the device's gRPC\\) is already in use; pass --grpc-port`)],
      [["apparatus", "serve", "--id", "a9", "--device", "127.0.0.1:1", "--grpc-port", "0", "--nbd-port", String(taken)], new RegExp(`port ${taken} \\(apparatus a9's NBD\\) is already in use; pass --nbd-port`)],
    ];
    for (const [args, pattern] of cases) assertOneLineFailure(await runCli(args), 2, pattern);
  });

  it("two appliances started without port options both serve: the second takes free ports and says so", async () => {
    const one = await start([]);
    const two = await start([]);
    expect(two.stderr).toMatch(/switchyard up: default port \d+ \(.+\) is taken, so every port is a free one instead/);
    const onePorts = portsOf(one.endpoints);
    expect(portsOf(two.endpoints).filter((port) => onePorts.includes(port))).toEqual([]);
    await createVolume(one, "left", "8MiB");
    await createVolume(two, "right", "8MiB");
    const listed = await two.cli(["volume", "list", "--json"]);
    assertSucceeded(listed);
    expect(listed.stdout).toContain('"right"');
    expect(listed.stdout).not.toContain('"left"');
  });

  it("a second `up` on a data folder already served is refused, naming the process", async () => {
    const one = await start([]);
    const again = await runCli(["up", "--dir", one.dir, "--nbd-port", "0", "--grpc-port", "0", "--device-nbd-port", "0"]);
    assertOneLineFailure(again, 2, new RegExp(`is served already by pid ${one.pid}; stop it first`));
    // The refusal took nothing from the running one.
    assertSucceeded(await one.cli(["volume", "list"]));
  });
});
