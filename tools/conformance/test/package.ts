/**
 * The suite as a third party gets it: `pnpm run pack` (pack.mjs) makes the
 * tarball, and `npm install --offline` puts it into an empty folder, where
 * its bin runs as a process of its own, away from the workspace.
 */
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { builtinModules } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const packScript = fileURLToPath(new URL("../pack.mjs", import.meta.url));
/** A process of these tests (pack, install, the bin's run) that takes longer has hung: each takes seconds. */
const processTimeoutMs = 90_000;
/** Output kept per stream: a run's TAP is a few kilobytes. */
const outputKeptBytesMax = 256 * 1024;

export interface Finished {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `command` with `args` in `cwd` to its end (or kills it at processTimeoutMs); never rejects for a non-zero exit. */
export function runProcess(command: string, args: readonly string[], cwd: string): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ["ignore", "pipe", "pipe"], timeout: processTimeoutMs, killSignal: "SIGKILL" });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (text: string) => {
      stdout = (stdout + text).slice(-outputKeptBytesMax);
    });
    child.stderr.setEncoding("utf8").on("data", (text: string) => {
      stderr = (stderr + text).slice(-outputKeptBytesMax);
    });
    child.once("error", reject);
    child.once("close", (code) => {
      resolve({ code, stdout, stderr });
    });
  });
}

async function succeeded(command: string, args: readonly string[], cwd: string): Promise<string> {
  const finished = await runProcess(command, args, cwd);
  if (finished.code !== 0) throw new Error(`${command} ${args.join(" ")} exited ${String(finished.code)}: ${finished.stderr.trim()}`);
  return finished.stdout;
}

export interface InstalledPackage {
  /** The installed bin, as npm linked it. */
  readonly bin: string;
  /** The installed package's manifest. */
  readonly manifest: { readonly dependencies?: object; readonly bin?: Record<string, string> };
  /** The text of the bundle the bin runs. */
  readonly bundle: string;
}

/** Packs the suite into `folder` and installs the tarball there, offline, as the only package. */
export async function packAndInstall(folder: string): Promise<InstalledPackage> {
  const packed = await succeeded(process.execPath, [packScript, "--out", folder], folder);
  const tarball = packed.trim().split("\n").at(-1) ?? "";
  await succeeded("npm", ["install", "--offline", "--no-audit", "--no-fund", "--no-package-lock", tarball], folder);
  const installed = path.join(folder, "node_modules", "switchyard-conformance");
  const manifest = JSON.parse(await readFile(path.join(installed, "package.json"), "utf8")) as InstalledPackage["manifest"];
  const binRelative = manifest.bin?.["switchyard-conformance"] ?? "";
  return { bin: path.join(folder, "node_modules", ".bin", "switchyard-conformance"), manifest, bundle: await readFile(path.join(installed, binRelative), "utf8") };
}

/**
 * The modules the bundle loads by name that are not Node's own: none, for a
 * package with no dependencies. Its ES imports, and the CommonJS requires
 * rolldown left for Node's modules (through its `__require`).
 */
export function importedPackages(bundle: string): string[] {
  const imported = Array.from(bundle.matchAll(/^import\s[^;]*?from\s+"([^"]+)";?$/gm), (match) => match[1] ?? "");
  const required = Array.from(bundle.matchAll(/__require\("([^"]+)"\)/g), (match) => match[1] ?? "");
  const builtin = new Set(builtinModules);
  return [...new Set([...imported, ...required])].filter((name) => !name.startsWith("node:") && !builtin.has(name));
}
