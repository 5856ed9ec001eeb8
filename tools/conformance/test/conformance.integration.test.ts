// Goal: the suite passes Switchyard's own apparatus, and each deliberately
// faulty build of it (a behaviour of @switchyard/apparatus/testing, composed
// in by the console's test build with --test-fault) fails the case that
// checks that behaviour and only the cases that depend on it. Also: the
// --apparatus mode against an apparatus already running on a device the
// tester started, and a launch that never comes up. Method: main()
// in-process, launching the real `switchyard apparatus serve --no-candidate`
// (the built CLI, or its test build for a faulty one; SWITCHYARD_CLI and
// SWITCHYARD_TESTING_CLI override them) against the suite's own device; two
// runs at a time.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CliServers, cliPath as builtCliPath, testingCliPath as builtTestingCliPath } from "@switchyard/console/testing";
import { exitFailed, exitPassed, main } from "../src/main.js";
import { allCases } from "../src/cases/index.js";
import { capture, failedIds } from "./io.js";

const cliPath = process.env.SWITCHYARD_CLI ?? builtCliPath;
const testingCliPath = process.env.SWITCHYARD_TESTING_CLI ?? builtTestingCliPath;

/** The production build, or with `fault` the test build with that planted bug. */
function serveCommand(fault: string | undefined): string {
  const build = fault === undefined ? `'${cliPath}'` : `'${testingCliPath}'`;
  const faultOption = fault === undefined ? "" : ` --test-fault ${fault}`;
  return `'${process.execPath}' ${build} apparatus serve --id under-test --no-candidate${faultOption} --device {device} --nbd-port {nbd_port} --grpc-port {grpc_port}`;
}

/** Each planted bug and the cases that must fail because of it: no more, no fewer. */
const faults: readonly (readonly [string, readonly string[]])[] = [
  ["drain-early", ["hold-drains"]],
  ["release-early", ["hold-until-release", "abort-keeps-holds"]],
  ["hold-whole-volume", ["hold-range-only"]],
  ["accept-stale-epoch", ["stale-epoch"]],
  ["apply-whole-table", ["apply-diff-only"]],
  ["ignore-fencing", ["fenced-no-io"]],
  // No gate at all: everything that needs I/O held fails, and GetState shows no hold.
  ["hold-nothing", ["hold-until-release", "release-new-mapping", "hold-writes-only", "abort-keeps-holds", "idempotent", "get-state"]],
];

const servers = new CliServers(cliPath);
const folders: string[] = [];

afterAll(async () => {
  await servers.stopAll();
  for (const folder of folders) await rm(folder, { recursive: true, force: true });
});


function lastLine(text: string): string {
  return text.trimEnd().split("\n").at(-1) ?? "";
}

describe.concurrent("switchyard-conformance", () => {
  it("passes Switchyard's apparatus, in TAP and JUnit", async () => {
    const folder = await mkdtemp(path.join(os.tmpdir(), "conformance-junit-"));
    folders.push(folder);
    const junit = path.join(folder, "results.xml");
    const captured = capture();
    const code = await main(["--launch", serveCommand(undefined), "--junit", junit], captured.io);
    expect(failedIds(captured.out())).toEqual([]);
    expect(code).toBe(exitPassed);
    expect(lastLine(captured.out())).toBe(`${allCases.length} passed, 0 failed`);
    expect(await readFile(junit, "utf8")).toContain(`tests="${allCases.length}" failures="0"`);
  });

  it.each(faults)("an apparatus with the planted bug %s fails exactly %j", async (fault, expected) => {
    const captured = capture();
    const code = await main(["--launch", serveCommand(fault)], captured.io);
    expect(failedIds(captured.out()).sort()).toEqual([...expected].sort());
    expect(code).toBe(exitFailed);
    expect(lastLine(captured.out())).toBe(`${allCases.length - expected.length} passed, ${expected.length} failed`);
  });

  it("checks an apparatus already running against the tester's device (--apparatus)", async () => {
    const folder = await mkdtemp(path.join(os.tmpdir(), "conformance-device-"));
    folders.push(folder);
    const device = await servers.serve(["device", "serve", "--dir", folder, "--grpc-port", "0", "--nbd-port", "0", "--lu-size", "16MiB", "--extent-size", "1MiB"]);
    const deviceAddress = (device.device as { grpc: string }).grpc;
    const apparatus = await servers.serve(["apparatus", "serve", "--id", "running", "--device", deviceAddress, "--nbd-port", "0", "--no-candidate"]);
    const captured = capture();
    const code = await main(["--apparatus", String(apparatus.grpc), "--nbd", String(apparatus.nbd), "--device", deviceAddress], captured.io);
    expect(failedIds(captured.out())).toEqual([]);
    expect(code).toBe(exitPassed);
  });

  it("bails out, counting the cases as failed, when the launched apparatus never answers", async () => {
    const captured = capture();
    const code = await main(["--launch", "echo no apparatus here; exit 3", "--only", "^health$"], captured.io);
    expect(code).toBe(exitFailed);
    expect(captured.out()).toMatch(/^Bail out! setup failed: the launched apparatus ended \(exit code 3\).*no apparatus here/m);
    expect(lastLine(captured.out())).toBe("0 passed, 1 failed");
  });
});
