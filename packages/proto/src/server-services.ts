/**
 * The services every Switchyard gRPC server offers besides its own: the
 * standard grpc.health.v1 health service and gRPC server reflection (v1 and
 * v1alpha, from @grpc/reflection), so that grpcurl and other generic clients
 * can list, describe and call a server without our `.proto` files.
 *
 * bindGrpc adds them, just before binding, to whatever server it binds, so a
 * server gets them without asking (the device's, each apparatus's and the
 * controller's alike) and no server can forget them.
 */
import * as grpc from "@grpc/grpc-js";
import type * as protoLoader from "@grpc/proto-loader";
import { loadGrpc, packageDefinition } from "./grpc-loader.js";
import { HealthService } from "./health.js";

export const healthServiceName = "grpc.health.v1.Health";

function isServiceDefinition(value: protoLoader.AnyDefinition): value is protoLoader.ServiceDefinition {
  // Message and enum definitions carry a `format`; a service is a record of its methods.
  return !("format" in value);
}

/**
 * True if `server` has a handler for `path`. grpc-js lists no server's
 * services, but its public `register` refuses a path already taken, so a
 * probe that succeeds is taken back at once and changes nothing.
 */
function hasHandler(server: grpc.Server, path: string): boolean {
  const unused: grpc.handleUnaryCall<Buffer, Buffer> = (_call, callback) => {
    callback({ code: grpc.status.UNIMPLEMENTED, details: "a probe, never served" });
  };
  if (!server.register(path, unused, (value: Buffer) => value, (value: Buffer) => value, "unary")) return true;
  server.unregister(path);
  return false;
}

/** The names of the services in our `.proto` files that `server` has handlers for. */
export function servedServiceNames(server: grpc.Server): string[] {
  const served: string[] = [];
  for (const [name, definition] of Object.entries(packageDefinition())) {
    if (!isServiceDefinition(definition)) continue;
    if (Object.values(definition).some((method) => hasHandler(server, method.path))) served.push(name);
  }
  return served;
}

/**
 * Adds health (every served service and the server itself SERVING, unless
 * the server has a health service of its own) and reflection of exactly the
 * services it serves. Called once per server, before it binds.
 */
export async function addStandardServices(server: grpc.Server): Promise<void> {
  // Loaded by the first server only: every CLI command imports this package, and most start none.
  const { ReflectionService } = await import("@grpc/reflection");
  const served = servedServiceNames(server);
  const own = served.filter((name) => name !== healthServiceName);
  if (!served.includes(healthServiceName)) {
    server.addService(loadGrpc().grpc.health.v1.Health.service, new HealthService(own).handlers);
  }
  new ReflectionService(packageDefinition(), { services: [...own, healthServiceName] }).addToServer(server);
}
