// Goal: hosts' NBD over TLS works with the real clients hosts use (libnbd's
// nbdinfo and nbdcopy, qemu-img and qemu-io with GnuTLS, fio's nbd engine
// through nbdkit's libnbd-based nbd plugin), each
// presenting the operator's client folder that `switchyard up --tls` writes
// and names in endpoints.json; a plain client is refused under require; and
// `--nbd-tls` is refused with one line where it cannot be honoured.
// Method: start `switchyard up --tls --nbd-tls require` once (ephemeral
// ports, fresh folder), give each client its own volume, move data in and
// out over nbds:// or qemu's tls-creds-x509 object, and compare bytes.
import { createHash } from "node:crypto";
import { copyFile, mkdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  Appliance,
  assertOneLineFailure,
  assertQemuIoClean,
  assertSucceeded,
  createVolume,
  describeResult,
  isRecord,
  makeScratchDir,
  mebibyte,
  requireTools,
  runCli,
  runTool,
  sha256OfFile,
  writeRandomFile,
} from "./appliance.js";

// A 16 MiB copy over TLS on loopback takes well under a second; this means hung.
const toolTimeoutMs = 30_000;

let appliance: Appliance;
let scratchDir: string;
/** The operator's client folder (ca-cert.pem, client-cert.pem, client-key.pem), as endpoints.json names it. */
let clientDir: string;

beforeAll(async () => {
  await requireTools(["nbdinfo", "nbdcopy", "qemu-img", "qemu-io", "fio", "nbdkit"]);
  scratchDir = await makeScratchDir();
  appliance = await Appliance.start({ apparatusCount: 1, extraArgs: ["--tls", "--nbd-tls", "require", "--lu-size", "256MiB"] });
  const endpoints: unknown = JSON.parse(await readFile(appliance.endpointsPath, "utf8"));
  if (!isRecord(endpoints) || !isRecord(endpoints.tls)) throw new Error("endpoints.json of up --tls has no tls section");
  expect(endpoints.tls.nbd).toBe("require");
  const named = endpoints.tls.client_dir;
  if (typeof named !== "string") throw new Error("endpoints.json tls.client_dir is not a string");
  clientDir = named;
}, 60_000);

afterAll(async () => {
  const results = await Promise.allSettled([
    (appliance as Appliance | undefined)?.dispose(),
    (scratchDir as string | undefined) === undefined ? undefined : rm(scratchDir, { recursive: true, force: true }),
  ]);
  for (const result of results) if (result.status === "rejected") throw result.reason;
});

function nbdAddress(): { host: string; port: string } {
  const address = appliance.endpoints.apparatuses[0]?.nbd ?? "";
  const [host = "", port = ""] = address.split(":");
  return { host, port };
}

/** libnbd's URI for TLS with a certificate folder (nbdinfo, nbdcopy, fio). */
function nbdsUri(volume: string): string {
  const { host, port } = nbdAddress();
  return `nbds://${host}:${port}/${volume}?tls-certificates=${clientDir}`;
}

/** qemu's TLS credentials object and the image options that use it. */
function qemuTlsArgs(volume: string): { object: string[]; image: string } {
  const { host, port } = nbdAddress();
  return {
    object: ["--object", `tls-creds-x509,id=tls0,dir=${clientDir},endpoint=client`],
    image: `driver=nbd,host=${host},port=${port},export=${volume},tls-creds=tls0`,
  };
}

