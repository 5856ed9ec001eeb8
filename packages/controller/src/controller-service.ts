/**
 * The Controller gRPC service, for the management console (claims 8, 19).
 * Changes of mapping under host I/O (move, resize, migrate) arrive with the
 * change protocol; until then they answer UNIMPLEMENTED and say so.
 */
import type * as grpc from "@grpc/grpc-js";
import { unaryHandler, type ControllerHandlers } from "@switchyard/proto";
import type { ClusterController } from "./cluster-controller.js";
import { ControllerError, mapControllerError } from "./errors.js";

function unary<Request, Response>(body: (request: Request) => Promise<Response> | Response): grpc.handleUnaryCall<Request, Response> {
  return unaryHandler(body, mapControllerError);
}

function notYet(what: string): () => never {
  return () => {
    throw new ControllerError("NOT_IMPLEMENTED", `${what} is not available yet in this Switchyard version`);
  };
}

/**
 * `current` gives the controller that answers now: it throws a
 * ControllerError (UNAVAILABLE) while there is none, for example while it
 * starts.
 */
export function controllerHandlers(current: () => ClusterController): ControllerHandlers {
  return {
    GetClusterStatus: unary(() => current().clusterStatus()),
    CreateVolume: unary((request) => current().createVolume(request.name, request.size_bytes, request.lu)),
    DeleteVolume: unary(async (request) => {
      await current().deleteVolume(request.name);
      return {};
    }),
    ListVolumes: unary(async () => ({ volumes: await current().listVolumes() })),
    GetVolume: unary((request) => current().getVolume(request.name)),
    SubmitChange: unary(notYet("changing a volume's mapping under I/O")),
    GetChange: unary(notYet("the change journal")),
    ListChanges: unary(notYet("the change journal")),
    WatchChange: (call) => {
      call.destroy(new Error("watching changes is not available yet in this Switchyard version"));
    },
    CancelChange: unary(notYet("cancelling a change")),
    FenceApparatus: unary(notYet("fencing an apparatus by hand")),
    RejoinApparatus: unary(notYet("rejoining an apparatus by hand")),
    AddExternalDevice: unary(notYet("external devices")),
  };
}
