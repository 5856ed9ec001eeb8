// Goal: a features file and an expected-failures list are read the way the
// README says: YAML's flat subset or JSON, every feature declared when there
// is no file, TLS features absent in a run without certificates, and every
// mistake a precise error naming the file and line. Method: parse fixed
// texts; nothing is launched.
import { describe, expect, it } from "vitest";
import { ExpectedFailuresError, parseExpectedFailures } from "./expected-failures.js";
import { FeaturesError, defaultFeatures, featureNames, holdDeadlineMsDefault, parseFeatures } from "./features.js";

describe("features file", () => {
  it("declares every feature by default, TLS ones only with certificates", () => {
    expect([...defaultFeatures(true).declared].sort()).toEqual([...featureNames].sort());
    expect(defaultFeatures(true).nbdTls).toBe("require");
    expect(defaultFeatures(false).declared.has("tls")).toBe(false);
    expect(defaultFeatures(false).declared.has("nbd-tls")).toBe(false);
    expect(defaultFeatures(false).holdDeadlineMs).toBe(holdDeadlineMsDefault);
  });

  it("reads the flat YAML subset, with a features: heading and comments", () => {
    const features = parseFeatures("# ours\nfeatures:\n  block-status: false   # not yet\n  nbd-tls: on\n  hold-deadline-ms: 3000\n", "f.yaml", true);
    expect(features.declared.has("block-status")).toBe(false);
    expect(features.declared.has("nbd-tls")).toBe(true);
    expect(features.nbdTls).toBe("on");
    expect(features.holdDeadlineMs).toBe(3000);
  });

  it("reads JSON, with or without a features object", () => {
    expect(parseFeatures('{"features": {"multi-conn": false}}', "f.json", true).declared.has("multi-conn")).toBe(false);
    expect(parseFeatures('{"fast-zero": false}', "f.json", true).declared.has("fast-zero")).toBe(false);
  });

  it.each([
    ["frobnicate: true\n", /unknown feature "frobnicate"/],
    ["tls: maybe\n", /tls must be true or false/],
    ["hold-deadline-ms: 0\n", /hold-deadline-ms must be/],
    ["just words\n", /f.yaml line 1: expected "name: value"/],
    ["{ broken", /not valid JSON/],
  ])("refuses %j", (text, message) => {
    expect(() => parseFeatures(text, "f.yaml", true)).toThrow(FeaturesError);
    expect(() => parseFeatures(text, "f.yaml", true)).toThrow(message);
  });
});

describe("expected-failures list", () => {
  const known = new Set(["stale-epoch", "health"]);

  it("reads one id a line, skipping comments and blank lines", () => {
    expect([...parseExpectedFailures("# gaps\n\nstale-epoch  # issue 12\n", "failing.txt", known)]).toEqual(["stale-epoch"]);
  });

  it("refuses an id that names no case", () => {
    expect(() => parseExpectedFailures("health\nno-such-case\n", "failing.txt", known)).toThrow(ExpectedFailuresError);
    expect(() => parseExpectedFailures("health\nno-such-case\n", "failing.txt", known)).toThrow(/failing.txt line 2: "no-such-case" is no case id/);
  });
});
