/**
 * gRPC plumbing shared by every service and client: promise-returning calls
 * with a deadline, and unary handlers that answer their callback exactly once
 * with the status the service's own error mapping chose. No domain logic.
 */
import * as grpc from "@grpc/grpc-js";
import { integerRangeRefusal } from "./integer-range.js";
import { addStandardServices } from "./server-services.js";

/** A gRPC error as a handler answers it: a status code and a message that says what was wrong. */
export interface RpcFailure {
  readonly code: grpc.status;
  readonly details: string;
  /** Trailers to send with it (errorCodeMetadataKey), if any. */
  readonly metadata?: grpc.Metadata;
}

/** Maps an error thrown by a handler body to the status it answers; one switch per service. */
export type ErrorMapper = (error: unknown) => RpcFailure;

/** Why a decoded request is refused before its handler runs (the text of an INVALID_ARGUMENT), or undefined to run it. */
export type RequestScreen = (request: unknown) => string | undefined;

/**
 * Wraps an async body as a unary handler; the callback is answered exactly
 * once. A request `screen` refuses (by default: one with an integer past
 * 2^53 - 1, integer-range.ts) is answered INVALID_ARGUMENT before the body
 * runs; a service whose builder decides how it screens passes its own.
 */
export function unaryHandler<Request, Response>(
  body: (request: Request) => Promise<Response> | Response,
  mapError: ErrorMapper,
  screen: RequestScreen = integerRangeRefusal,
): grpc.handleUnaryCall<Request, Response> {
  return (call, callback) => {
    const refused = screen(call.request);
    if (refused !== undefined) {
      callback({ code: grpc.status.INVALID_ARGUMENT, details: refused });
      return;
    }
    Promise.resolve()
      .then(() => body(call.request))
      .then(
        (response) => {
          callback(null, response);
        },
        (error: unknown) => {
          const failure = mapError(error);
          callback({ code: failure.code, details: failure.details, ...(failure.metadata === undefined ? {} : { metadata: failure.metadata }) });
        },
      );
  };
}

/** The deadline `timeoutMs` from now, as grpc-js takes it. */
export function deadlineAfter(timeoutMs: number): Date {
  return new Date(Date.now() + timeoutMs);
}

/**
 * Turns one callback-style client call into a promise:
 * `callUnary<Out>((done) => client.Method(request, { deadline }, done))`.
 */
export function callUnary<Response>(start: (done: grpc.requestCallback<Response>) => unknown): Promise<Response> {
  return new Promise<Response>((resolve, reject) => {
    const done: grpc.requestCallback<Response> = (error, response) => {
      if (error !== null) {
        reject(error);
        return;
      }
      if (response === undefined) {
        reject(new Error("gRPC call answered without a message"));
        return;
      }
      resolve(response);
    };
    try {
      start(done);
    } catch (error) {
      // grpc-js throws, instead of calling back, on a client already closed
      // (say, by a concurrent fence). For this caller the peer is gone: an
      // operating error (retry the call), not a broken invariant.
      if (!(error instanceof Error) || error.message !== closedChannelMessage) throw error;
      reject(new ClosedChannelError(error));
    }
  });
}

/** What grpc-js throws when a call starts on a closed client. */
const closedChannelMessage = "Channel has been shut down";

/** A call started on a closed client, as the UNAVAILABLE gRPC error every caller already handles. */
export class ClosedChannelError extends Error implements grpc.ServiceError {
  readonly code = grpc.status.UNAVAILABLE;
  readonly details = "the gRPC client was closed before the call started";
  readonly metadata = new grpc.Metadata();
  constructor(cause: Error) {
    super(`${grpc.status.UNAVAILABLE} UNAVAILABLE: the gRPC client was closed before the call started`, { cause });
    this.name = "ClosedChannelError";
  }
}

/**
 * The trailing-metadata key under which a server may name its typed
 * error's stable code (the device's DeviceErrorCode): one gRPC status covers
 * several codes (FAILED_PRECONDITION is a stale epoch, a stale generation or
 * a mirror not in sync), and a client that must tell them apart reads this.
 */
export const errorCodeMetadataKey = "switchyard-error-code";

/** The stable error code a server put in `error`'s metadata, if any. */
export function errorCodeOf(error: grpc.ServiceError): string | undefined {
  // A port that is not gRPC (the simulator's) may reject with an error without metadata.
  const metadata: unknown = error.metadata;
  if (!(metadata instanceof grpc.Metadata)) return undefined;
  const [value] = metadata.get(errorCodeMetadataKey);
  return typeof value === "string" ? value : undefined;
}

/** True for a gRPC error of the given status code. */
export function isRpcError(error: unknown, code?: number): error is grpc.ServiceError {
  if (!(error instanceof Error) || !("code" in error) || typeof error.code !== "number") return false;
  return code === undefined || error.code === code;
}

/**
 * Binds a gRPC server, resolving to the port it got. It first adds the
 * standard services (server-services.ts: health and reflection), so add the
 * server's own services before binding it. Insecure unless `credentials`
 * say otherwise (mutual TLS: @switchyard/security's serverCredentials).
 */
export async function bindGrpc(server: grpc.Server, host: string, port: number, credentials: grpc.ServerCredentials = grpc.ServerCredentials.createInsecure()): Promise<number> {
  await addStandardServices(server);
  return new Promise((resolve, reject) => {
    server.bindAsync(`${host}:${port}`, credentials, (error, boundPort) => {
      if (error !== null) {
        reject(error);
        return;
      }
      resolve(boundPort);
    });
  });
}

/** Stops a gRPC server, cutting calls still open after `graceMs`. */
export function stopGrpc(server: grpc.Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** How long a closing gRPC server lets calls in progress finish. */
export const grpcShutdownGraceMs = 1_000;
