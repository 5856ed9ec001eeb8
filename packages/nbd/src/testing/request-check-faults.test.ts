// Goal: each planted request-check bug gets its one rule wrong and agrees
// with requestErrno on everything else, and a server built with one (the
// `requestCheck` option) answers by it. Method: the checks side by side on a
// table of requests, then a loopback server over a memory export with one.
import { afterEach, describe, expect, it } from "vitest";
import { NbdClient } from "../client.js";
import {
  NBD_CMD_FLAG_FAST_ZERO,
  NBD_CMD_READ,
  NBD_CMD_TRIM,
  NBD_CMD_WRITE,
  NBD_CMD_WRITE_ZEROES,
  NBD_EINVAL,
  NBD_ENOTSUP,
} from "../constants.js";
import { MemoryExportProvider } from "../memory-export.js";
import { requestErrno, type RequestPolicy, type ValidatedExport } from "../request-validation.js";
import { NbdServer } from "../server.js";
import { faultyRequestChecks } from "./request-check-faults.js";

const mebibyte = 1024 * 1024;
const payloadMaxBytes = 32 * mebibyte;
const big: ValidatedExport = { sizeBytes: 256 * mebibyte, readOnly: false, fastZero: true };
const policy: RequestPolicy = { structuredReplies: true, blockStatusSelected: true, requestSizeMaxBytes: payloadMaxBytes };
/** Requests every check answers alike: [command, flags, lengthBytes]. */
const ordinary: readonly (readonly [number, number, number])[] = [
  [NBD_CMD_READ, 0, 4096],
  [NBD_CMD_WRITE, 0, payloadMaxBytes + 1],
  [NBD_CMD_WRITE_ZEROES, 0, payloadMaxBytes],
  [NBD_CMD_TRIM, 0, payloadMaxBytes],
];

describe("planted request-check bugs", () => {
  it("long-zeroes-refused refuses only WRITE_ZEROES and TRIM over the payload maximum", () => {
    const check = faultyRequestChecks["long-zeroes-refused"];
    expect(check(NBD_CMD_WRITE_ZEROES, 0, 0, payloadMaxBytes + 1, big, policy)).toBe(NBD_EINVAL);
    expect(check(NBD_CMD_TRIM, 0, 0, payloadMaxBytes + 1, big, policy)).toBe(NBD_EINVAL);
    expect(requestErrno(NBD_CMD_WRITE_ZEROES, 0, 0, payloadMaxBytes + 1, big, policy)).toBe(0);
    for (const [command, flags, length] of ordinary) expect(check(command, flags, 0, length, big, policy)).toBe(requestErrno(command, flags, 0, length, big, policy));
  });

  it("fast-zero-invalid answers FAST_ZERO with EINVAL where the spec allows success or ENOTSUP", () => {
    const check = faultyRequestChecks["fast-zero-invalid"];
    expect(check(NBD_CMD_WRITE_ZEROES, NBD_CMD_FLAG_FAST_ZERO, 0, 4096, big, policy)).toBe(NBD_EINVAL);
    expect(requestErrno(NBD_CMD_WRITE_ZEROES, NBD_CMD_FLAG_FAST_ZERO, 0, 4096, { ...big, fastZero: false }, policy)).toBe(NBD_ENOTSUP);
    for (const [command, flags, length] of ordinary) expect(check(command, flags, 0, length, big, policy)).toBe(requestErrno(command, flags, 0, length, big, policy));
  });
});

describe("NbdServer requestCheck", () => {
  const started: NbdServer[] = [];
  afterEach(async () => {
    for (const server of started.splice(0)) await server.close();
  });

  it("answers each request by the check it was built with", async () => {
    const provider = new MemoryExportProvider([{ name: "long", sizeBytes: payloadMaxBytes + mebibyte }]);
    const server = new NbdServer({ provider, port: 0, requestCheck: faultyRequestChecks["long-zeroes-refused"] });
    started.push(server);
    const { port } = await server.listen();
    const client = await NbdClient.connect({ host: "127.0.0.1", port, exportName: "long", timeoutMs: 5_000 });
    try {
      await expect(client.writeZeroes(0, payloadMaxBytes + mebibyte)).rejects.toThrow(/EINVAL/);
      await client.writeZeroes(0, mebibyte);
    } finally {
      await client.close();
    }
  });
});
