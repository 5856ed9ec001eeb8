/**
 * Who a certificate speaks for, and how that is written into it.
 *
 * The encoding (one place, read by the PKI and by the gRPC authorization):
 * the certificate subject is `O=switchyard, OU=<role>, CN=<id>`. The subject
 * is what `openssl x509 -noout -subject`, `cert list` and Node's
 * `tls.PeerCertificate.subject` all show without parsing extensions, and
 * the CA is the only signer trusted, so a subject cannot be forged short of
 * its key. Host names and addresses go in subjectAltName, where TLS clients
 * check them; they say where a node is, never who it is.
 */
import { isIP } from "node:net";
import { SecurityError } from "./errors.js";

/** The organization every Switchyard certificate carries: a certificate without it is not ours. */
export const organization = "switchyard";

/** Roles of machines: they serve gRPC (and NBD) and call each other. */
export const nodeRoles = ["device", "apparatus"] as const;
/** Roles of people and their tools: they only call. */
export const clientRoles = ["operator", "viewer"] as const;
export const roles = [...nodeRoles, ...clientRoles] as const;

export type NodeRole = (typeof nodeRoles)[number];
export type ClientRole = (typeof clientRoles)[number];
export type Role = (typeof roles)[number];

export interface Identity {
  readonly role: Role;
  readonly id: string;
}

/**
 * Ids are short and plain, so a subject needs no escaping in openssl's
 * `-subj /A=b/C=d` form (no "/", ",", "=", "+", "\\") and reads the same in
 * every tool; 64 characters is X.520's upper bound for a commonName.
 */
export const idCharactersMax = 64;
const idPattern = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** A DNS name in subjectAltName: RFC 1035 letters, digits, hyphens and dots, 253 characters at most. */
export const hostNameCharactersMax = 253;
const hostNamePattern = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

export function isRole(text: string): text is Role {
  return (roles as readonly string[]).includes(text);
}

export function isNodeRole(text: string): text is NodeRole {
  return (nodeRoles as readonly string[]).includes(text);
}

export function isClientRole(text: string): text is ClientRole {
  return (clientRoles as readonly string[]).includes(text);
}

export function checkId(id: string): string {
  if (id.length === 0 || id.length > idCharactersMax || !idPattern.test(id)) {
    throw new SecurityError("invalid-identity", `id ${JSON.stringify(id)} must be 1 to ${idCharactersMax} letters, digits, '.', '_' or '-', starting with a letter or digit`);
  }
  return id;
}

/** One subjectAltName entry for a host: "IP:…" for an address, "DNS:…" for a name. */
export function hostAltName(host: string): string {
  if (isIP(host) !== 0) return `IP:${host}`;
  if (!hostNamePattern.test(host)) {
    throw new SecurityError("invalid-identity", `host ${JSON.stringify(host)} is neither an IP address nor a DNS name`);
  }
  return `DNS:${host}`;
}

/** The subject in openssl's `-subj` form. */
export function subjectOf(identity: Identity): string {
  checkId(identity.id);
  return `/O=${organization}/OU=${identity.role}/CN=${identity.id}`;
}

/** The fields of a subject as Node gives them (tls.PeerCertificate.subject, or parsed from X509Certificate.subject). */
export interface SubjectFields {
  readonly O?: unknown;
  readonly OU?: unknown;
  readonly CN?: unknown;
}

/**
 * The identity a subject names, or undefined when it is not one of ours.
 * A field given twice arrives as an array: refused, since which one counts
 * would be a guess.
 */
export function identityOfSubject(subject: SubjectFields): Identity | undefined {
  const { O: org, OU: role, CN: id } = subject;
  if (org !== organization || typeof role !== "string" || typeof id !== "string") return undefined;
  if (!isRole(role) || id.length === 0 || id.length > idCharactersMax || !idPattern.test(id)) return undefined;
  return { role, id };
}

/** X509Certificate.subject's "O=switchyard\nOU=device\nCN=dev0" as fields; a field given twice becomes an array. */
export function parseSubjectText(text: string): SubjectFields {
  const fields: Record<string, unknown> = {};
  for (const line of text.split("\n")) {
    const split = line.indexOf("=");
    if (split <= 0) continue;
    const key = line.slice(0, split);
    const value = line.slice(split + 1);
    const before = fields[key];
    fields[key] = before === undefined ? value : [before, value];
  }
  return fields;
}
