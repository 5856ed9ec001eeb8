import net from "node:net";
import { once } from "node:events";
import { describe, expect, it } from "vitest";
import { receiveDirectly, type ReceiveTarget } from "./direct-receive.js";

/** Fills `destination` directly after the first `headBytes` bytes, which land in a small staging buffer. */
class SplitTarget implements ReceiveTarget {
  readonly staging = Buffer.alloc(16);
  readonly head: Buffer[] = [];
  destinationFilled = 0;

  constructor(private readonly headBytes: number, readonly destination: Buffer) {}

  nextBuffer(): Buffer {
    const headSoFar = this.head.reduce((sum, chunk) => sum + chunk.length, 0);
    if (headSoFar < this.headBytes) return this.staging.subarray(0, this.headBytes - headSoFar);
    // Never an empty buffer: libuv answers a read into one with ENOBUFS.
    if (this.destinationFilled === this.destination.length) return this.staging;
    return this.destination.subarray(this.destinationFilled);
  }

  received(bytes: number, into: Buffer): void {
    if (into.buffer === this.staging.buffer) this.head.push(Buffer.from(into.subarray(0, bytes)));
    else this.destinationFilled += bytes;
  }
}

describe("receiveDirectly", () => {
  it("reads an accepted connection into the buffers the target gives, and lets the server close", async () => {
    const payload = Buffer.alloc(3 << 20);
    for (let index = 0; index < payload.length; index += 1) payload[index] = (index * 7) & 0xff;
    const headBytes = 10;
    const target = new SplitTarget(headBytes, Buffer.alloc(payload.length - headBytes));
    const ended: Promise<void>[] = [];
    const server = net.createServer({ pauseOnConnect: true, allowHalfOpen: true }, (accepted) => {
      const socket = receiveDirectly(accepted, target, true);
      ended.push(once(socket, "end").then(() => {
        socket.end();
      }));
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const address = server.address() as net.AddressInfo;
    const client = net.connect(address.port, "127.0.0.1");
    await once(client, "connect");
    // Flowing, so that the server's end of the stream closes the client.
    client.resume();
    client.end(payload);
    await once(client, "close");
    await Promise.all(ended);

    // Buffer.equals: vitest's deep equality takes seconds over mebibytes.
    expect(Buffer.concat(target.head).equals(payload.subarray(0, headBytes))).toBe(true);
    expect(target.destinationFilled).toBe(payload.length - headBytes);
    expect(target.destination.equals(payload.subarray(headBytes))).toBe(true);
    // The shell socket was destroyed, so the server counts no connection left.
    const closed = new Promise<void>((resolve, reject) => {
      server.close((error) => {
        if (error === undefined) resolve();
        else reject(error);
      });
    });
    await closed;
  });
});
