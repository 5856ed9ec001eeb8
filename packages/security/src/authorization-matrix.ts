/**
 * Test helpers for the table-driven authorization tests of every service
 * (the `./testing` subpath): the cases a table implies for each caller, and
 * one call of any method of any service, whatever its kind, reduced to the
 * status it ends with.
 */
import * as grpc from "@grpc/grpc-js";
import type { Identity } from "./identity.js";
import type { MethodRule } from "./authorization.js";

/** A caller of the matrix: a name for the test title and the identity of its certificate. */
export type Caller = readonly [name: string, identity: Identity];

/** Every role once: what the matrix calls each method as. */
export const everyRole: readonly Caller[] = [
  ["device dev0", { role: "device", id: "dev0" }],
  ["apparatus a0", { role: "apparatus", id: "a0" }],
  ["operator admin", { role: "operator", id: "admin" }],
  ["viewer watcher", { role: "viewer", id: "watcher" }],
];

/**
 * The status `identity` gets for a method with rule `rule`, if refused;
 * undefined when the handler runs. The requests of the tests name another
 * id (a1) wherever a request names one, so a callerIdField rule refuses.
 */
export function expectedRefusal(rule: MethodRule, identity: Identity): grpc.status | undefined {
  if (!rule.roles.includes(identity.role)) return grpc.status.PERMISSION_DENIED;
  return rule.callerIdField === undefined ? undefined : grpc.status.PERMISSION_DENIED;
}

export interface AuthorizationCases<Method extends string> {
  /** [caller name, method, identity, status]: refused, with that status. */
  readonly refused: (readonly [string, Method, Identity, grpc.status])[];
  /** [caller name, method, identity]: reaches the handler. */
  readonly allowed: (readonly [string, Method, Identity])[];
}

/** The cases `table` implies for each of `callers` (everyRole by default). */
export function authorizationCases<Method extends string>(
  table: Readonly<Record<Method, MethodRule>>,
  callers: readonly Caller[] = everyRole,
): AuthorizationCases<Method> {
  const methods = Object.keys(table) as Method[];
  const refused: (readonly [string, Method, Identity, grpc.status])[] = [];
  const allowed: (readonly [string, Method, Identity])[] = [];
  for (const [name, identity] of callers) {
    for (const method of methods) {
      const code = expectedRefusal(table[method], identity);
      if (code === undefined) allowed.push([name, method, identity]);
      else refused.push([name, method, identity, code]);
    }
  }
  return { refused, allowed };
}

/** Statuses that say the call never reached a handler: no certificate of ours, a refused role, a refused handshake. */
export const refusedStatuses: readonly grpc.status[] = [grpc.status.UNAUTHENTICATED, grpc.status.PERMISSION_DENIED, grpc.status.UNAVAILABLE];

/**
 * Calls `definition` at `address` once with `request` and resolves with the
 * status it ends with: a unary call's, a stream's after reading it to the
 * end (a client stream sends the one request, then ends its side). Bounded
 * by `deadlineMs`.
 */
export async function callOnce(
  address: string,
  credentials: grpc.ChannelCredentials,
  definition: grpc.MethodDefinition<object, unknown>,
  request: object,
  deadlineMs: number,
): Promise<grpc.status> {
  const client = new grpc.Client(address, credentials);
  const options: grpc.CallOptions = { deadline: Date.now() + deadlineMs };
  const { path, requestSerialize: serialize, responseDeserialize: deserialize } = definition;
  try {
    return await new Promise<grpc.status>((resolve) => {
      const settle = (error: grpc.ServiceError | null): void => {
        resolve(error === null ? grpc.status.OK : error.code);
      };
      if (!definition.requestStream && !definition.responseStream) {
        client.makeUnaryRequest(path, serialize, deserialize, request, new grpc.Metadata(), options, settle);
        return;
      }
      if (definition.requestStream && !definition.responseStream) {
        const call = client.makeClientStreamRequest(path, serialize, deserialize, new grpc.Metadata(), options, settle);
        call.write(request);
        call.end();
        return;
      }
      let stream: grpc.ClientReadableStream<unknown>;
      if (definition.requestStream) {
        const bidi = client.makeBidiStreamRequest(path, serialize, deserialize, new grpc.Metadata(), options);
        bidi.write(request);
        bidi.end();
        stream = bidi;
      } else {
        stream = client.makeServerStreamRequest(path, serialize, deserialize, request, new grpc.Metadata(), options);
      }
      // The first answer is enough: the handler ran. A refusal ends the stream with its status instead.
      stream.on("data", () => {
        stream.cancel();
        resolve(grpc.status.OK);
      });
      stream.on("error", (error: grpc.ServiceError) => {
        settle(error);
      });
      stream.on("end", () => {
        resolve(grpc.status.OK);
      });
    });
  } finally {
    client.close();
  }
}
