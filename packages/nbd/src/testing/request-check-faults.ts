/**
 * Deliberate bugs of an NBD server's request checks, each an
 * NbdRequestCheck that gets one rule of proto.md wrong and applies the rest
 * as requestErrno does, to prove that the conformance suite catches that one
 * thing. Test code only: a server gets one when whoever builds it passes
 * `requestCheck`.
 *
 * "long-zeroes-refused": WRITE_ZEROES and TRIM longer than the maximum
 * payload are refused with EINVAL, as if the maximum bounded them too
 * (proto.md "Block size constraints": it bounds payloads, and these carry
 * none). "fast-zero-invalid": NBD_FLAG_SEND_FAST_ZERO is advertised, but a
 * WRITE_ZEROES with NBD_CMD_FLAG_FAST_ZERO is refused with EINVAL as an
 * unknown flag, where proto.md allows only success or ENOTSUP.
 */
import { NBD_CMD_FLAG_FAST_ZERO, NBD_CMD_TRIM, NBD_CMD_WRITE_ZEROES, NBD_EINVAL } from "../constants.js";
import { requestErrno, type NbdRequestCheck } from "../request-validation.js";

export type RequestCheckFault = "long-zeroes-refused" | "fast-zero-invalid";

export const requestCheckFaults: readonly RequestCheckFault[] = ["long-zeroes-refused", "fast-zero-invalid"];

export function requestCheckFaultNamed(text: string): RequestCheckFault | undefined {
  return requestCheckFaults.find((fault) => fault === text);
}

const refuseLongZeroes: NbdRequestCheck = (command, flags, offsetBytes, lengthBytes, nbdExport, policy) => {
  const zeroing = command === NBD_CMD_WRITE_ZEROES || command === NBD_CMD_TRIM;
  if (zeroing && lengthBytes > policy.requestSizeMaxBytes) return NBD_EINVAL;
  return requestErrno(command, flags, offsetBytes, lengthBytes, nbdExport, policy);
};

const refuseFastZero: NbdRequestCheck = (command, flags, offsetBytes, lengthBytes, nbdExport, policy) => {
  if (command === NBD_CMD_WRITE_ZEROES && (flags & NBD_CMD_FLAG_FAST_ZERO) !== 0) return NBD_EINVAL;
  return requestErrno(command, flags, offsetBytes, lengthBytes, nbdExport, policy);
};

/** The request check with the planted bug `fault`. */
export const faultyRequestChecks: Readonly<Record<RequestCheckFault, NbdRequestCheck>> = {
  "long-zeroes-refused": refuseLongZeroes,
  "fast-zero-invalid": refuseFastZero,
};
