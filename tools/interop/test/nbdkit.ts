/**
 * An nbdkit server for the tests of external devices: Debian's nbdkit, the
 * file plugin on a file in the test's folder, on a loopback port of its own.
 * It can be killed and started again on the same file and port, as an
 * operator would bring a storage server back.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { access, rm } from "node:fs/promises";
import net from "node:net";

/** nbdkit writes its pid file once it accepts connections; it does so in well under a second. */
export const nbdkitStartTimeoutMs = 10_000;
const pidFilePollMs = 50;

/** A port that was free a moment ago: nbdkit cannot be told to pick one and say which. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => { resolve(); }));
  if (address === null || typeof address === "string") throw new Error("no TCP address for a free port");
  return address.port;
}

export class Nbdkit {
  private child: ChildProcess | undefined;
  private stderrTail = "";

  private constructor(
    readonly file: string,
    readonly port: number,
    private readonly pidFile: string,
  ) {}

  /** Serves `file` (which must exist, at its size) over NBD on a free loopback port. */
  static async start(file: string): Promise<Nbdkit> {
    const server = new Nbdkit(file, await freePort(), `${file}.nbdkit.pid`);
    await server.restart();
    return server;
  }

  /** nbd://127.0.0.1:PORT/EXPORT: the file plugin serves the file under any export name. */
  uri(exportName: string): string {
    return `nbd://127.0.0.1:${this.port}/${exportName}`;
  }

  get pid(): number {
    return this.child?.pid ?? 0;
  }

  /**
   * Starts it (again) on the same file and port, and waits until it accepts
   * connections. With `readErrorsWhile`, nbdkit's error filter fails every
   * read with EIO while that file exists: a disk going bad, on demand.
   */
  async restart(options: { readErrorsWhile?: string } = {}): Promise<void> {
    await rm(this.pidFile, { force: true });
    const errorFilter = options.readErrorsWhile === undefined ? [] : ["--filter=error"];
    const errorSettings = options.readErrorsWhile === undefined ? [] : ["error-pread=EIO", "error-pread-rate=100%", `error-pread-file=${options.readErrorsWhile}`];
    const args = ["-f", "-i", "127.0.0.1", "--port", String(this.port), "--pidfile", this.pidFile, ...errorFilter, "file", this.file, ...errorSettings];
    const child = spawn("nbdkit", args, { stdio: ["ignore", "ignore", "pipe"] });
    this.child = child;
    child.stderr.on("data", (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString()).slice(-2_000);
    });
    const startedMs = performance.now();
    for (;;) {
      if (await access(this.pidFile).then(() => true, () => false)) return;
      if (child.exitCode !== null) throw new Error(`nbdkit exited with ${child.exitCode}: ${this.stderrTail}`);
      if (performance.now() - startedMs > nbdkitStartTimeoutMs) throw new Error(`nbdkit did not start within ${nbdkitStartTimeoutMs} ms: ${this.stderrTail}`);
      await new Promise((resolve) => setTimeout(resolve, pidFilePollMs));
    }
  }

  /** SIGKILL, as a crash: connections drop at once and the port refuses. Resolves once it is gone. */
  async kill(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => { resolve(); }));
    child.kill("SIGKILL");
    await exited;
  }
}
