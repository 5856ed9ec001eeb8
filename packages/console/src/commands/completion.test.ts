// Goal: completion is made from what --help lists: an option line gives its
// name (and short name), and whether it takes a value; every command's words
// are in both scripts. Whether the shells complete with them is tested in
// real bash and zsh (tools/interop/test/cli-habits…).
// Method: completionEntry on a made-up command and on the real ones.
import { describe, expect, it } from "vitest";
import type { Command } from "../command.js";
import { commands } from "../main.js";
import { completionEntry, completionScript } from "./completion.js";

const madeUp: Command = {
  words: ["thing", "do"],
  summary: "",
  help: `Usage: switchyard thing do NAME --to LU [--watch]

Prose that mentions --not-an-option in passing.

Options:
  --to LU               where it goes
  --watch               follow it
  --output FORMAT, -o   table (default), json or yaml

Example:
  switchyard thing do x --to lu1`,
  run: () => Promise.resolve(0),
};

describe("completion", () => {
  it("reads options, short names and which take a value from the Options lines only", () => {
    expect(completionEntry(madeUp)).toEqual({
      words: "thing do",
      options: ["--help", "--to", "--watch", "--output", "-o"],
      valued: ["--to", "--output", "-o"],
    });
  });

  it("has every command's words and options in both scripts", () => {
    for (const shell of ["bash", "zsh"] as const) {
      const script = completionScript(shell, commands);
      for (const command of commands) {
        const entry = completionEntry(command);
        expect(script, `${shell}: ${entry.words}`).toContain(`'${entry.words}'`);
        expect(script, `${shell}: ${entry.words}`).toContain(`'${entry.options.join(" ")}'`);
      }
    }
  });

  it("gives every client command --output and --json", () => {
    for (const words of ["volume list", "cluster status", "change watch", "migrate", "version"]) {
      const command = commands.find((candidate) => candidate.words.join(" ") === words);
      expect(command && completionEntry(command).options, words).toEqual(expect.arrayContaining(["--output", "-o", "--json"]));
    }
  });
});
