/**
 * Deliberate bugs of the data path below the apparatus, each a BackendSet
 * decorator that does one thing wrong and passes the rest through, to prove
 * that the conformance suite catches that one thing. Test code only: an
 * apparatus gets one when whoever builds it decorates its backends.
 *
 * "flush-nothing": a FLUSH reaches no LU (every write is still acknowledged,
 * so only a check of what a FLUSH covers can tell). "allocation-all-zero":
 * block status calls every byte a hole that reads as zeroes, data included.
 *
 * Beside them, not a BackendFault (the conformance suite plants those in a
 * real apparatus, and its FLUSH-after-rejoin case already meets this gap in
 * the NBD backends): "flush-skips-lu", flushSkipsLuBackendSet below, for the
 * cluster simulation.
 */
import { NBD_STATE_HOLE, NBD_STATE_ZERO, type AllocationExtent, type BlockIo, type WriteZeroesFlags } from "@switchyard/nbd";
import type { ApparatusIdentity, LogicalUnit__Output } from "@switchyard/proto";
import type { BackendSet } from "../backend.js";

export type BackendFault = "flush-nothing" | "allocation-all-zero";

export const backendFaults: readonly BackendFault[] = ["flush-nothing", "allocation-all-zero"];

export function backendFaultNamed(text: string): BackendFault | undefined {
  return backendFaults.find((fault) => fault === text);
}

class FaultyBlockIo implements BlockIo {
  constructor(private readonly inner: BlockIo, private readonly fault: BackendFault) {}

  get sizeBytes(): number {
    return this.inner.sizeBytes;
  }

  read(offsetBytes: number, into: Buffer): Promise<void> {
    return this.inner.read(offsetBytes, into);
  }

  write(offsetBytes: number, data: Buffer, fua: boolean): Promise<void> {
    return this.inner.write(offsetBytes, data, fua);
  }

  writeZeroes(offsetBytes: number, lengthBytes: number, flags: WriteZeroesFlags): Promise<void> {
    return this.inner.writeZeroes(offsetBytes, lengthBytes, flags);
  }

  flush(): Promise<void> {
    return this.fault === "flush-nothing" ? Promise.resolve() : this.inner.flush();
  }

  allocation(offsetBytes: number, lengthBytes: number): Promise<readonly AllocationExtent[]> {
    if (this.fault === "allocation-all-zero") return Promise.resolve([{ lengthBytes, state: NBD_STATE_HOLE | NBD_STATE_ZERO }]);
    return this.inner.allocation === undefined ? Promise.resolve([{ lengthBytes, state: 0 }]) : this.inner.allocation(offsetBytes, lengthBytes);
  }
}

/** `inner` with the planted bug `fault`. */
export function faultyBackendSet(inner: BackendSet, fault: BackendFault): BackendSet {
  const wrapped = new WeakMap<BlockIo, BlockIo>();
  return {
    backend(lu: LogicalUnit__Output): BlockIo {
      const backend = inner.backend(lu);
      const existing = wrapped.get(backend);
      if (existing !== undefined) return existing;
      const faulty = new FaultyBlockIo(backend, fault);
      wrapped.set(backend, faulty);
      return faulty;
    },
    identify: (identity: ApparatusIdentity) => {
      inner.identify(identity);
    },
    flushAll: (lus) => (fault === "flush-nothing" ? Promise.resolve() : inner.flushAll(lus)),
    retainExternal: (lus) => {
      inner.retainExternal(lus);
    },
    close: () => inner.close(),
  };
}

/**
 * "flush-skips-lu" (issue 19 fencing gap, closed in nbd-backend.ts): after a
 * rejoin (a new identity), flushAll reaches only the device LUs reached
 * since, as NbdBackendSet's did when the rejoin closed the connections opened
 * under the old key, so a FLUSH skips an LU that took acknowledged writes
 * before the rejoin and still answers OK. Until a rejoin leaves an LU reached
 * before it and not since, it flushes as `inner` does: the only FLUSHes it
 * gets wrong are those the fix changed.
 */
export function flushSkipsLuBackendSet(inner: BackendSet): BackendSet {
  const reachedBefore = new Set<string>();
  const reachedSince = new Map<string, LogicalUnit__Output>();
  let identity: ApparatusIdentity | undefined;
  return {
    backend(lu: LogicalUnit__Output): BlockIo {
      if (!lu.external) reachedSince.set(lu.id, lu);
      return inner.backend(lu);
    },
    identify: (next: ApparatusIdentity) => {
      if (identity !== undefined && (identity.apparatusId !== next.apparatusId || identity.key !== next.key)) {
        for (const id of reachedSince.keys()) reachedBefore.add(id);
        reachedSince.clear();
      }
      identity = next;
      inner.identify(next);
    },
    flushAll: async (lus) => {
      const skips = [...reachedBefore].some((id) => !reachedSince.has(id));
      if (!skips) {
        await inner.flushAll(lus);
        return;
      }
      await Promise.all(Array.from(reachedSince.values(), (lu) => inner.backend(lu).flush()));
    },
    retainExternal: (lus) => {
      inner.retainExternal(lus);
    },
    close: () => inner.close(),
  };
}
