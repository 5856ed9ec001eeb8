// Goal: every benchmark answers --help with what it measures, its options and
// an example (exit 0), and a mistyped option or value with one line that
// names it (exit 2), before it starts any server. Runs the built scripts as a
// person would.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const scripts = [
  { file: "run.js", command: "bench:speed", badValue: ["--runs", "0"] },
  { file: "change-time.js", command: "bench:change", badValue: ["--moves", "x"] },
  { file: "pause-latency.js", command: "bench:pause", badValue: ["--rate", "fast"] },
  { file: "failover.js", command: "bench:failover", badValue: ["--backends", "zookeeper"] },
  { file: "migration.js", command: "bench:migration", badValue: ["--size-mib", "6"] },
  { file: "tls-cost.js", command: "bench:tls", badValue: ["--seconds", "-1"] },
] as const;
/** Generous for a node start on a busy machine; a script that started a server would take far longer. */
const answerTimeoutMs = 15_000;

function run(file: string, args: readonly string[]): { status: number | null; stdout: string; stderr: string } {
  const path = fileURLToPath(new URL(`../dist/${file}`, import.meta.url));
  const result = spawnSync(process.execPath, [path, ...args], { encoding: "utf8", timeout: answerTimeoutMs });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("the benchmarks' command line", () => {
  for (const script of scripts) {
    it(`${script.command} --help names its options and an example`, () => {
      const { status, stdout } = run(script.file, ["--", "--help"]);
      expect(status).toBe(0);
      expect(stdout).toContain(`Usage: pnpm ${script.command}`);
      expect(stdout).toMatch(/Options:\n {2}--/);
      expect(stdout).toMatch(new RegExp(`Examples:\\n {2}pnpm ${script.command}`));
    });

    it(`${script.command} refuses an unknown option and a bad value with one line and exit 2`, () => {
      for (const args of [["--no-such-option"], [...script.badValue]]) {
        const { status, stdout, stderr } = run(script.file, args);
        expect(status).toBe(2);
        expect(stdout).toBe("");
        const lines = stderr.trimEnd().split("\n");
        expect(lines).toHaveLength(1);
        // The line names the option at fault.
        expect(lines[0]?.startsWith(`${script.command}: `)).toBe(true);
        expect(lines[0]).toContain(args[0]);
        expect(lines[0]).toContain(`pnpm ${script.command} -- --help`);
      }
    });
  }
});
