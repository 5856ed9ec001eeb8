// Goal: the grpc.health.v1 service answers Check and List for the server and
// the services it names (NOT_FOUND for others), and Watch streams the
// current status and every change until the client cancels.
// Method: a real grpc-js server on 127.0.0.1:0 with only the health
// service, and a real client; both are torn down after each test.
import * as grpc from "@grpc/grpc-js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { HealthClient } from "./gen/grpc/health/v1/Health.js";
import type { HealthCheckResponse__Output } from "./gen/grpc/health/v1/HealthCheckResponse.js";
import type { HealthListResponse__Output } from "./gen/grpc/health/v1/HealthListResponse.js";
import { HealthService } from "./health.js";
import { bindGrpc, callUnary, loadGrpc } from "./index.js";

const serviceName = "switchyard.v1.Device";
let server: grpc.Server;
let health: HealthClient;
let healthService: HealthService;

beforeEach(async () => {
  server = new grpc.Server();
  healthService = new HealthService([serviceName]);
  server.addService(loadGrpc().grpc.health.v1.Health.service, healthService.handlers);
  const port = await bindGrpc(server, "127.0.0.1", 0);
  health = new (loadGrpc().grpc.health.v1.Health)(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
});

afterEach(() => {
  health.close();
  server.forceShutdown();
});

describe("HealthService", () => {
  it("answers Check and List with SERVING for the server and its services, NOT_FOUND otherwise", async () => {
    expect(await callUnary<HealthCheckResponse__Output>((callback) => health.Check({ service: "" }, callback))).toEqual({ status: "SERVING" });
    expect(await callUnary<HealthCheckResponse__Output>((callback) => health.Check({ service: serviceName }, callback))).toEqual({ status: "SERVING" });
    await expect(callUnary<HealthCheckResponse__Output>((callback) => health.Check({ service: "nope" }, callback))).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
    expect(await callUnary<HealthListResponse__Output>((callback) => health.List({}, callback))).toEqual({
      statuses: { "": { status: "SERVING" }, [serviceName]: { status: "SERVING" } },
    });
  });

  it("streams the current status and its changes to a watcher until it cancels", async () => {
    const stream = health.Watch({ service: serviceName });
    const statuses: string[] = [];
    const ended = new Promise<unknown>((resolve) => {
      stream.on("error", resolve);
      stream.on("end", resolve);
    });
    await new Promise<void>((resolve) => {
      stream.on("data", (response: { status: string }) => {
        statuses.push(response.status);
        if (statuses.length === 1) healthService.setStatus(serviceName, "NOT_SERVING");
        if (statuses.length === 2) resolve();
      });
    });
    stream.cancel();
    expect(await ended).toMatchObject({ code: grpc.status.CANCELLED });
    expect(statuses).toEqual(["SERVING", "NOT_SERVING"]);
  });
});
