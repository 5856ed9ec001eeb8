/**
 * Who may call each Apparatus method (issue 17). The change protocol, the
 * tables and registration come from the controller, which runs inside the
 * apparatus holding the lease and presents that apparatus's certificate:
 * so from the apparatus role, and only from the certificate the request's
 * epoch was granted to, as the device says (lease-holder-lookup.ts); a
 * deposed controller's epoch is refused inside, as before. Control carries
 * an epoch in each message, so its handler checks each one
 * (apparatus-service.ts). GetState carries the registration key the apparatus presents to
 * the device, so it too is for apparatuses only, never for a person's
 * certificate. Devices, operators and viewers have no business here.
 */
import type * as grpc from "@grpc/grpc-js";
import type { ApparatusHandlers } from "@switchyard/proto";
import { authorizeHandlersWhen, type AuthorizationTable, type LeaseHolderCheck } from "@switchyard/security";

const controllerOnly = { roles: ["apparatus"], holderEpochField: "epoch" } as const;
const apparatusOnly = { roles: ["apparatus"] } as const;

export const apparatusAuthorizationTable: AuthorizationTable<ApparatusHandlers> = {
  Hold: controllerOnly,
  Apply: controllerOnly,
  Release: controllerOnly,
  Abort: controllerOnly,
  GetState: apparatusOnly,
  LoadTable: controllerOnly,
  Register: controllerOnly,
  Control: apparatusOnly,
};

/** The Apparatus handlers, checked against apparatusAuthorizationTable and `holders` when the server has mutual TLS (`secure`). */
export function authorizedApparatusHandlers(
  secure: boolean,
  service: grpc.ServiceDefinition,
  handlers: ApparatusHandlers,
  holders: LeaseHolderCheck | undefined,
): ApparatusHandlers {
  return authorizeHandlersWhen(secure, service, handlers, apparatusAuthorizationTable, holders);
}
