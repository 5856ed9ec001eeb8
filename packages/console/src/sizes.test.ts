// Goal: sizes parse the way people write them and bad ones are refused.
// Method: a table of inputs and expected byte counts.
import { describe, expect, it } from "vitest";
import { formatBytes, parseSize } from "./sizes.js";

describe("sizes", () => {
  it.each([
    ["512MiB", 512 * 1024 ** 2],
    ["1GiB", 1024 ** 3],
    ["4M", 4 * 1024 ** 2],
    ["4096", 4096],
    ["1.5GiB", 1.5 * 1024 ** 3],
    ["2GB", 2e9],
  ])("parses %s", (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });

  it.each(["12XB", "", "-1", "MiB", "1.3"])("refuses %j", (text) => {
    expect(parseSize(text)).toBeUndefined();
  });

  it("formats bytes", () => {
    expect(formatBytes(1024 ** 3)).toBe("1 GiB");
    expect(formatBytes(1536)).toBe("1.5 KiB");
  });
});
