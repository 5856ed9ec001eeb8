// What the TLS cluster tests share (serve-tls, serve-tls-etcd): a volume
// written through the first apparatus and read back through each, over NBD,
// retried while an apparatus is not registered yet.
import { NbdClient, NbdError } from "@switchyard/nbd";
import { expect } from "vitest";

const callTimeoutMs = 5_000;
const retryPauseMs = 500;
const mebibyte = 1 << 20;

/** Writes a block of `volume` through the first apparatus and reads it back through every one, within `servingWaitMs`. */
export async function useOnEach(apparatuses: readonly { readonly nbd: string }[], volume: string, servingWaitMs: number, fill = 0x3c): Promise<void> {
  const data = Buffer.alloc(4096, fill);
  const deadlineMs = Date.now() + servingWaitMs;
  for (const [index, apparatus] of apparatuses.entries()) {
    const [host, port] = apparatus.nbd.split(":");
    // An apparatus serves once the controller has registered it: try until then.
    for (;;) {
      const nbd = await NbdClient.connect({ host: host ?? "", port: Number(port), exportName: volume, timeoutMs: callTimeoutMs }).catch((error: unknown) => {
        if (Date.now() > deadlineMs) throw error;
        return undefined;
      });
      if (nbd === undefined) {
        await new Promise((resolve) => setTimeout(resolve, retryPauseMs));
        continue;
      }
      try {
        if (index === 0) await nbd.write(mebibyte, data);
        const back = Buffer.alloc(data.length);
        await nbd.read(mebibyte, back);
        expect(back.equals(data)).toBe(true);
      } catch (error: unknown) {
        // Not registered yet (or registering again): ESHUTDOWN, and per proto.md the host reconnects.
        if (!(error instanceof NbdError && error.code === "ESHUTDOWN") || Date.now() > deadlineMs) throw error;
        await new Promise((resolve) => setTimeout(resolve, retryPauseMs));
        continue;
      } finally {
        await nbd.close();
      }
      break;
    }
  }
}
