// Goal: every gRPC server of a running appliance (the device, each
// apparatus, the controller) answers the standard health service and server
// reflection, so that a generic client such as grpcurl, holding none of our
// `.proto` files, lists its services and calls one.
// Method: one real `switchyard up`; for each server address in its
// endpoints.json, the ReflectionClient of @switchyard/proto/testing (a grpc-js
// client of grpc.reflection.v1 and v1alpha ServerReflectionInfo) lists the
// services, fetches the descriptor of a service and calls a read-only method
// of it by that descriptor alone; health is called the same way.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ReflectionClient } from "@switchyard/proto/testing";
import { Appliance } from "./appliance.js";

interface Server {
  readonly name: string;
  readonly address: () => string;
  readonly services: readonly string[];
  /** A read-only unary method of one of its services, and what its answer must hold. */
  readonly call: { readonly service: string; readonly method: string; readonly expected: Record<string, unknown> };
}

async function withClient<T>(address: string, version: "v1" | "v1alpha", body: (client: ReflectionClient) => Promise<T>): Promise<T> {
  const client = new ReflectionClient(address, version);
  try {
    return await body(client);
  } finally {
    client.close();
  }
}

describe("gRPC health and reflection on every server", () => {
  let appliance: Appliance;

  beforeAll(async () => {
    // A plain generic client (reflection over mutual TLS is console's tls.integration test).
    appliance = await Appliance.start({ extraArgs: ["--lu-size", "64MiB"], plain: true });
  });

  afterAll(async () => {
    await appliance.dispose();
  });

  const servers: readonly Server[] = [
    {
      name: "device",
      address: () => appliance.endpoints.device.grpc,
      services: ["grpc.health.v1.Health", "switchyard.v1.Device"],
      call: { service: "switchyard.v1.Device", method: "GetInventory", expected: { device_id: "dev0" } },
    },
    ...["a0", "a1"].map((id, index): Server => ({
      name: `apparatus ${id}`,
      address: () => appliance.endpoints.apparatuses[index]?.grpc ?? "",
      // An apparatus passes console calls on to the controller: it serves the Controller service too.
      services: ["grpc.health.v1.Health", "switchyard.v1.Apparatus", "switchyard.v1.Controller"],
      call: { service: "switchyard.v1.Apparatus", method: "GetState", expected: { apparatus_id: id } },
    })),
    {
      name: "controller",
      address: () => appliance.endpoints.controller.grpc,
      services: ["grpc.health.v1.Health", "switchyard.v1.Controller"],
      call: { service: "switchyard.v1.Controller", method: "ListVolumes", expected: { volumes: [] } },
    },
  ];

  for (const server of servers) {
    it(`${server.name}: reflection v1 and v1alpha list its services`, async () => {
      for (const version of ["v1", "v1alpha"] as const) {
        const listed = await withClient(server.address(), version, (client) => client.listServices());
        expect(listed.sort(), version).toEqual([...server.services]);
      }
    });

    it(`${server.name}: health and a method of its own are called by descriptors fetched over reflection`, async () => {
      await withClient(server.address(), "v1", async (client) => {
        expect(await client.callUnary("grpc.health.v1.Health", "Check", { service: "" })).toEqual({ status: "SERVING" });
        for (const service of server.services.filter((name) => name !== "grpc.health.v1.Health")) {
          expect(await client.callUnary("grpc.health.v1.Health", "Check", { service }), service).toEqual({ status: "SERVING" });
        }
        const answer = await client.callUnary(server.call.service, server.call.method, {});
        expect(answer).toMatchObject(server.call.expected);
      });
    });
  }
});
