// Goal: the reports say the same thing in both formats, escape what XML
// needs escaped, mark skips and expected failures the way TAP and JUnit
// readers understand, and end with the summary line. Method: format fixed
// results and compare with the expected text.
import { describe, expect, it } from "vitest";
import { junitXml, summaryLine, tapHeader, tapLine, type CaseResult } from "./report.js";

const passed: CaseResult = { id: "health", title: "health answers", checks: "grpc health", outcome: "passed", message: "", durationMs: 12 };
const failed: CaseResult = { id: "hold-drains", title: "Hold drains", checks: "claims 1, 6", outcome: "failed", message: 'write 1 <late> & "lost"', durationMs: 321.4 };
const skipped: CaseResult = { id: "nbd-tls-required", title: "TLS", checks: "proto.md", outcome: "skipped", message: "by declaration: nbd-tls declared absent", durationMs: 0 };
const listed: CaseResult = { ...failed, id: "stale-epoch", outcome: "expected-failure" };
const surprise: CaseResult = { ...passed, id: "idempotent", outcome: "unexpected-pass", message: "passed, but listed" };

describe("reports", () => {
  it("TAP: a plan, ok lines, and a YAML block for a failure", () => {
    expect(tapHeader(2)).toBe("TAP version 14\n1..2\n");
    expect(tapLine(passed, 1)).toBe("ok 1 - health: health answers\n");
    expect(tapLine(failed, 2)).toBe(
      'not ok 2 - hold-drains: Hold drains\n  ---\n  checks: "claims 1, 6"\n  message: "write 1 <late> & \\"lost\\""\n  duration_ms: 321\n  ...\n',
    );
  });

  it("TAP: a skip says why, an expected failure is a TODO, an unexpected pass fails", () => {
    expect(tapLine(skipped, 3)).toBe("ok 3 - nbd-tls-required: TLS # SKIP by declaration: nbd-tls declared absent\n");
    expect(tapLine(listed, 4)).toMatch(/^not ok 4 - stale-epoch: Hold drains # TODO expected failure \(listed\)\n {2}---\n/);
    expect(tapLine(surprise, 5)).toMatch(/^not ok 5 - idempotent: health answers\n {2}---\n.*passed, but listed/s);
  });

  it("JUnit: one testcase per case, failures with their message escaped, skips marked", () => {
    const xml = junitXml([passed, failed, skipped], "suite");
    expect(xml).toContain('<testsuite name="suite" tests="3" failures="1" errors="0" skipped="1"');
    expect(xml).toContain('<testcase classname="suite" name="health: health answers" time="0.012"/>');
    expect(xml).toContain('<failure message="write 1 &lt;late&gt; &amp; &quot;lost&quot;" type="claims 1, 6">');
    expect(xml).toContain('<skipped message="by declaration: nbd-tls declared absent"/>');
  });

  it("the summary counts passes, failures (unexpected passes among them) and skips", () => {
    expect(summaryLine([passed, failed, skipped, listed, surprise])).toBe("1 passed, 2 failed, 1 skipped");
    expect(summaryLine([])).toBe("0 passed, 0 failed, 0 skipped");
  });
});
