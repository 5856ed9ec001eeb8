/**
 * A Controller service that answers by passing each call on, bytes
 * unchanged, to wherever the controller runs: a worker thread's own server, or
 * another apparatus. Every apparatus can then answer console requests, as the
 * design asks, without a second copy of the controller's logic.
 */
import * as grpc from "@grpc/grpc-js";
import { controlChannelOptions, loadGrpc } from "@switchyard/proto";
import type { NodeCredentials } from "@switchyard/security";
import { authorizedControllerHandlers } from "./controller-authorization.js";

function passBytes(bytes: Buffer): Buffer {
  return bytes;
}

export interface ControllerForwarder {
  readonly service: grpc.ServiceDefinition;
  readonly handlers: grpc.UntypedServiceImplementation;
  close(): void;
}

const notYet = (): grpc.StatusObject => ({
  code: grpc.status.UNAVAILABLE,
  details: "the controller is starting; try again in a moment",
  metadata: new grpc.Metadata(),
});

/**
 * `target()` is the controller's address, or undefined until it listens.
 * `credentials` are the apparatus's own: with mutual TLS its callers are
 * checked against the Controller's table here, and the call goes on under
 * the apparatus's certificate (controller-authorization.ts).
 */
export function controllerForwarder(target: () => string | undefined, credentials: NodeCredentials): ControllerForwarder {
  let client: { readonly address: string; readonly channel: grpc.Client } | undefined;
  const channel = (): grpc.Client | undefined => {
    const address = target();
    if (address === undefined) return undefined;
    if (client?.address !== address) {
      client?.channel.close();
      client = { address, channel: new grpc.Client(address, credentials.channel, controlChannelOptions) };
    }
    return client.channel;
  };
  const service: Record<string, grpc.MethodDefinition<Buffer, Buffer>> = {};
  const handlers: grpc.UntypedServiceImplementation = {};
  for (const [name, method] of Object.entries(loadGrpc().switchyard.v1.Controller.service)) {
    service[name] = {
      ...method,
      requestSerialize: passBytes,
      requestDeserialize: passBytes,
      responseSerialize: passBytes,
      responseDeserialize: passBytes,
    };
    handlers[name] = method.responseStream ? forwardStream(method.path, channel) : forwardUnary(method.path, channel);
  }
  return { service, handlers: authorizedControllerHandlers(credentials.secure, service, handlers), close: () => client?.channel.close() };
}

function forwardUnary(path: string, channel: () => grpc.Client | undefined): grpc.handleUnaryCall<Buffer, Buffer> {
  return (call, callback) => {
    const upstream = channel();
    if (upstream === undefined) {
      callback(notYet());
      return;
    }
    upstream.makeUnaryRequest(path, passBytes, passBytes, call.request, new grpc.Metadata(), { deadline: call.getDeadline() }, callback);
  };
}

function forwardStream(path: string, channel: () => grpc.Client | undefined): grpc.handleServerStreamingCall<Buffer, Buffer> {
  return (call) => {
    const upstream = channel();
    if (upstream === undefined) {
      call.emit("error", notYet());
      return;
    }
    const stream = upstream.makeServerStreamRequest(path, passBytes, passBytes, call.request, new grpc.Metadata(), { deadline: call.getDeadline() });
    call.on("cancelled", () => {
      stream.cancel();
    });
    stream.on("data", (message: Buffer) => call.write(message));
    stream.on("error", (error: grpc.ServiceError) => call.emit("error", error));
    stream.on("end", () => call.end());
  };
}
