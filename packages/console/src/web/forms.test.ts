// Goal: the web console's forms refuse bad input with exactly the line the
// CLI prints for the same values, and the page's extent strips merge runs of
// consecutive areas on one LU. Method: run the CLI in-process (main) and the
// form handlers with the same values against an address nothing listens on
// (the checks run before any call), and compare.
import * as grpc from "@grpc/grpc-js";
import { afterAll, describe, expect, it } from "vitest";
import { ConsoleClient } from "../controller-client.js";
import { main } from "../main.js";
import { captureIo } from "../testing.js";
import { createVolumeFromForm, FormError, moveExtentFromForm } from "./forms.js";
import { extentRuns } from "./snapshot.js";

const nowhere = "127.0.0.1:9";
const client = new ConsoleClient(nowhere, grpc.credentials.createInsecure());
afterAll(() => {
  client.close();
});

async function cliError(argv: readonly string[]): Promise<string> {
  const captured = captureIo();
  const code = await main([...argv, "--endpoint", nowhere], captured.io);
  expect(code).toBe(2);
  return captured.err().trim();
}

async function formError(action: Promise<unknown>): Promise<string> {
  const error: unknown = await action.then(() => undefined, (caught: unknown) => caught);
  expect(error).toBeInstanceOf(FormError);
  expect((error as FormError).httpStatus).toBe(400);
  return (error as FormError).message;
}

describe("web console forms", () => {
  it("say what the CLI says about a bad size, a missing size, a missing name", async () => {
    expect(await formError(createVolumeFromForm(client, { name: "v", size: "12 parsecs", lu: "" }))).toBe(await cliError(["volume", "create", "v", "--size", "12 parsecs"]));
    expect(await formError(createVolumeFromForm(client, { name: "v", size: " ", lu: "" }))).toBe(await cliError(["volume", "create", "v"]));
    expect(await formError(createVolumeFromForm(client, { name: "", size: "1GiB", lu: "" }))).toBe(await cliError(["volume", "create", "--size", "1GiB"]));
  });

  it("say what the CLI says about a bad or missing extent and a missing LU", async () => {
    expect(await formError(moveExtentFromForm(client, { volume: "v", extent: "-1", to: "lu1" }))).toBe(await cliError(["volume", "move", "v", "--extent=-1", "--to", "lu1"]));
    expect(await formError(moveExtentFromForm(client, { volume: "v", extent: "", to: "lu1" }))).toBe(await cliError(["volume", "move", "v", "--to", "lu1"]));
    expect(await formError(moveExtentFromForm(client, { volume: "v", extent: "0", to: "" }))).toBe(await cliError(["volume", "move", "v", "--extent", "0"]));
  });
});

describe("extentRuns", () => {
  it("merges consecutive areas of one LU and splits at a move", () => {
    const extents = [["lu0", 0], ["lu0", 1], ["lu1", 5], ["lu0", 3], ["lu0", 4]] as const;
    const volume = { name: "v", size_bytes: 5, extent_size_bytes: 1, extents: extents.map(([lu, area], index) => ({ index, lu, area })) };
    expect(extentRuns(volume)).toEqual({
      runs: [
        { lu: "lu0", first_extent: 0, extent_count: 2, first_area: 0 },
        { lu: "lu1", first_extent: 2, extent_count: 1, first_area: 5 },
        { lu: "lu0", first_extent: 3, extent_count: 2, first_area: 3 },
      ],
      truncated: false,
    });
  });
});
