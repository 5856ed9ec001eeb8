/**
 * Who may call each Controller method (issue 17): operators change the
 * cluster, viewers only read it. Apparatuses may call everything because
 * every apparatus answers console requests by passing them on to the
 * controller (controller-forward.ts) under its own certificate: the
 * forwarding apparatus checks its caller against this same table first,
 * so a person's role is checked once, where the person connects. A device
 * has no business here.
 */
import type * as grpc from "@grpc/grpc-js";
import type { ControllerHandlers } from "@switchyard/proto";
import { authorizeHandlersWhen, type AuthorizationTable, type MethodRule } from "@switchyard/security";

const read: MethodRule = { roles: ["operator", "viewer", "apparatus"] };
const change: MethodRule = { roles: ["operator", "apparatus"] };

export const controllerAuthorizationTable: AuthorizationTable<ControllerHandlers> = {
  GetClusterStatus: read,
  ListVolumes: read,
  GetVolume: read,
  GetChange: read,
  ListChanges: read,
  WatchChange: read,
  CreateVolume: change,
  DeleteVolume: change,
  SubmitChange: change,
  CancelChange: change,
  FenceApparatus: change,
  RejoinApparatus: change,
  AddExternalDevice: change,
  RemoveExternalDevice: change,
};

/**
 * `handlers` of the Controller service, its own or a forwarder's (whose
 * handlers are untyped: they pass bytes on), checked against
 * controllerAuthorizationTable when the server has mutual TLS (`secure`);
 * authorizeHandlers asserts each method has its rule.
 */
export function authorizedControllerHandlers(secure: boolean, service: grpc.ServiceDefinition, handlers: grpc.UntypedServiceImplementation): grpc.UntypedServiceImplementation {
  return authorizeHandlersWhen<grpc.UntypedServiceImplementation>(secure, service, handlers, controllerAuthorizationTable);
}
