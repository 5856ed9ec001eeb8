// Goal: hosts' NBD runs TLS wherever certificates allow it, and plain NBD
// never reaches other machines by accident. Method: chooseNbdTls and the
// --nbd-tls parser on a table of data hosts, certificates and flags.
import { describe, expect, it } from "vitest";
import { chooseNbdTls, nbdTlsOption, type NbdTlsChoice } from "./nbd-tls.js";
import { UsageError } from "./usage.js";

const base: NbdTlsChoice = { requested: undefined, dataHost: "127.0.0.1", certificates: false, insecure: false, certificateOption: "--tls" };

describe("chooseNbdTls", () => {
  it.each([
    ["loopback, no certificates", {}, "off"],
    ["loopback, certificates", { certificates: true }, "on"],
    ["network, certificates", { certificates: true, dataHost: "192.0.2.10" }, "require"],
    ["network, plain said on purpose", { dataHost: "192.0.2.10", insecure: true }, "off"],
    ["loopback, require asked", { certificates: true, requested: "require" }, "require"],
    ["network, on asked", { certificates: true, dataHost: "192.0.2.10", requested: "on" }, "on"],
  ] as const)("%s: %s", (_name, change, mode) => {
    expect(chooseNbdTls({ ...base, ...change })).toBe(mode);
  });

  it("refuses TLS without certificates and plain NBD off loopback without --insecure, in one line", () => {
    expect(() => chooseNbdTls({ ...base, requested: "on" })).toThrow(/--nbd-tls on needs certificates: give --tls/);
    expect(() => chooseNbdTls({ ...base, requested: "require", certificateOption: "--cert-dir" })).toThrow(/give --cert-dir/);
    expect(() => chooseNbdTls({ ...base, dataHost: "192.0.2.10" })).toThrow(UsageError);
    expect(() => chooseNbdTls({ ...base, dataHost: "0.0.0.0", certificates: true, requested: "off" })).toThrow(/plain NBD on 0.0.0.0/);
  });

  it("parses --nbd-tls", () => {
    expect(nbdTlsOption(undefined)).toBeUndefined();
    expect(nbdTlsOption("require")).toBe("require");
    expect(() => nbdTlsOption("yes")).toThrow(/--nbd-tls must be off, on, require, not yes/);
  });
});
