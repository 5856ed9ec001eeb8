// The three NBD servers under comparison, each started on loopback by the
// benchmark itself and described by the settings that matter for a fair
// reading of the figures.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { open, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { findFreePort, pollIntervalMs, runToolChecked, ServerProcess, sleep, waitForNbd } from "./processes.js";

// Starting a server and its first handshake take well under a second; the
// Switchyard appliance also creates LU files and elects a controller.
const serverStartTimeoutMs = 20_000;
// Copying the prefill data over loopback: hundreds of MiB/s at worst.
const prefillTimeoutMs = 120_000;
// One `switchyard volume create` against a local appliance.
const cliTimeoutMs = 30_000;

export interface StartedServer {
  readonly name: string;
  readonly uri: string;
  /** How it was configured, printed beside its figures. */
  readonly settings: string;
  readonly version: string;
  readonly process: ServerProcess;
}

async function firstLine(file: string, args: readonly string[]): Promise<string> {
  const output = await runToolChecked(file, args, 10_000);
  return output.split("\n")[0]?.trim() ?? "";
}

/** nbdkit over TLS: its server folder and the client folder its readiness probe presents (GnuTLS layout, one CA). */
export interface NbdkitTls {
  readonly certificateFolder: string;
  readonly clientFolder: string;
}

/**
 * nbdkit's file plugin on `backingPath`: its defaults (page cache, 16
 * threads); with `tls`, --tls=require --tls-verify-peer as well.
 */
export async function startNbdkit(backingPath: string, tls?: NbdkitTls): Promise<StartedServer> {
  const port = await findFreePort();
  const tlsArgs = tls === undefined ? [] : ["--tls=require", `--tls-certificates=${tls.certificateFolder}`, "--tls-verify-peer"];
  const name = tls === undefined ? "nbdkit" : "nbdkit-tls";
  const server = await ServerProcess.start(
    name,
    "nbdkit",
    // -f: stay in the foreground so the handle is the server; --exit-with-parent:
    // it cannot outlive the benchmark.
    ["-f", "--exit-with-parent", "-i", "127.0.0.1", "-p", String(port), ...tlsArgs, "file", `file=${backingPath}`],
    { ownGroup: false },
  );
  const uri = tls === undefined ? `nbd://127.0.0.1:${port}/` : `nbds://127.0.0.1:${port}/`;
  await waitForNbd(server, tls === undefined ? uri : `${uri}?tls-certificates=${tls.clientFolder}`, serverStartTimeoutMs);
  const tlsSettings = tls === undefined ? "" : "; --tls=require --tls-verify-peer (x509, client certificate required)";
  return {
    name,
    uri,
    settings: `file plugin, defaults: cache=default (host page cache), fadvise=normal, 16 threads; backing file shared with qemu-nbd${tlsSettings}`,
    version: await firstLine("nbdkit", ["--version"]),
    process: server,
  };
}

