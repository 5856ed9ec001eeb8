/**
 * The checks every request to the web console passes before it is routed
 * (issue 17, item 4), as pure functions of its headers:
 * - Host names this console: a page on another site cannot reach a console
 *   on loopback by pointing its own name at 127.0.0.1 (DNS rebinding).
 * - Origin is this console's on every POST: a page elsewhere cannot make a
 *   logged-in browser submit a form (with the CSRF token, the second lock).
 * - The session cookie and a bearer token are read here, never logged.
 */
import { isIP } from "node:net";
import { isLoopback } from "../plain-control.js";

export const sessionCookieName = "switchyard_session";
export const csrfHeaderName = "x-csrf-token";

/** Where the console listens: its host as given and the port it got. */
export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/** Splits a Host header into name and port; undefined when it is not one. */
function parseHostHeader(header: string): { name: string; port: number } | undefined {
  const match = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):([0-9]{1,5})$/.exec(header);
  if (match === null) return undefined;
  const [, name = "", port = ""] = match;
  return { name: name.toLowerCase(), port: Number(port) };
}

function isWildcard(host: string): boolean {
  return host === "0.0.0.0" || host === "::" || host === "[::]";
}

function bracketed(host: string): string {
  return isIP(host) === 6 ? `[${host}]` : host;
}

/**
 * Whether a request's Host header names this console. A loopback console
 * answers only to loopback names; one on a given address only to that
 * address; one on a wildcard address to any name at its port (HTTPS and the
 * login guard it then, since its names are not known here).
 */
export function hostAllowed(header: string | undefined, listen: ListenAddress): boolean {
  if (header === undefined) return false;
  const parsed = parseHostHeader(header);
  if (parsed === undefined || parsed.port !== listen.port) return false;
  if (isWildcard(listen.host)) return true;
  if (isLoopback(listen.host)) return isLoopback(parsed.name);
  return parsed.name === bracketed(listen.host).toLowerCase();
}

/** Whether a POST's Origin is this console's own: the scheme it serves and the Host the request named. */
export function originAllowed(origin: string | undefined, host: string | undefined, scheme: "http" | "https"): boolean {
  return origin !== undefined && host !== undefined && origin.toLowerCase() === `${scheme}://${host.toLowerCase()}`;
}

/** The value of cookie `name` in a Cookie header. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? "").split(";")) {
    const separator = part.indexOf("=");
    if (separator > 0 && part.slice(0, separator).trim() === name) return part.slice(separator + 1).trim();
  }
  return undefined;
}

/** The token of an `Authorization: Bearer TOKEN` header (Prometheus's `authorization` setting sends this). */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer ([A-Za-z0-9._~+/=-]+)$/.exec(header ?? "");
  return match?.[1];
}

/** The Set-Cookie value that opens a session; Secure once the console serves HTTPS. */
export function sessionCookie(id: string, secure: boolean): string {
  return `${sessionCookieName}=${id}; Path=/; HttpOnly; SameSite=Strict${secure ? "; Secure" : ""}`;
}

/** The Set-Cookie value that ends one. */
export function endedSessionCookie(secure: boolean): string {
  return `${sessionCookieName}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${secure ? "; Secure" : ""}`;
}
