/**
 * The servers a controller reaches inside its own process (issue 20): in
 * the embedded appliance the apparatuses and the device answer on the host
 * I/O thread, and the controller on a thread of its own calls them over a
 * MessagePort each (proto's RelayLink) instead of TLS and HTTP/2 through
 * the control thread. Same messages, same handlers, same authorization:
 * the link presents the subject of the certificate the controller would
 * present over TLS. A server without a link is called over gRPC.
 */
import type { MessagePort } from "node:worker_threads";
import type * as grpc from "@grpc/grpc-js";
import { controlChannelOptions, RelayLink } from "@switchyard/proto";
import { presentedSubject } from "@switchyard/security";

/** A server in this process, by the gRPC address it is also reached at, and a port into its handlers. */
export interface ProcessLink {
  readonly address: string;
  readonly port: MessagePort;
}

/** The links by address; `tlsFolder` is the controller's identity folder, whose client certificate the links present. */
export function relayLinks(links: readonly ProcessLink[] | undefined, tlsFolder: string | undefined): ReadonlyMap<string, RelayLink> {
  if (links === undefined || links.length === 0) return new Map();
  const subject = presentedSubject(tlsFolder);
  return new Map(links.map(({ address, port }) => [address, new RelayLink(port, subject)]));
}

/** A control client's options: its calls go over `link` when there is one. */
export function linkedChannelOptions(link: RelayLink | undefined): grpc.ClientOptions {
  return link === undefined ? controlChannelOptions : { ...controlChannelOptions, interceptors: [link.interceptor()] };
}
