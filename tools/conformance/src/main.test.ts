// Goal: the command line documents itself and refuses mistakes the way the
// brief of issue 7 asks: --help with an example, exit 2 with one line on
// bad usage (a features or expected-failures file that cannot be read is
// bad usage too), --list naming every case with what it checks. Method: main()
// in-process with captured output; nothing is launched.
import { describe, expect, it } from "vitest";
import { capture } from "../test/io.js";
import { allCases } from "./cases/index.js";
import { exitPassed, exitUsage, main } from "./main.js";

describe("switchyard-conformance command line", () => {
  it("--help prints usage and an example", async () => {
    const captured = capture();
    expect(await main(["--help"], captured.io)).toBe(exitPassed);
    expect(captured.out()).toMatch(/^Usage: switchyard-conformance /);
    expect(captured.out()).toMatch(/Example:\n {2}switchyard-conformance --launch /);
  });

  it("--list names every case with the claim or clause it checks", async () => {
    const captured = capture();
    expect(await main(["--list"], captured.io)).toBe(exitPassed);
    const lines = captured.out().trimEnd().split("\n");
    expect(lines).toHaveLength(allCases.length);
    for (const line of lines) expect(line).toMatch(/^[a-z0-9-]+\t.+\t\(.+\)$/);
    expect(new Set(allCases.map((conformanceCase) => conformanceCase.id)).size).toBe(allCases.length);
    // Issue 22: at least forty cases, each citing its claim or clause.
    expect(allCases.length).toBeGreaterThanOrEqual(40);
  });

  it.each([
    [[], /give --launch/],
    [["--launch", "x", "--apparatus", "127.0.0.1:1"], /not both/],
    [["--apparatus", "127.0.0.1:1", "--nbd", "127.0.0.1:2"], /--apparatus needs --device/],
    [["--apparatus", "127.0.0.1:1", "--device", "127.0.0.1:2"], /--apparatus needs --nbd/],
    [["--apparatus", "nowhere", "--nbd", "127.0.0.1:2", "--device", "127.0.0.1:3"], /is not HOST:PORT/],
    [["--launch", "x", "--only", "("], /not a regular expression/],
    [["--launch", "x", "--only", "^no-such-case$"], /matches no case/],
    [["--launch", "x", "--write-delay-ms", "-1"], /--write-delay-ms/],
    [["--frobnicate"], /Unknown option '--frobnicate'; --help lists the options/],
    [["--launch", "x", "--format", "xml"], /--format must be tap or junit/],
    [["--launch", "x", "--features", "/no/such/features.yaml"], /cannot read the features file/],
    [["--launch", "x", "--expected-failures", "/no/such/failing.txt"], /cannot read the expected-failures file/],
  ])("%j exits 2 with one line", async (argv, message) => {
    const captured = capture();
    expect(await main(argv, captured.io)).toBe(exitUsage);
    expect(captured.err()).toMatch(message);
    expect(captured.err().trimEnd().split("\n")).toHaveLength(1);
  });
});
