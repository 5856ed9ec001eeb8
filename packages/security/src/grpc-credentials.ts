/**
 * gRPC credentials from an identity folder (layout.ts): the material a
 * GuardedServer requires client certificates with (signed by the cluster
 * CA), and a channel that presents the folder's certificate and trusts only
 * that CA.
 *
 * The files are read once, when the server or client is made (startup);
 * a renewed certificate is taken up on the next start.
 */
import * as grpc from "@grpc/grpc-js";
import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { SecurityError } from "./errors.js";
import { parseSubjectText } from "./identity.js";
import { caCertificateFile, clientCertificateFile, clientKeyFile, serverCertificateFile, serverKeyFile } from "./layout.js";

/** The PEM files one side of a TLS connection needs. */
export interface TlsMaterial {
  readonly ca: Buffer;
  readonly certificate: Buffer;
  readonly key: Buffer;
}

export type TlsSide = "server" | "client";

function readPart(folder: string, file: string): Buffer {
  try {
    return readFileSync(join(folder, file));
  } catch (error) {
    throw new SecurityError("bad-certificate-folder", `cannot read ${join(folder, file)}: a ${file} is needed in a certificate folder ('switchyard cert' makes them)`, { cause: error });
  }
}

/** The CA, certificate and key of `side` in an identity folder. */
export function readTlsMaterial(folder: string, side: TlsSide): TlsMaterial {
  const [certificateFile, keyFile] = side === "server" ? [serverCertificateFile, serverKeyFile] : [clientCertificateFile, clientKeyFile];
  return { ca: readPart(folder, caCertificateFile), certificate: readPart(folder, certificateFile), key: readPart(folder, keyFile) };
}

/**
 * Channel credentials that present our certificate and trust only the
 * cluster CA (not the system's roots). The server's name or address must be
 * among its certificate's subjectAltName entries: gRPC checks the one dialled.
 */
export function channelCredentials(material: TlsMaterial): grpc.ChannelCredentials {
  return grpc.credentials.createSsl(material.ca, material.key, material.certificate);
}

export function channelCredentialsFromFolder(folder: string): grpc.ChannelCredentials {
  return channelCredentials(readTlsMaterial(folder, "client"));
}

/**
 * How one node talks gRPC: mutual TLS from its identity folder, each server
 * guarded by its authorization table, or plain on both sides with no table
 * (an appliance started without certificates; the table would refuse every
 * caller there, having no certificate to read a role from).
 */
export interface NodeCredentials {
  /** True for mutual TLS: servers then check every call against their table. */
  readonly secure: boolean;
  /** What a GuardedServer listens with: the node's server certificate, or undefined for plain HTTP/2. */
  readonly serverTls: TlsMaterial | undefined;
  readonly channel: grpc.ChannelCredentials;
}

/** Mutual TLS from `folder`, or plain without one. Reads the files now. */
export function nodeCredentials(folder: string | undefined): NodeCredentials {
  if (folder === undefined) return { secure: false, serverTls: undefined, channel: grpc.credentials.createInsecure() };
  return { secure: true, serverTls: readTlsMaterial(folder, "server"), channel: channelCredentialsFromFolder(folder) };
}

/**
 * The subject fields of the client certificate in `folder`, as a TLS server
 * would read them from the verified peer: what a caller in the same process
 * presents over a relay link instead (proto's rpc-relay-link.ts). Undefined
 * without a folder (plain gRPC, no authorization to present to).
 */
export function presentedSubject(folder: string | undefined): Readonly<Record<string, string>> | undefined {
  if (folder === undefined) return undefined;
  const fields: Record<string, string> = {};
  for (const [key, value] of Object.entries(parseSubjectText(new X509Certificate(readPart(folder, clientCertificateFile)).subject))) {
    if (typeof value === "string") fields[key] = value;
  }
  return fields;
}

/** The channel a caller presents: the client certificate of an identity folder (a person's or a node's), or plain without one. */
export function callerCredentials(folder: string | undefined): grpc.ChannelCredentials {
  return folder === undefined ? grpc.credentials.createInsecure() : channelCredentialsFromFolder(folder);
}
