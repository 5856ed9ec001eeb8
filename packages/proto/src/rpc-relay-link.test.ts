// Goal: a generated grpc-js client whose calls go over a RelayLink
// (rpc-relay-link.ts) straight to a RelayEndpoint behaves as if it called
// the server over the network: unary answers and failures with their
// trailers, server and bidirectional streams, deadlines, cancellation, and
// an endpoint that goes away; the handler sees the subject the link
// presents.
// Method: a RelayEndpoint on one end of a MessageChannel (one thread here;
// the appliance's controller thread crosses threads in the interop tests),
// real generated clients with the link's interceptor, no server at all:
// the address they are given is never dialled.
import * as grpc from "@grpc/grpc-js";
import { MessageChannel } from "node:worker_threads";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ApparatusClient } from "./gen/switchyard/v1/Apparatus.js";
import type { ControlReply__Output } from "./gen/switchyard/v1/ControlReply.js";
import type { HealthClient } from "./gen/grpc/health/v1/Health.js";
import type { HealthCheckResponse__Output } from "./gen/grpc/health/v1/HealthCheckResponse.js";
import { RelayEndpoint, RelayLink, callUnary, errorCodeOf, loadGrpc } from "./index.js";
import { controlHandlers, eventually, healthHandlers, silentService, type SeenCalls } from "./testing/relay-handlers.js";

/** An address nothing listens on: a call that reached the channel would fail UNAVAILABLE, not answer. */
const neverDialled = "127.0.0.1:9";
const subject = { O: "switchyard", OU: "apparatus", CN: "a0" };

let endpoint: RelayEndpoint;
let link: RelayLink;
let health: HealthClient;
let apparatus: ApparatusClient;
let seen: SeenCalls;

beforeEach(() => {
  seen = { cancelled: 0 };
  const { port1, port2 } = new MessageChannel();
  endpoint = new RelayEndpoint();
  endpoint.addService(loadGrpc().grpc.health.v1.Health.service, healthHandlers(seen));
  endpoint.addService({ Control: loadGrpc().switchyard.v1.Apparatus.service.Control }, controlHandlers());
  endpoint.attach(port1);
  link = new RelayLink(port2, subject);
  const options = { interceptors: [link.interceptor()] };
  health = new (loadGrpc().grpc.health.v1.Health)(neverDialled, grpc.credentials.createInsecure(), options);
  apparatus = new (loadGrpc().switchyard.v1.Apparatus)(neverDialled, grpc.credentials.createInsecure(), options);
});

afterEach(() => {
  health.close();
  apparatus.close();
  endpoint.detach();
  link.close();
});

describe("a call over a relay link", () => {
  it("answers a unary call; the handler sees the link's subject and the deadline", async () => {
    const deadline = Date.now() + 5_000;
    const response = await callUnary<HealthCheckResponse__Output>((done) => health.Check({ service: "" }, { deadline }, done));
    expect(response.status).toBe("SERVING");
    expect(seen.subject).toEqual(subject);
    expect(seen.deadlineMs).toBe(deadline);
  });

  it("fails a unary call with the handler's status, message and trailers", async () => {
    const failure = await callUnary((done) => health.Check({ service: "other" }, done)).then(() => undefined, (error: unknown) => error);
    expect(failure).toMatchObject({ code: grpc.status.NOT_FOUND, details: "no service other" });
    expect(errorCodeOf(failure as grpc.ServiceError)).toBe("NOT_FOUND_HERE");
  });

  it("streams a server stream's messages, then its end or its failure", async () => {
    const read = (service: string): Promise<{ statuses: string[]; error?: grpc.ServiceError }> =>
      new Promise((resolve) => {
        const statuses: string[] = [];
        const call = health.Watch({ service });
        call.on("data", (message: HealthCheckResponse__Output) => statuses.push(message.status));
        call.on("end", () => { resolve({ statuses }); });
        call.on("error", (error: grpc.ServiceError) => { resolve({ statuses, error }); });
      });
    expect(await read("")).toEqual({ statuses: ["SERVING", "NOT_SERVING"] });
    const broken = await read("broken");
    expect(broken.statuses).toEqual(["SERVING", "NOT_SERVING"]);
    expect(broken.error).toMatchObject({ code: grpc.status.FAILED_PRECONDITION, details: "broken on purpose" });
  });

  it("carries a bidirectional stream both ways, and its end", async () => {
    const call = apparatus.Control();
    const replies: number[] = [];
    call.on("data", (reply: ControlReply__Output) => replies.push(reply.sequence));
    const ended = new Promise<void>((resolve) => call.on("end", resolve));
    for (const sequence of [1, 2, 3]) call.write({ sequence });
    await eventually(() => replies.length === 3);
    call.end();
    await ended;
    expect(replies).toEqual([1, 2, 3]);
  });

  it("ends a call past its deadline DEADLINE_EXCEEDED and tells the handler", async () => {
    const failure = await callUnary((done) => health.Check({ service: silentService }, { deadline: Date.now() + 100 }, done)).then(() => undefined, (error: unknown) => error);
    expect(failure).toMatchObject({ code: grpc.status.DEADLINE_EXCEEDED });
    await eventually(() => seen.cancelled === 1);
  });

  it("ends a call in progress UNAVAILABLE when the handlers go away, and refuses new ones so", async () => {
    const pending = callUnary((done) => health.Check({ service: silentService }, done)).then(() => undefined, (error: unknown) => error);
    await eventually(() => seen.subject !== undefined);
    endpoint.detach();
    expect(await pending).toMatchObject({ code: grpc.status.UNAVAILABLE });
    const later = await callUnary((done) => health.Check({ service: "" }, done)).then(() => undefined, (error: unknown) => error);
    expect(later).toMatchObject({ code: grpc.status.UNAVAILABLE });
  });
});
