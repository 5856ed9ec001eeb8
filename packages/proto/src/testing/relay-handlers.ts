/**
 * Handlers for the tests of relayed calls (rpc-relay.test.ts through a
 * control thread's server, rpc-relay-link.test.ts over a link): Health's
 * three methods and Apparatus.Control, each recording what it saw of its
 * call. A Check for `silentService` is never answered; a Watch for any
 * service but "" fails after two messages.
 */
import * as grpc from "@grpc/grpc-js";
import type { ControlRequest__Output } from "../gen/switchyard/v1/ControlRequest.js";
import { errorCodeMetadataKey } from "../index.js";

/** What the handlers saw of their calls. */
export interface SeenCalls {
  peer?: string;
  subject?: unknown;
  deadlineMs?: number;
  cancelled: number;
}

/** A Check for this service is never answered. */
export const silentService = "silent";

export function healthHandlers(seen: SeenCalls): grpc.UntypedServiceImplementation {
  return {
    Check: (call: grpc.ServerUnaryCall<{ service: string }, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      seen.peer = call.getPeer();
      seen.subject = call.getAuthContext().sslPeerCertificate?.subject;
      seen.deadlineMs = Number(call.getDeadline());
      call.on("cancelled", () => {
        seen.cancelled += 1;
      });
      if (call.request.service === silentService) return;
      if (call.request.service === "") {
        callback(null, { status: "SERVING" });
        return;
      }
      const metadata = new grpc.Metadata();
      metadata.set(errorCodeMetadataKey, "NOT_FOUND_HERE");
      callback({ code: grpc.status.NOT_FOUND, details: `no service ${call.request.service}`, metadata });
    },
    List: (_call: unknown, callback: grpc.sendUnaryData<unknown>) => {
      callback(null, { statuses: {} });
    },
    Watch: (call: grpc.ServerWritableStream<{ service: string }, unknown>) => {
      call.on("cancelled", () => {
        seen.cancelled += 1;
      });
      call.write({ status: "SERVING" });
      call.write({ status: "NOT_SERVING" });
      if (call.request.service === "") call.end();
      else if (call.request.service === "broken") call.emit("error", { code: grpc.status.FAILED_PRECONDITION, details: "broken on purpose" });
    },
  };
}

/** Answers each Control message with its sequence number, and ends when the client does. */
export function controlHandlers(): grpc.UntypedServiceImplementation {
  return {
    Control: (call: grpc.ServerDuplexStream<ControlRequest__Output, unknown>) => {
      call.on("data", (message: ControlRequest__Output) => {
        call.write({ sequence: message.sequence, failure: { code: 0, details: `seen ${message.sequence}` } });
      });
      call.on("end", () => call.end());
    },
  };
}

/** Resolves once `check` holds; rejects after `withinMs`. */
export async function eventually(check: () => boolean, withinMs = 2_000): Promise<void> {
  const until = Date.now() + withinMs;
  while (!check()) {
    if (Date.now() > until) throw new Error("not within the time allowed");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
