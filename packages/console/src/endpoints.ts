/**
 * How console commands find a running appliance: `--endpoint HOST:PORT`
 * names a controller's gRPC address; otherwise `--dir DIR` (default
 * ./switchyard-data) holds the endpoint file that `switchyard up` writes.
 */
import { readFile, rename, writeFile, open } from "node:fs/promises";
import path from "node:path";
import { UsageError } from "./usage.js";

export const endpointFileName = "endpoints.json";
export const defaultDataDir = "switchyard-data";

export interface EndpointFile {
  readonly pid: number;
  readonly device: { readonly id: string; readonly grpc: string; readonly nbd: string };
  readonly controller: { readonly grpc: string };
  readonly apparatuses: readonly { readonly id: string; readonly nbd: string; readonly grpc: string }[];
  /** The web console and /metrics (`up --http-port`), when served. */
  readonly console?: { readonly http: string; readonly url: string };
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

/** The controller address a console command talks to. */
export async function controllerAddress(endpoint: string | undefined, dir: string | undefined): Promise<string> {
  if (endpoint !== undefined) return checkAddress(endpoint, "--endpoint");
  const file = await readEndpointFile(dir ?? defaultDataDir);
  return file.controller.grpc;
}
