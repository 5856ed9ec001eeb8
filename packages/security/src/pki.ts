/**
 * A cluster CA and the certificates it signs, made with openssl into the
 * folders layout.ts describes. Each folder is built under a temporary name
 * and renamed into place, so a crash leaves no half-made identity; the CA's
 * key is written before its certificate, and a key without a certificate is
 * refused rather than overwritten.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { chmod, copyFile, lstat, mkdir, mkdtemp, rename, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SecurityError } from "./errors.js";
import { checkId, hostAltName, subjectOf, type ClientRole, type Identity, type NodeRole } from "./identity.js";
import {
  caCertificateFile,
  caKeyFile,
  certificateFileMode,
  clientCertificateFile,
  clientKeyFile,
  folderMode,
  identityFolder,
  keyFileMode,
  serverCertificateFile,
  serverKeyFile,
} from "./layout.js";
import { generateKeyPem, signCertificatePem, signingRequestPem, type Signer } from "./openssl.js";

/** Ten years: replacing a CA means reissuing every certificate, so it is made rarely (CockroachDB's default too). */
export const caLifetimeDays: number = 3650;
/** Five years for node and client certificates (CockroachDB's default); `cert list` shows when each ends. */
export const leafLifetimeDays: number = 1825;
assert.ok(leafLifetimeDays < caLifetimeDays, "a certificate must not outlive the CA that signed it");
/** A node answers at a handful of names and addresses; more is a mistake in a script. */
export const hostsMax = 32;
/** The CA's common name: the cluster it signs for. */
export const caCommonName = "switchyard-ca";

/** pathlen:0: the CA signs certificates, never another CA. */
const caExtensions = ["basicConstraints = critical, CA:true, pathlen:0", "keyUsage = critical, keyCertSign, cRLSign", "subjectKeyIdentifier = hash"];

function leafExtensions(usage: string, hosts: readonly string[]): string[] {
  const lines = ["basicConstraints = critical, CA:false", "keyUsage = critical, digitalSignature", `extendedKeyUsage = ${usage}`, "subjectKeyIdentifier = hash", "authorityKeyIdentifier = keyid"];
  if (hosts.length > 0) lines.push(`subjectAltName = ${hosts.map(hostAltName).join(", ")}`);
  return lines;
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (error) {
    if (error instanceof Error && "code" in error && error.code === "ENOENT") return false;
    throw error;
  }
}

/** Writes a new key file, owner-only from its first byte ('wx' and the mode together). */
async function writeKey(path: string, pem: string): Promise<void> {
  await writeFile(path, pem, { mode: keyFileMode, flag: "wx" });
  // The umask could only have narrowed it; set it anyway so the mode is the one we name.
  await chmod(path, keyFileMode);
}

async function writeCertificate(path: string, pem: string): Promise<void> {
  await writeFile(path, pem, { mode: certificateFileMode, flag: "wx" });
}

async function makeFolder(path: string): Promise<void> {
  await mkdir(path, { recursive: true, mode: folderMode });
  await chmod(path, folderMode);
}

