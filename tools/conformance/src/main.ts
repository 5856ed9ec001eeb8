/**
 * `switchyard-conformance`: parses the command line, runs the cases, prints
 * TAP as they finish (and JUnit XML on request), and ends with the line
 * "N passed, N failed". Exit 0 only when nothing failed; 1 when a case
 * failed or the run could not start; 2 on bad usage, with one line.
 */
import { writeFile } from "node:fs/promises";
import type { Writable } from "node:stream";
import { allCases } from "./cases/index.js";
import { helpText, parseCommandLine, UsageError, type SuiteOptions } from "./options.js";
import { junitXml, summaryLine, tapBailOut, tapHeader, tapLine, type CaseResult } from "./report.js";
import { runConformance, selectCases, SetupError } from "./runner.js";

export const exitPassed = 0;
export const exitFailed = 1;
export const exitUsage = 2;

export interface Io {
  readonly stdout: Writable;
  readonly stderr: Writable;
}

const suiteName = "switchyard-conformance";

async function run(options: SuiteOptions, io: Io): Promise<number> {
  const cases = selectCases(options.only);
  if (cases.length === 0) throw new UsageError(`--only ${String(options.only)} matches no case (see --list)`);
  io.stdout.write(tapHeader(cases.length));
  let results: CaseResult[];
  try {
    results = await runConformance(options, cases, {
      onResult: (result, index) => {
        io.stdout.write(tapLine(result, index + 1));
      },
    });
  } catch (error) {
    if (!(error instanceof SetupError)) throw error;
    io.stdout.write(tapBailOut(error.message));
    // Nothing was checked: every selected case counts as failed.
    results = cases.map((conformanceCase) => ({ id: conformanceCase.id, title: conformanceCase.title, checks: conformanceCase.checks, passed: false, message: error.message, durationMs: 0 }));
  }
  if (options.junitPath !== undefined) await writeFile(options.junitPath, junitXml(results, suiteName));
  io.stdout.write(`${summaryLine(results)}\n`);
  return results.every((result) => result.passed) ? exitPassed : exitFailed;
}

export async function main(argv: readonly string[], io: Io): Promise<number> {
  try {
    const command = parseCommandLine(argv);
    switch (command.kind) {
      case "help":
        io.stdout.write(`${helpText}\n`);
        return exitPassed;
      case "list":
        for (const conformanceCase of allCases) io.stdout.write(`${conformanceCase.id}\t${conformanceCase.title}\t(${conformanceCase.checks})\n`);
        return exitPassed;
      case "run":
        return await run(command.options, io);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`switchyard-conformance: ${error.message}\n`);
      return exitUsage;
    }
    throw error;
  }
}
