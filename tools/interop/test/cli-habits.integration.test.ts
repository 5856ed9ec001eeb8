// Goal: the CLI fits the habits of other tools. `switchyard completion bash`
// and `zsh` really complete in those shells; `switchyard version` and
// `--version` print the version, --json and --output yaml the same data;
// --output yaml prints what --json prints; and a long command's progress is
// redrawn in place on a terminal and written as plain lines when piped.
// Method: the built CLI as a child process; the completion scripts loaded
// into real bash and zsh subprocesses, whose completion functions are called
// as the shells call them (bash: COMP_WORDS/COMP_CWORD, checked with
// `complete -p`; zsh: words/CURRENT with compadd recorded); a real appliance
// for the data and a migration, watched through a pipe and through a
// terminal (`script` runs it in a pseudo-terminal).
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml, parseAllDocuments } from "yaml";
import { Appliance, assertOneLineFailure, assertSucceeded, cliPath, createVolume, runCli, runTool } from "./appliance.js";

/** A shell loading the script and completing a few lines: well under a second. */
const shellTimeoutMs = 20_000;
/** A migration of a 16 MiB volume on loopback, watched to its end. */
const migrateTimeoutMs = 60_000;
const consolePackageVersion = (JSON.parse(readFileSync(new URL("../../../packages/console/package.json", import.meta.url), "utf8")) as { version: string }).version;

/** Lines a shell prints, one per completion asked: the candidates joined by spaces. */
async function completions(shell: "bash" | "zsh", script: string): Promise<string[]> {
  const args = shell === "bash" ? ["-c", script, "bash", process.execPath, cliPath] : ["-f", "-c", script, "zsh", process.execPath, cliPath];
  const result = await runTool(shell, args, { timeoutMs: shellTimeoutMs });
  assertSucceeded(result);
  expect(result.stderr).toBe("");
  return result.stdout.replace(/\n$/, "").split("\n");
}

const cases: readonly (readonly [string, string])[] = [
  ["switchyard vol", "volume"],
  ["switchyard volume ''", "create list show move resize delete"],
  ["switchyard volume create vm1 --si", "--size"],
  ["switchyard volume list -o ''", "table json yaml"],
  ["switchyard migrate ''", "cancel"],
  ["switchyard ver", "version"],
];

describe("completion", () => {
  it("bash: the script registers with complete, and completes commands, options and --output's formats", async () => {
    const lines = await completions("bash", `
      source <("$1" "$2" completion bash)
      complete -p switchyard
      ask() { COMP_WORDS=("$@"); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); COMPREPLY=(); _switchyard; echo "\${COMPREPLY[*]}"; }
      ${cases.map(([line]) => `ask ${line}`).join("\n")}
      ask switchyard up --dir ''
    `);
    expect(lines).toEqual(["complete -o default -F _switchyard switchyard", ...cases.map(([, expected]) => expected), ""]);
  });

  it("zsh: the script registers with compdef, and offers the same words (zsh filters them by what is typed)", async () => {
    const lines = await completions("zsh", `
      autoload -Uz compinit && compinit -u -D
      source <("$1" "$2" completion zsh)
      print -r -- $_comps[switchyard]
      compadd() { [[ $1 == -- ]] && shift; print -r -- "$*"; }
      _files() { print -r -- FILES; }
      ask() { words=("$@"); CURRENT=$#words; _switchyard; }
      ask switchyard volume ''
      ask switchyard volume list -o ''
      ask switchyard migrate ''
      ask switchyard up --dir ''
    `);
    expect(lines[0]).toBe("_switchyard");
    expect(lines.slice(1)).toEqual(["create list show move resize delete", "table json yaml", "cancel", "FILES"]);
  });

  it("refuses a shell it has no script for, in one line", async () => {
    assertOneLineFailure(await runCli(["completion", "fish"]), 2, /no completion for "fish": give bash or zsh/);
  });
});

