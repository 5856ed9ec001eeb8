// Goal: a process publishes an address others can dial: the listen host by
// default, --publish-host when given, and never a wildcard (refused with a
// usage error that names the option). Method: publishHostOf and
// publishedAddress on the cases an operator meets.
import { describe, expect, it } from "vitest";
import { publishedAddress, publishHostOf } from "./publish-host.js";
import { UsageError } from "./usage.js";

describe("publishHostOf", () => {
  it("publishes the listen host when it is one address", () => {
    expect(publishHostOf("127.0.0.1", undefined)).toBe("127.0.0.1");
    expect(publishHostOf("192.0.2.6", undefined)).toBe("192.0.2.6");
  });

  it("publishes --publish-host when given", () => {
    expect(publishHostOf("0.0.0.0", "192.0.2.6")).toBe("192.0.2.6");
    expect(publishHostOf("127.0.0.1", "node-3.example")).toBe("node-3.example");
    expect(publishHostOf("::", "[2001:db8::6]")).toBe("[2001:db8::6]");
  });

  it("refuses a wildcard listen host without --publish-host, naming the option", () => {
    for (const wildcard of ["0.0.0.0", "::"]) {
      expect(() => publishHostOf(wildcard, undefined)).toThrow(UsageError);
      expect(() => publishHostOf(wildcard, undefined)).toThrow(/--publish-host/);
    }
  });

  it("refuses a --publish-host nobody can dial", () => {
    for (const bad of ["0.0.0.0", "", "host:7000", "two words", "x".repeat(254)]) {
      expect(() => publishHostOf("127.0.0.1", bad)).toThrow(UsageError);
    }
  });
});

describe("publishedAddress", () => {
  it("keeps the port and replaces the host", () => {
    expect(publishedAddress("0.0.0.0:50051", "192.0.2.6")).toBe("192.0.2.6:50051");
    expect(publishedAddress("127.0.0.1:10809", "node-3.example")).toBe("node-3.example:10809");
  });
});