/** Makes a key in `keyPath` and a certificate for it, signed by `signer`; returns the certificate PEM. */
async function issue(keyPath: string, identity: Identity | { readonly subject: string }, extensions: readonly string[], lifetimeDays: number, signer: (keyPath: string) => Signer): Promise<string> {
  await writeKey(keyPath, await generateKeyPem());
  const scratch = await mkdtemp(join(tmpdir(), "switchyard-csr-"));
  try {
    const requestPath = join(scratch, "request.pem");
    const extensionsPath = join(scratch, "extensions.cnf");
    const subject = "subject" in identity ? identity.subject : subjectOf(identity);
    await writeFile(requestPath, await signingRequestPem(keyPath, subject), { mode: keyFileMode });
    await writeFile(extensionsPath, `${extensions.join("\n")}\n`, { mode: keyFileMode });
    return await signCertificatePem({ requestPath, extensionsPath, lifetimeDays, signer: signer(keyPath) });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** Whether DIR holds a CA (its certificate: the key is written first, so a certificate means both). */
export async function hasCa(clusterDir: string): Promise<boolean> {
  return exists(join(clusterDir, caCertificateFile));
}

/** Makes the cluster CA in `clusterDir`; refuses when a CA certificate or key is there already. */
export async function createCa(clusterDir: string): Promise<void> {
  await makeFolder(clusterDir);
  for (const file of [caCertificateFile, caKeyFile]) {
    const path = join(clusterDir, file);
    if (await exists(path)) throw new SecurityError("exists", `${path} exists already; a second CA would orphan every certificate the first one signed`);
  }
  const keyPath = join(clusterDir, caKeyFile);
  const pem = await issue(keyPath, { subject: `/O=switchyard/OU=ca/CN=${caCommonName}` }, caExtensions, caLifetimeDays, (self) => ({ selfKeyPath: self }));
  await writeCertificate(join(clusterDir, caCertificateFile), pem);
}

async function requireCa(clusterDir: string): Promise<Signer> {
  const caCertificatePath = join(clusterDir, caCertificateFile);
  const caKeyPath = join(clusterDir, caKeyFile);
  if (!(await exists(caCertificatePath)) || !(await exists(caKeyPath))) {
    throw new SecurityError("bad-certificate-folder", `${clusterDir} holds no CA (${caCertificateFile} and ${caKeyFile}); make one with 'switchyard cert ca --dir ${clusterDir}'`);
  }
  return { caCertificatePath, caKeyPath };
}

/** Builds an identity's folder under a temporary name with `fill`, then renames it into place. */
async function buildIdentityFolder(clusterDir: string, identity: Identity, fill: (folder: string, signer: Signer) => Promise<void>): Promise<string> {
  const signer = await requireCa(clusterDir);
  const folder = identityFolder(clusterDir, identity);
  if (await exists(folder)) throw new SecurityError("exists", `${folder} exists already; remove it first to issue a new certificate for ${identity.role} ${identity.id}`);
  const partial = `${folder}.partial-${randomBytes(4).toString("hex")}`;
  await makeFolder(partial);
  try {
    await copyFile(join(clusterDir, caCertificateFile), join(partial, caCertificateFile));
    await fill(partial, signer);
    await rename(partial, folder);
  } finally {
    await rm(partial, { recursive: true, force: true });
  }
  return folder;
}

export interface NodeCertificateRequest {
  readonly role: NodeRole;
  readonly id: string;
  /** Names and addresses the node answers at: TLS clients check the one they dialled against these. */
  readonly hosts: readonly string[];
}

/** A device's or apparatus's certificate: it serves (server-*) and calls other nodes (client-* link to the same pair). */
export async function issueNodeCertificate(clusterDir: string, request: NodeCertificateRequest): Promise<string> {
  checkId(request.id);
  if (request.hosts.length === 0 || request.hosts.length > hostsMax) {
    throw new SecurityError("invalid-identity", `a node certificate needs 1 to ${hostsMax} hosts (names or addresses it answers at), not ${request.hosts.length}`);
  }
  const extensions = leafExtensions("serverAuth, clientAuth", request.hosts);
  return buildIdentityFolder(clusterDir, request, async (folder, signer) => {
    const pem = await issue(join(folder, serverKeyFile), request, extensions, leafLifetimeDays, () => signer);
    await writeCertificate(join(folder, serverCertificateFile), pem);
    // Relative links: the folder still works after it is copied or moved whole.
    await symlink(serverCertificateFile, join(folder, clientCertificateFile));
    await symlink(serverKeyFile, join(folder, clientKeyFile));
  });
}

export interface ClientCertificateRequest {
  readonly role: ClientRole;
  readonly id: string;
}

/** A person's (or a script's) certificate: it only calls, so clientAuth only and no hosts. */
export async function issueClientCertificate(clusterDir: string, request: ClientCertificateRequest): Promise<string> {
  checkId(request.id);
  const extensions = leafExtensions("clientAuth", []);
  return buildIdentityFolder(clusterDir, request, async (folder, signer) => {
    const pem = await issue(join(folder, clientKeyFile), request, extensions, leafLifetimeDays, () => signer);
    await writeCertificate(join(folder, clientCertificateFile), pem);
  });
}

/** What `ensureCertificates` makes when missing. */
export interface CertificatePlan {
  readonly nodes: readonly NodeCertificateRequest[];
  readonly clients: readonly ClientCertificateRequest[];
}

/**
 * Makes the CA and each identity folder of `plan` that is not there yet
 * (`switchyard up` on every start: the first makes them, later ones find
 * them). Returns the folders it made.
 */
export async function ensureCertificates(clusterDir: string, plan: CertificatePlan): Promise<string[]> {
  const made: string[] = [];
  if (!(await hasCa(clusterDir))) {
    await createCa(clusterDir);
    made.push(clusterDir);
  }
  for (const node of plan.nodes) {
    if (await exists(identityFolder(clusterDir, node))) continue;
    made.push(await issueNodeCertificate(clusterDir, node));
  }
  for (const client of plan.clients) {
    if (await exists(identityFolder(clusterDir, client))) continue;
    made.push(await issueClientCertificate(clusterDir, client));
  }
  return made;
}

/** The mode bits of a file or folder (tests and `cert list` check keys are owner-only). */
export async function modeOf(path: string): Promise<number> {
  return (await stat(path)).mode & 0o777;
}
