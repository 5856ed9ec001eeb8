// Goal: every server bound by bindGrpc answers the standard health service
// for itself and each service it serves, and server reflection (v1 and
// v1alpha) lists exactly those services, sends descriptors from which a
// client that has none of our `.proto` files can call a method.
// Method: a real grpc-js server on 127.0.0.1:0 with the Device service (no
// handlers: grpc-js answers UNIMPLEMENTED for each) bound by bindGrpc, and
// the generic ReflectionClient of ./testing over the wire.
import * as grpc from "@grpc/grpc-js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { bindGrpc, isRpcError, loadGrpc, servedServiceNames } from "./index.js";
import { ReflectionClient } from "./testing.js";

let server: grpc.Server;
let address: string;

beforeEach(async () => {
  server = new grpc.Server();
  server.addService(loadGrpc().switchyard.v1.Device.service, {});
  const port = await bindGrpc(server, "127.0.0.1", 0);
  address = `127.0.0.1:${port}`;
});

afterEach(() => {
  server.forceShutdown();
});

describe("standard services", () => {
  it("the probe of served services sees what was added and leaves the server as it was", () => {
    const bare = new grpc.Server();
    expect(servedServiceNames(bare)).toEqual([]);
    bare.addService(loadGrpc().switchyard.v1.Apparatus.service, {});
    expect(servedServiceNames(bare)).toEqual(["switchyard.v1.Apparatus"]);
    expect(servedServiceNames(bare)).toEqual(["switchyard.v1.Apparatus"]);
  });

  for (const version of ["v1", "v1alpha"] as const) {
    it(`reflection ${version} lists the served services and health, and nothing else`, async () => {
      const client = new ReflectionClient(address, version);
      try {
        expect((await client.listServices()).sort()).toEqual(["grpc.health.v1.Health", "switchyard.v1.Device"]);
      } finally {
        client.close();
      }
    });
  }

  it("health answers by a descriptor fetched over reflection: the server and its service SERVING, others NOT_FOUND", async () => {
    const client = new ReflectionClient(address);
    try {
      expect(await client.callUnary("grpc.health.v1.Health", "Check", { service: "" })).toEqual({ status: "SERVING" });
      expect(await client.callUnary("grpc.health.v1.Health", "Check", { service: "switchyard.v1.Device" })).toEqual({ status: "SERVING" });
      const unknown = await client.callUnary("grpc.health.v1.Health", "Check", { service: "switchyard.v1.Apparatus" }).catch((error: unknown) => error);
      expect(isRpcError(unknown, grpc.status.NOT_FOUND)).toBe(true);
    } finally {
      client.close();
    }
  });

  it("a Device method is called by its descriptor alone and reaches the server", async () => {
    const client = new ReflectionClient(address);
    try {
      const root = await client.rootFor("switchyard.v1.Device");
      expect(Object.keys(root.lookupService("switchyard.v1.Device").methods)).toContain("GetInventory");
      const answer = await client.callUnary("switchyard.v1.Device", "GetInventory", {}).catch((error: unknown) => error);
      // No handler was given: grpc-js answers UNIMPLEMENTED, which it can only do once the path arrived.
      expect(isRpcError(answer, grpc.status.UNIMPLEMENTED)).toBe(true);
    } finally {
      client.close();
    }
  });

  it("an unknown symbol is an error from the server, not a hang", async () => {
    const client = new ReflectionClient(address);
    try {
      await expect(client.rootFor("switchyard.v1.NoSuchService")).rejects.toThrow(/reflection error 5/);
    } finally {
      client.close();
    }
  });
});
