/**
 * Who may call each Device method (issue 17): the store, the arbiter, the
 * fences, the mirrors and the copies belong to apparatuses (the controller
 * runs in the one that holds the lease; the epoch checks inside the device
 * say which of them may write); operators and viewers may only read the
 * inventory and the mirrors' progress. Where a request names the caller
 * (a lease candidate or holder, an apparatus renewing or enrolling
 * itself), the certificate's id must be that name, so no apparatus takes
 * or extends a lease, or rewrites an address, for another.
 */
import type * as grpc from "@grpc/grpc-js";
import type { DeviceHandlers } from "@switchyard/proto";
import { authorizeHandlersWhen, type AuthorizationTable } from "@switchyard/security";

export const deviceAuthorizationTable: AuthorizationTable<DeviceHandlers> = {
  GetInventory: { roles: ["apparatus", "operator", "viewer"] },
  // AcquireLease tells the holder's epoch, which alone allows store writes: only to the candidate itself.
  AcquireLease: { roles: ["apparatus"], callerIdField: "candidate_id" },
  RenewLease: { roles: ["apparatus"], callerIdField: "holder_id" },
  ReadStore: { roles: ["apparatus"] },
  WriteStore: { roles: ["apparatus"] },
  CommitDelta: { roles: ["apparatus"] },
  // The controller registers and fences its peers: any apparatus, the epoch decides.
  RegisterKey: { roles: ["apparatus"] },
  Fence: { roles: ["apparatus"] },
  // It makes the device connect to a URI it is given: not for viewers, nor operators without the controller.
  ProbeNbdExport: { roles: ["apparatus"] },
  RenewRegistration: { roles: ["apparatus"], callerIdField: "apparatus_id" },
  // An apparatus enrolls its own addresses, never another's (the Enroll hijack).
  Enroll: { roles: ["apparatus"], callerIdField: "apparatus.id" },
  ScrubAreas: { roles: ["apparatus"] },
  StartMirror: { roles: ["apparatus"] },
  StopMirror: { roles: ["apparatus"] },
  ListMirrors: { roles: ["apparatus", "operator", "viewer"] },
};

/** The Device handlers, each call checked against deviceAuthorizationTable first when the server has mutual TLS (`secure`). */
export function authorizedDeviceHandlers(secure: boolean, service: grpc.ServiceDefinition, handlers: DeviceHandlers): DeviceHandlers {
  return authorizeHandlersWhen(secure, service, handlers, deviceAuthorizationTable);
}
