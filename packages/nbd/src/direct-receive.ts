/**
 * Receiving a connection's bytes into buffers the server chooses. By default
 * Node reads each 64 KiB of a socket into a fresh buffer, which the NBD
 * server then copied into the WRITE payload it was assembling. For 1 MiB
 * sequential writes that is sixteen allocations and a copy per request: the
 * garbage collector took about an eighth of the event loop, and a loopback
 * test receiving 1 MiB messages went from about 0.8 to 1.7-2 GiB/s when the
 * kernel wrote straight into the payload instead.
 *
 * Node offers this (`onread` with a buffer function) only to sockets it
 * constructs around a handle, not to those a server accepts. So an accepted
 * socket, paused before its first read, gives its handle to a new socket
 * built with `onread`, and the empty shell is destroyed (which also settles
 * the server's connection count). That relies on `net.Socket`'s `_handle`
 * and its `handle` option, undocumented but unchanged through Node 20; the
 * test of this module fails if a Node release changes them.
 */
import assert from "node:assert/strict";
import net from "node:net";

/** Where received bytes go. */
export interface ReceiveTarget {
  /** The buffer the next read fills (up to its length); never empty, or the read fails with ENOBUFS. */
  nextBuffer(): Buffer;
  /** `bytes` bytes arrived at the start of `into`, the buffer last returned by nextBuffer. */
  received(bytes: number, into: Buffer): void;
}

/** The parts of an accepted socket this module reaches that @types/node does not describe. */
interface SocketInternals {
  _handle: object | null;
}

/** Takes the connection's handle out of `socket`, which is left without one. */
function detachHandle(socket: net.Socket): object {
  const internals = socket as unknown as Partial<SocketInternals>;
  const handle = internals._handle;
  assert.ok(typeof handle === "object" && handle !== null, "this Node version's net.Socket has no _handle: Switchyard's NBD server needs Node 20");
  internals._handle = null;
  return handle;
}

/**
 * A socket reading `accepted`'s connection into `target`'s buffers. `accepted`
 * must come from a server created with `pauseOnConnect: true` and must not
 * have been read from; it is destroyed without closing the connection.
 */
export function receiveDirectly(accepted: net.Socket, target: ReceiveTarget, allowHalfOpen: boolean): net.Socket {
  // Detached first, so destroying the shell leaves the connection open.
  const handle = detachHandle(accepted);
  accepted.destroy();
  // Node's Socket constructor reads `handle` and `onread`; @types/node lists neither there.
  const options: net.SocketConstructorOpts & { handle: object; onread: net.OnReadOpts } = {
    handle,
    allowHalfOpen,
    readable: true,
    writable: true,
    onread: {
      buffer: () => target.nextBuffer(),
      callback: (bytes: number, into: Uint8Array) => {
        target.received(bytes, into as Buffer);
        // false would stop reading; pausing is the transmission's, through socket.pause().
        return true;
      },
    },
  };
  const socket = new net.Socket(options);
  socket.setNoDelay(true);
  // Flowing, as a 'data' listener would make it: otherwise 'end' never comes.
  socket.resume();
  return socket;
}
