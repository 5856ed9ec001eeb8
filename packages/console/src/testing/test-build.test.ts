// Goal: the test flags exist only in the test build: the production
// commands refuse them and do not document them, while the test build's
// `up` and `apparatus serve` document them and refuse bad values with one
// line, exit 2. Method: main() and testBuildMain() in-process with captured
// output; every case fails in parsing, so no appliance starts.
import { describe, expect, it } from "vitest";
import { commands, exitUsage, main } from "../main.js";
import { captureIo as capture } from "../testing.js";
import { testBuildCommands, testBuildMain } from "./test-build.js";

const testFlags = ["--test-fault", "--test-crash-at", "--test-stop-at"];
const serve = ["apparatus", "serve", "--id", "a1", "--device", "127.0.0.1:1"];

describe("the test build of switchyard", () => {
  it("has the production commands, and only the production build's help lacks the test flags", () => {
    expect(testBuildCommands.map((command) => command.words.join(" "))).toEqual(commands.map((command) => command.words.join(" ")));
    for (const command of commands) for (const flag of testFlags) expect(command.help).not.toContain(flag);
    const help = testBuildCommands.find((command) => command.words.join(" ") === "apparatus serve")?.help ?? "";
    for (const flag of testFlags) expect(help).toContain(flag);
  });

  it.each([
    [["up", "--test-fault", "hold-nothing"]],
    [[...serve, "--test-crash-at", "after-apply"]],
  ])("the production build refuses %j", async (argv) => {
    const { io, err } = capture();
    expect(await main(argv, io)).toBe(exitUsage);
    expect(err()).toMatch(/unknown option --test-/);
  });

  it.each([
    [["up", "--test-fault", "bogus"], /--test-fault must be one of drain-early, /],
    [[...serve, "--test-crash-at=somewhere"], /--test-crash-at must be one of before-hold, /],
    [[...serve, "--test-crash-at", "after-hold", "--test-stop-at", "after-apply"], /not both/],
    [[...serve, "--test-fault"], /--test-fault needs a value/],
  ])("%j exits 2 with one line", async (argv, message) => {
    const { io, err } = capture();
    expect(await testBuildMain(argv, io)).toBe(exitUsage);
    expect(err()).toMatch(message);
    expect(err().trimEnd().split("\n")).toHaveLength(1);
  });
});
