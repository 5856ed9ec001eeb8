/**
 * Who may call each Device method (issue 17): the store, the arbiter, the
 * fences, the mirrors and the copies belong to apparatuses (the controller
 * runs in the one that holds the lease; the epoch checks inside the device
 * say which of them may write); operators and viewers may only read the
 * inventory and the mirrors' progress. Where a request names the caller
 * (a lease candidate or holder, an apparatus renewing or enrolling
 * itself), the certificate's id must be that name, so no apparatus takes
 * or extends a lease, or rewrites an address, for another. Where a request
 * acts under an epoch, the certificate must be the one the epoch was
 * granted to: a peer apparatus that learnt or guessed the epoch still
 * cannot write the store, register, fence, scrub or mirror.
 */
import type * as grpc from "@grpc/grpc-js";
import type { DeviceHandlers } from "@switchyard/proto";
import { LeaseHolderCheck, authorizeHandlersWhen, type AuthorizationTable, type EpochHolderLookup } from "@switchyard/security";

/** The lease holder's own calls: the apparatus role, from the certificate the request's epoch was granted to. */
const holderOnly = { roles: ["apparatus"], holderEpochField: "epoch" } as const;

export const deviceAuthorizationTable: AuthorizationTable<DeviceHandlers> = {
  GetInventory: { roles: ["apparatus", "operator", "viewer"] },
  // AcquireLease tells the holder's epoch, which alone allows store writes: only to the candidate itself.
  AcquireLease: { roles: ["apparatus"], callerIdField: "candidate_id" },
  RenewLease: { roles: ["apparatus"], callerIdField: "holder_id" },
  // Apparatuses ask it to check the epochs their callers act under.
  GetLeaseHolder: { roles: ["apparatus"] },
  ReadStore: { roles: ["apparatus"] },
  WriteStore: holderOnly,
  CommitDelta: holderOnly,
  // The controller registers and fences its peers: the holder of the epoch.
  RegisterKey: holderOnly,
  Fence: holderOnly,
  // It makes the device connect to a URI it is given: not for viewers, nor operators without the controller.
  ProbeNbdExport: { roles: ["apparatus"] },
  RenewRegistration: { roles: ["apparatus"], callerIdField: "apparatus_id" },
  // An apparatus enrolls its own addresses, never another's (the Enroll hijack).
  Enroll: { roles: ["apparatus"], callerIdField: "apparatus.id" },
  ScrubAreas: holderOnly,
  StartMirror: holderOnly,
  StopMirror: holderOnly,
  ListMirrors: { roles: ["apparatus", "operator", "viewer"] },
};

/**
 * The Device handlers, each call checked against deviceAuthorizationTable
 * first when the server has mutual TLS (`secure`); `leaseHolder` says who
 * holds the newest epoch (StorageDevice.leaseHolder).
 */
export function authorizedDeviceHandlers(secure: boolean, service: grpc.ServiceDefinition, handlers: DeviceHandlers, leaseHolder: EpochHolderLookup): DeviceHandlers {
  return authorizeHandlersWhen(secure, service, handlers, deviceAuthorizationTable, new LeaseHolderCheck(leaseHolder));
}
