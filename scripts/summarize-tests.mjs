#!/usr/bin/env node
// Sums the vitest JSON reports of every workspace package into one closing
// line, "N passed, N failed, N skipped", for scripts/test.sh.
//
//   node scripts/summarize-tests.mjs --clean
//       removes every package's report, so a package whose tests did not run
//       this time cannot show last run's numbers.
//   node scripts/summarize-tests.mjs [--runner-exit-code N]
//       prints each failure with an excerpt of its message, then the summary
//       line; exits 1 if anything failed or no test ran at all.
//
// What counts as failed: every failed test; every test file that failed
// outside a test (an import error, a failing beforeAll) as one; every package
// with a test script but no report (its task never ran or crashed) as one;
// and, if the test runner exited non-zero while nothing above failed
// (an unhandled error, say), one more, so the line never reads clean for a
// red run.
import { existsSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = fileURLToPath(new URL("..", import.meta.url));
// Relative to each package: scripts/test.sh passes the same path to vitest.
const reportPath = join("test-artifacts", "vitest-report.json");

/** Package folders named by pnpm-workspace.yaml's `packages:` list ("dir/*" or "dir"). */
function workspacePackageDirs() {
  const yaml = readFileSync(join(repoRoot, "pnpm-workspace.yaml"), "utf8");
  const patterns = [];
  let inPackages = false;
  for (const line of yaml.split("\n")) {
    if (/^packages:\s*$/.test(line)) {
      inPackages = true;
      continue;
    }
    if (inPackages && /^\S/.test(line)) inPackages = false;
    const match = inPackages ? /^\s+-\s+["']?([^"'#\s]+)["']?/.exec(line) : null;
    if (match) patterns.push(match[1]);
  }
  if (patterns.length === 0) throw new Error("pnpm-workspace.yaml lists no packages");
  const dirs = [];
  for (const pattern of patterns) {
    if (pattern.endsWith("/*") && !pattern.slice(0, -2).includes("*")) {
      const parent = join(repoRoot, pattern.slice(0, -2));
      if (!existsSync(parent)) continue;
      for (const entry of readdirSync(parent, { withFileTypes: true })) {
        if (entry.isDirectory() && existsSync(join(parent, entry.name, "package.json"))) dirs.push(join(parent, entry.name));
      }
    } else if (!pattern.includes("*")) {
      if (existsSync(join(repoRoot, pattern, "package.json"))) dirs.push(join(repoRoot, pattern));
    } else {
      throw new Error(`summarize-tests.mjs does not understand the workspace pattern '${pattern}'`);
    }
  }
  return dirs.sort();
}

function packagesWithTests() {
  return workspacePackageDirs().filter((dir) => {
    const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
    return typeof manifest.scripts?.test === "string";
  });
}

function count(value, where) {
  if (!Number.isInteger(value) || value < 0) throw new Error(`${where}: not a count: ${JSON.stringify(value)}`);
  return value;
}

/** Lines of a failure's message shown from its start and from its end: enough to say why it failed where only the log's tail is seen. */
const failureExcerptLines = 8;

/** A failed test's first message without colours or stack frames: its first and last lines, indented under the test's name. */
function failureExcerpt(messages) {
  const first = Array.isArray(messages) ? String(messages[0] ?? "") : "";
  const lines = first.replace(/\u001b\[[0-9;]*m/g, "").split("\n").filter((line) => line.trim() !== "" && !/^\s+at /.test(line));
  const shown = lines.length <= 2 * failureExcerptLines ? lines : [...lines.slice(0, failureExcerptLines), "...", ...lines.slice(-failureExcerptLines)];
  return shown.length === 0 ? "" : `\n${shown.map((line) => `      ${line}`).join("\n")}`;
}

/** " (N ms)" for a test that ran: a timeout's message says nothing more than where the test began. */
function tookMs(duration) {
  return Number.isFinite(duration) ? ` (${Math.round(duration)} ms)` : "";
}

function summarizePackage(dir, totals, problems) {
  const name = relative(repoRoot, dir);
  const path = join(dir, reportPath);
  if (!existsSync(path)) {
    totals.failed += 1;
    problems.push(`${name}: no vitest report (its test task did not run, or crashed before reporting)`);
    return;
  }
  const report = JSON.parse(readFileSync(path, "utf8"));
  const passed = count(report.numPassedTests, `${name} numPassedTests`);
  const failedTests = count(report.numFailedTests, `${name} numFailedTests`);
  const skipped = count(report.numPendingTests, `${name} numPendingTests`) + count(report.numTodoTests, `${name} numTodoTests`);
  let failed = failedTests;
  for (const file of report.testResults ?? []) {
    const fileName = relative(repoRoot, file.name);
    const failing = (file.assertionResults ?? []).filter((test) => test.status === "failed");
    for (const test of failing) problems.push(`${fileName}: ${test.fullName}${tookMs(test.duration)}${failureExcerpt(test.failureMessages)}`);
    if (file.status === "failed" && failing.length === 0) {
      failed += 1;
      const reason = String(file.message ?? "").split("\n")[0] || "failed outside any test";
      problems.push(`${fileName}: ${reason}`);
    }
  }
  if (report.success !== true && failed === 0) {
    failed += 1;
    problems.push(`${name}: vitest reports failure with no failed test (no test files found?)`);
  }
  totals.passed += passed;
  totals.failed += failed;
  totals.skipped += skipped;
}

function main(argv) {
  const dirs = packagesWithTests();
  if (argv.includes("--clean")) {
    for (const dir of dirs) rmSync(join(dir, reportPath), { force: true });
    return 0;
  }
  const exitCodeIndex = argv.indexOf("--runner-exit-code");
  const runnerExitCode = exitCodeIndex < 0 ? 0 : Number(argv[exitCodeIndex + 1]);
  if (!Number.isInteger(runnerExitCode)) throw new Error("--runner-exit-code needs an integer");

  const totals = { passed: 0, failed: 0, skipped: 0 };
  const problems = [];
  for (const dir of dirs) summarizePackage(dir, totals, problems);
  if (runnerExitCode !== 0 && totals.failed === 0) {
    totals.failed += 1;
    problems.push(`the test runner exited with code ${runnerExitCode} although no test failed (see its output above)`);
  }
  if (totals.passed + totals.failed === 0) problems.push("no test ran");
  if (problems.length > 0) {
    console.log("Failures:");
    for (const problem of problems) console.log(`  ${problem}`);
  }
  console.log(`${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
  return totals.failed > 0 || totals.passed === 0 ? 1 : 0;
}

process.exitCode = main(process.argv.slice(2));
