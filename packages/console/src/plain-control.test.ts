// Goal: loopback is told apart from every address other machines may reach,
// so plain gRPC is refused exactly there. Method: the function on a table.
import { describe, expect, it } from "vitest";
import { checkPlainControl, isLoopback } from "./plain-control.js";

describe("isLoopback", () => {
  it.each([["127.0.0.1", true], ["127.0.0.2", true], ["::1", true], ["[::1]", true], ["localhost", true], ["0.0.0.0", false], ["::", false], ["10.0.0.1", false], ["host.example", false], ["128.0.0.1", false]])(
    "%s: %s",
    (host, loopback) => {
      expect(isLoopback(host)).toBe(loopback);
    },
  );

  it("lets TLS serve anywhere and plain text on loopback only", () => {
    expect(() => { checkPlainControl("10.0.0.1", true, false, "--tls"); }).not.toThrow();
    expect(() => { checkPlainControl("127.0.0.1", false, true, "--tls"); }).not.toThrow();
    expect(() => { checkPlainControl("10.0.0.1", false, false, "--tls"); }).toThrow(/serve it with --tls/);
  });
});
