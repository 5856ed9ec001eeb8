// Goal: the etcd key layout keeps every key of a prefix inside its range,
// names one candidate key per lease, and refuses apparatus ids that cannot
// be a key segment with INVALID_ARGUMENT (an operating error).
// Method: pure functions, in memory; byte comparisons as etcd makes them.
import { describe, expect, it } from "vitest";
import { CoordinationError } from "./coordination.js";
import { etcdKeys, rangeEndOf } from "./etcd-keys.js";

describe("rangeEndOf", () => {
  it("raises the last byte below 0xff, so every key with the prefix sorts below the end", () => {
    expect(rangeEndOf(Buffer.from("/a/"))).toEqual(Buffer.from("/a0"));
    const end = rangeEndOf(Buffer.from([0x61, 0xff, 0xff]));
    expect(end).toEqual(Buffer.from([0x62]));
    expect(Buffer.compare(Buffer.from([0x61, 0xff, 0xff, 0xff]), end)).toBe(-1);
  });

  it("means every key from the prefix on for a prefix of only 0xff bytes", () => {
    expect(rangeEndOf(Buffer.from([0xff, 0xff]))).toEqual(Buffer.from([0]));
  });
});

describe("etcdKeys", () => {
  const keys = etcdKeys("/switchyard/");

  it("puts candidates under the election prefix, one fixed-width key per lease", () => {
    const candidate = keys.candidate("81985529216486895");
    expect(candidate.toString()).toBe("/switchyard/election/0123456789abcdef");
    expect(candidate.subarray(0, keys.electionPrefix.length)).toEqual(keys.electionPrefix);
    expect(Buffer.compare(candidate, keys.electionRangeEnd)).toBe(-1);
    expect(keys.candidate("1").length).toBe(candidate.length);
  });

  it("keeps the store, registrations and fences outside the election range", () => {
    for (const key of [keys.store, keys.registration("a"), keys.fenced("a"), keys.device("dev0"), keys.apparatus("a")]) {
      const inRange = Buffer.compare(key, keys.electionPrefix) >= 0 && Buffer.compare(key, keys.electionRangeEnd) < 0;
      expect(inRange).toBe(false);
    }
  });

  it("keeps device and apparatus records each in its own range", () => {
    expect(keys.device("dev0").toString()).toBe("/switchyard/device/dev0");
    const inRange = (key: Buffer, range: { prefix: Buffer; end: Buffer }): boolean =>
      Buffer.compare(key, range.prefix) >= 0 && Buffer.compare(key, range.end) < 0;
    expect(inRange(keys.apparatus("a1"), keys.apparatuses)).toBe(true);
    expect(inRange(keys.device("a1"), keys.apparatuses)).toBe(false);
    expect(inRange(keys.registration("a1"), keys.apparatuses)).toBe(false);
    expect(inRange(keys.device("dev0"), keys.devices)).toBe(true);
  });

  it("refuses an apparatus id that is empty, too long or has a slash", () => {
    for (const id of ["", "a/b", "x".repeat(257)]) {
      expect(() => keys.registration(id)).toThrow(CoordinationError);
      expect(() => keys.fenced(id)).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    }
  });

  it("tells registration and fenced keys from the rest, with the apparatus id", () => {
    expect(keys.registrationKeyOf(keys.registration("a1"))).toEqual({ family: "registration", apparatusId: "a1" });
    expect(keys.registrationKeyOf(keys.fenced("a1"))).toEqual({ family: "fenced", apparatusId: "a1" });
    expect(keys.registrationKeyOf(keys.store)).toBeUndefined();
    expect(keys.registrationKeyOf(keys.apparatus("a1"))).toBeUndefined();
  });
});
