#!/usr/bin/env node
/** Entry point of the `switchyard-conformance` binary. */
import { quietIpServerNameWarning } from "@switchyard/security";
import { main } from "./main.js";

// Loopback certificates name 127.0.0.1, which Node warns about as a TLS server name at every connection.
quietIpServerNameWarning();

process.exitCode = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });
