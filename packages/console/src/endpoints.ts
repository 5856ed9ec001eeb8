/**
 * How console commands find a running appliance: `--endpoint HOST:PORT`
 * names a controller's gRPC address; otherwise `--dir DIR` (default
 * ./switchyard-data) holds the endpoint file that `switchyard up` writes.
 */
import type * as grpc from "@grpc/grpc-js";
import { readFile, rename, writeFile, open } from "node:fs/promises";
import path from "node:path";
import { callerCredentials } from "@switchyard/security";
import { UsageError } from "./usage.js";

export const endpointFileName = "endpoints.json";
export const defaultDataDir = "switchyard-data";

export interface EndpointFile {
  readonly pid: number;
  readonly device: { readonly id: string; readonly grpc: string; readonly nbd: string };
  readonly controller: { readonly grpc: string };
  readonly apparatuses: readonly { readonly id: string; readonly nbd: string; readonly grpc: string }[];
  /**
   * The web console and /metrics (`up --http-port`), when served, and the
   * folder of its login tokens (operator-token, viewer-token, metrics-token).
   */
  readonly console?: { readonly http: string; readonly url: string; readonly tokens: string };
  /**
   * With mutual TLS (`up --tls`): the cluster CA's certificate, and the
   * operator's client folder (ca-cert.pem, client-cert.pem,
   * client-key.pem) that commands on this machine present; `nbd`: the
   * apparatuses' NBD TLS mode (`--nbd-tls`), and libnbd and qemu read that
   * client folder as it is (nbds://…?tls-certificates=DIR).
   */
  readonly tls?: { readonly ca: string; readonly client_dir: string; readonly nbd?: "off" | "on" | "require" };
}

export function endpointFilePath(dir: string): string {
  return path.join(dir, endpointFileName);
}

/** Writes the endpoint file whole or not at all: readers never see half of it. */
export async function writeEndpointFile(dir: string, endpoints: EndpointFile): Promise<void> {
  const target = endpointFilePath(dir);
  const temporary = `${target}.tmp-${process.pid}`;
  await writeFile(temporary, `${JSON.stringify(endpoints, null, 2)}\n`);
  const handle = await open(temporary, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, target);
}

function isEndpointFile(value: unknown): value is EndpointFile {
  if (typeof value !== "object" || value === null) return false;
  const record = value as Record<string, unknown>;
  const controller = record.controller as Record<string, unknown> | undefined;
  return typeof record.pid === "number" && typeof controller?.grpc === "string" && Array.isArray(record.apparatuses);
}

export async function readEndpointFile(dir: string): Promise<EndpointFile> {
  const file = endpointFilePath(dir);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    throw new UsageError(`no appliance found: ${file} is missing (start one with 'switchyard up --dir ${dir}' or pass --endpoint HOST:PORT)`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UsageError(`${file} is not valid JSON: remove it and start the appliance again`);
  }
  if (!isEndpointFile(parsed)) throw new UsageError(`${file} is not a Switchyard endpoint file`);
  return parsed;
}

const addressPattern = /^[^\s:]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$/;

export function checkAddress(text: string, what: string): string {
  if (!addressPattern.test(text)) throw new UsageError(`${what} ${JSON.stringify(text)} is not HOST:PORT`);
  return text;
}

/** Where a console command reaches the controller, and how. */
export interface ControllerConnection {
  readonly address: string;
  readonly credentials: grpc.ChannelCredentials;
}

/**
 * The controller a console command talks to: `--endpoint` with the
 * certificate folder of `--cert-dir` (plain without one), or the appliance
 * whose endpoint file is in `--dir`, with the client folder it names
 * (unless `--cert-dir` names another: a viewer's, say).
 */
export async function controllerConnection(options: {
  readonly endpoint: string | undefined;
  readonly dir: string | undefined;
  readonly certDir: string | undefined;
}): Promise<ControllerConnection> {
  const credentials = (folder: string | undefined): grpc.ChannelCredentials => callerCredentials(options.certDir ?? folder);
  if (options.endpoint !== undefined) return { address: checkAddress(options.endpoint, "--endpoint"), credentials: credentials(undefined) };
  const file = await readEndpointFile(options.dir ?? defaultDataDir);
  return { address: file.controller.grpc, credentials: credentials(file.tls?.client_dir) };
}
