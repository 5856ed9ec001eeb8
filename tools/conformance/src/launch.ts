/**
 * `--launch`: starts the apparatus under test as the tester's command, on
 * free ports the suite picked, and stops it (its whole process group)
 * afterwards. What it printed is kept for the report of a failed start.
 */
import { spawn, type ChildProcess } from "node:child_process";
import net from "node:net";

/** What the launched process printed, kept for a failed start's message. */
const outputKeptBytesMax = 16 * 1024;
/** After SIGTERM, how long the apparatus has to stop before it gets SIGKILL. */
const stopTimeoutMs = 10_000;

export interface LaunchedApparatus {
  readonly grpcAddress: string;
  readonly nbdAddress: string;
  /** The command as run, placeholders replaced. */
  readonly command: string;
  /** The last of what it printed on stdout and stderr. */
  output(): string;
  /** Set once it exited and its output was read to the end: its exit code or signal. */
  exitStatus(): string | undefined;
  stop(): Promise<void>;
}

/** A port free now: bound and closed again (a tiny race, acceptable for loopback tests). */
export function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen({ host, port: 0 }, () => {
      const bound = server.address();
      server.close(() => {
        if (bound === null || typeof bound === "string") reject(new Error("no port bound"));
        else resolve(bound.port);
      });
    });
  });
}

export function fillPlaceholders(template: string, values: { device: string; nbdPort: number; grpcPort: number; certDir: string }): string {
  return template
    .replaceAll("{device}", values.device)
    .replaceAll("{nbd_port}", String(values.nbdPort))
    .replaceAll("{grpc_port}", String(values.grpcPort))
    .replaceAll("{cert_dir}", values.certDir);
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      resolve(false);
    }, timeoutMs);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    // The shell and everything it started: the group the detached child leads.
    process.kill(-child.pid, signal);
  } catch {
    // Already gone: nothing to stop.
  }
}

/** `certDir`: the apparatus's own certificate folder, for {cert_dir} ("" in a run without TLS). */
export async function launchApparatus(template: string, host: string, deviceAddress: string, certDir: string): Promise<LaunchedApparatus> {
  const nbdPort = await freePort(host);
  const grpcPort = await freePort(host);
  const command = fillPlaceholders(template, { device: deviceAddress, nbdPort, grpcPort, certDir });
  const child = spawn("/bin/sh", ["-c", command], { detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-outputKeptBytesMax);
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  let status: string | undefined;
  // "close", not "exit": it comes once stdout and stderr are drained, so a
  // failed start's message carries everything the process printed.
  child.once("close", (code, signal) => {
    status = signal === null ? `exit code ${String(code)}` : `signal ${signal}`;
  });
  return {
    grpcAddress: `${host}:${grpcPort}`,
    nbdAddress: `${host}:${nbdPort}`,
    command,
    output: () => output,
    exitStatus: () => status,
    async stop() {
      signalGroup(child, "SIGTERM");
      if (await waitForExit(child, stopTimeoutMs)) return;
      signalGroup(child, "SIGKILL");
      await waitForExit(child, stopTimeoutMs);
    },
  };
}
