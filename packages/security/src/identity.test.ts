// Goal: only a subject in our exact form names an identity; anything else
// (another organization, an unknown role, a field given twice, an id
// outside the rule) names nobody. Method: the parser on hand-made subjects.
import { describe, expect, it } from "vitest";
import { SecurityError } from "./errors.js";
import { checkId, hostAltName, identityOfSubject, parseSubjectText, subjectOf } from "./identity.js";

describe("identityOfSubject", () => {
  it("reads O=switchyard, OU=role, CN=id", () => {
    expect(identityOfSubject({ O: "switchyard", OU: "apparatus", CN: "a0" })).toEqual({ role: "apparatus", id: "a0" });
    expect(identityOfSubject(parseSubjectText("O=switchyard\nOU=viewer\nCN=ops.1"))).toEqual({ role: "viewer", id: "ops.1" });
  });

  it.each([
    [{ O: "other", OU: "apparatus", CN: "a0" }],
    [{ OU: "apparatus", CN: "a0" }],
    [{ O: "switchyard", OU: "ca", CN: "switchyard-ca" }],
    [{ O: "switchyard", OU: "root", CN: "a0" }],
    [{ O: "switchyard", OU: ["apparatus", "operator"], CN: "a0" }],
    [{ O: "switchyard", OU: "apparatus", CN: ["a0", "a1"] }],
    [{ O: "switchyard", OU: "apparatus", CN: "a/0" }],
    [{ O: "switchyard", OU: "apparatus", CN: "" }],
  ])("names nobody for %j", (subject) => {
    expect(identityOfSubject(subject)).toBeUndefined();
  });
});

describe("subjects and hosts", () => {
  it("writes the subject in openssl's -subj form", () => {
    expect(subjectOf({ role: "device", id: "dev0" })).toBe("/O=switchyard/OU=device/CN=dev0");
  });

  it("refuses ids a subject cannot carry plainly", () => {
    for (const id of ["", "-a", "a,b", "a=b", "a b", "x".repeat(65)]) expect(() => checkId(id)).toThrow(SecurityError);
    expect(checkId("x".repeat(64))).toHaveLength(64);
  });

  it("puts addresses as IP and names as DNS", () => {
    expect(hostAltName("10.0.0.1")).toBe("IP:10.0.0.1");
    expect(hostAltName("fd00::1")).toBe("IP:fd00::1");
    expect(hostAltName("node1.example")).toBe("DNS:node1.example");
    expect(() => hostAltName("node_1")).toThrow(/neither/);
  });
});
