// Goal: every error the etcd client raises maps to one coordination code,
// a stream's raw grpc-js error counts as unanswered, our own errors pass
// through, and anything else (a broken invariant) is rethrown unchanged.
// Method: the etcd client's and grpc-js's real error classes and statuses,
// constructed in memory and mapped.
import { Metadata, status } from "@grpc/grpc-js";
import { EtcdLeaseInvalidError, GRPCDeadlineExceededError, GRPCInvalidArgumentError, GRPCResourceExhastedError, GRPCUnavailableError } from "etcd3";
import { describe, expect, it } from "vitest";
import { CoordinationError, renewIntervalMs, validUntilMs } from "./coordination.js";
import { asCoordinationError } from "./etcd-errors.js";

function grpcError(code: status): Error {
  return Object.assign(new Error(`${code} raw`), { code, details: "raw", metadata: new Metadata() });
}

describe("asCoordinationError", () => {
  it("maps each etcd client error to its code, with the call named in the message", () => {
    const cases: [Error, string][] = [
      [new EtcdLeaseInvalidError("7"), "LEASE_LOST"],
      [new GRPCInvalidArgumentError("bad"), "INVALID_ARGUMENT"],
      [new GRPCResourceExhastedError("big"), "LIMIT_EXCEEDED"],
      [new GRPCUnavailableError("down"), "UNAVAILABLE"],
      [new GRPCDeadlineExceededError("slow"), "UNAVAILABLE"],
      [grpcError(status.UNAVAILABLE), "UNAVAILABLE"],
      [grpcError(status.DEADLINE_EXCEEDED), "UNAVAILABLE"],
      [grpcError(status.CANCELLED), "UNAVAILABLE"],
    ];
    for (const [error, code] of cases) {
      const mapped = asCoordinationError("writeStore", error);
      expect(mapped.code).toBe(code);
      expect(mapped.message).toMatch(/^writeStore: /);
      expect(mapped.cause).toBe(error);
    }
  });

  it("passes our own errors through and rethrows anything else", () => {
    const ours = new CoordinationError("NOT_HOLDER", "deposed");
    expect(asCoordinationError("fence", ours)).toBe(ours);
    const broken = new TypeError("a bug");
    expect(() => asCoordinationError("fence", broken)).toThrow(broken);
    expect(() => asCoordinationError("fence", grpcError(status.INTERNAL))).toThrow("raw");
  });
});

describe("term timing", () => {
  it("ends a term one lease after the send of its last granted request, and renews at a third", () => {
    expect(validUntilMs(10_000, 2_000)).toBe(12_000);
    expect(renewIntervalMs(6_000)).toBe(2_000);
    expect(renewIntervalMs(2_000) * 3).toBeLessThanOrEqual(2_000);
  });
});
