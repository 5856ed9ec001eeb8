// Goal: a gRPC server with our credentials and authorization table lets
// each role call exactly the methods the table gives it, refuses the rest
// with the exact status before the handler runs, and never lets a caller
// without a certificate of the cluster CA reach a handler.
// Method: real certificates from openssl (makeTestPki), a real grpc-js
// server and clients on loopback, a small JSON-coded service defined here
// (this package does not load protobufs), and a count of handler runs.
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authorizeHandlers, type AuthorizationTable } from "./authorization.js";
import { channelCredentials, readTlsMaterial } from "./grpc-credentials.js";
import { GuardedServer } from "./guarded-server.js";
import type { Identity } from "./identity.js";
import { listenOnLoopback, makeTestPki, type TestPki } from "./testing.js";

interface Message {
  readonly holder_id?: string;
  readonly text?: string;
}

function method(name: string, responseStream: boolean): grpc.MethodDefinition<Message, Message> {
  const serialize = (value: Message): Buffer => Buffer.from(JSON.stringify(value));
  const deserialize = (bytes: Buffer): Message => JSON.parse(bytes.toString("utf8")) as Message;
  return {
    path: `/switchyard.test.Probe/${name}`,
    requestStream: false,
    responseStream,
    requestSerialize: serialize,
    requestDeserialize: deserialize,
    responseSerialize: serialize,
    responseDeserialize: deserialize,
  };
}

const probeService = { Read: method("Read", false), Write: method("Write", false), Renew: method("Renew", false), Watch: method("Watch", true) };

interface ProbeHandlers extends grpc.UntypedServiceImplementation {
  Read: grpc.handleUnaryCall<Message, Message>;
  Write: grpc.handleUnaryCall<Message, Message>;
  Renew: grpc.handleUnaryCall<Message, Message>;
  Watch: grpc.handleServerStreamingCall<Message, Message>;
}

const table: AuthorizationTable<ProbeHandlers> = {
  Read: { roles: ["operator", "viewer"] },
  Write: { roles: ["operator"] },
  Renew: { roles: ["apparatus"], callerIdField: "holder_id" },
  Watch: { roles: ["operator", "viewer"] },
};

const handlerRuns: string[] = [];

const handlers: ProbeHandlers = {
  Read: (_call, callback) => {
    handlerRuns.push("Read");
    callback(null, { text: "read" });
  },
  Write: (_call, callback) => {
    handlerRuns.push("Write");
    callback(null, { text: "written" });
  },
  Renew: (call, callback) => {
    handlerRuns.push("Renew");
    callback(null, { text: `renewed ${call.request.holder_id ?? ""}` });
  },
  Watch: (call) => {
    handlerRuns.push("Watch");
    call.write({ text: "one" });
    call.end();
  },
};

const ProbeClient = grpc.makeGenericClientConstructor(probeService, "Probe");
const callDeadlineMs = 10_000;

let pki: TestPki;
let tlsServer: GuardedServer;
let plainServer: GuardedServer;
let tlsAddress = "";
let plainAddress = "";

beforeAll(async () => {
  pki = await makeTestPki();
  const authorized = authorizeHandlers(probeService, handlers, table);
  tlsServer = new GuardedServer({});
  tlsServer.addService(probeService, authorized);
  tlsAddress = await listenOnLoopback(tlsServer, readTlsMaterial(pki.folder({ role: "device", id: "dev0" }), "server"));
  // The same table behind an insecure port: what a caller without TLS meets.
  plainServer = new GuardedServer({});
  plainServer.addService(probeService, authorized);
  plainAddress = await listenOnLoopback(plainServer, undefined);
}, 60_000);

afterAll(async () => {
  tlsServer.forceShutdown();
  plainServer.forceShutdown();
  await pki.remove();
});

interface Outcome {
  readonly code: grpc.status;
  readonly details: string;
}

function callUnary(address: string, credentials: grpc.ChannelCredentials, name: "Read" | "Write" | "Renew", request: Message): Promise<Outcome> {
  const client = new ProbeClient(address, credentials);
  const unary = client[name] as (request: Message, options: grpc.CallOptions, callback: (error: grpc.ServiceError | null) => void) => void;
  return new Promise((resolve) => {
    unary.call(client, request, { deadline: Date.now() + callDeadlineMs }, (error) => {
      client.close();
      resolve(error === null ? { code: grpc.status.OK, details: "" } : { code: error.code, details: error.details });
    });
  });
}

function callWatch(address: string, credentials: grpc.ChannelCredentials): Promise<Outcome> {
  const client = new ProbeClient(address, credentials);
  const watch = client.Watch as (request: Message, options: grpc.CallOptions) => grpc.ClientReadableStream<Message>;
  const stream = watch.call(client, {}, { deadline: Date.now() + callDeadlineMs });
  return new Promise((resolve) => {
    stream.on("data", () => undefined);
    stream.on("status", (status: grpc.StatusObject) => {
      client.close();
      resolve({ code: status.code, details: status.details });
    });
    stream.on("error", () => undefined);
  });
}

