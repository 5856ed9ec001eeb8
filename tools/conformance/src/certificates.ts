/**
 * The certificates of a run with TLS (DESIGN.md "Security"): the suite is
 * the controller, so it calls the apparatus and the device with an
 * apparatus-role certificate (apparatus-authorization.ts: the change
 * protocol is for that role); it is a host with an operator's; and it keeps
 * a viewer's and a device's certificate to be refused with, and one of a
 * second CA nobody trusts. It makes whichever are missing in the cluster
 * folder it is given (so it needs that folder's CA key only for those), or
 * in a throw-away folder with a CA of its own when the run starts every
 * part itself. The folders are those of `switchyard cert` (layout.ts).
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type * as grpc from "@grpc/grpc-js";
import type { NbdClientTls } from "@switchyard/nbd";
import { channelCredentials, ensureCertificates, identityFolder, readTlsMaterial, type CertificatePlan, type Identity } from "@switchyard/security";

/** Where the suite's own certificates say it is reached: loopback (node certificates need a host). */
const loopbackHosts = ["127.0.0.1", "localhost"];

/** The identities a run uses, by what it uses them for. */
export const suiteIdentities = {
  /** The suite as controller: calls Hold, Apply, … and takes the device's lease under this id. */
  controller: { role: "apparatus", id: "switchyard-conformance" },
  /** The suite as host (NBD over TLS) and as administrator of the device's LUs. */
  host: { role: "operator", id: "conformance-host" },
  viewer: { role: "viewer", id: "conformance-viewer" },
  /** The suite's own device; to the apparatus, a caller of the wrong role. */
  device: { role: "device", id: "conformance-device" },
  /** The apparatus the suite launches: the folder {cert_dir} names. */
  underTest: { role: "apparatus", id: "under-test" },
  /** Another apparatus of the cluster: the right role, but the lease is not its own. */
  peer: { role: "apparatus", id: "conformance-peer" },
} as const satisfies Record<string, Identity>;

const plan: CertificatePlan = {
  nodes: [
    { ...suiteIdentities.controller, hosts: loopbackHosts },
    { ...suiteIdentities.device, hosts: loopbackHosts },
    { ...suiteIdentities.underTest, hosts: loopbackHosts },
    { ...suiteIdentities.peer, hosts: loopbackHosts },
  ],
  clients: [suiteIdentities.host, suiteIdentities.viewer],
};

/** The second CA's only certificate: the controller's identity, signed by a CA the apparatus must not trust. */
const foreignPlan: CertificatePlan = { nodes: [{ ...suiteIdentities.controller, hosts: loopbackHosts }], clients: [] };

export class SuiteCertificates {
  private constructor(
    /** The cluster folder: its CA signed every identity above. */
    readonly clusterDir: string,
    private readonly foreignDir: string,
    /** Folders the suite made and removes at the end. */
    private readonly scratch: readonly string[],
  ) {}

  /** The identities in `clusterDir` (made where missing), or in a new CA's folder without one; and a foreign CA's. */
  static async prepare(clusterDir: string | undefined): Promise<SuiteCertificates> {
    const scratch = await mkdtemp(path.join(os.tmpdir(), "switchyard-conformance-pki-"));
    const dir = clusterDir ?? path.join(scratch, "cluster");
    const foreignDir = path.join(scratch, "foreign");
    try {
      await ensureCertificates(dir, plan);
      await ensureCertificates(foreignDir, foreignPlan);
    } catch (error) {
      await rm(scratch, { recursive: true, force: true });
      throw error;
    }
    return new SuiteCertificates(dir, foreignDir, [scratch]);
  }

  folder(identity: Identity): string {
    return identityFolder(this.clusterDir, identity);
  }

  /** A gRPC channel presenting `identity`'s certificate and trusting the cluster CA. */
  channel(identity: Identity): grpc.ChannelCredentials {
    return channelCredentials(readTlsMaterial(this.folder(identity), "client"));
  }

  /** A channel that trusts the cluster CA but presents a certificate of another CA: only the server's check of the client decides. */
  foreignChannel(): grpc.ChannelCredentials {
    const foreign = readTlsMaterial(identityFolder(this.foreignDir, suiteIdentities.controller), "client");
    return channelCredentials({ ...foreign, ca: readTlsMaterial(this.folder(suiteIdentities.controller), "client").ca });
  }

  /** The cluster CA (PEM): what a caller with no certificate of its own still trusts the server by. */
  clusterCa(): Buffer {
    return readTlsMaterial(this.folder(suiteIdentities.host), "client").ca;
  }

  /** NBD STARTTLS settings for `identity` (the operator's, by default). */
  nbdTls(identity: Identity = suiteIdentities.host): NbdClientTls {
    const material = readTlsMaterial(this.folder(identity), "client");
    return { ca: material.ca, cert: material.certificate, key: material.key };
  }

  /** NBD STARTTLS settings with the foreign CA's certificate (trusting the cluster's CA). */
  foreignNbdTls(): NbdClientTls {
    const foreign = readTlsMaterial(identityFolder(this.foreignDir, suiteIdentities.controller), "client");
    return { ca: this.clusterCa(), cert: foreign.certificate, key: foreign.key };
  }

  async remove(): Promise<void> {
    for (const folder of this.scratch) await rm(folder, { recursive: true, force: true });
  }
}
