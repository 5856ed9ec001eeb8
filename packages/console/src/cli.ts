#!/usr/bin/env node
/**
 * Entry point of the `switchyard` binary. It sizes libuv's thread pool before
 * anything uses it: every LU read and write runs there, and 4 threads would
 * cap a queue depth of 16 at 4 requests in the device at once.
 */
const threadPoolSize = 16;
process.env.UV_THREADPOOL_SIZE ??= String(threadPoolSize);

const { main } = await import("./main.js");
process.exitCode = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });
