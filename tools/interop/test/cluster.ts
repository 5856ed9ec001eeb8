// The parts of the appliance as separate processes, for the tests that need
// the protocol to cross process boundaries: `switchyard device serve` and
// three `switchyard apparatus serve` children on ephemeral ports (a1, started
// first, wins the controller lease; the others are candidates). Every child is ended through the cluster that started it.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import type { NbdClient } from "@switchyard/nbd";
import { callUnary, deadlineAfter, loadGrpc, type ClusterStatus__Output, type StoreSnapshot__Output } from "@switchyard/proto";
import { cliPath, testingCliPath } from "./appliance.js";
import { connectHost } from "./host-load.js";
import { endOnWorkerExit } from "./worker-exit.js";

/** How long a child may take to print its endpoints, and the cluster to have every apparatus serving. */
export const startTimeoutMs = 20_000;
/** Polling interval while waiting for apparatuses to serve. */
const servingPollMs = 250;
/** One status call over loopback gRPC; a cluster in the middle of a takeover may hold it a while. */
const statusCallTimeoutMs = 10_000;
/** Between looks at the device's store for an apparatus's enrollment: a store read on loopback takes a few ms. */
const enrollmentPollMs = 50;
const stderrTailBytes = 4096;
export const apparatusIds = ["a1", "a2", "a3"] as const;
export type ApparatusId = (typeof apparatusIds)[number];

export interface ClusterOptions {
  /** A planted bug (the test build's `--test-fault`) per apparatus. */
  readonly faults?: Partial<Record<ApparatusId, string>>;
  /** More flags of the test build for one apparatus (`--test-crash-at P`); an apparatus with any, or with a fault, runs the test build. */
  readonly testFlags?: Partial<Record<ApparatusId, readonly string[]>>;
  /** Start the three apparatuses at once, so that their candidates race for the lease. */
  readonly startTogether?: boolean;
  /** More arguments for one apparatus's `apparatus serve`. */
  readonly extraArgs?: Partial<Record<ApparatusId, readonly string[]>>;
  readonly luSize?: string;
  /** More arguments for `device serve` (--extent-size SIZE). */
  readonly deviceArgs?: readonly string[];
  /**
   * etcd client URLs (issue 18): every process gets `--etcd`, the device
   * publishes its address there and the apparatuses find it there (no
   * `--device`).
   */
  readonly etcd?: readonly string[];
  /** With `etcd`: more devices (`device serve --id ID`, LUs ID-lu0, ID-lu1), started after the first, which seeds etcd. */
  readonly moreDevices?: readonly string[];
}

interface Served {
  readonly nbd: string;
  readonly grpc: string;
  readonly pid: number;
  /** Its controller candidate's own Controller service (not the forwarding one). */
  readonly controller: string;
  /** Present when started with --http-port: the web console, and the folder of its login tokens. */
  readonly console?: { readonly url: string; readonly tokens: string };
}

export class ProcessCluster {
  private readonly children: ChildProcess[] = [];
  /** The last of what each child wrote on stderr, for failure messages. */
  private readonly stderrTails = new Map<string, string>();
  private readonly served = new Map<ApparatusId, Served>();
  /** Each apparatus's process, with everything it wrote on stderr since it started. */
  private readonly apparatusChildren = new Map<ApparatusId, { readonly child: ChildProcess; stderr: string }>();
  private device: { child: ChildProcess; args: readonly string[]; grpc: string; nbd: string } | undefined;
  private constructor(readonly dir: string) {}

  static async start(options: ClusterOptions = {}): Promise<ProcessCluster> {
    const cluster = new ProcessCluster(await mkdtemp(join(tmpdir(), "switchyard-processes-")));
    try {
      await cluster.startChildren(options);
      return cluster;
    } catch (error) {
      await cluster.stop();
      throw error;
    }
  }

  private async startChildren(options: ClusterOptions): Promise<void> {
    const etcdArgs = options.etcd === undefined ? [] : ["--etcd", options.etcd.join(",")];
    const deviceArgs = ["device", "serve", "--dir", join(this.dir, "dev"), "--lu-size", options.luSize ?? "128MiB", ...etcdArgs, ...(options.deviceArgs ?? [])];
    const started = await this.startServing([...deviceArgs, "--grpc-port", "0", "--nbd-port", "0"]);
    const device = started.json as { device: { grpc: string; nbd: string } };
    this.device = { child: started.child, args: deviceArgs, ...device.device };
    for (const id of options.moreDevices ?? []) {
      await this.startServing([...deviceArgs.map((arg) => (arg === join(this.dir, "dev") ? join(this.dir, id) : arg)), "--id", id, "--grpc-port", "0", "--nbd-port", "0"]);
    }
    await this.startApparatuses(options);
  }

  /** Starts a1 and then a2 and a3 (a1 then wins the first election), or all three at once, and waits until all serve. */
  private async startApparatuses(options: ClusterOptions): Promise<void> {
    const deviceGrpc = this.device?.grpc ?? "";
    const start = async (id: ApparatusId): Promise<void> => {
      const fault = options.faults?.[id];
      const testFlags = [...(fault === undefined ? [] : ["--test-fault", fault]), ...(options.testFlags?.[id] ?? [])];
      const extra = options.extraArgs?.[id] ?? [];
      // A console keeps its login tokens in a folder of this cluster's own.
      const consoleDir = extra.includes("--http-port") && !extra.includes("--console-dir") ? ["--console-dir", join(this.dir, `console-${id}`)] : [];
      const where = options.etcd === undefined ? ["--device", deviceGrpc] : ["--etcd", options.etcd.join(",")];
      const args = [
        "apparatus", "serve", "--id", id, ...where, "--nbd-port", "0", "--grpc-port", "0",
        ...extra,
        ...consoleDir,
        ...testFlags,
      ];
      const started = await this.startServing(args, testFlags.length === 0 ? cliPath : testingCliPath);
      this.served.set(id, started.json as Served);
      const record = { child: started.child, stderr: "" };
      started.child.stderr?.on("data", (chunk: Buffer) => {
        record.stderr += chunk.toString();
      });
      this.apparatusChildren.set(id, record);
    };
    if (options.startTogether === true) {
      await Promise.all(apparatusIds.map(start));
    } else {
      // a1 prints its endpoints only once its candidate's first campaign step
      // has been answered (and won), so a2 and a3, started after that, can
      // only follow it.
      await start("a1");
      // The controller works through the apparatuses in the order they
      // enrolled, and cases name which of a2 and a3 a crash left in which
      // state: a3 starts once a2 has enrolled, while a2's candidate is still
      // starting (about a second of a start-up that used to come first).
      const a2 = start("a2");
      await this.untilEnrolledOrStarted("a2", a2);
      await Promise.all([a2, start("a3")]);
    }
    await this.waitUntilServing(apparatusIds);
  }

  /**
   * Resolves once apparatus `id` has enrolled with the device (its record is
   * in the device's store) or `started` has resolved, whichever is first;
   * rejects when `started` does. With --etcd an apparatus enrolls in etcd,
   * which the device's store may not show: then `started` decides.
   */
  private async untilEnrolledOrStarted(id: ApparatusId, started: Promise<void>): Promise<void> {
    let settled = false;
    const done = started.finally(() => {
      settled = true;
    });
    const deviceGrpc = this.device?.grpc ?? "";
    const device = new (loadGrpc().switchyard.v1.Device)(deviceGrpc, grpc.credentials.createInsecure());
    const enrolled = async (): Promise<void> => {
      while (!settled) {
        const snapshot = await callUnary<StoreSnapshot__Output>((answer) =>
          device.ReadStore({ omit_extents: true, omit_journal: true }, { deadline: deadlineAfter(statusCallTimeoutMs) }, answer),
        ).catch(() => undefined);
        if (snapshot?.state?.apparatuses.some((record) => record.id === id) === true) return;
        await new Promise((resolve) => setTimeout(resolve, enrollmentPollMs));
      }
    };
    try {
      await Promise.race([done, enrolled()]);
    } finally {
      settled = true;
      device.close();
    }
  }

  /**
   * The whole cluster loses power: every process is killed (SIGKILL), then
   * the device comes back from its folder on its ports and the apparatuses
   * start afresh (new ports, nothing planted), as after a site power cut.
   */
  async restartAll(): Promise<void> {
    const device = this.device;
    if (device === undefined) throw new Error("no device was started");
    const exits = this.children.filter((child) => child.exitCode === null && child.signalCode === null).map((child) => {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGKILL");
      return exited;
    });
    await Promise.all(exits);
    const ports = ["--grpc-port", device.grpc.split(":")[1] ?? "", "--nbd-port", device.nbd.split(":")[1] ?? ""];
    this.device = { ...device, child: (await this.startServing([...device.args, ...ports])).child };
    await this.startApparatuses({});
  }

  /**
   * Kills the device process (SIGKILL: what it had not written is lost, as in
   * a crash), leaves it down `downMs`, and starts it again from its folder on
   * the same ports, where the apparatuses look for it.
   */
  async restartDevice(downMs: number): Promise<void> {
    const device = await this.killDevice();
    await new Promise((resolve) => setTimeout(resolve, downMs));
    const ports = ["--grpc-port", device.grpc.split(":")[1] ?? "", "--nbd-port", device.nbd.split(":")[1] ?? ""];
    const started = await this.startServing([...device.args, ...ports]);
    this.device = { ...device, child: started.child };
  }

  /** Kills the device process (SIGKILL) and leaves it down; resolves with what restarts it once it has exited. */
  async killDevice(): Promise<{ readonly args: readonly string[]; readonly grpc: string; readonly nbd: string }> {
    const device = this.device;
    if (device === undefined) throw new Error("no device was started");
    const exited = new Promise((resolve) => device.child.once("exit", resolve));
    device.child.kill("SIGKILL");
    await exited;
    return device;
  }

  /** Starts `switchyard ARGS --json` (of the build `cli`) and resolves with the JSON it prints once serving. */
  private startServing(args: readonly string[], cli: string = cliPath): Promise<{ child: ChildProcess; json: unknown }> {
    const child = spawn(process.execPath, [cli, ...args, "--json"], { stdio: ["ignore", "pipe", "pipe"] });
    this.children.push(child);
    // A cluster whose start outlived its hook's timeout is stopped by nobody else.
    const forget = endOnWorkerExit(() => child.kill("SIGKILL"));
    child.once("exit", forget);
    return new Promise((resolve, reject) => {
      let out = "";
      let err = "";
      const timer = setTimeout(() => {
        reject(new Error(`${args.join(" ")}: nothing within ${startTimeoutMs} ms\n${err}`));
      }, startTimeoutMs);
      child.stderr.on("data", (chunk: Buffer) => {
        err += chunk.toString();
        this.stderrTails.set(args.slice(0, 4).join(" "), err.slice(-stderrTailBytes));
      });
      child.stdout.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        try {
          const json: unknown = JSON.parse(out);
          clearTimeout(timer);
          resolve({ child, json });
        } catch {
          // Not all of it yet.
        }
      });
      child.once("close", (code) => {
        clearTimeout(timer);
        reject(new Error(`${args.join(" ")} exited ${code}\n${err}`));
      });
    });
  }

  private apparatus(id: ApparatusId): Served {
    const served = this.served.get(id);
    if (served === undefined) throw new Error(`apparatus ${id} was not started`);
    return served;
  }

  /** The gRPC address of a1, which wins the first election (any apparatus passes console calls on to the controller). */
  get controller(): string {
    return this.apparatus("a1").grpc;
  }

  /** Sends `signal` to an apparatus's process (SIGKILL, SIGSTOP, SIGCONT); resolves once a killed one has exited. */
  async signal(id: ApparatusId, signal: "SIGKILL" | "SIGSTOP" | "SIGCONT"): Promise<void> {
    const child = this.apparatusChildren.get(id)?.child;
    if (child === undefined) throw new Error(`apparatus ${id} was not started`);
    const exited = signal === "SIGKILL" && child.exitCode === null ? new Promise((resolve) => child.once("exit", resolve)) : undefined;
    child.kill(signal);
    await exited;
  }

  /** Resolves once the apparatus has written a line matching `pattern` on stderr (since it started). */
  async waitForStderr(id: ApparatusId, pattern: RegExp, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this.apparatusChildren.get(id)?.stderr ?? "")) {
      if (Date.now() > deadline) throw new Error(`apparatus ${id} did not write ${String(pattern)} within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, servingPollMs));
    }
  }

  /** The controller candidate's own Controller address in apparatus `id`'s process. */
  candidate(id: ApparatusId): string {
    return this.apparatus(id).controller;
  }

  pid(id: ApparatusId): number {
    return this.apparatus(id).pid;
  }

  grpc(id: ApparatusId): string {
    return this.apparatus(id).grpc;
  }

  /** The web console's URL of an apparatus started with --http-port. */
  consoleUrl(id: ApparatusId): string {
    const url = this.apparatus(id).console?.url;
    if (url === undefined) throw new Error(`apparatus ${id} serves no web console: start it with --http-port`);
    return url;
  }

  /** The folder of the login tokens of an apparatus's web console. */
  consoleTokens(id: ApparatusId): string {
    const tokens = this.apparatus(id).console?.tokens;
    if (tokens === undefined) throw new Error(`apparatus ${id} serves no web console: start it with --http-port`);
    return tokens;
  }

  /** nbd://HOST:PORT/EXPORT of an apparatus, for external NBD clients. */
  nbdUri(id: ApparatusId, exportName: string): string {
    return `nbd://${this.apparatus(id).nbd}/${exportName}`;
  }

  connect(id: ApparatusId, exportName: string): Promise<NbdClient> {
    return connectHost(this.apparatus(id).nbd, exportName);
  }

  /**
   * Each apparatus's state as the controller reports it, asked through
   * apparatus `via` over gRPC in this process: a `cluster status` child
   * process per poll would cost a Node start-up (a second or more on a busy
   * CI machine) every time, and the CLI's own tests cover that command.
   */
  async apparatusStates(via: ApparatusId = "a1"): Promise<Map<string, string>> {
    const client = new (loadGrpc().switchyard.v1.Controller)(this.grpc(via), grpc.credentials.createInsecure());
    try {
      const status = await callUnary<ClusterStatus__Output>((done) => client.GetClusterStatus({}, { deadline: deadlineAfter(statusCallTimeoutMs) }, done));
      return new Map(status.apparatuses.map((apparatus) => [apparatus.id, apparatus.state]));
    } finally {
      client.close();
    }
  }

  async waitUntilServing(ids: readonly ApparatusId[], via: ApparatusId = "a1"): Promise<void> {
    const deadline = Date.now() + startTimeoutMs;
    for (;;) {
      // A cluster recovering (a device restarting, a controller taking over) may not answer yet.
      const states = await this.apparatusStates(via).catch(() => new Map<string, string>());
      if (ids.every((id) => states.get(id) === "APPARATUS_STATUS_SERVING")) return;
      if (Date.now() > deadline) throw new Error(`not all serving: ${JSON.stringify([...states])}\n${this.stderr()}`);
      await new Promise((resolve) => setTimeout(resolve, servingPollMs));
    }
  }

  /** What the children said on stderr lately: for a failing test's message. */
  stderr(): string {
    return [...this.stderrTails].map(([name, tail]) => `--- ${name}\n${tail}`).join("\n");
  }

  /** Ends every child this cluster started (a stopped one is resumed first) and removes its folder. */
  async stop(): Promise<void> {
    for (const child of this.children) {
      if (child.pid !== undefined && child.exitCode === null) {
        child.kill("SIGCONT");
        child.kill("SIGKILL");
      }
    }
    await rm(this.dir, { recursive: true, force: true });
  }
}

// The hosts these tests run through a cluster live in host-load.ts; imported from here as before.
export { connectHost, hostBlockBytes, stamp, startHostLoad, writersAndReaders } from "./host-load.js";
export type { HostConnector, HostLoad, HostLoadOptions, HostRoles } from "./host-load.js";
