/**
 * Who may call which method: a table from each method of a service to the
 * roles allowed, checked against the caller's certificate before the
 * handler runs. A call that fails the check changes nothing and its handler
 * never sees it.
 *
 * - No certificate of ours (an insecure channel, or a subject not in our
 *   form): UNAUTHENTICATED. A certificate of another CA fails the TLS
 *   handshake before any call (GuardedServer requires ours), so it
 *   reaches the client as UNAVAILABLE.
 * - A certificate of ours with a role not in the method's list, or whose id
 *   is not the one the request names (`callerIdField`): PERMISSION_DENIED.
 */
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import type { EventEmitter } from "node:events";
import type { PeerCertificate } from "node:tls";
import { identityOfSubject, type Identity, type Role } from "./identity.js";

export interface MethodRule {
  /** Roles that may call the method; empty: nobody (a method kept for later). */
  readonly roles: readonly Role[];
  /**
   * A request field naming an id (a lease holder, an apparatus): the
   * caller's certificate id must equal it, so a node acts only for itself.
   * A dotted path ("apparatus.id") reaches into a nested message.
   * Only for methods whose request is one message (unary, server-streaming).
   */
  readonly callerIdField?: string;
}

/**
 * One rule per method of a service: a method missing from the table does
 * not compile. Generated handler interfaces extend grpc-js's
 * UntypedServiceImplementation, whose string index signature is dropped
 * here, so only the service's own method names are keys.
 */
export type AuthorizationTable<Handlers> = { readonly [Method in keyof Handlers as string extends Method ? never : Method]-?: MethodRule };

/** What a handler's call offers for this: grpc-js's ServerSurfaceCall, which it does not export. */
export interface AuthenticatedCall {
  getAuthContext(): { readonly sslPeerCertificate?: PeerCertificate };
}

/**
 * The identity of the certificate the caller presented, or undefined without
 * one of ours. grpc-js 1.14 fills sslPeerCertificate only for a TLS socket
 * whose peer was verified (server.js getAuthContext checks `authorized`).
 */
export function peerIdentity(call: AuthenticatedCall): Identity | undefined {
  const certificate = call.getAuthContext().sslPeerCertificate;
  if (certificate === undefined) return undefined;
  return identityOfSubject(certificate.subject);
}

/** The value at a dotted path of fields ("apparatus.id"); undefined where a step is missing. */
function fieldAt(message: unknown, path: string): unknown {
  let value = message;
  for (const name of path.split(".")) {
    if (typeof value !== "object" || value === null) return undefined;
    value = (value as Record<string, unknown>)[name];
  }
  return value;
}

/** Why a call is refused, as the status the caller gets; undefined when it may go on. */
export function refusal(method: string, rule: MethodRule, identity: Identity | undefined, request: unknown): grpc.StatusObject | undefined {
  const status = (code: grpc.status, details: string): grpc.StatusObject => ({ code, details, metadata: new grpc.Metadata() });
  if (identity === undefined) {
    return status(grpc.status.UNAUTHENTICATED, `${method} needs a client certificate signed by the cluster CA ('switchyard cert' makes one)`);
  }
  if (!rule.roles.includes(identity.role)) {
    const allowed = rule.roles.length === 0 ? "no role" : `the ${rule.roles.join(" or ")} role`;
    return status(grpc.status.PERMISSION_DENIED, `${method} is for ${allowed}; the caller is ${identity.role} ${identity.id}`);
  }
  if (rule.callerIdField === undefined) return undefined;
  const named = fieldAt(request, rule.callerIdField);
  if (named !== identity.id) {
    return status(grpc.status.PERMISSION_DENIED, `${method} for ${rule.callerIdField} ${JSON.stringify(named)} must come from that id's certificate; the caller is ${identity.role} ${identity.id}`);
  }
  return undefined;
}

type AnyRequestCall = AuthenticatedCall & EventEmitter & { readonly request?: unknown };

/** The handler wrapped so `rule` is checked first; the kind of call decides how a refusal is sent. */
function guarded(method: string, definition: grpc.MethodDefinition<unknown, unknown>, handler: grpc.UntypedHandleCall, rule: MethodRule): grpc.UntypedHandleCall {
  const single = !definition.requestStream;
  assert.ok(single || rule.callerIdField === undefined, `${method}: callerIdField needs a request that is one message`);
  const check = (call: AnyRequestCall): grpc.StatusObject | undefined => refusal(method, rule, peerIdentity(call), single ? call.request : undefined);
  if (!definition.responseStream) {
    // Unary and client-streaming: a callback answers.
    const inner = handler as (call: AnyRequestCall, callback: grpc.sendUnaryData<unknown>) => void;
    return ((call: AnyRequestCall, callback: grpc.sendUnaryData<unknown>) => {
      const refused = check(call);
      if (refused !== undefined) {
        callback(refused);
        return;
      }
      inner(call, callback);
    }) as grpc.UntypedHandleCall;
  }
  // Server-streaming and bidirectional: the stream's 'error' event sends the status.
  const inner = handler as (call: AnyRequestCall) => void;
  return ((call: AnyRequestCall) => {
    const refused = check(call);
    if (refused !== undefined) {
      call.emit("error", refused);
      return;
    }
    inner(call);
  }) as grpc.UntypedHandleCall;
}

/**
 * `handlers` with every method checked against `table` before it runs.
 * `service` is the definition the handlers are added with (its paths name
 * the methods in messages, its stream flags say how to refuse).
 */
export function authorizeHandlers<Handlers extends grpc.UntypedServiceImplementation>(
  service: grpc.ServiceDefinition,
  handlers: Handlers,
  table: AuthorizationTable<Handlers>,
): Handlers {
  const wrapped: grpc.UntypedServiceImplementation = {};
  for (const [name, handler] of Object.entries(handlers)) {
    const definition = service[name];
    const rule: MethodRule | undefined = (table as Readonly<Record<string, MethodRule | undefined>>)[name];
    assert.ok(definition !== undefined, `${name} is not a method of the service`);
    assert.ok(rule !== undefined, `${name} has no rule in the authorization table`);
    wrapped[name] = guarded(definition.path, definition, handler, rule);
  }
  return wrapped as Handlers;
}

/**
 * `handlers` checked against `table` on a server with mutual TLS (`secure`),
 * and as they are on a plain one, where no caller has a certificate to
 * check: NodeCredentials says which the server is.
 */
export function authorizeHandlersWhen<Handlers extends grpc.UntypedServiceImplementation>(
  secure: boolean,
  service: grpc.ServiceDefinition,
  handlers: Handlers,
  table: AuthorizationTable<Handlers>,
): Handlers {
  return secure ? authorizeHandlers(service, handlers, table) : handlers;
}