/** qemu-nbd on `backingPath` with its default cache and AIO modes, named explicitly. */
export async function startQemuNbd(backingPath: string): Promise<StartedServer> {
  const port = await findFreePort();
  const exportName = "bench";
  const server = await ServerProcess.start(
    "qemu-nbd",
    "qemu-nbd",
    [
      "-f", "raw", "-x", exportName, "-b", "127.0.0.1", "-p", String(port),
      // -t: keep serving after the first client leaves (each fio run is one);
      // --shared: the readiness probe and fio may overlap for a moment.
      "-t", "--shared=8",
      // qemu-nbd's defaults, stated: writeback uses the host page cache like
      // nbdkit's default, and thread-pool AIO.
      "--cache=writeback", "--aio=threads",
      backingPath,
    ],
    { ownGroup: false },
  );
  const uri = `nbd://127.0.0.1:${port}/${exportName}`;
  await waitForNbd(server, uri, serverStartTimeoutMs);
  return {
    name: "qemu-nbd",
    uri,
    settings: "raw, --cache=writeback (default: host page cache), --aio=threads (default), -t, --shared=8; backing file shared with nbdkit",
    version: await firstLine("qemu-nbd", ["--version"]),
    process: server,
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Apparatus a0's NBD address from endpoints.json, once it names `pid`. */
export async function readApparatusAddress(endpointsPath: string, pid: number): Promise<string | null> {
  let text: string;
  try {
    text = await readFile(endpointsPath, "utf8");
  } catch (error) {
    // Not written yet: `up` writes it once everything listens.
    if (error instanceof Error && "code" in error && error.code === "ENOENT") return null;
    throw error;
  }
  const value: unknown = JSON.parse(text);
  if (!isRecord(value) || value.pid !== pid || !Array.isArray(value.apparatuses)) return null;
  const first: unknown = value.apparatuses[0];
  if (!isRecord(first) || typeof first.nbd !== "string") throw new Error(`endpoints.json has no apparatus NBD address: ${text}`);
  return first.nbd;
}

export interface SwitchyardOptions {
  readonly cliPath: string;
  readonly workDir: string;
  readonly sizeBytes: number;
  /** Copied into the volume first so reads hit real data. */
  readonly prefillPath: string;
  /**
   * `up`'s default, mutual TLS on gRPC and NBD TLS "on" (plain and TLS hosts
   * both served), with certificates in switchyard-data/tls; otherwise
   * `--insecure`, plain everywhere (the data-path comparison's setting).
   */
  readonly tls?: boolean;
}

const mebibyteBytes = 1024 * 1024;

/** A file of `sizeBytes` random bytes, made durable: the data every server serves. */
export async function writeRandomFile(path: string, sizeBytes: number): Promise<void> {
  const file = await open(path, "w");
  try {
    for (let offsetBytes = 0; offsetBytes < sizeBytes; offsetBytes += mebibyteBytes) {
      await file.write(randomBytes(mebibyteBytes), 0, mebibyteBytes, offsetBytes);
    }
    await file.sync();
  } finally {
    await file.close();
  }
}

/** nbdkit's file plugin as startNbdkit, requiring TLS with a client certificate of the CA in `certificateFolder` (GnuTLS layout). */

/**
 * `switchyard up` with ephemeral ports, then one volume of the benchmark's
 * size on apparatus a0, filled with the same bytes as the other servers' file.
 */
export async function startSwitchyard(options: SwitchyardOptions): Promise<StartedServer> {
  const mebibyte = 1024 * 1024;
  assert.ok(options.sizeBytes % mebibyte === 0);
  const dataDir = join(options.workDir, "switchyard-data");
  const endpointsPath = join(dataDir, "endpoints.json");
  await rm(endpointsPath, { force: true });
  // Each LU must hold the whole volume: never below the CLI's 1 GiB default.
  const luSizeMebibytes = Math.max(1024, options.sizeBytes / mebibyte);
  const server = await ServerProcess.start(
    "switchyard",
    process.execPath,
    [options.cliPath, "up", "--dir", dataDir, "--nbd-port", "0", "--grpc-port", "0", "--device-nbd-port", "0", "--lu-size", `${luSizeMebibytes}MiB`, ...(options.tls === true ? [] : ["--insecure"])],
    // Its own process group, so stopping it also stops anything it forked.
    { ownGroup: true },
  );
  try {
    const deadlineMs = Date.now() + serverStartTimeoutMs;
    let address: string | null = null;
    while (address === null) {
      if (server.hasExited) throw new Error(server.describeExit());
      if (Date.now() > deadlineMs) throw new Error(`switchyard up: no endpoints.json within ${serverStartTimeoutMs} ms\n${server.output.trim()}`);
      address = await readApparatusAddress(endpointsPath, server.pid);
      if (address === null) await sleep(pollIntervalMs);
    }
    const volume = "bench";
    await runToolChecked(process.execPath, [options.cliPath, "volume", "create", volume, "--size", `${options.sizeBytes / mebibyte}MiB`, "--dir", dataDir], cliTimeoutMs);
    const uri = `nbd://${address}/${volume}`;
    await waitForNbd(server, uri, serverStartTimeoutMs);
    await runToolChecked("nbdcopy", ["--flush", options.prefillPath, uri], prefillTimeoutMs);
    return {
      name: "switchyard",
      uri,
      settings: `apparatus a0 of \`switchyard up\` (2 apparatuses); volume '${volume}' backed by its own LU file, prefilled with the same bytes`,
      version: "workspace build",
      process: server,
    };
  } catch (error) {
    await server.stop();
    throw error;
  }
}
