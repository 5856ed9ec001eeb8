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
 * - A request acting under an epoch (`holderEpochField`) from a certificate
 *   other than the one the epoch was granted to: PERMISSION_DENIED; under
 *   an epoch never granted, FAILED_PRECONDITION (lease-holder-check.ts).
 */
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import type { EventEmitter } from "node:events";
import type { PeerCertificate } from "node:tls";
import { identityOfSubject, type Identity, type Role } from "./identity.js";
import type { LeaseHolderCheck } from "./lease-holder-check.js";

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
  /**
   * A request field holding the epoch the call acts under: the caller's
   * certificate id must be the one that epoch was granted to. Checked where
   * the server is given a LeaseHolderCheck; same request kinds as callerIdField.
   */
  readonly holderEpochField?: string;
}

/**
 * One rule per method of a service: a method missing from the table does
 * not compile. Generated handler interfaces extend grpc-js's
 * UntypedServiceImplementation, whose string index signature is dropped
 * here, so only the service's own method names are keys.
 */
export type AuthorizationTable<Handlers> = { readonly [Method in keyof Handlers as string extends Method ? never : Method]-?: MethodRule };

/**
 * What a handler's call offers for this: grpc-js's ServerSurfaceCall, which
 * it does not export, or a call relayed from the control thread (proto's
 * rpc-relay.ts), which carries the certificate's subject alone.
 */
export interface AuthenticatedCall {
  getAuthContext(): { readonly sslPeerCertificate?: Pick<PeerCertificate, "subject"> };
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

type CallCheck = (call: AnyRequestCall) => Promise<grpc.StatusObject | undefined> | grpc.StatusObject | undefined;

/** The whole check of one method: the rule's, then the epoch's holder where the rule names an epoch field. */
function callCheck(method: string, definition: grpc.MethodDefinition<unknown, unknown>, rule: MethodRule, holders: LeaseHolderCheck | undefined): CallCheck {
  const single = !definition.requestStream;
  assert.ok(single || (rule.callerIdField === undefined && rule.holderEpochField === undefined), `${method}: a request field rule needs a request that is one message`);
  const epochField = holders === undefined ? undefined : rule.holderEpochField;
  return (call) => {
    const identity = peerIdentity(call);
    const request = single ? call.request : undefined;
    const refused = refusal(method, rule, identity, request);
    if (refused !== undefined || epochField === undefined || identity === undefined || holders === undefined) return refused;
    return holders.refusal(method, identity, fieldAt(request, epochField));
  };
}

/** The handler wrapped so `check` runs first; the kind of call decides how a refusal is sent. */
function guarded(definition: grpc.MethodDefinition<unknown, unknown>, handler: grpc.UntypedHandleCall, check: CallCheck): grpc.UntypedHandleCall {
  // A check never rejects (LeaseHolderCheck.refusal answers UNAVAILABLE instead); a synchronous one answers in the same tick.
  const then = (call: AnyRequestCall, refuse: (status: grpc.StatusObject) => void, go: () => void): void => {
    const outcome = check(call);
    if (!(outcome instanceof Promise)) {
      if (outcome === undefined) go();
      else refuse(outcome);
      return;
    }
    void outcome.then((refused) => {
      if (refused === undefined) go();
      else refuse(refused);
    });
  };
  if (!definition.responseStream) {
    // Unary and client-streaming: a callback answers.
    const inner = handler as (call: AnyRequestCall, callback: grpc.sendUnaryData<unknown>) => void;
    return ((call: AnyRequestCall, callback: grpc.sendUnaryData<unknown>) => {
      then(call, (status) => { callback(status); }, () => { inner(call, callback); });
    }) as grpc.UntypedHandleCall;
  }
  // Server-streaming and bidirectional: the stream's 'error' event sends the status.
  const inner = handler as (call: AnyRequestCall) => void;
  return ((call: AnyRequestCall) => {
    then(call, (status) => { call.emit("error", status); }, () => { inner(call); });
  }) as grpc.UntypedHandleCall;
}

/**
 * `handlers` with every method checked against `table` before it runs.
 * `service` is the definition the handlers are added with (its paths name
 * the methods in messages, its stream flags say how to refuse); `holders`
 * checks the rules' holderEpochField, which are not checked without it.
 */
export function authorizeHandlers<Handlers extends grpc.UntypedServiceImplementation>(
  service: grpc.ServiceDefinition,
  handlers: Handlers,
  table: AuthorizationTable<Handlers>,
  holders?: LeaseHolderCheck,
): Handlers {
  const wrapped: grpc.UntypedServiceImplementation = {};
  for (const [name, handler] of Object.entries(handlers)) {
    const definition = service[name];
    const rule: MethodRule | undefined = (table as Readonly<Record<string, MethodRule | undefined>>)[name];
    assert.ok(definition !== undefined, `${name} is not a method of the service`);
    assert.ok(rule !== undefined, `${name} has no rule in the authorization table`);
    wrapped[name] = guarded(definition, handler, callCheck(definition.path, definition, rule, holders));
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
  holders?: LeaseHolderCheck,
): Handlers {
  return secure ? authorizeHandlers(service, handlers, table, holders) : handlers;
}
