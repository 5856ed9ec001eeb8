/**
 * The Controller gRPC service, for the management console (claims 8, 19).
 * Each call passes to the controller that answers now (`current`), whose
 * typed errors become gRPC statuses in one place (errors.ts).
 */
import { Metadata, type ServerWritableStream } from "@grpc/grpc-js";
import type * as grpc from "@grpc/grpc-js";
import { setTimeout as sleep } from "node:timers/promises";
import { unaryHandler, type ApparatusSummary, type ChangeInfo, type ControllerHandlers, type WatchChangeRequest__Output } from "@switchyard/proto";
import type { ClusterController } from "./cluster-controller.js";
import { ControllerError, mapControllerError } from "./errors.js";

/** How often `change watch` looks at a running change. */
export const watchIntervalMs = 200;

function unary<Request, Response>(body: (request: Request) => Promise<Response> | Response): grpc.handleUnaryCall<Request, Response> {
  return unaryHandler(body, mapControllerError);
}

async function apparatusSummary(controller: ClusterController, apparatusId: string): Promise<ApparatusSummary | null> {
  const status = await controller.clusterStatus();
  return status.apparatuses?.find((apparatus) => apparatus.id === apparatusId) ?? null;
}

/**
 * `change watch`: the change as it is now, then again whenever it differs,
 * until it ends (or the watcher goes). Polling the controller's own view
 * keeps one source of truth; a phase is milliseconds, a copy minutes, so a
 * few looks a second show both.
 */
async function watchChange(current: () => ClusterController, call: ServerWritableStream<WatchChangeRequest__Output, ChangeInfo>): Promise<void> {
  let shown = "";
  try {
    for (;;) {
      const info = await current().getChange(call.request.id);
      const text = JSON.stringify(info);
      if (text !== shown) call.write(info);
      shown = text;
      if (info.state !== "CHANGE_STATE_RUNNING") break;
      await sleep(watchIntervalMs);
      // The watcher went away (Ctrl-C): nobody to tell.
      if (call.cancelled) return;
    }
    call.end();
  } catch (error) {
    const failure = mapControllerError(error);
    // A server stream ends with a status by an 'error' event carrying code and details.
    call.emit("error", { code: failure.code, details: failure.details, metadata: new Metadata() });
  }
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
        case "migrate": {
          const migrate = request.migrate;
          if (migrate === null || migrate === undefined) break;
          return current().submitMigrate({
            volume: migrate.volume,
            toLuId: migrate.to_lu,
            firstExtent: migrate.first_extent,
            endExtent: migrate.end_extent,
            rateBytesPerSecond: migrate.rate_bytes_per_second,
          });
        }
        case undefined:
          break;
      }
      throw new ControllerError("INVALID_ARGUMENT", "SubmitChange needs one of move, resize or migrate");
    }),
    GetChange: unary((request) => current().getChange(request.id)),
    ListChanges: unary(async () => ({ changes: await current().listChanges() })),
    WatchChange: (call) => {
      void watchChange(current, call);
    },
    CancelChange: unary((request) => current().cancelChange(request.id)),
    FenceApparatus: unary(async (request) => {
      await current().fenceByOperator(request.apparatus_id);
      return { apparatus: await apparatusSummary(current(), request.apparatus_id) };
    }),
    RejoinApparatus: unary(async (request) => {
      await current().rejoinApparatus(request.apparatus_id);
      return { apparatus: await apparatusSummary(current(), request.apparatus_id) };
    }),
    AddExternalDevice: unary(async (request) => ({
      device: await current().addExternalDevice({ name: request.name, nbdUri: request.nbd_uri, extentSizeBytes: request.extent_size_bytes }),
    })),
    RemoveExternalDevice: unary(async (request) => ({ device: await current().removeExternalDevice(request.name) })),
  };
}
