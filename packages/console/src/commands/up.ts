/** `switchyard up`: the embedded default appliance, serving until interrupted. */
import assert from "node:assert/strict";
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { callerCredentials, isSecurityError } from "@switchyard/security";
import { startAppliance, type Appliance } from "../appliance.js";
import { etcdOption } from "../appliance-etcd.js";
import { certificateFolderOf, ensureApplianceCertificates } from "../appliance-certificates.js";
import type { ControllerThreadMode } from "@switchyard/controller";
import type { Command } from "../command.js";
import type { Composition } from "../composition.js";
import { ConsoleClient } from "../controller-client.js";
import { defaultDataDir, endpointFilePath, readEndpointFile, writeEndpointFile, type EndpointFile } from "../endpoints.js";
import { chooseNbdTls, nbdTlsHelp, nbdTlsOption } from "../nbd-tls.js";
import { checkPlainControl, checkPlainHttp, insecureWarning } from "../plain-control.js";
import { firstTakenPort, PortTakenError, type PortClaim } from "../ports.js";
import { dataFormat, outputOptions, printData, type DataFormat, type Io } from "../output.js";
import { formatBytes } from "../sizes.js";
import { consoleTokenFiles } from "../web/console-login.js";
import { flag, integerOption, parse, portOption, sizeOption, stringOption, UsageError, type Parsed } from "../usage.js";

/** Apparatuses one `up` may start: each takes an NBD port and a gRPC port. */
export const apparatusesMax: number = 16;
export const nbdPortDefault = 10_809;
export const grpcPortDefault = 50_051;
/**
 * The device's LU export port follows --nbd-port at this offset (10809 + 90 =
 * 10899, the port it always had), so two appliances given different NBD
 * ports do not collide on it; past the apparatuses' run of NBD ports.
 */
export const deviceNbdPortOffset: number = 90;
export const deviceNbdPortDefault = nbdPortDefault + deviceNbdPortOffset;
export const httpPortDefault = 8_080;
export const luSizeDefaultBytes = 1024 ** 3;
export const extentSizeDefaultBytes = 4 * 1024 ** 2;
assert.ok(deviceNbdPortOffset >= apparatusesMax, "the device's NBD port must not fall among the apparatuses' NBD ports");
const extentSizeMinBytes = 1024 ** 2;
const extentSizeMaxBytes = 1024 ** 3;
/** Two LUs: enough to move extents between them. */
export const luCount = 2;

const options = {
  dir: { type: "string" },
  host: { type: "string" },
  "data-host": { type: "string" },
  "control-host": { type: "string" },
  "http-host": { type: "string" },
  apparatuses: { type: "string" },
  "nbd-port": { type: "string" },
  "grpc-port": { type: "string" },
  "device-nbd-port": { type: "string" },
  "http-port": { type: "string" },
  "lu-size": { type: "string" },
  "extent-size": { type: "string" },
  ...outputOptions,
  processors: { type: "string" },
  tls: { type: "boolean" },
  insecure: { type: "boolean" },
  etcd: { type: "string" },
  "nbd-tls": { type: "string" },
} as const;

/** `--processors 1|2` (claims 10-11): the threads the change-control and configuration-management loops run on. */
export function processorsOption(text: string | undefined): ControllerThreadMode {
  switch (text) {
    case undefined:
    case "2":
      return "worker";
    case "1":
      return "shared";
    default:
      throw new UsageError(`--processors must be 1 or 2, not ${text}`);
  }
}

/** Help text for --processors, shared by every command that can run the controller. */
export const processorsHelp = `  --processors 1|2       2 (default): the controller's change-control loop runs on a thread of its
                         own, and the gRPC servers (TLS, HTTP/2) on a control thread, apart from
                         host I/O; 1: all on the thread that answers hosts`;

export function checkExtentSize(bytes: number): number {
  const powerOfTwo = (bytes & (bytes - 1)) === 0;
  if (!powerOfTwo || bytes < extentSizeMinBytes || bytes > extentSizeMaxBytes) {
    throw new UsageError(`--extent-size must be a power of two from 1MiB to 1GiB, not ${bytes} bytes`);
  }
  return bytes;
}

async function printEndpoints(io: Io, appliance: Appliance, format: DataFormat | undefined): Promise<void> {
  const client = new ConsoleClient(appliance.endpoints.controller.grpc, callerCredentials(appliance.endpoints.tls?.client_dir));
  const volumes = await client.listVolumes().finally(() => {
    client.close();
  });
  const { endpoints } = appliance;
  if (format !== undefined) {
    printData(io, format, { ...endpoints, volumes: volumes.map((volume) => volume.name) });
    return;
  }
  io.stdout.write(`switchyard up: serving from ${appliance.device.dir} (pid ${endpoints.pid})\n`);
  io.stdout.write(`  device ${endpoints.device.id}: gRPC ${endpoints.device.grpc}, LUs over NBD at ${endpoints.device.nbd}\n`);
  for (const lu of appliance.device.lus) io.stdout.write(`    ${lu.id}: ${formatBytes(lu.sizeBytes)}\n`);
  io.stdout.write(`  controller: gRPC ${endpoints.controller.grpc}\n`);
  const tls = endpoints.tls;
  if (tls === undefined) io.stdout.write("  gRPC in plain text (--insecure): any local process may call every method\n");
  else io.stdout.write(`  gRPC over mutual TLS: commands given --dir ${appliance.device.dir} present ${tls.client_dir}\n`);
  if (endpoints.console !== undefined) {
    io.stdout.write(`  web console: ${endpoints.console.url} (Prometheus metrics at ${endpoints.console.url}metrics)\n`);
    io.stdout.write(`  console login: the token in ${join(endpoints.console.tokens, consoleTokenFiles.operator)} (${consoleTokenFiles.viewer}: look only)\n`);
  }
  for (const apparatus of endpoints.apparatuses) {
    io.stdout.write(`  apparatus ${apparatus.id}: NBD ${apparatus.nbd}, gRPC ${apparatus.grpc}\n`);
    for (const volume of volumes) io.stdout.write(`    ${nbdUri(apparatus.nbd, volume.name, endpoints.tls)}\n`);
  }
  if (volumes.length === 0) io.stdout.write(`  no volumes yet: switchyard volume create NAME --size 1GiB --dir ${appliance.device.dir}\n`);
  io.stdout.write("Press Ctrl-C to stop.\n");
}

/** A volume's URI as libnbd reads it: nbds:// with the operator's client folder when NBD runs TLS. */
function nbdUri(address: string, volume: string, tls: EndpointFile["tls"]): string {
  if (tls === undefined || tls.nbd === undefined || tls.nbd === "off") return `nbd://${address}/${volume}`;
  return `nbds://${address}/${volume}?tls-certificates=${tls.client_dir}`;
}

/** The ports `up` listens on; 0 is a free one. */
export interface PortPlan {
  readonly nbdPort: number;
  readonly grpcPort: number;
  readonly deviceNbdPort: number;
  readonly httpPort: number;
}

const portOptionNames = ["nbd-port", "grpc-port", "device-nbd-port", "http-port"] as const;

/** Every port free: what `up` falls back to when it was given no port option and a default is taken. */
const freePortPlan: PortPlan = { nbdPort: 0, grpcPort: 0, deviceNbdPort: 0, httpPort: 0 };

/**
 * The ports the options ask for. The device's NBD port follows --nbd-port
 * (0 stays 0). Asking for free gRPC ports (tests, benchmarks) asks for a
 * free HTTP port too, so such a run never fails on, or takes, 8080.
 */
export function portPlan(parsed: Parsed): PortPlan {
  const nbdPort = portOption(parsed, "nbd-port", nbdPortDefault);
  const grpcPort = portOption(parsed, "grpc-port", grpcPortDefault);
  return {
    nbdPort,
    grpcPort,
    deviceNbdPort: portOption(parsed, "device-nbd-port", nbdPort === 0 ? 0 : nbdPort + deviceNbdPortOffset),
    httpPort: portOption(parsed, "http-port", grpcPort === 0 ? 0 : httpPortDefault),
  };
}

/**
 * Where each kind of server listens: hosts' NBD (data), every gRPC server
 * and the device's raw LU exports (control: only apparatuses need them), and
 * the web console (http). --host sets the default of all three.
 */
export interface ListenHosts {
  readonly control: string;
  readonly data: string;
  readonly http: string;
}

export function listenHosts(parsed: Parsed): ListenHosts {
  const host = stringOption(parsed, "host") ?? "127.0.0.1";
  return {
    control: stringOption(parsed, "control-host") ?? host,
    data: stringOption(parsed, "data-host") ?? host,
    http: stringOption(parsed, "http-host") ?? host,
  };
}

/** Each port of the plan with the option that sets it and where it listens (appliance.ts lays them out the same way). */
export function portClaims(plan: PortPlan, apparatusCount: number, hosts: ListenHosts): PortClaim[] {
  const at = (base: number, offset: number): number => (base === 0 ? 0 : base + offset);
  const apparatusIds = Array.from({ length: apparatusCount }, (_unused, index) => index);
  return [
    { port: plan.grpcPort, option: "--grpc-port", what: "the device's gRPC", host: hosts.control },
    ...apparatusIds.map((index) => ({ port: at(plan.grpcPort, 1 + index), option: "--grpc-port", what: `apparatus a${index}'s gRPC`, host: hosts.control })),
    { port: at(plan.grpcPort, 1 + apparatusCount), option: "--grpc-port", what: "the controller's gRPC", host: hosts.control },
    ...apparatusIds.map((index) => ({ port: at(plan.nbdPort, index), option: "--nbd-port", what: `apparatus a${index}'s NBD`, host: hosts.data })),
    { port: plan.deviceNbdPort, option: "--device-nbd-port", what: "the device's LUs over NBD", host: hosts.control },
    { port: plan.httpPort, option: "--http-port", what: "the web console", host: hosts.http },
  ];
}

/**
 * The ports to listen on. A taken port is refused, naming it and its
 * option, when any port option was given; with none, a taken default (a
 * second appliance on this machine) makes every port a free one instead,
 * said on stderr: the endpoints are printed and in DIR/endpoints.json.
 */
async function choosePorts(parsed: Parsed, hosts: ListenHosts, apparatusCount: number, io: Io): Promise<PortPlan> {
  const plan = portPlan(parsed);
  const taken = await firstTakenPort(hosts.control, portClaims(plan, apparatusCount, hosts));
  if (taken === undefined) return plan;
  if (portOptionNames.some((name) => stringOption(parsed, name) !== undefined)) throw new PortTakenError(taken.claim, taken.problem);
  io.stderr.write(`switchyard up: default port ${taken.claim.port} (${taken.claim.what}) is taken, so every port is a free one instead (printed below, and in endpoints.json); ${portOptionNames.map((name) => `--${name}`).join(", ")} choose them\n`);
  return freePortPlan;
}

/**
 * Two appliances on one data folder would write one store: refuse while
 * endpoints.json names a live process (a UsageError: exit 2). Also what
 * `coordination export` asks before it reads a store that must be still.
 */
export async function refuseIfServed(dir: string): Promise<void> {
  const running = await readEndpointFile(dir).catch(() => undefined);
  if (running === undefined || running.pid === process.pid || !processAlive(running.pid)) return;
  throw new UsageError(`${dir} is served already by pid ${running.pid}; stop it first, give another --dir, or remove ${endpointFilePath(dir)} if no appliance runs there`);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive, under another user.
    return error instanceof Error && "code" in error && error.code === "EPERM";
  }
}

/**
 * The CA and certificates in DIR/tls, made on the first start. Nothing
 * serves TLS with them yet, so a machine without openssl still starts, told
 * how to make them later; any other failure (a CA key without its
 * certificate, a folder it may not write) stops the start.
 */
async function ensureCertificatesAtStart(dir: string, hosts: ListenHosts, apparatusCount: number, io: Io, required: boolean): Promise<void> {
  try {
    const made = await ensureApplianceCertificates(dir, hosts.control, apparatusCount, hosts.data);
    if (made.length > 0) io.stderr.write(`switchyard up: made ${made.length} new certificate(s) in ${certificateFolderOf(dir)} ('switchyard cert list --dir ${dir}' shows them)\n`);
  } catch (error) {
    if (required || !isSecurityError(error) || error.code !== "openssl-failed") throw error;
    io.stderr.write(`switchyard up: no certificates made in ${certificateFolderOf(dir)} (${error.message}); install openssl and start again, or use 'switchyard cert'\n`);
  }
}

/** Resolves on SIGINT or SIGTERM. */
export function interrupted(): Promise<string> {
  return new Promise((resolve) => {
    process.once("SIGINT", () => {
      resolve("SIGINT");
    });
    process.once("SIGTERM", () => {
      resolve("SIGTERM");
    });
  });
}

/** How messages name what gives `up` its certificates: they are the default, so what stops them. */
const upTlsWording = "TLS (the default: leave out --insecure)";

/** `switchyard up` built with `composition` (composition.ts). */
export function upCommand(composition: Composition): Command {
  return {
    words: ["up"],
    summary: "start the embedded appliance: a device, apparatuses and a controller",
    help: `Usage: switchyard up [--dir DIR] [--apparatuses N] [--nbd-port P] [--grpc-port P]
                     [--device-nbd-port P] [--http-port P] [--lu-size SIZE] [--extent-size SIZE] [--host H]
                     [--data-host H] [--control-host H] [--http-host H]
                     [--processors 1|2] [--tls | --insecure] [--nbd-tls MODE] [--etcd URLS]
                     [--output table|json|yaml]

Starts one storage device in DIR with two LUs, N apparatuses and an elected
controller, all in this process, prints every endpoint (the web console's
URL too), and serves until Ctrl-C. Starting again with the same DIR brings back every volume and its data.
On the first start it makes a cluster CA and certificates in DIR/tls
(the device, each apparatus, and an operator: 'switchyard cert list'), and
the web console's login tokens in DIR/console (operator-token to change,
viewer-token to look, metrics-token for scrapers beyond loopback).

Given no port option, when a default port is taken (another appliance on
this machine) it serves on free ports instead and says so; given any, a
port already taken is refused, naming the port and its option (exit 2).

Options:
  --dir DIR              data folder (default ./${defaultDataDir})
  --apparatuses N        apparatuses to start, 1 to ${apparatusesMax} (default 2)
  --nbd-port P           apparatus i serves NBD on P+i (default ${nbdPortDefault}; 0: free ports)
  --grpc-port P          the device's gRPC port; apparatus i uses P+1+i and the controller
                         P+1+N (default ${grpcPortDefault}; 0: free ports)
  --device-nbd-port P    where the device serves its LUs over NBD (default: the NBD port + ${deviceNbdPortOffset},
                         ${deviceNbdPortDefault}; with --nbd-port 0, a free port)
  --http-port P          the web console and /metrics (default ${httpPortDefault}, or a free port when --grpc-port is 0)
  --lu-size SIZE         size of each LU when DIR is new (default 1GiB; sparse files)
  --extent-size SIZE     storage area size when DIR is new, a power of two from 1MiB to 1GiB (default 4MiB)
  --host H               address to listen on (default 127.0.0.1); the three below each take one part
  --data-host H          where hosts reach the apparatuses' NBD (default: --host)
  --control-host H       where the gRPC servers listen, and the device's raw LU exports (default: --host)
  --http-host H          where the web console and /metrics listen (default: --host); beyond
                         loopback it serves HTTPS
  --tls                  the default, said out loud: every gRPC server (device, apparatuses, controller)
                         speaks mutual TLS with the certificates in DIR/tls, each method checked against
                         the caller's role; commands find DIR/tls/operator-admin through --dir DIR
                         (or --endpoint HOST:PORT --cert-dir DIR/tls/operator-admin)
  --insecure             plain gRPC and no caller checked, for experiments: warns at every start; refused
                         with an address other machines reach
${nbdTlsHelp("TLS (the default)")}
  --etcd URLS            coordinate on an existing etcd cluster (comma-separated client URLs): the
                         election, the configuration store and registrations live there, the device
                         keeps storage and copies; a new cluster is seeded from DIR's store
  --output FORMAT, -o    how to print the endpoints: table (default), json or yaml
  --json                 the same as --output json
${processorsHelp}

Example:
  switchyard up --dir ./switchyard-data
  switchyard up --dir ./second --nbd-port 11809 --grpc-port 51051 --http-port 8081   # another one beside it
  switchyard up --data-host 192.0.2.10 --control-host 127.0.0.1   # hosts on their network (NBD over TLS), control on loopback
  switchyard volume create vm1 --size 1GiB   # finds ./switchyard-data and its operator certificate
  nbdinfo 'nbds://127.0.0.1:10809/vm1?tls-certificates=./switchyard-data/tls/operator-admin'
  nbdinfo nbd://127.0.0.1:10809/vm1   # plain NBD too, on loopback (--nbd-tls on)
  xdg-open http://127.0.0.1:8080/   # log in with the token in ./switchyard-data/console/operator-token`,
    async run(argv, io) {
      const parsed = parse(argv, options, 0);
      const format = dataFormat(parsed);
      const dir = stringOption(parsed, "dir") ?? defaultDataDir;
      const hosts = listenHosts(parsed);
      const apparatusCount = integerOption(parsed, "apparatuses", 2, 1, apparatusesMax);
      // Every option is checked before anything is probed or written: a usage mistake says one line and changes nothing.
      const checked = {
        dir,
        host: hosts.control,
        dataHost: hosts.data,
        httpHost: hosts.http,
        apparatusCount,
        luCount,
        luSizeBytes: sizeOption(parsed, "lu-size") ?? luSizeDefaultBytes,
        extentSizeBytes: checkExtentSize(sizeOption(parsed, "extent-size") ?? extentSizeDefaultBytes),
        composition,
        controllerThread: processorsOption(stringOption(parsed, "processors")),
        ...withEtcd(etcdOption(stringOption(parsed, "etcd"))),
      };
      portPlan(parsed);
      // Mutual TLS unless --insecure says otherwise (issue 17): --tls only says the default out loud.
      const insecure = flag(parsed, "insecure");
      if (insecure && flag(parsed, "tls")) throw new UsageError("--insecure and --tls contradict each other: give one");
      const tls = !insecure;
      checkPlainControl(hosts.control, tls, insecure, upTlsWording);
      checkPlainHttp(hosts.http, tls, upTlsWording);
      const nbdTls = chooseNbdTls({ requested: nbdTlsOption(stringOption(parsed, "nbd-tls")), dataHost: hosts.data, certificates: tls, insecure, certificateOption: upTlsWording });
      await refuseIfServed(dir);
      const settings = { ...checked, ...(await choosePorts(parsed, hosts, apparatusCount, io)) };
      await mkdir(dir, { recursive: true });
      await rm(endpointFilePath(dir), { force: true });
      if (insecure) io.stderr.write(insecureWarning("up"));
      await ensureCertificatesAtStart(dir, hosts, apparatusCount, io, tls);
      const appliance = await startAppliance(tls ? { ...settings, tlsDir: certificateFolderOf(dir), nbdTls } : settings);
      // Listen for the signal before announcing the endpoints: a script may send it as soon as it sees them.
      const stop = interrupted();
      await writeEndpointFile(dir, appliance.endpoints);
      await printEndpoints(io, appliance, format);
      const signal = await stop;
      io.stderr.write(`switchyard up: ${signal}, stopping\n`);
      await rm(endpointFilePath(dir), { force: true });
      await appliance.close();
      return 0;
    },
  };
}

export const up: Command = upCommand({});

function withEtcd(etcd: ReturnType<typeof etcdOption>): { readonly etcd?: NonNullable<ReturnType<typeof etcdOption>> } {
  return etcd === undefined ? {} : { etcd };
}