describe("hosts' NBD over TLS (switchyard up --tls --nbd-tls require)", () => {
  it("nbdinfo reads the export over TLS; a plain nbdinfo, and one without a client certificate, are refused", async () => {
    await createVolume(appliance, "info", "8MiB");
    const secured = await runTool("nbdinfo", ["--json", nbdsUri("info")], { timeoutMs: toolTimeoutMs });
    const info: unknown = JSON.parse(secured.stdout || "{}");
    assertSucceeded(secured);
    const exports = isRecord(info) && Array.isArray(info.exports) ? (info.exports as unknown[]) : [];
    const first = exports[0];
    expect(isRecord(first) ? first["export-size"] : undefined, describeResult(secured)).toBe(8 * mebibyte);
    const { host, port } = nbdAddress();
    const plain = await runTool("nbdinfo", [`nbd://${host}:${port}/info`], { timeoutMs: toolTimeoutMs });
    expect(plain.exitCode, describeResult(plain)).not.toBe(0);
    // libnbd words NBD_REP_ERR_TLS_REQD to NBD_OPT_GO as "not supported for export".
    expect(plain.stderr, describeResult(plain)).toMatch(/TLS|not supported for export/);
    // The CA alone: the server is trusted, but the host has no certificate to present.
    const caOnly = join(scratchDir, "ca-only");
    await mkdir(caOnly);
    await copyFile(join(clientDir, "ca-cert.pem"), join(caOnly, "ca-cert.pem"));
    const anonymous = await runTool("nbdinfo", [`nbds://${host}:${port}/info?tls-certificates=${caOnly}`], { timeoutMs: toolTimeoutMs });
    expect(anonymous.exitCode, describeResult(anonymous)).not.toBe(0);
  });

  it("nbdcopy copies 16 MiB in and out over TLS unchanged", async () => {
    await createVolume(appliance, "copy", "16MiB");
    const source = join(scratchDir, "copy-source.bin");
    const back = join(scratchDir, "copy-back.bin");
    const sourceSha256 = await writeRandomFile(source, 16 * mebibyte);
    assertSucceeded(await runTool("nbdcopy", ["--flush", source, nbdsUri("copy")], { timeoutMs: toolTimeoutMs }));
    assertSucceeded(await runTool("nbdcopy", [nbdsUri("copy"), back], { timeoutMs: toolTimeoutMs }));
    expect(await sha256OfFile(back)).toBe(sourceSha256);
  });

  it("qemu-img convert and qemu-io move data over TLS with tls-creds-x509", async () => {
    await createVolume(appliance, "qemu", "16MiB");
    const source = join(scratchDir, "qemu-source.img");
    const back = join(scratchDir, "qemu-back.img");
    const sourceSha256 = await writeRandomFile(source, 8 * mebibyte);
    const { object, image } = qemuTlsArgs("qemu");
    assertSucceeded(await runTool("qemu-img", ["convert", ...object, "-f", "raw", "--target-image-opts", "-n", source, image], { timeoutMs: toolTimeoutMs }));
    assertQemuIoClean(await runTool("qemu-io", [...object, "--image-opts", image, "-c", `write -P 0x5a ${8 * mebibyte} ${mebibyte}`, "-c", "flush"], { timeoutMs: toolTimeoutMs }));
    const read = await runTool("qemu-io", [...object, "--image-opts", image, "-c", `read -P 0x5a ${8 * mebibyte} ${mebibyte}`], { timeoutMs: toolTimeoutMs });
    assertQemuIoClean(read);
    expect(read.stdout, describeResult(read)).toMatch(/^read 1048576\/1048576 bytes/m);
    assertSucceeded(await runTool("qemu-img", ["convert", ...object, "--image-opts", "-O", "raw", image, back], { timeoutMs: toolTimeoutMs }));
    const copied = await readFile(back);
    expect(copied.length).toBe(16 * mebibyte);
    expect(createHash("sha256").update(copied.subarray(0, 8 * mebibyte)).digest("hex")).toBe(sourceSha256);
    expect(copied.subarray(8 * mebibyte, 9 * mebibyte).every((byte) => byte === 0x5a)).toBe(true);
  });

  it("fio's nbd engine writes and verifies through a libnbd TLS client (nbdkit's nbd plugin)", async () => {
    await createVolume(appliance, "fio", "16MiB");
    // fio's engine takes a URI but never lets libnbd read files it names
    // (tls-certificates=DIR is refused), and as root libnbd's default folder
    // is /etc/pki/libnbd: so nbdkit's nbd plugin, a libnbd client given the
    // folder, speaks TLS to the apparatus and serves fio on a private socket.
    const writtenBytes = 8 * mebibyte;
    const outputPath = join(scratchDir, "fio.json");
    const { host, port } = nbdAddress();
    const fio = [
      "fio", "--name=tls", "--ioengine=nbd", '--uri="$uri"',
      "--rw=randwrite", "--bs=4k", "--iodepth=8", `--size=${writtenBytes}`,
      "--verify=crc32c", "--do_verify=1", "--verify_fatal=1", "--verify_state_save=0",
      "--output-format=json", `--output=${outputPath}`,
    ].join(" ");
    const result = await runTool(
      "nbdkit",
      ["-U", "-", "nbd", `hostname=${host}`, `port=${port}`, "export=fio", "tls=require", `tls-certificates=${clientDir}`, "--run", fio],
      { timeoutMs: toolTimeoutMs, cwd: scratchDir },
    );
    assertSucceeded(result);
    const report: unknown = JSON.parse(await readFile(outputPath, "utf8"));
    const job: unknown = isRecord(report) && Array.isArray(report.jobs) ? (report.jobs as unknown[])[0] : undefined;
    if (!isRecord(job) || !isRecord(job.write) || !isRecord(job.read)) throw new Error("fio JSON job has no read/write sections");
    expect(job.error).toBe(0);
    expect(job.write.io_bytes).toBe(writtenBytes);
    expect(job.read.io_bytes).toBe(writtenBytes);
  });

  it("refuses --nbd-tls without certificates, and plain NBD on a network address, with one line", async () => {
    const dir = join(scratchDir, "refused");
    assertOneLineFailure(await runCli(["up", "--dir", dir, "--insecure", "--nbd-tls", "require"]), 2, /--nbd-tls require needs certificates: give TLS \(the default: leave out --insecure\)/);
    assertOneLineFailure(await runCli(["up", "--dir", dir, "--data-host", "192.0.2.10", "--nbd-tls", "off"]), 2, /plain NBD on 192\.0\.2\.10/);
    assertOneLineFailure(await runCli(["up", "--dir", dir, "--nbd-tls", "maybe"]), 2, /--nbd-tls must be off, on, require/);
  });
});
