/**
 * Results as TAP (version 14, on stdout as the cases finish) or JUnit XML,
 * and the closing line "N passed, N failed, N skipped" that scripts and CI
 * read. A skipped case says why (TAP `# SKIP`); a failure the
 * expected-failures list names is TAP `# TODO`, which does not fail the
 * run; a listed case that passed is a failure (the list must shrink).
 */

/**
 * passed, failed; skipped (a feature declared absent, or a circumstance
 * the case names); expected-failure (failed and listed); unexpected-pass
 * (passed but listed: counts as failed).
 */
export type Outcome = "passed" | "failed" | "skipped" | "expected-failure" | "unexpected-pass";

export interface CaseResult {
  readonly id: string;
  readonly title: string;
  /** The claim or spec clause the case checks. */
  readonly checks: string;
  readonly outcome: Outcome;
  /** Why it failed (what was expected and what the apparatus did), or why it was skipped. */
  readonly message: string;
  readonly durationMs: number;
}

export function tapHeader(caseCount: number): string {
  return `TAP version 14\n1..${caseCount}\n`;
}

/** YAML block strings: quoted as JSON, which YAML reads. */
function yamlString(text: string): string {
  return JSON.stringify(text);
}

/** TAP directives are one line: no newline and no '#' may end them early. */
function directiveText(text: string): string {
  return text.replaceAll("\n", " ").replaceAll("#", "no.");
}

function failureBlock(result: CaseResult): string {
  const block = [
    "  ---",
    `  checks: ${yamlString(result.checks)}`,
    `  message: ${yamlString(result.message)}`,
    `  duration_ms: ${Math.round(result.durationMs)}`,
    "  ...",
  ];
  return `${block.join("\n")}\n`;
}

export function tapLine(result: CaseResult, number: number): string {
  const name = `${number} - ${result.id}: ${result.title}`;
  switch (result.outcome) {
    case "passed":
      return `ok ${name}\n`;
    case "skipped":
      return `ok ${name} # SKIP ${directiveText(result.message)}\n`;
    case "expected-failure":
      return `not ok ${name} # TODO expected failure (listed)\n${failureBlock(result)}`;
    case "unexpected-pass":
    case "failed":
      return `not ok ${name}\n${failureBlock(result)}`;
  }
}

/** TAP's way to stop a run that cannot go on (the apparatus never started, say). */
export function tapBailOut(reason: string): string {
  return `Bail out! ${reason.replaceAll("\n", " ")}\n`;
}

export interface Counts {
  readonly passed: number;
  /** Failed and unexpectedly passed: what fails the run. */
  readonly failed: number;
  readonly skipped: number;
  readonly expectedFailures: number;
}

export function countsOf(results: readonly CaseResult[]): Counts {
  const count = (...outcomes: Outcome[]): number => results.filter((result) => outcomes.includes(result.outcome)).length;
  return { passed: count("passed"), failed: count("failed", "unexpected-pass"), skipped: count("skipped"), expectedFailures: count("expected-failure") };
}

/** The last line of every run; expected failures are named before it only when there are some. */
export function summaryLine(results: readonly CaseResult[]): string {
  const counts = countsOf(results);
  return `${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`;
}

function xmlEscape(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;").replaceAll("'", "&apos;");
}

function junitCase(result: CaseResult, suiteName: string): string[] {
  const seconds = (result.durationMs / 1000).toFixed(3);
  const attributes = `classname="${xmlEscape(suiteName)}" name="${xmlEscape(`${result.id}: ${result.title}`)}" time="${seconds}"`;
  switch (result.outcome) {
    case "passed":
      return [`    <testcase ${attributes}/>`];
    case "skipped":
      return [`    <testcase ${attributes}>`, `      <skipped message="${xmlEscape(result.message)}"/>`, "    </testcase>"];
    case "expected-failure":
      return [`    <testcase ${attributes}>`, `      <skipped message="${xmlEscape(`expected failure (listed): ${result.message}`)}"/>`, "    </testcase>"];
    case "failed":
    case "unexpected-pass":
      return [
        `    <testcase ${attributes}>`,
        `      <failure message="${xmlEscape(result.message)}" type="${xmlEscape(result.checks)}">${xmlEscape(result.message)}</failure>`,
        "    </testcase>",
      ];
  }
}

export function junitXml(results: readonly CaseResult[], suiteName: string): string {
  const counts = countsOf(results);
  const skipped = counts.skipped + counts.expectedFailures;
  const totalSeconds = (results.reduce((sum, result) => sum + result.durationMs, 0) / 1000).toFixed(3);
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${xmlEscape(suiteName)}" tests="${results.length}" failures="${counts.failed}" skipped="${skipped}" time="${totalSeconds}">`,
    `  <testsuite name="${xmlEscape(suiteName)}" tests="${results.length}" failures="${counts.failed}" errors="0" skipped="${skipped}" time="${totalSeconds}">`,
  ];
  for (const result of results) lines.push(...junitCase(result, suiteName));
  lines.push("  </testsuite>", "</testsuites>", "");
  return lines.join("\n");
}
