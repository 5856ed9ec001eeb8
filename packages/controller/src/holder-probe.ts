/**
 * Probes a controller's address with a TCP connection (holder-watch.ts):
 * "refused" only when every address it resolves to refuses, so a name that
 * resolves to ::1 and 127.0.0.1 with one listener is not taken as gone.
 */
import net from "node:net";
import type { ProbeOutcome } from "./holder-watch.js";

/** A probe that neither connects nor is refused within this proves nothing, in milliseconds. */
export const holderProbeTimeoutMs = 150;

export type HolderProbe = (address: string) => Promise<ProbeOutcome>;

/** host:port or [v6]:port, as candidates publish their addresses. */
function hostAndPort(address: string): { host: string; port: number } | undefined {
  const match = /^\[?([^\]]*?)\]?:(\d+)$/.exec(address);
  if (match === null) return undefined;
  const port = Number(match[2]);
  const host = match[1] ?? "";
  return host === "" || !Number.isInteger(port) || port <= 0 || port > 65_535 ? undefined : { host, port };
}

export const tcpHolderProbe: HolderProbe = (address) => {
  const target = hostAndPort(address);
  if (target === undefined) return Promise.resolve("unknown");
  return new Promise((resolve) => {
    const socket = net.connect({ ...target, autoSelectFamily: true, timeout: holderProbeTimeoutMs });
    const done = (outcome: ProbeOutcome): void => {
      socket.destroy();
      resolve(outcome);
    };
    socket.once("connect", () => { done("answered"); });
    socket.once("timeout", () => { done("unknown"); });
    socket.once("error", (error: NodeJS.ErrnoException) => {
      // With several addresses tried, Node reports an AggregateError whose own code is the last one's.
      const codes = error instanceof AggregateError ? error.errors.map((each: NodeJS.ErrnoException) => each.code) : [error.code];
      done(codes.length > 0 && codes.every((code) => code === "ECONNREFUSED") ? "refused" : "unknown");
    });
  });
};
