#!/usr/bin/env node
/**
 * Entry point of the `switchyard` binary. The process is prepared
 * (cli-process.ts) before main.js and everything it imports are loaded.
 */
import { prepareCliProcess } from "./cli-process.js";

await prepareCliProcess();
const { main } = await import("./main.js");
process.exitCode = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });
