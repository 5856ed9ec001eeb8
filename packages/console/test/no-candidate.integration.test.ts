// Goal: `apparatus serve --no-candidate` never campaigns for the controller
// lease, so another process (a conformance suite) can be the only
// controller; without it the apparatus takes the lease as it starts.
// Method: a real `device serve` and `apparatus serve` from the built CLI on
// loopback; once the apparatus has announced itself, a probe asks the
// device's arbiter for the lease and sees whether anyone holds it.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import { callUnary, deadlineAfter, loadGrpc, type Lease__Output } from "@switchyard/proto";

const cliPath = fileURLToPath(new URL("../dist/cli.js", import.meta.url));
/** A process start and its first line of JSON, on a loaded 2-core machine. */
const announceTimeoutMs = 20_000;
const callTimeoutMs = 2_000;

const children: ChildProcess[] = [];
const folders: string[] = [];

/** Starts the CLI and resolves with the JSON object it prints once it serves. */
function serve(argv: readonly string[]): Promise<Record<string, unknown>> {
  const child = spawn(process.execPath, [cliPath, ...argv, "--json"], { stdio: ["ignore", "pipe", "inherit"] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let text = "";
    const timer = setTimeout(() => {
      reject(new Error(`${argv.join(" ")}: no endpoints within ${announceTimeoutMs} ms`));
    }, announceTimeoutMs);
    child.stdout.on("data", (chunk: Buffer) => {
      text += chunk.toString();
      try {
        const parsed: unknown = JSON.parse(text);
        clearTimeout(timer);
        resolve(parsed as Record<string, unknown>);
      } catch {
        // Not the whole object yet: wait for more output.
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${argv.join(" ")} exited with ${String(code)}`));
    });
  });
}

async function probeLease(deviceAddress: string): Promise<Lease__Output> {
  const device = new (loadGrpc().switchyard.v1.Device)(deviceAddress, grpc.credentials.createInsecure());
  try {
    return await callUnary<Lease__Output>((done) =>
      device.AcquireLease({ candidate_id: "probe", candidate_address: "", lease_ms: 1_000 }, { deadline: deadlineAfter(callTimeoutMs) }, done),
    );
  } finally {
    device.close();
  }
}

async function deviceAndApparatus(extra: readonly string[]): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "switchyard-no-candidate-"));
  folders.push(dir);
  const device = await serve(["device", "serve", "--dir", dir, "--grpc-port", "0", "--nbd-port", "0", "--lu-size", "16MiB", "--extent-size", "1MiB"]);
  const deviceAddress = (device.device as { grpc: string }).grpc;
  await serve(["apparatus", "serve", "--id", "a1", "--device", deviceAddress, "--nbd-port", "0", "--processors", "1", ...extra]);
  return deviceAddress;
}

afterEach(async () => {
  for (const child of children.splice(0)) {
    child.kill("SIGTERM");
    if (child.exitCode === null) await new Promise((resolve) => child.once("exit", resolve));
  }
  for (const dir of folders.splice(0)) await rm(dir, { recursive: true, force: true });
});

describe("apparatus serve --no-candidate", () => {
  it("leaves the controller lease to someone else", async () => {
    const lease = await probeLease(await deviceAndApparatus(["--no-candidate"]));
    expect(lease.granted).toBe(true);
    expect(lease.holder_id).toBe("probe");
  });

  it("is needed: without it the apparatus holds the lease once it serves", async () => {
    const lease = await probeLease(await deviceAndApparatus([]));
    expect(lease.granted).toBe(false);
    expect(lease.holder_id).toBe("a1");
  });
});
