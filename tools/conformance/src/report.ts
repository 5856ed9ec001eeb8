/**
 * Results as TAP (version 14, on stdout as the cases finish) or JUnit XML,
 * and the closing line "N passed, N failed" that scripts and CI read.
 */

export interface CaseResult {
  readonly id: string;
  readonly title: string;
  /** The claim or spec clause the case checks. */
  readonly checks: string;
  readonly passed: boolean;
  /** Why it failed: what was expected and what the apparatus did. */
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

export function tapLine(result: CaseResult, number: number): string {
  const head = `${result.passed ? "ok" : "not ok"} ${number} - ${result.id}: ${result.title}\n`;
  if (result.passed) return head;
  const block = [
    "  ---",
    `  checks: ${yamlString(result.checks)}`,
    `  message: ${yamlString(result.message)}`,
    `  duration_ms: ${Math.round(result.durationMs)}`,
    "  ...",
  ];
  return `${head}${block.join("\n")}\n`;
}

/** TAP's way to stop a run that cannot go on (the apparatus never started, say). */
export function tapBailOut(reason: string): string {
  return `Bail out! ${reason.replaceAll("\n", " ")}\n`;
}

export function summaryLine(results: readonly CaseResult[]): string {
  const passed = results.filter((result) => result.passed).length;
  return `${passed} passed, ${results.length - passed} failed`;
}

function xmlEscape(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;").replaceAll("'", "&apos;");
}

export function junitXml(results: readonly CaseResult[], suiteName: string): string {
  const failures = results.filter((result) => !result.passed).length;
  const seconds = (ms: number): string => (ms / 1000).toFixed(3);
  const totalMs = results.reduce((sum, result) => sum + result.durationMs, 0);
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${xmlEscape(suiteName)}" tests="${results.length}" failures="${failures}" time="${seconds(totalMs)}">`,
    `  <testsuite name="${xmlEscape(suiteName)}" tests="${results.length}" failures="${failures}" errors="0" time="${seconds(totalMs)}">`,
  ];
  for (const result of results) {
    const attributes = `classname="${xmlEscape(suiteName)}" name="${xmlEscape(`${result.id}: ${result.title}`)}" time="${seconds(result.durationMs)}"`;
    if (result.passed) {
      lines.push(`    <testcase ${attributes}/>`);
      continue;
    }
    lines.push(`    <testcase ${attributes}>`);
    lines.push(`      <failure message="${xmlEscape(result.message)}" type="${xmlEscape(result.checks)}">${xmlEscape(result.message)}</failure>`);
    lines.push("    </testcase>");
  }
  lines.push("  </testsuite>", "</testsuites>", "");
  return lines.join("\n");
}
