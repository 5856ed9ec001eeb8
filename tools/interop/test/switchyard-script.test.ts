// Goal: `./switchyard` sets up only when the sources changed, and once a
// setup is done the next call does not set up again, whatever times turbo
// left on the files it restored from its cache.
// Method: the real script, copied into a scratch checkout whose setup.sh
// counts its runs and, like turbo's cache, leaves the CLI with an old time,
// and whose CLI prints a line. Files are made newer than the CLI with utimes.
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

const scriptPath = new URL("../../../switchyard", import.meta.url).pathname;
/** A time older than anything the test writes: what a cache restore may leave. */
const longAgo = new Date("2001-01-01T00:00:00Z");
const scriptTimeoutMs = 20_000;

let checkout = "";

function write(relativePath: string, text: string): string {
  const path = join(checkout, relativePath);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  return path;
}

function age(relativePath: string, when: Date): void {
  utimesSync(join(checkout, relativePath), when, when);
}

/** Runs the script; returns how many setups have run so far and what the CLI printed. */
function run(): { setups: number; stdout: string } {
  const result = spawnSync("bash", [join(checkout, "switchyard"), "hello"], { encoding: "utf8", timeout: scriptTimeoutMs });
  expect(result.status, result.stderr).toBe(0);
  return { setups: readFileSync(join(checkout, "setups"), "utf8").length, stdout: result.stdout };
}

beforeEach(() => {
  checkout = mkdtempSync(join(tmpdir(), "switchyard-script-"));
  copyFileSync(scriptPath, join(checkout, "switchyard"));
  mkdirSync(join(checkout, "node_modules"));
  write("setups", "");
  write("pnpm-lock.yaml", "lockfileVersion: '9.0'\n");
  write("packages/console/dist/cli.js", 'console.log("cli ran with", process.argv.slice(2).join(" "));\n');
  write("packages/console/src/cli.ts", "export {};\n");
  write("packages/proto/proto/table.proto", 'syntax = "proto3";\n');
  write("packages/proto/src/gen/table.ts", "export {};\n");
  write("packages/proto/src/messages.ts", "export {};\n");
  // Counts its runs, then leaves the CLI as a cache restore would: built long ago.
  write("scripts/setup.sh", `printf x >> "${join(checkout, "setups")}"\ntouch -d 2001-01-01 "${join(checkout, "packages/console/dist/cli.js")}"\n`);
  for (const path of ["pnpm-lock.yaml", "packages/console/src/cli.ts", "packages/proto/proto/table.proto", "packages/proto/src/gen/table.ts", "packages/proto/src/messages.ts"]) {
    age(path, new Date(longAgo.getTime() - 1000));
  }
  age("packages/console/dist/cli.js", longAgo);
});

afterEach(() => {
  rmSync(checkout, { recursive: true, force: true });
});

describe("./switchyard", () => {
  it("runs the CLI with the caller's arguments and does not set up when nothing is newer than the build", () => {
    const { setups, stdout } = run();
    expect(stdout).toBe("cli ran with hello\n");
    expect(setups).toBe(0);
  });

  it("sets up once after a source changed, not again on the next call though the cache left the CLI old", () => {
    age("packages/console/src/cli.ts", new Date());
    expect(run().setups).toBe(1);
    expect(run().setups).toBe(1);
  });

  it("sets up after a .proto file changed", () => {
    age("packages/proto/proto/table.proto", new Date());
    expect(run().setups).toBe(1);
  });

  it("does not set up when only generated protobuf types are newer (turbo rewrites them when tests run)", () => {
    age("packages/proto/src/gen/table.ts", new Date());
    age("packages/proto/src/messages.ts", new Date());
    expect(run().setups).toBe(0);
  });

  it("sets up when dependencies are missing", () => {
    rmSync(join(checkout, "node_modules"), { recursive: true });
    const result = spawnSync("bash", [join(checkout, "switchyard"), "hello"], { encoding: "utf8", timeout: scriptTimeoutMs });
    expect(result.stderr).toContain("setting up");
    expect(readFileSync(join(checkout, "setups"), "utf8")).toBe("x");
  });
});
