// Goal: the progress bar shows the fraction done, whatever it is given.
import { describe, expect, it } from "vitest";
import { progressBar, progressBarCells } from "./output.js";

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
