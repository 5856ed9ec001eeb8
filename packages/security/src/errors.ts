/**
 * The operating errors of this package: each has a stable `code` a caller
 * switches on, and the `cause` when another part failed first.
 */
export type SecurityErrorCode =
  /** An identity, role or host that a certificate cannot carry. */
  | "invalid-identity"
  /** The openssl binary failed, was missing, or ran past its timeout. */
  | "openssl-failed"
  /** A certificate folder misses a file, or a file is not what it should be. */
  | "bad-certificate-folder"
  /** A file that would be overwritten (a CA, a key) exists already. */
  | "exists";

export class SecurityError extends Error {
  readonly code: SecurityErrorCode;

  constructor(code: SecurityErrorCode, message: string, options?: { readonly cause?: unknown }) {
    super(message, options);
    this.name = "SecurityError";
    this.code = code;
  }
}

export function isSecurityError(error: unknown): error is SecurityError {
  return error instanceof SecurityError;
}
