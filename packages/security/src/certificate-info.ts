/**
 * Reading certificates back: who each names, who signed it, and when it
 * ends. Node's X509Certificate parses; nothing here writes.
 */
import { X509Certificate } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { SecurityError } from "./errors.js";
import { identityOfSubject, parseSubjectText, type Identity } from "./identity.js";
import { caCertificateFile, clientCertificateFile, serverCertificateFile } from "./layout.js";

export interface CertificateInfo {
  readonly path: string;
  /** The subject as openssl prints it on one line: "O=switchyard, OU=device, CN=dev0". */
  readonly subject: string;
  readonly issuer: string;
  /** The role and id it speaks for; undefined for the CA and for certificates not ours. */
  readonly identity: Identity | undefined;
  readonly isCa: boolean;
  /** subjectAltName entries: "IP Address:127.0.0.1", "DNS:localhost". */
  readonly hosts: readonly string[];
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly serialNumber: string;
  readonly fingerprint256: string;
}

/** A certificate's fields; `pem` is its text, `path` where it came from (for messages). */
export function certificateInfo(pem: string | Buffer, path: string): CertificateInfo {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(pem);
  } catch (error) {
    throw new SecurityError("bad-certificate-folder", `${path} is not a PEM certificate`, { cause: error });
  }
  return {
    path,
    subject: certificate.subject.split("\n").join(", "),
    issuer: certificate.issuer.split("\n").join(", "),
    identity: certificate.ca ? undefined : identityOfSubject(parseSubjectText(certificate.subject)),
    isCa: certificate.ca,
    hosts: certificate.subjectAltName === undefined ? [] : certificate.subjectAltName.split(", "),
    // Node 20 has only the text form ("Dec  3 20:21:04 2031 GMT"); Date parses it.
    notBefore: new Date(certificate.validFrom),
    notAfter: new Date(certificate.validTo),
    serialNumber: certificate.serialNumber,
    fingerprint256: certificate.fingerprint256,
  };
}

export async function readCertificate(path: string): Promise<CertificateInfo> {
  let pem: Buffer;
  try {
    pem = await readFile(path);
  } catch (error) {
    throw new SecurityError("bad-certificate-folder", `cannot read ${path}`, { cause: error });
  }
  return certificateInfo(pem, path);
}

/** The certificate an identity folder holds: a node's server certificate, else a client's. */
async function identityCertificatePath(folder: string): Promise<string | undefined> {
  const names = new Set(await readdir(folder));
  if (names.has(serverCertificateFile)) return join(folder, serverCertificateFile);
  if (names.has(clientCertificateFile)) return join(folder, clientCertificateFile);
  return undefined;
}

/**
 * The CA and every identity's certificate in a cluster folder, CA first,
 * then by folder name. Folders still being built (".partial-") are skipped.
 */
export async function listCertificates(clusterDir: string): Promise<CertificateInfo[]> {
  const found = [await readCertificate(join(clusterDir, caCertificateFile))];
  const entries = await readdir(clusterDir, { withFileTypes: true });
  const folders = entries.filter((entry) => entry.isDirectory() && !entry.name.includes(".partial-")).map((entry) => entry.name).sort();
  for (const name of folders) {
    const path = await identityCertificatePath(join(clusterDir, name));
    if (path !== undefined) found.push(await readCertificate(path));
  }
  return found;
}
