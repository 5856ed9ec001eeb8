/**
 * Where the web console keeps its login tokens, and whether it serves
 * HTTPS: on loopback it serves plain HTTP (nothing leaves the machine);
 * anywhere else HTTPS with the node certificate of the apparatus it runs
 * in, as `checkPlainHttp` (plain-control.ts) requires at the command line.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { serverCertificateFile, serverKeyFile } from "@switchyard/security";
import { isLoopback } from "../plain-control.js";

/** The console's folder in an appliance's data folder: its login tokens (console-login.ts). */
export const consoleFolderName = "console";

/** The `https` option of startConsoleServer for a console on `httpHost`: none on loopback. */
export async function consoleHttps(httpHost: string, nodeFolder: string | undefined): Promise<{ https?: { key: Buffer; cert: Buffer } }> {
  if (isLoopback(httpHost)) return {};
  assert.ok(nodeFolder !== undefined, `a console on ${httpHost} needs certificates (checkPlainHttp refuses this at the command line)`);
  return { https: { key: await readFile(join(nodeFolder, serverKeyFile)), cert: await readFile(join(nodeFolder, serverCertificateFile)) } };
}
