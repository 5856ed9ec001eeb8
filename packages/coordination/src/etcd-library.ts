/**
 * The etcd3 client library, loaded the first time something talks to etcd.
 * Every `switchyard` command imports this package, and loading etcd3 (with
 * its own gRPC stack and protos) takes about 180 ms of a command's 560 ms
 * start on our CI machine; only clusters that use etcd should pay for it.
 * etcd3 is CommonJS, so a synchronous require keeps the callers synchronous.
 * Modules here import etcd3's types only (`import type`), which cost nothing.
 */
import { createRequire } from "node:module";

type Etcd3Library = typeof import("etcd3");

let loaded: Etcd3Library | undefined;

export function etcdLibrary(): Etcd3Library {
  loaded ??= createRequire(import.meta.url)("etcd3") as Etcd3Library;
  return loaded;
}
