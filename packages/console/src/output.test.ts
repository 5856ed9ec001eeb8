// Goal: the progress bar shows the fraction done, whatever it is given; and
// --output picks table, json or yaml (--json being json), refusing a bad
// format or a contradiction, with JSON and YAML holding the same data.
// Method: pure functions on parsed arguments and values; YAML read back
// with the same library.
import { describe, expect, it } from "vitest";
import { parse as parseYaml, parseAllDocuments } from "yaml";
import { formatData, formatDataUpdate, outputFormat, outputOptions, progressBar, progressBarCells } from "./output.js";
import { parse, UsageError } from "./usage.js";

describe("progressBar", () => {
  it.each([
    [0, 0, "  0%"],
    [0.5, progressBarCells / 2, " 50%"],
    [1, progressBarCells, "100%"],
    [1.7, progressBarCells, "100%"],
    [-1, 0, "  0%"],
    [Number.NaN, 0, "  0%"],
  ])("draws %f as %i cells and %s", (fraction, cells, percent) => {
    const bar = progressBar(fraction);
    expect(bar).toBe(`[${"#".repeat(cells)}${".".repeat(progressBarCells - cells)}] ${percent}`);
  });
});

describe("--output", () => {
  const formatOf = (argv: readonly string[]): string => outputFormat(parse(argv, outputOptions, 0));

  it.each([
    [[], "table"],
    [["--json"], "json"],
    [["--output", "json"], "json"],
    [["--output", "yaml"], "yaml"],
    [["-o", "yaml"], "yaml"],
    [["--output", "table"], "table"],
    [["--json", "--output", "json"], "json"],
  ])("%j is %s", (argv, format) => {
    expect(formatOf(argv)).toBe(format);
  });

  it("refuses an unknown format, and --json with another one, as usage errors", () => {
    expect(() => formatOf(["--output", "xml"])).toThrow(new UsageError('--output must be table, json, yaml, not "xml"'));
    expect(() => formatOf(["--json", "-o", "yaml"])).toThrow(UsageError);
  });

  it("writes the same data as JSON and as YAML, and a stream of YAML documents for updates", () => {
    const value = { name: "vm1", size_bytes: 1_073_741_824, extents: [{ index: 0, lu: "lu0", area: 3 }], ended_at: null, note: "a: colon, and # hash" };
    expect(JSON.parse(formatData("json", value))).toEqual(value);
    expect(parseYaml(formatData("yaml", value))).toEqual(value);
    const stream = formatDataUpdate("yaml", value) + formatDataUpdate("yaml", { ...value, name: "vm2" });
    expect(parseAllDocuments(stream).map((document) => document.toJS() as unknown)).toEqual([value, { ...value, name: "vm2" }]);
    expect(formatDataUpdate("json", value).split("\n")).toHaveLength(2);
  });
});
