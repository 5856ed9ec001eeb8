/**
 * What a `switchyard` binary (cli.ts, testing/cli.ts) does to its process
 * before anything else. It sizes libuv's thread pool, where every LU read
 * and write runs, before anything uses it. Measured on a
 * 2-core machine with fio at queue depth 16 over page-cached LUs, 4 threads
 * did as well as or better than 1, 2 or 16 on 4 KiB random and 1 MiB
 * sequential I/O (16 lost a third of random-write IOPS to context switches);
 * an environment value wins, for machines with more cores or slow disks.
 */
const threadPoolSize = 4;

export async function prepareCliProcess(): Promise<void> {
  process.env.UV_THREADPOOL_SIZE ??= String(threadPoolSize);
  // Imported only now, like main.js: after the thread pool is sized.
  const { quietIpServerNameWarning } = await import("@switchyard/security");
  quietIpServerNameWarning();
  // A reader that stops early (`switchyard volume list | head`) is not an error.
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") throw error;
    process.exit(0);
  });
}
