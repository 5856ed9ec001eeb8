#!/usr/bin/env node
/**
 * Entry point of the test build of `switchyard` (dist/testing/cli.js): the
 * production commands, with `up` and `apparatus serve` composed from the
 * `./testing` subpaths when given the test flags (test-build.ts). Tests
 * that need a planted bug or a crash point start this one; nothing else
 * should.
 */
import { prepareCliProcess } from "../cli-process.js";

await prepareCliProcess();
const { testBuildMain } = await import("./test-build.js");
process.exitCode = await testBuildMain(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });
