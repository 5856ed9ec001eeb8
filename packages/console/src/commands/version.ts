/** `switchyard version` (and `switchyard --version`). */
import { readFileSync } from "node:fs";
import type { Command } from "../command.js";
import { dataFormat, outputOptions, outputOptionsHelp, printData } from "../output.js";
import { parse } from "../usage.js";

export interface VersionInfo {
  readonly version: string;
  /** The protobuf package of every control message: a client and a server that share it can talk. */
  readonly protocol: string;
  readonly node: string;
  readonly platform: string;
}

function hasVersion(value: unknown): value is { version: string } {
  return typeof value === "object" && value !== null && "version" in value && typeof value.version === "string";
}

/** The console package's own package.json, two folders up from this file in src/ and in dist/ alike. */
export function versionInfo(): VersionInfo {
  const manifest: unknown = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));
  if (!hasVersion(manifest)) throw new Error("the console's package.json has no version");
  return { version: manifest.version, protocol: "switchyard.v1", node: process.versions.node, platform: `${process.platform}-${process.arch}` };
}

export const version: Command = {
  words: ["version"],
  summary: "print switchyard's version, its protocol and the Node.js it runs on",
  help: `Usage: switchyard version [--output table|json|yaml]

Prints the version of this switchyard, the protobuf package of its control
messages, and the Node.js version and platform it runs on.
'switchyard --version' is the same.

Options:
${outputOptionsHelp}

Example:
  switchyard version
  switchyard version --json`,
  run(argv, io) {
    const parsed = parse(argv, outputOptions, 0);
    const format = dataFormat(parsed);
    const info = versionInfo();
    if (format !== undefined) printData(io, format, info);
    else io.stdout.write(`switchyard ${info.version} (protocol ${info.protocol}, Node.js ${info.node}, ${info.platform})\n`);
    return Promise.resolve(0);
  },
};
