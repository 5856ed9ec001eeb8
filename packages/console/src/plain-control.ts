/**
 * Plain gRPC stays on this machine (issue 17, item 7). Without mutual TLS
 * any process that reaches a control port may forge a table or fence an
 * apparatus, so a command that would serve gRPC in plain text on an address
 * other machines reach is refused with one line; `--insecure` says so on
 * purpose and warns on every start, and is refused beside such an address.
 */
import { isIP } from "node:net";
import { UsageError } from "./usage.js";

/** Addresses only this machine reaches: 127.0.0.0/8, ::1 and the name localhost. */
export function isLoopback(host: string): boolean {
  const bare = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  if (bare === "localhost") return true;
  if (isIP(bare) === 4) return bare.startsWith("127.");
  return bare === "::1";
}

/** The warning `--insecure` prints on every start. */
export function insecureWarning(command: string): string {
  return `switchyard ${command}: --insecure: gRPC (and NBD, where it allows plain) in plain text, no caller checked; for experiments on this machine only\n`;
}

/**
 * Throws UsageError unless serving gRPC on `controlHost` is allowed: with
 * TLS anywhere; in plain text (`insecure` or no TLS given) on loopback only.
 * `tlsOption` names the option that turns TLS on, for the message.
 */
export function checkPlainControl(controlHost: string, tls: boolean, insecure: boolean, tlsOption: string): void {
  if (tls && insecure) throw new UsageError(`--insecure and ${tlsOption} contradict each other: give one`);
  if (tls || isLoopback(controlHost)) return;
  if (insecure) throw new UsageError(`--insecure is for this machine only: it is refused with ${controlHost}, which other machines reach; use ${tlsOption}`);
  throw new UsageError(`gRPC on ${controlHost} reaches other machines: serve it with ${tlsOption} (mutual TLS), or listen on 127.0.0.1`);
}

/**
 * Throws UsageError unless the web console may listen on `httpHost`: on
 * loopback in plain HTTP; elsewhere only over HTTPS, which needs the
 * appliance's certificates (`tlsOption`). A login token or session cookie
 * sent in plain text to another machine is one anybody on the path can use.
 */
export function checkPlainHttp(httpHost: string, tls: boolean, tlsOption: string): void {
  if (tls || isLoopback(httpHost)) return;
  throw new UsageError(`the web console on ${httpHost} reaches other machines: serve it over HTTPS with ${tlsOption}, or listen on 127.0.0.1`);
}
