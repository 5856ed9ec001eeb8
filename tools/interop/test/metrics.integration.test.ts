// Goal: /metrics on the console's port is Prometheus text whose counters
// follow what happens: host I/O per apparatus, volume and operation (count,
// bytes, latency), holds and their durations, and change phase durations.
// Method: one `switchyard up`; scrape, write and read through apparatus a0
// with the project's NBD client, move an extent with the CLI, scrape again,
// and compare the parsed samples.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NbdClient } from "@switchyard/nbd";
import { Appliance, assertSucceeded, createVolume, mebibyte } from "./appliance.js";
import { consoleUrl, scrape } from "./console-helpers.js";

const writeBytes = mebibyte;
const readBytes = 64 * 1024;

describe("/metrics", () => {
  let appliance: Appliance;
  let url: string;

  beforeAll(async () => {
    appliance = await Appliance.start({ extraArgs: ["--lu-size", "256MiB"] });
    url = await consoleUrl(appliance);
    await createVolume(appliance, "metered", "16MiB");
  });

  afterAll(async () => {
    await appliance.dispose();
  });

  it("counts host I/O per apparatus, volume and operation, with latency", async () => {
    const before = await scrape(url);
    expect(before.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(before.text).toMatch(/^# TYPE switchyard_io_requests_total counter$/m);
    const [host = "", port = ""] = appliance.endpoints.apparatuses[0]?.nbd.split(":") ?? [];
    const client = await NbdClient.connect({ host, port: Number(port), exportName: "metered", timeoutMs: 10_000 });
    try {
      await client.write(0, Buffer.alloc(writeBytes, 0x5a));
      await client.read(0, Buffer.alloc(readBytes));
      await client.read(readBytes, Buffer.alloc(readBytes));
      await client.flush();
    } finally {
      await client.close();
    }
    const after = (await scrape(url)).scrape;
    const series = (operation: string): Record<string, string> => ({ apparatus: "a0", volume: "metered", operation });
    const rise = (name: string, operation: string): number => after.value(name, series(operation)) - before.scrape.value(name, series(operation));
    expect(rise("switchyard_io_requests_total", "write")).toBe(1);
    expect(rise("switchyard_io_bytes_total", "write")).toBe(writeBytes);
    expect(rise("switchyard_io_requests_total", "read")).toBe(2);
    expect(rise("switchyard_io_bytes_total", "read")).toBe(2 * readBytes);
    expect(rise("switchyard_io_requests_total", "flush")).toBe(1);
    expect(rise("switchyard_io_latency_seconds_count", "read")).toBe(2);
    expect(after.value("switchyard_io_latency_seconds_bucket", { ...series("read"), le: "+Inf" })).toBe(after.value("switchyard_io_latency_seconds_count", series("read")));
    expect(after.value("switchyard_io_latency_seconds_sum", series("read"))).toBeGreaterThan(0);
    // Apparatus a1 served none of it.
    expect(after.value("switchyard_io_requests_total", { apparatus: "a1", volume: "metered", operation: "write" })).toBe(0);
  });

  it("counts holds with their durations and change phases with theirs", async () => {
    await createVolume(appliance, "shrunk", "8MiB");
    const before = (await scrape(url)).scrape;
    assertSucceeded(await appliance.cli(["volume", "move", "metered", "--extent", "1", "--to", "lu1"]));
    const moved = (await scrape(url)).scrape;
    assertSucceeded(await appliance.cli(["volume", "resize", "shrunk", "--size", "4MiB"]));
    const after = (await scrape(url)).scrape;
    const rise = (name: string, apparatus: string, from: typeof before, to: typeof before): number => to.value(name, { apparatus }) - from.value(name, { apparatus });
    for (const apparatus of ["a0", "a1"]) {
      // A move is a migration of one extent between two LUs of the one device: none of its changes holds anything.
      expect(rise("switchyard_holds_total", apparatus, before, moved)).toBe(0);
      // A shrink holds the I/O of what it cuts off, once.
      expect(rise("switchyard_holds_total", apparatus, moved, after)).toBe(1);
      expect(after.value("switchyard_holds_active", { apparatus })).toBe(0);
      expect(rise("switchyard_hold_duration_seconds_count", apparatus, moved, after)).toBe(1);
    }
    for (const phase of ["mirror", "copy", "switch"]) {
      const labels = { kind: "move", phase };
      expect(after.value("switchyard_change_phase_duration_seconds_count", labels) - before.value("switchyard_change_phase_duration_seconds_count", labels), phase).toBe(1);
    }
    expect(after.value("switchyard_changes_total", { kind: "move", state: "committed" }) - before.value("switchyard_changes_total", { kind: "move", state: "committed" })).toBe(1);
    expect(after.value("switchyard_change_journal_up")).toBe(1);
  });

  it("shows a migration's bytes copied, bytes in all and average rate", async () => {
    const migrated = await appliance.cli(["migrate", "metered", "--to", "lu1", "--watch", "--json"]);
    assertSucceeded(migrated);
    const id = (JSON.parse(migrated.stdout.trim().split("\n").at(-1) ?? "{}") as { id?: string }).id ?? "";
    const after = (await scrape(url)).scrape;
    // Extent 1 is on lu1 already (the move above): the other 3 of 4 MiB each move.
    const labels = { migration: id, volume: "metered", state: "committed" };
    expect(after.value("switchyard_migration_copied_bytes", labels)).toBe(3 * 4 * 1024 * 1024);
    expect(after.value("switchyard_migration_total_bytes", labels)).toBe(3 * 4 * 1024 * 1024);
    expect(after.value("switchyard_migration_rate_bytes_per_second", labels)).toBeGreaterThan(0);
  });
});
