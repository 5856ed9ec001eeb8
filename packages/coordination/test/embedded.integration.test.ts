// Goal: the embedded coordination (a storage device's arbiter, store and
// registrations over the Device gRPC service) passes the shared suite.
// Method: a real device in a temporary folder behind a real gRPC server on
// loopback per case (embedded-device.ts); real time, 2 s terms.
import { coordinationSuite } from "../src/testing/index.js";
import { describe, expect, it } from "vitest";
import { freshEmbeddedCoordinator } from "./embedded-device.js";

coordinationSuite({ describe, it, expect }, {
  name: "embedded",
  leaseMs: 2_000,
  caseTimeoutMs: 30_000,
  fresh: freshEmbeddedCoordinator,
});
