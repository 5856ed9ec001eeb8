// Goal: extents move between LUs while hosts write and read through every
// apparatus, and no acknowledged write is lost or read stale (DESIGN.md
// invariants, claims 1-5). Method: one `switchyard up` with 3 apparatuses;
// three writers (one per apparatus, each the only writer of its own 4 KiB
// blocks, stamping every write with a rising sequence number) and readers on
// the other apparatuses run while the CLI moves extents back and forth. A
// read must return a stamp no older than the block's last acknowledged write
// when the read began and no newer than the last one issued; at the end every
// block reads back its last acknowledged stamp through every apparatus. The
// same check run against apparatuses with a planted bug (Hold that holds
// nothing) must find violations, or the check proves nothing.
import { describe, expect, it } from "vitest";
import { NbdClient } from "@switchyard/device/nbd";
import { Appliance, assertSucceeded, createVolume, describeResult, extentSizeBytes, mebibyte } from "./appliance.js";

const blockBytes = 4096;
const volumeBytes = 8 * extentSizeBytes;
const blockCount = volumeBytes / blockBytes;
const apparatusCount = 3;
const movesCount = 12;

interface LoadResult {
  readonly violations: string[];
  readonly moveResults: Awaited<ReturnType<Appliance["cli"]>>[];
  readonly writesDuringMoves: number[];
  readonly reads: number;
}

async function connectAll(appliance: Appliance): Promise<NbdClient[]> {
  const clients: NbdClient[] = [];
  for (const apparatus of appliance.endpoints.apparatuses) {
    const [host = "", port = ""] = apparatus.nbd.split(":");
    clients.push(await NbdClient.connect({ host, port: Number(port), exportName: "live", timeoutMs: 20_000 }));
  }
  return clients;
}

/** Sequence s is stored as s + 1, so that no stamp reads like a never-written (zero) block. */
function stamp(sequence: number): Buffer {
  const buffer = Buffer.alloc(blockBytes, (sequence + 1) & 0xff);
  buffer.writeUInt32BE(sequence + 1, 0);
  return buffer;
}

function sequenceOf(block: Buffer): number {
  return block.readUInt32BE(0) - 1;
}

/** Writers and readers on every apparatus while the CLI moves extents; the history is checked as it goes and at the end. */
async function movesUnderLoad(appliance: Appliance, clients: readonly NbdClient[]): Promise<LoadResult> {
  const acked = new Int32Array(blockCount).fill(-1);
  const issued = new Int32Array(blockCount).fill(-1);
  const violations: string[] = [];
  let stop = false;
  let writes = 0;
  let reads = 0;
  const writer = async (index: number): Promise<void> => {
    const client = clients[index] as NbdClient;
    for (let sequence = 0; !stop; sequence += 1) {
      const block = Math.floor(Math.random() * Math.floor(blockCount / apparatusCount)) * apparatusCount + index;
      issued[block] = sequence;
      await client.write(block * blockBytes, stamp(sequence), false);
      acked[block] = sequence;
      writes += 1;
    }
  };
  const reader = async (index: number): Promise<void> => {
    const client = clients[index] as NbdClient;
    const into = Buffer.alloc(blockBytes);
    while (!stop) {
      const block = Math.floor(Math.random() * blockCount);
      const floor = acked[block] ?? -1;
      await client.read(block * blockBytes, into);
      const ceiling = issued[block] ?? -1;
      const seen = sequenceOf(into);
      if (seen < floor || seen > ceiling) violations.push(`block ${block} via a${index}: read ${seen}, acked ${floor}, issued ${ceiling}`);
      reads += 1;
    }
  };
  const load = [0, 1, 2].flatMap((index) => [writer(index), reader((index + 1) % apparatusCount)]);
  const moveResults: LoadResult["moveResults"] = [];
  const writesDuringMoves: number[] = [];
  for (let move = 0; move < movesCount; move += 1) {
    const extent = move % 8;
    const to = Math.floor(move / 8) % 2 === 0 ? "lu1" : "lu0";
    const writesBefore = writes;
    moveResults.push(await appliance.cli(["volume", "move", "live", "--extent", String(extent), "--to", to, "--json"]));
    writesDuringMoves.push(writes - writesBefore);
  }
  stop = true;
  await Promise.all(load);
  const into = Buffer.alloc(blockBytes);
  for (const [index, client] of clients.entries()) {
    for (let block = 0; block < blockCount; block += 1) {
      const expected = acked[block] ?? -1;
      if (expected < 0) continue;
      await client.read(block * blockBytes, into);
      if (!into.equals(stamp(expected))) violations.push(`block ${block} via a${index}: lost write ${expected}, reads ${sequenceOf(into)}`);
    }
  }
  return { violations, moveResults, writesDuringMoves, reads };
}


async function withLiveVolume<T>(extraArgs: readonly string[], body: (appliance: Appliance, clients: readonly NbdClient[]) => Promise<T>): Promise<T> {
  const appliance = await Appliance.start({ apparatusCount, extraArgs: ["--lu-size", "128MiB", ...extraArgs] });
  let clients: NbdClient[] = [];
  try {
    await createVolume(appliance, "live", `${volumeBytes / mebibyte}MiB`, ["--lu", "lu0"]);
    clients = await connectAll(appliance);
    return await body(appliance, clients);
  } finally {
    await Promise.allSettled(clients.map((client) => client.close()));
    await appliance.dispose();
  }
}

describe("moves under host I/O", () => {
  it("lose no write and serve no stale read", async () => {
    const result = await withLiveVolume([], (appliance, clients) => movesUnderLoad(appliance, clients));
    for (const move of result.moveResults) assertSucceeded(move);
    // I/O kept flowing around the held extent while each change ran.
    for (const count of result.writesDuringMoves) expect(count).toBeGreaterThan(0);
    expect(result.reads).toBeGreaterThan(0);
    expect(result.violations).toEqual([]);
  });

  it("are caught losing writes when Hold holds nothing (a planted bug)", async () => {
    const result = await withLiveVolume(["--test-fault", "hold-nothing"], (appliance, clients) => movesUnderLoad(appliance, clients));
    for (const move of result.moveResults) expect(move.exitCode, describeResult(move)).toBe(0);
    expect(result.violations.length).toBeGreaterThan(0);
  });
});
