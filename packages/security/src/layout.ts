/**
 * The certificate folder of a cluster, and of each identity in it.
 *
 *     DIR/                      0700, made by `cert ca` (or `switchyard up`)
 *       ca-cert.pem             the cluster CA, handed to every node and client
 *       ca-key.pem              0600; never leaves this folder
 *       device-dev0/            0700: one folder per identity, ROLE-ID
 *         ca-cert.pem
 *         server-cert.pem       a node's certificate (serverAuth and clientAuth)
 *         server-key.pem        0600
 *         client-cert.pem       -> server-cert.pem (a node calls other nodes too)
 *         client-key.pem        -> server-key.pem
 *       operator-admin/
 *         ca-cert.pem
 *         client-cert.pem       a person's certificate (clientAuth only)
 *         client-key.pem        0600
 *
 * Each identity folder is in the layout GnuTLS users read: libnbd's
 * `tls-certificates=DIR`, qemu's `tls-creds-x509,dir=DIR` (endpoint=client
 * reads ca-cert.pem, client-cert.pem, client-key.pem; endpoint=server the
 * server-* pair) and nbdkit's `--tls-certificates DIR`. So a folder is
 * copied whole to the machine it belongs to and every tool finds its files.
 */
import { join } from "node:path";
import type { Identity } from "./identity.js";

export const caCertificateFile = "ca-cert.pem";
export const caKeyFile = "ca-key.pem";
export const serverCertificateFile = "server-cert.pem";
export const serverKeyFile = "server-key.pem";
export const clientCertificateFile = "client-cert.pem";
export const clientKeyFile = "client-key.pem";

/** Folders hold keys: only the owner may list or enter them. */
export const folderMode = 0o700;
/** Private keys: only the owner may read them. */
export const keyFileMode = 0o600;
/** Certificates are public. */
export const certificateFileMode = 0o644;

export function identityFolderName(identity: Identity): string {
  return `${identity.role}-${identity.id}`;
}

export function identityFolder(clusterDir: string, identity: Identity): string {
  return join(clusterDir, identityFolderName(identity));
}
