// `pnpm bench:tls`: what NBD over TLS costs (issue 17, item 3), for
// Switchyard and for nbdkit with --tls=require, side by side in one run.
// The same client (fio's nbd engine, one connection) runs the same
// workloads against four targets: a Switchyard apparatus in plain text and
// over TLS (one `switchyard up`, TLS "on": it serves both), and nbdkit's
// file plugin without TLS and with --tls=require, on the same bytes. It
// prints medians of K runs and the ratios TLS/plain for each server, and
// Switchyard/nbdkit over TLS. A benchmark, not a test: it fails only when
// a target could not be measured.
//
// fio's nbd engine cannot be handed a certificate folder (libnbd takes
// ?tls-certificates= only from programs that allow local files), so libnbd
// reads its default folder: $HOME/.pki/libnbd, or /etc/pki/libnbd for
// root. As root the benchmark runs fio as nobody with a HOME of its own
// holding the operator's certificate; plain runs go the same way, so the
// only difference between the two is TLS.
import { chmod, chown, copyFile, mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { median, parseFioReport, ratio, singleJobFigures } from "./fio.js";
import { runToolChecked } from "./processes.js";
import { benchSettings, type BenchHelp } from "./bench-cli.js";
import { formatFigure } from "./report.js";
import { fioTimeoutMarginMs, runOptions } from "./run-options.js";
import { startNbdkit, startSwitchyard, writeRandomFile, type StartedServer } from "./servers.js";
import { fioArguments, unitOf, workloads, type FioWorkload } from "./workloads.js";

const mebibyte = 1024 * 1024;
const cliTimeoutMs = 30_000;
/** The user fio runs as when the benchmark is root: nobody, whose libnbd folder is $HOME/.pki/libnbd. */
const unprivilegedId = 65534;
/** The workloads issue 17 names: 4 KiB random and 1 MiB sequential, one connection. */
const measuredNames = ["rand-read-4k", "rand-write-4k", "seq-read-1m", "seq-write-1m"];

type Mode = "plain" | "tls";
type ServerKind = "switchyard" | "nbdkit";

interface Target {
  readonly server: ServerKind;
  readonly mode: Mode;
  readonly uri: string;
}

interface Options {
  readonly runs: number;
  readonly runSeconds: number;
  readonly sizeBytes: number;
  readonly cliPath: string;
}

const tlsOptions = { runs: { type: "string" }, seconds: { type: "string" }, "size-mib": { type: "string" }, "switchyard-cli": { type: "string" } } as const;

const tlsHelp: BenchHelp = {
  command: "bench:tls",
  summary: [
    "What TLS costs on the host data path: fio's nbd engine against Switchyard and nbdkit, each",
    "plain and over TLS (nbdkit with --tls=require), on the same data in one run; prints the",
    "medians, each server's TLS/plain ratio, and Switchyard/nbdkit over TLS.",
  ].join("\n"),
  options: [
    ["--runs K", "runs of every workload on every target (default 3)"],
    ["--seconds S", "seconds per fio run (default 3)"],
    ["--size-mib N", "size of the data (default 1024)"],
    ["--switchyard-cli PATH", "the switchyard CLI to measure (default this checkout's)"],
  ],
  examples: ["pnpm bench:tls", "pnpm bench:tls -- --runs 5 --size-mib 256"],
};

function parseOptions(): Options {
  return benchSettings(tlsHelp, tlsOptions, (values) => ({
    ...runOptions(values),
    cliPath: values["switchyard-cli"] ?? fileURLToPath(new URL("../../../packages/console/dist/cli.js", import.meta.url)),
  }));
}

/** A HOME for fio whose .pki/libnbd holds the client certificate of `clientFolder`, owned by the user fio runs as. */
async function clientHome(workDir: string, clientFolder: string): Promise<string> {
  const home = join(workDir, "fio-home");
  const libnbd = join(home, ".pki", "libnbd");
  await mkdir(libnbd, { recursive: true });
  for (const file of ["ca-cert.pem", "client-cert.pem", "client-key.pem"]) await copyFile(join(clientFolder, file), join(libnbd, file));
  if (process.getuid?.() === 0) {
    for (const path of [home, join(home, ".pki"), libnbd, ...["ca-cert.pem", "client-cert.pem", "client-key.pem"].map((file) => join(libnbd, file))]) {
      await chown(path, unprivilegedId, unprivilegedId);
    }
  }
  await chmod(workDir, 0o755);
  return home;
}

/** fio's command: as nobody when root (setpriv), with HOME naming the client's folder either way. */
function fioCommand(home: string, args: readonly string[]): { file: string; args: string[] } {
  const environment = ["env", `HOME=${home}`, "fio", ...args];
  if (process.getuid?.() !== 0) return { file: environment[0] ?? "env", args: environment.slice(1) };
  return { file: "setpriv", args: [`--reuid=${unprivilegedId}`, `--regid=${unprivilegedId}`, "--clear-groups", ...environment] };
}

async function measure(workload: FioWorkload, target: Target, options: Options, home: string): Promise<number> {
  const outputPath = join(home, `fio-${target.server}-${target.mode}-${workload.name}.json`);
  const args = fioArguments(workload, { uri: target.uri, sizeBytes: options.sizeBytes, runtimeSeconds: options.runSeconds, outputPath });
  const command = fioCommand(home, args);
  await runToolChecked(command.file, command.args, options.runSeconds * 1000 + fioTimeoutMarginMs, home);
  const figures = singleJobFigures(parseFioReport(await readFile(outputPath, "utf8")), workload.direction);
  return workload.primaryMetric === "bandwidth" ? figures.bandwidthBytesPerSecond / mebibyte : figures.iops;
}

function key(target: Target, workload: FioWorkload): string {
  return `${target.server}/${target.mode}/${workload.name}`;
}

function renderTable(results: ReadonlyMap<string, readonly number[]>, measured: readonly FioWorkload[]): string {
  const figure = (server: ServerKind, mode: Mode, workload: FioWorkload): number => median(results.get(`${server}/${mode}/${workload.name}`) ?? [Number.NaN]);
  const header = "| workload | unit | switchyard plain | switchyard TLS | TLS/plain | nbdkit plain | nbdkit TLS | TLS/plain | switchyard/nbdkit, TLS |";
  const rows = measured.map((workload) => {
    const [swPlain, swTls, kitPlain, kitTls] = [figure("switchyard", "plain", workload), figure("switchyard", "tls", workload), figure("nbdkit", "plain", workload), figure("nbdkit", "tls", workload)];
    const cells = [swPlain, swTls, ratio(swTls, swPlain), kitPlain, kitTls, ratio(kitTls, kitPlain), ratio(swTls, kitTls)].map(formatFigure);
    return `| ${workload.name} | ${unitOf(workload)} | ${cells.join(" | ")} |`;
  });
  return [header, `|${" --- |".repeat(9)}`, ...rows].join("\n");
}

async function startTargets(options: Options, workDir: string): Promise<{ servers: StartedServer[]; targets: Target[]; clientFolder: string }> {
  const backingPath = join(workDir, "backing.img");
  await writeRandomFile(backingPath, options.sizeBytes);
  const switchyard = await startSwitchyard({ cliPath: options.cliPath, workDir, sizeBytes: options.sizeBytes, prefillPath: backingPath, tls: true });
  const tlsDir = join(workDir, "switchyard-data", "tls");
  const clientFolder = join(tlsDir, "operator-admin");
  // nbdkit's certificate from the appliance's own CA, so one client folder trusts both servers.
  await runToolChecked(process.execPath, [options.cliPath, "cert", "node", "--role", "apparatus", "--id", "nbdkit", "--host", "127.0.0.1", "--dir", tlsDir], cliTimeoutMs);
  const nbdkitPlain = await startNbdkit(backingPath);
  const nbdkitTls = await startNbdkit(backingPath, { certificateFolder: join(tlsDir, "apparatus-nbdkit"), clientFolder });
  const targets: Target[] = [
    { server: "switchyard", mode: "plain", uri: switchyard.uri },
    { server: "switchyard", mode: "tls", uri: switchyard.uri.replace(/^nbd:/, "nbds:") },
    { server: "nbdkit", mode: "plain", uri: nbdkitPlain.uri },
    { server: "nbdkit", mode: "tls", uri: nbdkitTls.uri },
  ];
  return { servers: [switchyard, nbdkitPlain, nbdkitTls], targets, clientFolder };
}

async function main(): Promise<void> {
  const options = parseOptions();
  const measured = workloads.filter((workload): workload is FioWorkload => workload.kind === "fio" && measuredNames.includes(workload.name));
  const workDir = await mkdtemp(join(tmpdir(), "switchyard-bench-tls-"));
  const started = await startTargets(options, workDir).catch(async (error: unknown) => {
    await rm(workDir, { recursive: true, force: true });
    throw error;
  });
  try {
    const home = await clientHome(workDir, started.clientFolder);
    const results = new Map<string, number[]>();
    for (let run = 0; run < options.runs; run += 1) {
      for (const workload of measured) {
        // The order turns each run, so drifting load on a shared machine falls on every target alike.
        const order = started.targets.map((_, index) => started.targets[(index + run) % started.targets.length]).filter((target): target is Target => target !== undefined);
        for (const target of order) {
          const value = await measure(workload, target, options, home);
          results.set(key(target, workload), [...(results.get(key(target, workload)) ?? []), value]);
          process.stderr.write(`run ${run + 1}/${options.runs} ${workload.name} ${target.server} ${target.mode}: ${formatFigure(value)} ${unitOf(workload)}\n`);
        }
      }
    }
    process.stdout.write(`NBD over TLS against plain text, medians of ${options.runs} runs of ${options.runSeconds} s on ${options.sizeBytes / mebibyte} MiB (fio's nbd engine, one connection)\n`);
    process.stdout.write(`${renderTable(results, measured)}\n`);
  } finally {
    for (const server of started.servers) await server.process.stop();
    await rm(workDir, { recursive: true, force: true });
  }
}

await main();
