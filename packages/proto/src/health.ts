/**
 * The standard grpc.health.v1 service, shared by the device and apparatus
 * servers: Check, List, and Watch (the current status at once, then every
 * change, until the client cancels).
 */
import * as grpc from "@grpc/grpc-js";
import type { HealthHandlers } from "./gen/grpc/health/v1/Health.js";
import type { HealthCheckRequest__Output } from "./gen/grpc/health/v1/HealthCheckRequest.js";
import type { HealthCheckResponse } from "./gen/grpc/health/v1/HealthCheckResponse.js";

export type ServingStatus = "SERVING" | "NOT_SERVING";

/** Open Watch streams; each is a stream and a listener, and clients reconnect when refused. */
export const healthWatchersMax = 1024;

/** The overall server status, by the health protocol's convention. */
export const overallServiceName = "";

type WatchCall = grpc.ServerWritableStream<HealthCheckRequest__Output, HealthCheckResponse>;

export class HealthService {
  private readonly statuses = new Map<string, ServingStatus>();
  private readonly watchers = new Set<WatchCall>();

  /** Every named service, and the overall server (""), start SERVING. */
  constructor(serviceNames: readonly string[]) {
    this.statuses.set(overallServiceName, "SERVING");
    for (const name of serviceNames) this.statuses.set(name, "SERVING");
  }

  /** Changes a service's status (e.g. NOT_SERVING while shutting down) and tells its watchers. */
  setStatus(serviceName: string, status: ServingStatus): void {
    this.statuses.set(serviceName, status);
    for (const call of this.watchers) {
      if (call.request.service === serviceName) call.write({ status });
    }
  }

  readonly handlers: HealthHandlers = {
    Check: (call, callback) => {
      const status = this.statuses.get(call.request.service);
      if (status === undefined) {
        // grpc health spec: Check answers NOT_FOUND for a service it does not know.
        callback({ code: grpc.status.NOT_FOUND, details: `unknown service ${JSON.stringify(call.request.service)}` });
        return;
      }
      callback(null, { status });
    },
    List: (_call, callback) => {
      const statuses: Record<string, HealthCheckResponse> = {};
      for (const [name, status] of this.statuses) statuses[name] = { status };
      callback(null, { statuses });
    },
    Watch: (call) => {
      if (this.watchers.size >= healthWatchersMax) {
        call.emit("error", { code: grpc.status.RESOURCE_EXHAUSTED, details: `${healthWatchersMax} health watchers (limit)` });
        return;
      }
      this.watchers.add(call);
      call.on("cancelled", () => { this.watchers.delete(call); });
      call.on("close", () => { this.watchers.delete(call); });
      // grpc health spec: Watch reports SERVICE_UNKNOWN and keeps watching a service it does not know.
      call.write({ status: this.statuses.get(call.request.service) ?? "SERVICE_UNKNOWN" });
    },
  };
}

/** Health handlers reporting SERVING for "" and each of `serviceNames`. */
export function healthHandlers(serviceNames: readonly string[]): HealthHandlers {
  return new HealthService(serviceNames).handlers;
}