describe("version", () => {
  it("prints the package's version as text, JSON and YAML, and --version is the same", async () => {
    const text = await runCli(["version"]);
    assertSucceeded(text);
    expect(text.stdout).toMatch(new RegExp(`^switchyard ${consolePackageVersion.replaceAll(".", "\\.")} \\(protocol switchyard\\.v1, Node\\.js ${process.versions.node}`));
    const dashed = await runCli(["--version"]);
    expect(dashed.stdout).toBe(text.stdout);
    const json = await runCli(["version", "--json"]);
    assertSucceeded(json);
    const yaml = await runCli(["version", "--output", "yaml"]);
    assertSucceeded(yaml);
    expect(JSON.parse(json.stdout)).toEqual({ version: consolePackageVersion, protocol: "switchyard.v1", node: process.versions.node, platform: `${process.platform}-${process.arch}` });
    expect(parseYaml(yaml.stdout)).toEqual(JSON.parse(json.stdout));
  });
});

describe("--output and progress against an appliance", () => {
  let appliance: Appliance;

  beforeAll(async () => {
    appliance = await Appliance.start({ extraArgs: ["--lu-size", "128MiB"] });
    await createVolume(appliance, "habits", "16MiB", ["--lu", "lu0"]);
  });

  afterAll(async () => {
    await appliance.dispose();
  });

  it("--output yaml and -o yaml print what --json prints; --output table what no option prints; a bad one is refused", async () => {
    // Commands whose answer stays the same between two calls (cluster status has the lease's expiry).
    for (const command of [["volume", "list"], ["device", "list"], ["apparatus", "list"]]) {
      const json = await appliance.cli([...command, "--json"]);
      assertSucceeded(json);
      for (const option of [["--output", "yaml"], ["-o", "yaml"]]) {
        const yaml = await appliance.cli([...command, ...option]);
        assertSucceeded(yaml);
        expect(parseYaml(yaml.stdout), command.join(" ")).toEqual(JSON.parse(json.stdout));
      }
      const table = await appliance.cli([...command, "--output", "table"]);
      const plain = await appliance.cli(command);
      expect(table.stdout).toBe(plain.stdout);
    }
    assertOneLineFailure(await appliance.cli(["volume", "create", "nope", "--size", "4MiB", "-o", "xml"]), 2, /--output must be table, json, yaml, not "xml"/);
    assertOneLineFailure(await appliance.cli(["volume", "list", "--json", "-o", "yaml"]), 2, /--json means --output json/);
    // The refused create changed nothing.
    expect((await appliance.cli(["volume", "list"])).stdout).not.toContain("nope");
  });

  it("migrate --watch: plain lines when piped, one line redrawn in place on a terminal, a YAML document per update with -o yaml", async () => {
    const piped = await appliance.cli(["migrate", "habits", "--to", "lu1", "--rate", "16MiB/s", "--watch"], migrateTimeoutMs);
    assertSucceeded(piped);
    expect(piped.stdout.includes("\r") || piped.stdout.includes("\u001b")).toBe(false);
    const lines = piped.stdout.trimEnd().split("\n");
    expect(lines.length).toBeGreaterThan(1);
    expect(lines.at(-1)).toMatch(/committed/);

    const watched = ["migrate", "habits", "--to", "lu0", "--rate", "16MiB/s", "--watch", "--dir", appliance.dir];
    const command = [process.execPath, cliPath, ...watched].map((word) => `'${word}'`).join(" ");
    // script(1) runs the command with a pseudo-terminal as its stdout and copies what it writes.
    const terminal = await runTool("script", ["-q", "-e", "-c", command, "/dev/null"], { timeoutMs: migrateTimeoutMs });
    assertSucceeded(terminal);
    const redraws = terminal.stdout.split("\r\u001b[2K").length - 1;
    expect(redraws).toBeGreaterThan(1);
    expect(terminal.stdout.trimEnd().split("\n")).toHaveLength(1);

    const yaml = await appliance.cli(["migrate", "habits", "--to", "lu1", "--watch", "-o", "yaml"], migrateTimeoutMs);
    assertSucceeded(yaml);
    const documents = parseAllDocuments(yaml.stdout).map((document) => document.toJS() as { state: string; kind: string });
    expect(documents.length).toBeGreaterThan(0);
    expect(documents.every((document) => document.kind === "migrate")).toBe(true);
    expect(documents.at(-1)?.state).toBe("committed");
  });
});
