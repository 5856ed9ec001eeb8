// Goal: the in-memory export, the BlockIo other packages' tests stand on,
// passes the shared BlockIo suite, with the errors the NBD server would
// answer for a range past the end.
// Method: the suite, each case on a fresh export opened from its provider.
import assert from "node:assert/strict";
import { describe, expect, it } from "vitest";
import { blockIoSuite, blockIoSuiteSizeMinBytes } from "./block-io-suite.js";
import { MemoryExportProvider } from "./memory-export.js";

blockIoSuite("in-memory export", {
  runner: { describe, it, expect },
  open: () => {
    const provider = new MemoryExportProvider([{ name: "memory", sizeBytes: blockIoSuiteSizeMinBytes }]);
    const opened = provider.open("memory");
    assert.ok(opened !== undefined);
    return Promise.resolve({
      io: opened,
      close: () => {
        opened.close();
        return Promise.resolve();
      },
    });
  },
  pastEndCodes: { read: "EINVAL", write: "ENOSPC", writeZeroes: "ENOSPC" },
});
