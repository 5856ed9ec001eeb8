/**
 * Goal: a unary call started on a gRPC client that was already closed (by a
 * concurrent fence or shutdown) fails as UNAVAILABLE with a message, which
 * every service maps as "retry the call", and not as a plain Error that a
 * service answers INTERNAL. The gRPC fuzzer (tools/fuzz) found the
 * controller answering RejoinApparatus with INTERNAL "Channel has been shut
 * down" this way.
 *
 * Method: a real grpc-js client of the health service, closed, then called
 * through callUnary; no server is needed, as grpc-js refuses before sending.
 */
import * as grpc from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { loadGrpc } from "./grpc-loader.js";
import { callUnary, isRpcError } from "./rpc.js";

describe("callUnary", () => {
  it("rejects a call on a closed client as UNAVAILABLE, with a message", async () => {
    const client = new (loadGrpc().grpc.health.v1.Health)("127.0.0.1:1", grpc.credentials.createInsecure());
    client.close();
    const error: unknown = await callUnary((done) => client.Check({ service: "" }, { deadline: Date.now() + 1_000 }, done)).catch((caught: unknown) => caught);
    expect(isRpcError(error, grpc.status.UNAVAILABLE)).toBe(true);
    expect(isRpcError(error) ? error.details : "").toMatch(/closed/);
  });

  it("passes any other error on unchanged: only a closed client becomes UNAVAILABLE", async () => {
    const broken = new RangeError("broken");
    const start = (): never => {
      throw broken;
    };
    await expect(callUnary(start)).rejects.toBe(broken);
  });
});
