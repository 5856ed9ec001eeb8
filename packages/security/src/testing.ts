/**
 * Test helpers (the `./testing` subpath): a throw-away cluster folder with a
 * real CA and real certificates made by openssl, and a second CA beside it
 * whose certificates our servers must refuse.
 */
import type * as grpc from "@grpc/grpc-js";
import { channelCredentials, readTlsMaterial, type TlsMaterial } from "./grpc-credentials.js";
import type { GuardedServer } from "./guarded-server.js";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Identity } from "./identity.js";
import { identityFolder } from "./layout.js";
import { ensureCertificates, type CertificatePlan } from "./pki.js";

export interface TestPki {
  /** The cluster folder: its CA signed every identity of the plan. */
  readonly dir: string;
  /** A cluster folder of another CA, with the same identities. */
  readonly foreignDir: string;
  /** The identity folder of `identity` in the cluster (or in the foreign one). */
  folder(identity: Identity, foreign?: boolean): string;
  /**
   * A channel that presents `identity`'s certificate (the foreign CA's copy
   * if `foreign`) and trusts the cluster CA, so only the server's check of
   * the client decides.
   */
  credentials(identity: Identity, foreign?: boolean): grpc.ChannelCredentials;
  remove(): Promise<void>;
}

/** Every role once, and the loopback hosts a test server listens on. */
export const testPlan: CertificatePlan = {
  nodes: [
    { role: "device", id: "dev0", hosts: ["127.0.0.1", "localhost"] },
    { role: "apparatus", id: "a0", hosts: ["127.0.0.1", "localhost"] },
    { role: "apparatus", id: "a1", hosts: ["127.0.0.1", "localhost"] },
  ],
  clients: [
    { role: "operator", id: "admin" },
    { role: "viewer", id: "watcher" },
  ],
};

export async function makeTestPki(plan: CertificatePlan = testPlan): Promise<TestPki> {
  const root = await mkdtemp(join(tmpdir(), "switchyard-pki-"));
  const dir = join(root, "cluster");
  const foreignDir = join(root, "foreign");
  await ensureCertificates(dir, plan);
  await ensureCertificates(foreignDir, plan);
  const folder = (identity: Identity, foreign = false): string => identityFolder(foreign ? foreignDir : dir, identity);
  return {
    dir,
    foreignDir,
    folder,
    credentials: (identity, foreign = false) =>
      channelCredentials({ ...readTlsMaterial(folder(identity, foreign), "client"), ca: readTlsMaterial(folder(identity), "client").ca }),
    remove: () => rm(root, { recursive: true, force: true }),
  };
}

/** Listens with `server` on a free loopback port, with mutual TLS from `material` or plain without; its address. */
export async function listenOnLoopback(server: GuardedServer, material: TlsMaterial | undefined): Promise<string> {
  return `127.0.0.1:${await server.listen("127.0.0.1", 0, material)}`;
}

export {
  authorizationCases,
  callOnce,
  everyRole,
  expectedRefusal,
  refusedStatuses,
  type AuthorizationCases,
  type Caller,
} from "./authorization-matrix.js";
