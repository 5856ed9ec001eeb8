/**
 * Who may call each Apparatus method (issue 17). The change protocol, the
 * tables and registration come from the controller, which runs inside the
 * apparatus holding the lease and presents that apparatus's certificate:
 * so from the apparatus role, and the epoch in each request decides whether
 * the caller leads (a deposed controller's epoch is refused inside, as
 * before). GetState carries the registration key the apparatus presents to
 * the device, so it too is for apparatuses only, never for a person's
 * certificate. Devices, operators and viewers have no business here.
 */
import type * as grpc from "@grpc/grpc-js";
import type { ApparatusHandlers } from "@switchyard/proto";
import { authorizeHandlersWhen, type AuthorizationTable } from "@switchyard/security";

const controllerOnly = { roles: ["apparatus"] } as const;

export const apparatusAuthorizationTable: AuthorizationTable<ApparatusHandlers> = {
  Hold: controllerOnly,
  Apply: controllerOnly,
  Release: controllerOnly,
  Abort: controllerOnly,
  GetState: controllerOnly,
  LoadTable: controllerOnly,
  Register: controllerOnly,
  Control: controllerOnly,
};

/** The Apparatus handlers, checked against apparatusAuthorizationTable when the server has mutual TLS (`secure`). */
export function authorizedApparatusHandlers(secure: boolean, service: grpc.ServiceDefinition, handlers: ApparatusHandlers): ApparatusHandlers {
  return authorizeHandlersWhen(secure, service, handlers, apparatusAuthorizationTable);
}