function credentialsOf(identity: Identity, foreign = false): grpc.ChannelCredentials {
  const own = readTlsMaterial(pki.folder(identity, foreign), "client");
  // Trust our CA whatever certificate is presented: the server's refusal is what is tested.
  return channelCredentials({ ...own, ca: readTlsMaterial(pki.folder(identity), "client").ca });
}

const operator: Identity = { role: "operator", id: "admin" };
const viewer: Identity = { role: "viewer", id: "watcher" };
const a0: Identity = { role: "apparatus", id: "a0" };
const device: Identity = { role: "device", id: "dev0" };

describe("callers without a certificate of the cluster CA", () => {
  it("without TLS, at the TLS port: UNAVAILABLE, no handler runs", async () => {
    handlerRuns.length = 0;
    expect((await callUnary(tlsAddress, grpc.credentials.createInsecure(), "Read", {})).code).toBe(grpc.status.UNAVAILABLE);
    expect(handlerRuns).toEqual([]);
  });

  it("TLS without a client certificate: UNAVAILABLE (the server requires one in the handshake)", async () => {
    handlerRuns.length = 0;
    const ca = readTlsMaterial(pki.folder(operator), "client").ca;
    expect((await callUnary(tlsAddress, grpc.credentials.createSsl(ca), "Read", {})).code).toBe(grpc.status.UNAVAILABLE);
    expect(handlerRuns).toEqual([]);
  });

  it("a certificate of another CA: UNAVAILABLE, no handler runs", async () => {
    handlerRuns.length = 0;
    expect((await callUnary(tlsAddress, credentialsOf(operator, true), "Write", {})).code).toBe(grpc.status.UNAVAILABLE);
    expect(handlerRuns).toEqual([]);
  });

  it("a client trusting another CA refuses our server: UNAVAILABLE", async () => {
    const foreign = readTlsMaterial(pki.folder(operator, true), "client");
    expect((await callUnary(tlsAddress, channelCredentials(foreign), "Read", {})).code).toBe(grpc.status.UNAVAILABLE);
  });

  it.each(["Read", "Write", "Renew"] as const)("%s on a server without TLS: UNAUTHENTICATED before the handler", async (name) => {
    handlerRuns.length = 0;
    const outcome = await callUnary(plainAddress, grpc.credentials.createInsecure(), name, { holder_id: "a0" });
    expect(outcome).toEqual({ code: grpc.status.UNAUTHENTICATED, details: `/switchyard.test.Probe/${name} needs a client certificate signed by the cluster CA ('switchyard cert' makes one)` });
    expect(handlerRuns).toEqual([]);
  });

  it("a server-streaming call without TLS: UNAUTHENTICATED", async () => {
    handlerRuns.length = 0;
    expect((await callWatch(plainAddress, grpc.credentials.createInsecure())).code).toBe(grpc.status.UNAUTHENTICATED);
    expect(handlerRuns).toEqual([]);
  });
});

describe("each role", () => {
  const { OK, PERMISSION_DENIED } = grpc.status;
  it.each([
    [operator, "Read", {}, OK],
    [operator, "Write", {}, OK],
    [operator, "Renew", { holder_id: "admin" }, PERMISSION_DENIED],
    [viewer, "Read", {}, OK],
    [viewer, "Write", {}, PERMISSION_DENIED],
    [a0, "Read", {}, PERMISSION_DENIED],
    [a0, "Renew", { holder_id: "a0" }, OK],
    [a0, "Renew", { holder_id: "a1" }, PERMISSION_DENIED],
    [a0, "Renew", {}, PERMISSION_DENIED],
    [device, "Renew", { holder_id: "dev0" }, PERMISSION_DENIED],
  ] as const)("%j calling %s %j: status %i", async (identity, name, request, code) => {
    handlerRuns.length = 0;
    const outcome = await callUnary(tlsAddress, credentialsOf(identity), name, request);
    expect(outcome.code).toBe(code);
    expect(handlerRuns).toEqual(code === OK ? [name] : []);
  });

  it("says who was refused and why", async () => {
    expect((await callUnary(tlsAddress, credentialsOf(viewer), "Write", {})).details).toBe("/switchyard.test.Probe/Write is for the operator role; the caller is viewer watcher");
    expect((await callUnary(tlsAddress, credentialsOf(a0), "Renew", { holder_id: "a1" })).details).toBe(
      '/switchyard.test.Probe/Renew for holder_id "a1" must come from that id\'s certificate; the caller is apparatus a0',
    );
  });

  it("a server-streaming call: allowed for a viewer, PERMISSION_DENIED for an apparatus", async () => {
    expect((await callWatch(tlsAddress, credentialsOf(viewer))).code).toBe(OK);
    handlerRuns.length = 0;
    expect((await callWatch(tlsAddress, credentialsOf(a0))).code).toBe(PERMISSION_DENIED);
    expect(handlerRuns).toEqual([]);
  });
});
