/**
 * The fuzzer's side of the wire: a raw peer whose every read is bounded and
 * tells a hang (nothing within nbdReplyTimeoutMs) apart from the server
 * closing, the shadow of each export's contents that READ replies are checked
 * against, and the case's transcript.
 */
import { RawPeer } from "@switchyard/nbd/testing";
import { FuzzFailure, type FuzzFailureCode } from "./fuzz-report.js";
import { nbdReplyTimeoutMs } from "./limits.js";
import type { SeededRandom } from "./seeded-random.js";

/** One export as the fuzzer models it: what the server must answer about it. */
export interface NbdFuzzExport {
  readonly name: string;
  readonly sizeBytes: number;
  readonly readOnly: boolean;
  /** What a READ must return where `known` is 1; starts as the export's contents. */
  readonly shadow: Buffer;
  /** 1 where the shadow is certain; 0 after a TRIM (proto.md: contents unspecified). */
  readonly known: Uint8Array;
}

/** A fresh model of a zero-filled export. */
export function zeroExport(name: string, sizeBytes: number, readOnly: boolean): NbdFuzzExport {
  return { name, sizeBytes, readOnly, shadow: Buffer.alloc(sizeBytes), known: new Uint8Array(sizeBytes).fill(1) };
}

/** What one fuzz case has: its peer, randomness, transcript and model. */
export class NbdCase {
  readonly transcript: string[] = [];
  inputs = 0;

  constructor(
    readonly peer: RawPeer,
    readonly random: SeededRandom,
    readonly exports: readonly NbdFuzzExport[],
    private readonly limitBytes: number,
  ) {}

  /**
   * The export a name opens. The empty name is the only export when there is
   * exactly one (our server's default, which proto.md leaves to the server).
   */
  exportNamed(name: string): NbdFuzzExport | undefined {
    if (name === "" && this.exports.length === 1) return this.exports[0];
    return this.exports.find((candidate) => candidate.name === name);
  }

  /** The largest READ/WRITE the server advertises. */
  get requestSizeMaxBytes(): number {
    return this.limitBytes;
  }

  send(label: string, data: Buffer): void {
    this.inputs += 1;
    this.transcript.push(`${label} ${data.subarray(0, 64).toString("hex")}${data.length > 64 ? `… (${data.length} bytes)` : ""}`);
    this.peer.send(data);
  }

  /** Ends our sending side: a truncated frame can never be completed. */
  endInput(label: string): void {
    this.transcript.push(`end of input (${label})`);
    this.peer.socket.end();
  }

  failure(code: FuzzFailureCode, message: string): FuzzFailure {
    return new FuzzFailure(code, this.random.seed, message, this.transcript);
  }

  /** Exactly `byteCount` bytes, or "closed" if the server closed first; a hang throws. */
  async read(byteCount: number): Promise<Buffer | "closed"> {
    try {
      return await this.peer.read(byteCount, nbdReplyTimeoutMs);
    } catch (error) {
      if (this.peer.closed) return "closed";
      throw this.hang(`waiting for ${byteCount} bytes`, error);
    }
  }

  /** Exactly `byteCount` bytes; closing early is a protocol failure. */
  async readAll(byteCount: number, what: string): Promise<Buffer> {
    const data = await this.read(byteCount);
    if (data === "closed") throw this.failure("protocol", `server closed the connection instead of sending ${what}`);
    return data;
  }

  /** The server must close the connection within the bound. */
  async expectClose(why: string): Promise<void> {
    try {
      await this.peer.expectClose(nbdReplyTimeoutMs);
    } catch (error) {
      throw this.hang(`connection still open after ${why}`, error);
    }
  }

  private hang(message: string, cause: unknown): FuzzFailure {
    const detail = cause instanceof Error ? ` (${cause.message})` : "";
    return new FuzzFailure("hang", this.random.seed, `${message}: no answer within ${nbdReplyTimeoutMs} ms${detail}`, this.transcript, { cause });
  }
}
