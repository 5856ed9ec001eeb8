// Goal: the sans-I/O request validation answers each command with the errno
// proto.md asks for, in the documented order, without a socket or an export.
// Method: a table of requests against a 1 MiB writable export with a 32 MiB
// payload maximum, then the read-only, fast-zero and no-context variants.
import { describe, expect, it } from "vitest";
import {
  NBD_CMD_BLOCK_STATUS,
  NBD_CMD_CACHE,
  NBD_CMD_FLAG_DF,
  NBD_CMD_FLAG_FAST_ZERO,
  NBD_CMD_FLAG_FUA,
  NBD_CMD_FLUSH,
  NBD_CMD_READ,
  NBD_CMD_TRIM,
  NBD_CMD_WRITE,
  NBD_CMD_WRITE_ZEROES,
  NBD_EINVAL,
  NBD_ENOSPC,
  NBD_ENOTSUP,
  NBD_EPERM,
} from "./constants.js";
import { requestErrno, type RequestPolicy, type ValidatedExport } from "./request-validation.js";

const mebibyte = 1024 * 1024;
const writable: ValidatedExport = { sizeBytes: mebibyte, readOnly: false, fastZero: false };
const policy: RequestPolicy = { structuredReplies: true, blockStatusSelected: true, requestSizeMaxBytes: 32 * mebibyte };

describe("requestErrno", () => {
  it.each([
    ["read in range", NBD_CMD_READ, NBD_CMD_FLAG_DF, 0, 4096, 0],
    ["read past the end", NBD_CMD_READ, 0, mebibyte - 1, 2, NBD_EINVAL],
    ["write past the end", NBD_CMD_WRITE, NBD_CMD_FLAG_FUA, mebibyte, 1, NBD_ENOSPC],
    ["write with DF", NBD_CMD_WRITE, NBD_CMD_FLAG_DF, 0, 1, NBD_EINVAL],
    ["zeroes past the end", NBD_CMD_WRITE_ZEROES, 0, 0, mebibyte + 1, NBD_ENOSPC],
    ["fast zero without fast zeroing", NBD_CMD_WRITE_ZEROES, NBD_CMD_FLAG_FAST_ZERO, 0, 4096, NBD_ENOTSUP],
    ["trim past the end", NBD_CMD_TRIM, 0, 0, mebibyte + 1, NBD_EINVAL],
    ["block status of nothing", NBD_CMD_BLOCK_STATUS, 0, 0, 0, NBD_EINVAL],
    ["flush with a length", NBD_CMD_FLUSH, 0, 0, 1, NBD_EINVAL],
    ["cache, not advertised", NBD_CMD_CACHE, 0, 0, 4096, NBD_EINVAL],
  ])("%s", (_name, command, flags, offsetBytes, lengthBytes, errno) => {
    expect(requestErrno(command, flags, offsetBytes, lengthBytes, writable, policy)).toBe(errno);
  });

  it("a payload-free command may exceed the payload maximum; READ and WRITE may not", () => {
    const big: ValidatedExport = { ...writable, sizeBytes: 256 * mebibyte };
    expect(requestErrno(NBD_CMD_WRITE_ZEROES, 0, 0, 128 * mebibyte, big, policy)).toBe(0);
    expect(requestErrno(NBD_CMD_TRIM, 0, 0, 128 * mebibyte, big, policy)).toBe(0);
    expect(requestErrno(NBD_CMD_READ, 0, 0, 33 * mebibyte, big, policy)).toBe(NBD_EINVAL);
    expect(requestErrno(NBD_CMD_WRITE, 0, 0, 33 * mebibyte, big, policy)).toBe(NBD_EINVAL);
  });

  it("refuses writes to a read-only export before checking the range", () => {
    const readOnly: ValidatedExport = { ...writable, readOnly: true };
    expect(requestErrno(NBD_CMD_WRITE, 0, mebibyte, 1, readOnly, policy)).toBe(NBD_EPERM);
    expect(requestErrno(NBD_CMD_TRIM, 0, 0, 4096, readOnly, policy)).toBe(NBD_EPERM);
  });

  it("honours negotiation: DF only with structured replies, block status only with a context, fast zero when offered", () => {
    expect(requestErrno(NBD_CMD_READ, NBD_CMD_FLAG_DF, 0, 1, writable, { ...policy, structuredReplies: false })).toBe(NBD_EINVAL);
    expect(requestErrno(NBD_CMD_BLOCK_STATUS, 0, 0, 1, writable, { ...policy, blockStatusSelected: false })).toBe(NBD_EINVAL);
    expect(requestErrno(NBD_CMD_WRITE_ZEROES, NBD_CMD_FLAG_FAST_ZERO, 0, 1, { ...writable, fastZero: true }, policy)).toBe(0);
  });
});
