/**
 * The certificates `switchyard up` keeps in its data folder: a cluster CA
 * and one certificate per part it runs (the device, each apparatus) and one
 * for the operator at this machine, so every command and tool run here finds
 * them in DATA/tls without a step of its own. Made on the first start; a
 * later start makes only what is missing (more apparatuses).
 */
import { join } from "node:path";
import { ensureCertificates, identityFolder, type CertificatePlan } from "@switchyard/security";
import { applianceDeviceId } from "./appliance.js";

/** The certificate folder inside a data folder. */
export const certificateFolderName = "tls";
/** The operator certificate `up` makes for whoever runs it (the GnuTLS client folder for libnbd and qemu). */
export const applianceOperatorName = "admin";

export function certificateFolderOf(dataDir: string): string {
  return join(dataDir, certificateFolderName);
}

/** Wildcard addresses listen everywhere but are no address a client dials, so no certificate names them. */
const wildcardHosts: ReadonlySet<string> = new Set(["0.0.0.0", "::", "[::]"]);

/** The names and addresses node certificates carry: the listen address, and loopback as a client on this machine dials it. */
export function applianceHosts(host: string): string[] {
  const hosts = wildcardHosts.has(host) ? [] : [host];
  for (const loopback of ["127.0.0.1", "localhost"]) if (!hosts.includes(loopback)) hosts.push(loopback);
  return hosts;
}

/**
 * `dataHost`: where hosts reach the apparatuses' NBD (`up --data-host`), if
 * not `host`; apparatus certificates name it too, since NBD clients check
 * the address they dialled against the certificate.
 */
export function appliancePlan(host: string, apparatusCount: number, dataHost: string = host): CertificatePlan {
  const hosts = applianceHosts(host);
  const apparatusHosts = [...new Set([...applianceHosts(dataHost), ...hosts])];
  const apparatuses = Array.from({ length: apparatusCount }, (_unused, index) => ({ role: "apparatus" as const, id: `a${index}`, hosts: apparatusHosts }));
  return {
    nodes: [{ role: "device", id: applianceDeviceId, hosts }, ...apparatuses],
    clients: [{ role: "operator", id: applianceOperatorName }],
  };
}

/** The operator's client folder in DATA/tls: ca-cert.pem, client-cert.pem, client-key.pem. */
export function applianceClientFolder(dataDir: string): string {
  return identityFolder(certificateFolderOf(dataDir), { role: "operator", id: applianceOperatorName });
}

/** Makes what is missing of the appliance's certificates; returns the folders made. */
export function ensureApplianceCertificates(dataDir: string, host: string, apparatusCount: number, dataHost: string = host): Promise<string[]> {
  return ensureCertificates(certificateFolderOf(dataDir), appliancePlan(host, apparatusCount, dataHost));
}
