/**
 * The openssl binary, run for the three things a CA does: make a key, make a
 * signing request, sign it. Every run is bounded by a timeout and its
 * failure is a SecurityError carrying openssl's own first line.
 *
 * Certificates are X.509 v3 made by openssl, not hand-rolled DER: the
 * extensions are written in openssl's extension-file syntax, one per line.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { SecurityError } from "./errors.js";

export const opensslCommand = "openssl";
/** Key generation and signing take milliseconds; on a busy shared CI machine a hundred times that is still far below this. */
export const opensslTimeoutMs = 30_000;
/** A PEM key or certificate is a few kilobytes; anything near this is not what we asked for. */
export const opensslOutputBytesMax = 1024 * 1024;
/** RFC 5280 4.1.2.2: a serial is at most 20 octets; 16 random ones (top bit cleared: positive) make collisions impossible in practice. */
export const serialBytes: number = 16;
assert.ok(serialBytes <= 20);

/** Runs openssl with `args`; resolves with its standard output. */
export function runOpenssl(args: readonly string[], what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(opensslCommand, [...args], { timeout: opensslTimeoutMs, maxBuffer: opensslOutputBytesMax, encoding: "utf8" }, (error, stdout, stderr) => {
      if (error !== null) {
        const detail = stderr.trim().split("\n")[0] ?? "";
        reject(new SecurityError("openssl-failed", `openssl could not ${what}: ${detail === "" ? error.message : detail}`, { cause: error }));
        return;
      }
      resolve(stdout);
    });
  });
}

/**
 * An ECDSA P-256 private key in PEM (PKCS#8): every TLS stack we meet
 * (Node, GnuTLS in libnbd and qemu, nbdkit) takes it, and it is made in a
 * millisecond where RSA takes a second on a busy machine.
 */
export async function generateKeyPem(): Promise<string> {
  const pem = await runOpenssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"], "generate a key");
  assert.match(pem, /^-----BEGIN PRIVATE KEY-----\n/);
  return pem;
}

/** A certificate signing request for `subject` (openssl -subj form), signed by the key at `keyPath`. */
export async function signingRequestPem(keyPath: string, subject: string): Promise<string> {
  const pem = await runOpenssl(["req", "-new", "-key", keyPath, "-subj", subject], "make a signing request");
  assert.match(pem, /^-----BEGIN CERTIFICATE REQUEST-----\n/);
  return pem;
}

/** Who signs: the request's own key (a self-signed CA), or the CA's certificate and key. */
export type Signer = { readonly selfKeyPath: string } | { readonly caCertificatePath: string; readonly caKeyPath: string };

export interface SignOptions {
  readonly requestPath: string;
  /** An openssl extension file: one `name = value` line per extension. */
  readonly extensionsPath: string;
  readonly lifetimeDays: number;
  readonly signer: Signer;
}

export function randomSerial(): string {
  const bytes = randomBytes(serialBytes);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return `0x${bytes.toString("hex")}`;
}

/** Signs the request: an X.509 v3 certificate (v3 because extensions are given), in PEM. */
export async function signCertificatePem(options: SignOptions): Promise<string> {
  assert.ok(Number.isInteger(options.lifetimeDays) && options.lifetimeDays > 0);
  const signer = "selfKeyPath" in options.signer ? ["-signkey", options.signer.selfKeyPath] : ["-CA", options.signer.caCertificatePath, "-CAkey", options.signer.caKeyPath];
  const pem = await runOpenssl(
    ["x509", "-req", "-in", options.requestPath, ...signer, "-days", String(options.lifetimeDays), "-set_serial", randomSerial(), "-sha256", "-extfile", options.extensionsPath],
    "sign a certificate",
  );
  assert.match(pem, /^-----BEGIN CERTIFICATE-----\n/);
  return pem;
}
