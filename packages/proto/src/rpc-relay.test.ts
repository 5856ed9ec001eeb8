// Goal: a call relayed from a gRPC server's thread to handlers elsewhere
// (rpc-relay.ts) behaves for its client as if the handlers served it
// directly: unary answers and failures with their trailers, server streams,
// bidirectional streams, cancellation, bytes that are no message, and
// handlers that go away.
// Method: a real grpc-js server on 127.0.0.1:0 whose methods are a
// RelaySender's, and a RelayEndpoint with the handlers on the other end of
// a MessageChannel (one thread here; the control thread test in
// @switchyard/console crosses threads), called by a real client.
import * as grpc from "@grpc/grpc-js";
import { MessageChannel } from "node:worker_threads";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { HealthClient } from "./gen/grpc/health/v1/Health.js";
import type { HealthCheckResponse__Output } from "./gen/grpc/health/v1/HealthCheckResponse.js";
import type { ControlReply__Output } from "./gen/switchyard/v1/ControlReply.js";
import { RelayEndpoint, RelaySender, bindGrpc, type RelayRequest, callUnary, errorCodeOf, loadGrpc } from "./index.js";
import { controlHandlers, eventually, healthHandlers, silentService, type SeenCalls } from "./testing/relay-handlers.js";

let server: grpc.Server;
let endpoint: RelayEndpoint;
/** The cancels the handlers' side was sent. */
let cancelsSent: number;
let health: HealthClient;
let address: string;
let seen: SeenCalls;

beforeEach(async () => {
  seen = { cancelled: 0 };
  const { port1, port2 } = new MessageChannel();
  endpoint = new RelayEndpoint();
  endpoint.addService(loadGrpc().grpc.health.v1.Health.service, healthHandlers(seen));
  endpoint.addService({ Control: loadGrpc().switchyard.v1.Apparatus.service.Control }, controlHandlers());
  endpoint.attach(port1);
  server = new grpc.Server();
  cancelsSent = 0;
  port1.on("message", (request: RelayRequest) => {
    if (request.kind === "cancel") cancelsSent += 1;
  });
  new RelaySender(port2).registerOn(server, endpoint.methods);
  address = `127.0.0.1:${await bindGrpc(server, "127.0.0.1", 0)}`;
  health = new (loadGrpc().grpc.health.v1.Health)(address, grpc.credentials.createInsecure());
});

afterEach(() => {
  health.close();
  server.forceShutdown();
  endpoint.detach();
});

describe("a relayed call", () => {
  it("answers a unary call, and its handler sees the caller and the deadline", async () => {
    const deadline = Date.now() + 5_000;
    const response = await callUnary<HealthCheckResponse__Output>((done) => health.Check({ service: "" }, { deadline }, done));
    expect(response).toEqual({ status: "SERVING" });
    expect(seen.peer).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(seen.subject).toBeUndefined(); // a plain server: no certificate
    expect(seen.deadlineMs).toBeGreaterThan(deadline - 1_000);
    // Sent as a timeout (grpc-timeout), so the server's clock adds a few milliseconds.
    expect(seen.deadlineMs).toBeLessThanOrEqual(deadline + 100);
    // grpc-js says 'cancelled' after every call it ends; an answered call is not cancelled to its handler.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(cancelsSent).toBe(0);
    expect(seen.cancelled).toBe(0);
  });

  it("fails a unary call with the handler's status, message and trailers", async () => {
    const failure = await callUnary((done) => health.Check({ service: "other" }, done)).catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: grpc.status.NOT_FOUND, details: "no service other" });
    expect(errorCodeOf(failure as grpc.ServiceError)).toBe("NOT_FOUND_HERE");
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(cancelsSent).toBe(0);
  });

  it("streams a server stream's messages, then its end or its failure", async () => {
    const read = (service: string): Promise<{ statuses: string[]; ended: unknown }> =>
      new Promise((resolve) => {
        const statuses: string[] = [];
        const stream = health.Watch({ service });
        stream.on("data", (message: { status: string }) => statuses.push(message.status));
        stream.on("end", () => { resolve({ statuses, ended: "end" }); });
        stream.on("error", (error) => { resolve({ statuses, ended: error }); });
      });
    expect(await read("")).toEqual({ statuses: ["SERVING", "NOT_SERVING"], ended: "end" });
    const broken = await read("broken");
    expect(broken.statuses).toEqual(["SERVING", "NOT_SERVING"]);
    expect(broken.ended).toMatchObject({ code: grpc.status.FAILED_PRECONDITION, details: "broken on purpose" });
  });

  it("tells the handler when its client cancels", async () => {
    const stream = health.Watch({ service: "open" });
    await new Promise((resolve) => stream.once("data", resolve));
    stream.on("error", () => undefined);
    stream.cancel();
    await eventually(() => seen.cancelled === 1);
    expect(cancelsSent).toBe(1);
  });

  it("carries a bidirectional stream both ways, and its end", async () => {
    const client = new (loadGrpc().switchyard.v1.Apparatus)(address, grpc.credentials.createInsecure());
    const stream = client.Control();
    const replies: string[] = [];
    const ended = new Promise((resolve, reject) => {
      stream.on("end", resolve);
      stream.on("error", reject);
    });
    stream.on("data", (reply: ControlReply__Output) => replies.push(reply.failure?.details ?? ""));
    for (const sequence of [1, 2, 3]) stream.write({ sequence, abort: { epoch: 1, change_id: "c" } });
    stream.end();
    await ended;
    client.close();
    expect(replies).toEqual(["seen 1", "seen 2", "seen 3"]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(cancelsSent).toBe(0);
  });

  it("refuses bytes that are no message of the method's type, naming the method", async () => {
    const failure = await new Promise<grpc.ServiceError | null>((resolve) => {
      const garbage = Buffer.from([0xff, 0xff, 0xff, 0xff]);
      health.makeUnaryRequest("/grpc.health.v1.Health/Check", (bytes: Buffer) => bytes, (bytes: Buffer) => bytes, garbage, (error) => { resolve(error); });
    });
    expect(failure).toMatchObject({ code: grpc.status.INVALID_ARGUMENT });
    expect(failure?.details).toContain("/grpc.health.v1.Health/Check: the request is not a message of its type");
  });

  it("ends a call in progress UNAVAILABLE when the handlers go away", async () => {
    const pending = callUnary((done) => health.Check({ service: silentService }, done)).catch((error: unknown) => error);
    await eventually(() => seen.peer !== undefined);
    endpoint.detach();
    expect(await pending).toMatchObject({ code: grpc.status.UNAVAILABLE });
    expect(seen.cancelled).toBe(1);
  });
});
