// Hosts for the tests that run the appliance as processes (cluster.ts) or
// as one (etcd-up, power-cut): writers and readers of stamped 4 KiB blocks
// through the apparatuses' NBD exports, every operation recorded in the
// history checker, retried while an apparatus refuses, and read back at the end.
import { History } from "@switchyard/checker";
import { NbdClient, NbdError } from "@switchyard/nbd";
import type { ApparatusId } from "./cluster.js";

/** A host connection waits this long for one answer before it counts as broken. */
const hostTimeoutMs = 30_000;

/** The hosts' block: every write stamps one. */
export const hostBlockBytes = 4096;
/** A request that failed is retried after this pause, so an apparatus that refuses does not spin the loop. */
const failedPauseMs = 10;
/**
 * Tries of one block's read-back after the load, failedPauseMs apart: over
 * five seconds, more than an apparatus takes to renew with a device that
 * came back (a quarter of its 3 s lease) or to rejoin.
 */
const finalReadAttemptsMax = 500;

export interface HostLoad {
  readonly history: History;
  /** Requests answered with an error so far (each counted as possibly done). */
  readonly failedRequests: number;
  /** Writes one stamped block through `id`, into the history; true when acknowledged. */
  writeBlock(id: ApparatusId, block: number): Promise<boolean>;
  /** Reads one block through `id` and checks it in the history; false when refused. */
  readBlock(id: ApparatusId, block: number): Promise<boolean>;
  /** Ends the loops and waits for the requests in flight; stop() then reads back. */
  end(): Promise<void>;
  /** Ends the loops, reads back every written block through every apparatus, and closes. */
  stop(): Promise<void>;
}

/** Which apparatuses carry a writer loop and which a reader loop. */
export interface HostRoles {
  readonly writers: readonly ApparatusId[];
  readonly readers: readonly ApparatusId[];
}

/** A writer and a reader through each of `ids`. */
export function writersAndReaders(ids: readonly ApparatusId[]): HostRoles {
  return { writers: ids, readers: ids };
}

/** Where hosts connect: a process cluster's apparatuses, or an appliance's (by the same ids). */
export interface HostConnector {
  connect(id: ApparatusId, exportName: string): Promise<NbdClient>;
}

/** A host's connection to `address` (host:port), as ProcessCluster.connect makes it. */
export function connectHost(address: string, exportName: string): Promise<NbdClient> {
  const [host = "", port = ""] = address.split(":");
  return NbdClient.connect({ host, port: Number(port), exportName, timeoutMs: hostTimeoutMs });
}

/**
 * Writer and reader loops of 4 KiB blocks through the apparatuses `roles`
 * names, every operation in the history. A request that fails (an apparatus
 * fenced, or the device away) is recorded as possibly done and the loop goes
 * on after a pause, on a new connection if the old one is over.
 */
export interface HostLoadOptions {
  /** Every write with FUA: acknowledged then means durable, so a power cut may lose none of them. */
  readonly fua?: boolean;
}

export async function startHostLoad(running: HostConnector, roles: HostRoles, exportName: string, blockCount: number, options: HostLoadOptions = {}): Promise<HostLoad> {
  const history = new History();
  const clients = new Map<ApparatusId, NbdClient>();
  for (const id of new Set([...roles.writers, ...roles.readers])) clients.set(id, await running.connect(id, exportName));
  let stopped = false;
  let nextValue = 1;
  let failed = 0;
  /** A client answered ESHUTDOWN disconnects (the NBD spec says it must): the next request needs a new one. */
  const recover = async (id: ApparatusId): Promise<void> => {
    failed += 1;
    await new Promise((resolve) => setTimeout(resolve, failedPauseMs));
    const broken = clients.get(id);
    if (broken === undefined || broken.requestsInFlight > 0 || !broken.isOver) return;
    const fresh = await running.connect(id, exportName).catch(() => undefined);
    if (fresh !== undefined && clients.get(id) === broken) clients.set(id, fresh);
  };
  const client = (id: ApparatusId): NbdClient => clients.get(id) as NbdClient;
  const writeBlock = async (id: ApparatusId, block: number): Promise<boolean> => {
    const value = nextValue++;
    const record = history.beginWrite(block, value, performance.now());
    let acknowledged = false;
    try {
      await client(id).write(block * hostBlockBytes, stamp(value, hostBlockBytes), options.fua === true);
      acknowledged = true;
    } catch (error) {
      if (!(error instanceof NbdError)) throw error;
    } finally {
      history.endWrite(record, performance.now(), acknowledged);
    }
    if (!acknowledged) await recover(id);
    return acknowledged;
  };
  const into = Buffer.alloc(hostBlockBytes);
  const readBlock = async (id: ApparatusId, block: number): Promise<boolean> => {
    const buffer = Buffer.alloc(hostBlockBytes);
    const startMs = performance.now();
    try {
      await client(id).read(block * hostBlockBytes, buffer);
    } catch (error) {
      if (!(error instanceof NbdError)) throw error;
      await recover(id);
      return false;
    }
    history.read(block, buffer.readUInt32BE(0), startMs, performance.now());
    return true;
  };
  /**
   * The read-back after the load: an apparatus may still be out of contact
   * (a device just restarted) or rejoining for a moment, and answer
   * ESHUTDOWN; it is asked again on a new connection, a bounded number of times.
   */
  const finalRead = async (id: ApparatusId, block: number): Promise<void> => {
    for (let attempt = 1; ; attempt += 1) {
      try {
        await client(id).read(block * hostBlockBytes, into);
        return;
      } catch (error) {
        if (!(error instanceof NbdError) || attempt >= finalReadAttemptsMax) throw error;
        await recover(id);
      }
    }
  };
  const randomBlock = (): number => Math.floor(Math.random() * blockCount);
  const loop = async (step: () => Promise<boolean>): Promise<void> => {
    while (!stopped) await step();
  };
  const load = [
    ...roles.writers.map((id) => loop(() => writeBlock(id, randomBlock()))),
    ...roles.readers.map((id) => loop(() => readBlock(id, randomBlock()))),
  ];
  return {
    history,
    get failedRequests() {
      return failed;
    },
    writeBlock,
    readBlock,
    async end() {
      stopped = true;
      await Promise.all(load);
    },
    async stop() {
      stopped = true;
      await Promise.all(load);
      for (const id of clients.keys()) {
        for (const block of history.writtenBlocks()) {
          await finalRead(id, block);
          history.final(block, into.readUInt32BE(0));
        }
        await client(id).close();
      }
    },
  };
}

/** A block whose first 4 bytes name the write that put it there; the rest is filler. */
export function stamp(value: number, blockBytes: number): Buffer {
  const buffer = Buffer.alloc(blockBytes, value & 0xff);
  buffer.writeUInt32BE(value, 0);
  return buffer;
}
