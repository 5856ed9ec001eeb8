/**
 * Where other parts reach a process (issue 18: `device serve` and
 * `apparatus serve` publish their addresses in etcd, the device records its
 * LUs' NBD URIs, a controller candidate names its address in the election).
 * The listen address is the right one unless the process listens on every
 * address: 0.0.0.0 is not an address another machine can dial, so then the
 * operator names the one others use, as etcd's --advertise-client-urls does.
 */
import { UsageError } from "./usage.js";

/** Listen addresses that mean "every interface". */
const wildcardHosts: ReadonlySet<string> = new Set(["0.0.0.0", "::", "[::]"]);
/** A host name or address: what goes before ":PORT", without one. */
const hostPattern = /^(?:[A-Za-z0-9._-]+|\[[0-9A-Fa-f:.]+\])$/;
/** DNS names are at most 253 characters. */
const hostLengthMax = 253;

/** The host others reach this process at: `--publish-host`, or the listen host when that is a single address. */
export function publishHostOf(listenHost: string, publishHost: string | undefined): string {
  if (publishHost !== undefined) {
    if (publishHost.length > hostLengthMax || !hostPattern.test(publishHost) || wildcardHosts.has(publishHost)) {
      throw new UsageError(`--publish-host ${JSON.stringify(publishHost)} is not a host others can dial; give a name or address without a port, e.g. 192.0.2.5`);
    }
    return publishHost;
  }
  if (wildcardHosts.has(listenHost)) {
    throw new UsageError(`--host ${listenHost} listens on every address, which other machines cannot dial: give --publish-host with the address they reach this one at`);
  }
  return listenHost;
}

/** `host:port` with its host replaced by `publishHost`. */
export function publishedAddress(address: string, publishHost: string): string {
  const port = address.slice(address.lastIndexOf(":") + 1);
  return `${publishHost}:${port}`;
}

export const publishHostHelp = `  --publish-host H       the address other parts reach this one at (published in etcd, and in the
                         LUs' NBD URIs); default --host, required when --host is 0.0.0.0 or ::`;
