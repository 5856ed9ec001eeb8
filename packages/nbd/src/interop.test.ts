/**
 * Goal: real NBD clients (libnbd's nbdinfo, nbdsh and nbdcopy; qemu-io)
 * negotiate with our server and move correct bytes through it, including
 * structured replies, multi-conn, error replies, block status (nbdinfo
 * --map) and fast zero.
 *
 * Method: NbdServer on 127.0.0.1 (ephemeral port) over a
 * MemoryExportProvider; each tool runs as a child process (asynchronously,
 * since the server shares this event loop) and the test asserts on its
 * output and on the exports' bytes. A tool missing from the machine fails its
 * test: the README's test command installs every one.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MemoryExportProvider } from "./memory-export.js";
import { NbdServer } from "./server.js";

const run = promisify(execFile);
const mebibyte = 1024 * 1024;
const toolTimeoutMs = 60_000;

let server: NbdServer;
let provider: MemoryExportProvider;
let base: string;
const unexpectedErrors: unknown[] = [];

beforeAll(async () => {
  provider = new MemoryExportProvider([
    { name: "disk", sizeBytes: 64 * mebibyte, description: "interop disk" },
    { name: "copy", sizeBytes: 64 * mebibyte },
    { name: "ro", sizeBytes: mebibyte, readOnly: true, multiConn: false },
    { name: "sparse", sizeBytes: 8 * mebibyte, contents: sparseContents() },
  ]);
  server = new NbdServer({ provider, port: 0, onError: (error) => unexpectedErrors.push(error) });
  const { port } = await server.listen();
  base = `nbd://127.0.0.1:${port}`;
});

afterAll(async () => {
  await server.close();
  expect(unexpectedErrors).toEqual([]);
});

/** 64 KiB of data at 1 MiB and 4 KiB at 5 MiB; the rest zeroes. */
function sparseContents(): Buffer {
  const contents = Buffer.alloc(8 * mebibyte);
  contents.fill(0x11, mebibyte, mebibyte + 65536);
  contents.fill(0x22, 5 * mebibyte, 5 * mebibyte + 4096);
  return contents;
}

interface NbdinfoExport {
  "export-name": string;
  description?: string;
  "export-size": number;
  is_read_only: boolean;
  can_flush: boolean;
  can_fua: boolean;
  can_trim: boolean;
  can_zero: boolean;
  can_multi_conn: boolean;
  can_df: boolean;
  block_size_minimum: number;
  block_size_preferred: number;
  block_size_maximum: number;
}

describe("interop with real NBD clients", () => {
  it("nbdinfo --json reports size, flags and block sizes", { timeout: toolTimeoutMs }, async () => {
    const { stdout } = await run("nbdinfo", ["--json", `${base}/disk`], { timeout: toolTimeoutMs });
    const info = JSON.parse(stdout) as { protocol: string; structured: boolean; exports: NbdinfoExport[] };
    expect(info.protocol).toBe("newstyle-fixed");
    expect(info.structured).toBe(true);
    const [disk] = info.exports;
    expect(disk).toMatchObject({
      "export-name": "disk",
      description: "interop disk",
      "export-size": 64 * mebibyte,
      is_read_only: false,
      can_flush: true,
      can_fua: true,
      can_trim: true,
      can_zero: true,
      can_multi_conn: true,
      can_df: true,
      block_size_minimum: 1,
      block_size_preferred: 4096,
      block_size_maximum: 32 * mebibyte,
    });
    const readOnly = JSON.parse((await run("nbdinfo", ["--json", `${base}/ro`], { timeout: toolTimeoutMs })).stdout) as {
      exports: NbdinfoExport[];
    };
    expect(readOnly.exports[0]).toMatchObject({ is_read_only: true, can_multi_conn: false, can_trim: false, can_zero: false });
  });

  it("nbdinfo --list lists every export", { timeout: toolTimeoutMs }, async () => {
    const { stdout } = await run("nbdinfo", ["--list", "--json", base], { timeout: toolTimeoutMs });
    const listing = JSON.parse(stdout) as { exports: NbdinfoExport[] };
    expect(listing.exports.map((entry) => entry["export-name"]).sort()).toEqual(["copy", "disk", "ro", "sparse"]);
    expect(listing.exports.find((entry) => entry["export-name"] === "disk")?.description).toBe("interop disk");
  });

  it("qemu-io writes a pattern and reads it back", { timeout: toolTimeoutMs }, async () => {
    const { stdout } = await run(
      "qemu-io",
      ["-f", "raw", "-c", "write -P 0xab 0 1M", "-c", "write -z 1M 64k", "-c", "read -P 0xab 0 1M", "-c", "read -P 0 1M 64k", "-c", "flush", `${base}/disk`],
      { timeout: toolTimeoutMs },
    );
    expect(stdout).toContain("wrote 1048576/1048576 bytes at offset 0");
    expect(stdout).toContain("read 1048576/1048576 bytes at offset 0");
    expect(stdout).not.toMatch(/Pattern verification failed|error/i);
    const disk = provider.dataOf("disk");
    expect(disk.subarray(0, mebibyte).every((byte) => byte === 0xab)).toBe(true);
  });

  // nbdsh is `python3 -m nbd`; libnbd's Python module belongs to the system
  // Python, which another python3 earlier on PATH would not see.
  it("nbdsh: structured replies, pread/pwrite, and errnos from the server", { timeout: toolTimeoutMs }, async () => {
    const size = 64 * mebibyte;
    const script = [
      "import errno",
      "assert h.get_structured_replies_negotiated()",
      "assert h.can_df() and h.can_fua() and h.can_multi_conn()",
      "h.set_strict_mode(0)", // Let out-of-range requests reach the server.
      "h.pwrite(b'\\x5c' * 70000, 12345, nbd.CMD_FLAG_FUA)",
      "assert h.pread(70000, 12345, nbd.CMD_FLAG_DF) == b'\\x5c' * 70000",
      "h.zero(4096, 12345)",
      "assert h.pread(4096, 12345) == bytes(4096)",
      "h.trim(4096, 0)",
      "h.flush()",
      "for call, want in ((lambda: h.pread(1, " + String(size) + "), errno.EINVAL), (lambda: h.pwrite(b'x', " + String(size) + "), errno.ENOSPC)):",
      "    try:",
      "        call()",
      "        raise SystemExit('no error')",
      "    except nbd.Error as error:",
      "        assert error.errnum == want, (error.errnum, want)",
      "print('nbdsh ok')",
    ].join("\n");
    const { stdout } = await run("/usr/bin/python3", ["-m", "nbd", "-u", `${base}/disk`, "-c", script], { timeout: toolTimeoutMs });
    expect(stdout).toContain("nbdsh ok");
    expect(provider.dataOf("disk").subarray(12345 + 4096, 12345 + 70000).every((byte) => byte === 0x5c)).toBe(true);
  });

  it("nbdinfo --map shows the holes and the data of an export, from base:allocation", { timeout: toolTimeoutMs }, async () => {
    const { stdout } = await run("nbdinfo", ["--map", "--json", `${base}/sparse`], { timeout: toolTimeoutMs });
    const map = (JSON.parse(stdout) as { offset: number; length: number; type: number }[]).map((entry) => [entry.offset, entry.length, entry.type]);
    expect(map).toEqual([
      [0, mebibyte, 3],
      [mebibyte, 65536, 0],
      [mebibyte + 65536, 4 * mebibyte - 65536, 3],
      [5 * mebibyte, 4096, 0],
      [5 * mebibyte + 4096, 3 * mebibyte - 4096, 3],
    ]);
  });

  it("nbdsh: a fast zero gets ENOTSUP from an export that cannot zero fast, and changes nothing", { timeout: toolTimeoutMs }, async () => {
    const script = [
      "import errno",
      "assert h.can_fast_zero()",
      "try:",
      "    h.zero(4096, " + String(mebibyte) + ", nbd.CMD_FLAG_FAST_ZERO)",
      "    raise SystemExit('no error')",
      "except nbd.Error as error:",
      "    assert error.errnum == errno.ENOTSUP, error.errnum",
      "print('fast zero ok')",
    ].join("\n");
    const { stdout } = await run("/usr/bin/python3", ["-m", "nbd", "-u", `${base}/sparse`, "-c", script], { timeout: toolTimeoutMs });
    expect(stdout).toContain("fast zero ok");
    expect(provider.dataOf("sparse")[mebibyte]).toBe(0x11);
  });

  it("nbdcopy copies an export over several connections", { timeout: toolTimeoutMs }, async () => {
    const source = provider.dataOf("disk");
    for (let offset = 0; offset < source.length; offset += 4096) source.writeUInt32BE(offset, offset);
    await run("nbdcopy", ["--connections=4", "--requests=32", `${base}/disk`, `${base}/copy`], { timeout: toolTimeoutMs });
    expect(provider.dataOf("copy").equals(source)).toBe(true);
  });
});
