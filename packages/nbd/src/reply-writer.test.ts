// Goal: read replies are reused, and never while a socket write may still
// read them: a reply goes back to its server's pool only when the socket's
// write callback says the bytes are sent; the pool is shared by the
// server's connections, one per kind of reply; and it keeps no more than
// its bound.
// Method: a ReplyWriter over a fake socket that holds write callbacks until
// the test releases them; the reply taken after a release is the same object.
import type { Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { NBD_SIMPLE_REPLY_BYTES } from "./constants.js";
import { PayloadPool, payloadPoolBytesMax } from "./payload-pool.js";
import { ReadReplyPools, ReplyWriter } from "./reply-writer.js";

/** A socket that takes writes and calls their callbacks only when told. */
class HeldSocket {
  readonly written: Buffer[] = [];
  private readonly callbacks: (() => void)[] = [];
  destroyed = false;
  writableLength = 0;

  write(buffer: Buffer, callback?: () => void): boolean {
    this.written.push(buffer);
    if (callback !== undefined) this.callbacks.push(callback);
    return true;
  }

  cork(): void {
    // Writes are recorded in order either way.
  }

  uncork(): void {
    // As cork.
  }

  sendAll(): void {
    for (const callback of this.callbacks.splice(0)) callback();
  }
}

describe("ReplyWriter read replies", () => {
  it("reuses a reply only after the socket has sent it", () => {
    const socket = new HeldSocket();
    const replies = new ReplyWriter(socket as unknown as Socket, false);
    const first = replies.takeReadReply(4096);
    expect(first.data.length).toBe(4096);
    expect(first.buffer.length).toBe(NBD_SIMPLE_REPLY_BYTES + 4096);
    replies.readSuccess(1, 2, 0, 4096, first);
    replies.flush();
    expect(socket.written).toContain(first.buffer);
    // Still being written: a new request gets another buffer.
    const second = replies.takeReadReply(4096);
    expect(second).not.toBe(first);
    socket.sendAll();
    expect(replies.takeReadReply(4096)).toBe(first);
  });

  it("gives a reply one connection sent to the next connection of the same server, of the same kind of replies", () => {
    const pools = new ReadReplyPools();
    const closedSocket = new HeldSocket();
    const closed = new ReplyWriter(closedSocket as unknown as Socket, false, pools);
    const sent = closed.takeReadReply(262144);
    closed.readSuccess(1, 2, 0, 262144, sent);
    closed.flush();
    closedSocket.sendAll();
    const structured = new ReplyWriter(new HeldSocket() as unknown as Socket, true, pools);
    expect(structured.takeReadReply(262144 + NBD_SIMPLE_REPLY_BYTES - structured.readReplyHeaderBytes)).not.toBe(sent);
    const next = new ReplyWriter(new HeldSocket() as unknown as Socket, false, pools);
    expect(next.takeReadReply(262144)).toBe(sent);
  });

  it("leaves a reply that was never sent (a failed READ) out of the pool", () => {
    const socket = new HeldSocket();
    const replies = new ReplyWriter(socket as unknown as Socket, true);
    const failed = replies.takeReadReply(4096);
    replies.error(1, 2, 5, "I/O error");
    replies.flush();
    socket.sendAll();
    expect(replies.takeReadReply(4096)).not.toBe(failed);
  });
});

describe("PayloadPool", () => {
  it("keeps idle buffers per size up to its bound", () => {
    const pool = new PayloadPool((byteLength) => Buffer.allocUnsafe(byteLength));
    const big = payloadPoolBytesMax / 2;
    const buffers = [pool.take(big), pool.take(big), pool.take(big)];
    for (const buffer of buffers) pool.give(buffer);
    // The third did not fit: two come back, then fresh ones.
    const again = [pool.take(big), pool.take(big), pool.take(big)];
    expect(again.filter((buffer) => buffers.includes(buffer))).toHaveLength(2);
    expect(() => {
      const once = pool.take(16);
      pool.give(once);
      pool.give(once);
    }).toThrow(/given back twice/);
  });
});
