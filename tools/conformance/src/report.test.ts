// Goal: the reports say the same thing in both formats, escape what XML
// needs escaped, and end with the summary line. Method: format fixed
// results and compare with the expected text.
import { describe, expect, it } from "vitest";
import { junitXml, summaryLine, tapHeader, tapLine, type CaseResult } from "./report.js";

const passed: CaseResult = { id: "health", title: "health answers", checks: "grpc health", passed: true, message: "", durationMs: 12 };
const failed: CaseResult = { id: "hold-drains", title: "Hold drains", checks: "claims 1, 6", passed: false, message: 'write 1 <late> & "lost"', durationMs: 321.4 };

describe("reports", () => {
  it("TAP: a plan, ok lines, and a YAML block for a failure", () => {
    expect(tapHeader(2)).toBe("TAP version 14\n1..2\n");
    expect(tapLine(passed, 1)).toBe("ok 1 - health: health answers\n");
    expect(tapLine(failed, 2)).toBe(
      'not ok 2 - hold-drains: Hold drains\n  ---\n  checks: "claims 1, 6"\n  message: "write 1 <late> & \\"lost\\""\n  duration_ms: 321\n  ...\n',
    );
  });

  it("JUnit: one testcase per case, failures with their message escaped", () => {
    const xml = junitXml([passed, failed], "suite");
    expect(xml).toContain('<testsuite name="suite" tests="2" failures="1" errors="0"');
    expect(xml).toContain('<testcase classname="suite" name="health: health answers" time="0.012"/>');
    expect(xml).toContain('<failure message="write 1 &lt;late&gt; &amp; &quot;lost&quot;" type="claims 1, 6">');
  });

  it("the summary counts both", () => {
    expect(summaryLine([passed, failed])).toBe("1 passed, 1 failed");
    expect(summaryLine([])).toBe("0 passed, 0 failed");
  });
});
