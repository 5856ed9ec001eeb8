/**
 * `switchyard-conformance`: parses the command line, reads the features
 * and expected-failures files, runs the cases, prints TAP as they finish
 * (or JUnit XML at the end, and to a file on request), and ends with the
 * line "N passed, N failed, N skipped". Exit 0 only when nothing failed
 * (expected failures excepted, unexpected passes included); 1 when a case
 * failed or the run could not start; 2 on bad usage, with one line.
 */
import { writeFile } from "node:fs/promises";
import type { Writable } from "node:stream";
import { allCases, type ConformanceCase } from "./cases/index.js";
import { ExpectedFailuresError, readExpectedFailures } from "./expected-failures.js";
import { FeaturesError, readFeatures } from "./features.js";
import { helpText, parseCommandLine, UsageError, type SuiteOptions } from "./options.js";
import { countsOf, junitXml, summaryLine, tapBailOut, tapHeader, tapLine, type CaseResult } from "./report.js";
import { runConformance, selectCases, SetupError, type RunDeclarations } from "./runner.js";

export const exitPassed = 0;
export const exitFailed = 1;
export const exitUsage = 2;

export interface Io {
  readonly stdout: Writable;
  readonly stderr: Writable;
}

const suiteName = "switchyard-conformance";

async function declarations(options: SuiteOptions): Promise<RunDeclarations> {
  try {
    const features = await readFeatures(options.featuresPath, options.tls);
    const expectedFailures = await readExpectedFailures(options.expectedFailuresPath, new Set(allCases.map((conformanceCase) => conformanceCase.id)));
    return { features, expectedFailures };
  } catch (error) {
    // A file the tester wrote is part of the command: a mistake in it is bad usage, said in one line.
    if (error instanceof FeaturesError || error instanceof ExpectedFailuresError) throw new UsageError(error.message);
    throw error;
  }
}

function failedAll(cases: readonly ConformanceCase[], message: string): CaseResult[] {
  // Nothing was checked: every selected case counts as failed.
  return cases.map((conformanceCase) => ({ id: conformanceCase.id, title: conformanceCase.title, checks: conformanceCase.checks, outcome: "failed", message, durationMs: 0 }));
}

async function run(options: SuiteOptions, io: Io): Promise<number> {
  const cases = selectCases(options.only);
  if (cases.length === 0) throw new UsageError(`--only ${String(options.only)} matches no case (see --list)`);
  const declared = await declarations(options);
  const tap = options.format === "tap";
  // JUnit on stdout is one XML document: the progress and the summary go to stderr then.
  const progress = tap ? io.stdout : io.stderr;
  if (tap) io.stdout.write(tapHeader(cases.length));
  let results: CaseResult[];
  try {
    results = await runConformance(options, cases, declared, {
      onResult: (result, index) => {
        if (tap) io.stdout.write(tapLine(result, index + 1));
      },
    });
  } catch (error) {
    if (!(error instanceof SetupError)) throw error;
    progress.write(tapBailOut(error.message));
    results = failedAll(cases, error.message);
  }
  const xml = junitXml(results, suiteName);
  if (options.junitPath !== undefined) await writeFile(options.junitPath, xml);
  if (!tap) io.stdout.write(xml);
  const counts = countsOf(results);
  if (counts.expectedFailures > 0) progress.write(`# ${counts.expectedFailures} expected failures (listed in ${options.expectedFailuresPath ?? "the list"})\n`);
  progress.write(`${summaryLine(results)}\n`);
  return counts.failed === 0 ? exitPassed : exitFailed;
}

function listCases(io: Io): void {
  for (const conformanceCase of allCases) {
    const needs = conformanceCase.needs === undefined || conformanceCase.needs.length === 0 ? "" : ` [needs ${conformanceCase.needs.join(", ")}]`;
    io.stdout.write(`${conformanceCase.id}\t${conformanceCase.title}${needs}\t(${conformanceCase.checks})\n`);
  }
}

export async function main(argv: readonly string[], io: Io): Promise<number> {
  try {
    const command = parseCommandLine(argv);
    switch (command.kind) {
      case "help":
        io.stdout.write(`${helpText}\n`);
        return exitPassed;
      case "list":
        listCases(io);
        return exitPassed;
      case "run":
        return await run(command.options, io);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`switchyard-conformance: ${error.message.split("\n")[0] ?? error.message}\n`);
      return exitUsage;
    }
    throw error;
  }
}
