/**
 * @switchyard/console: the `switchyard` command and the embedded appliance
 * it starts with `switchyard up`.
 */
export { startAppliance } from "./appliance.js";
export type { Appliance, ApplianceOptions } from "./appliance.js";
export type { Composition } from "./composition.js";
export { main, commands, exitDone, exitFailed, exitUsage } from "./main.js";
export { readEndpointFile, writeEndpointFile, endpointFilePath } from "./endpoints.js";
export type { EndpointFile } from "./endpoints.js";
export { parseSize, formatBytes } from "./sizes.js";
export { ConsoleClient, consoleCallTimeoutMs } from "./controller-client.js";
// For other entry points that dial over TLS with ConsoleClient (the benchmarks).
export { quietIpServerNameWarning } from "@switchyard/security";
export { startConsoleServer } from "./web/console-server.js";
export { startConsoleThread, startWebConsole, type ConsoleThreadOptions } from "./web/console-thread.js";
export { figuresHere, takeLocalFigures, type LocalFigures, type LocalFiguresSource } from "./web/local-figures.js";
export type { ConsoleServer, ConsoleServerOptions } from "./web/console-server.js";
export { parsePrometheusText, prometheusContentType } from "./web/prometheus-text.js";
export type { ParsedSample } from "./web/prometheus-text.js";
export type { Snapshot } from "./web/snapshot-types.js";
