/**
 * One warning every TLS client of ours would print, kept quiet. grpc-js
 * sends the address it dials as the TLS server name (SNI), and Node warns
 * once per process or worker thread when that is an IP address (DEP0123:
 * RFC 6066 allows only host names there). We dial IP addresses on purpose
 * (certificates carry them as subjectAltName entries, and the server's
 * identity is still checked against the address), so the warning says
 * nothing to a user and would break a command's one line of error output.
 */
const ipServerNameWarning = "DEP0123";

function isQuieted(warning: Error): boolean {
  return "code" in warning && warning.code === ipServerNameWarning;
}

/** Keeps this process's (or this worker's) printers of warnings, minus DEP0123. Call once, at the entry point. */
export function quietIpServerNameWarning(): void {
  const printers = process.listeners("warning");
  process.removeAllListeners("warning");
  process.on("warning", (warning) => {
    if (isQuieted(warning)) return;
    for (const print of printers) print(warning);
  });
}
