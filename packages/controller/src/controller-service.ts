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
    SubmitChange: unary((request) => {
      switch (request.change) {
        case "move":
          if (request.move === null || request.move === undefined) break;
          return current().submitMove(request.move.volume, request.move.extent_index, request.move.to_lu);
        case "resize":
          if (request.resize === null || request.resize === undefined) break;
          return current().submitResize(request.resize.volume, request.resize.size_bytes);
        case "migrate":
          throw new ControllerError("NOT_IMPLEMENTED", "online migration is not available yet in this Switchyard version");
        case undefined:
          break;
      }
      throw new ControllerError("INVALID_ARGUMENT", "SubmitChange needs one of move, resize or migrate");
    }),
    GetChange: unary((request) => current().getChange(request.id)),
    ListChanges: unary(async () => ({ changes: await current().listChanges() })),
    WatchChange: (call) => {
      call.destroy(new Error("watching changes is not available yet in this Switchyard version"));
    },
    CancelChange: unary(notYet("cancelling a change")),
    FenceApparatus: unary(notYet("fencing an apparatus by hand")),
    RejoinApparatus: unary(async (request) => {
      await current().rejoinApparatus(request.apparatus_id);
      const status = await current().clusterStatus();
      return { apparatus: status.apparatuses?.find((apparatus) => apparatus.id === request.apparatus_id) ?? null };
    }),
    AddExternalDevice: unary(notYet("external devices")),
  };
}
