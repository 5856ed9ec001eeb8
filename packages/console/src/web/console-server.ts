/**
 * The web console (claims 8, 19): an HTTP server with the page (static
 * files built from web/, nothing loaded from elsewhere), its live feed
 * (/events), its forms (/api/…), and /metrics. It has no protocol logic: it
 * reads and asks the Controller service at `controllerAddress`, an
 * apparatus's gRPC port that passes calls on to whichever apparatus holds the
 * controller lease, so the page goes on working when the controller moves.
 */
import assert from "node:assert/strict";
import type * as grpc from "@grpc/grpc-js";
import { readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { ConsoleClient } from "../controller-client.js";
import { ConsoleAccess } from "./console-access.js";
import { loadConsoleTokens } from "./console-login.js";
import { isEventRecord } from "./cluster-events.js";
import { ChangeMetrics, renderMetrics } from "./metrics.js";
import type { LocalFiguresSource } from "./local-figures.js";
import { prometheusContentType } from "./prometheus-text.js";
import { SnapshotFeed, snapshotCallTimeoutMs } from "./snapshot-feed.js";
import { readSnapshot } from "./snapshot.js";
import { ConsoleSampler } from "./console-sampler.js";
import { cancelMigrationFromForm, createVolumeFromForm, migrateFromForm, moveExtentFromForm, readJsonBody, FormError, type FormAction } from "./forms.js";

export interface ConsoleServerOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** A gRPC address that answers Controller calls: an apparatus's (which forwards) or the controller's own. */
  readonly controllerAddress: string;
  /** How it calls there: a certificate allowed to change the cluster when the appliance has mutual TLS. */
  readonly credentials: grpc.ChannelCredentials;
  /** This process's apparatuses and devices, whose I/O, holds and errors /metrics and the charts show. */
  readonly figures: LocalFiguresSource;
  /** Where the login tokens are kept (console-login.ts), made on first start. */
  readonly tokensFolder: string;
  /** Serve HTTPS with this key and certificate (PEM): required beyond loopback (console-listen.ts). */
  readonly https?: { readonly key: Buffer; readonly cert: Buffer };
}

export interface ConsoleServer {
  /** host:port */
  readonly address: string;
  /** http://host:port/ (https:// beyond loopback) */
  readonly url: string;
  /** The folder of its login tokens. */
  readonly tokens: string;
  close(): Promise<void>;
}

/** The page's files, built by `tsc -p web/tsconfig.json` and copied beside it (package.json "build"). */
const staticFiles: Readonly<Record<string, { readonly file: string; readonly type: string }>> = {
  "/": { file: "index.html", type: "text/html; charset=utf-8" },
  "/index.html": { file: "index.html", type: "text/html; charset=utf-8" },
  "/app.js": { file: "app.js", type: "text/javascript; charset=utf-8" },
  "/charts.js": { file: "charts.js", type: "text/javascript; charset=utf-8" },
  "/style.css": { file: "style.css", type: "text/css; charset=utf-8" },
  // The charting library, vendored from its npm package by the build (package.json "build"): nothing is loaded from elsewhere.
  "/uPlot.esm.js": { file: "uPlot.esm.js", type: "text/javascript; charset=utf-8" },
  "/uPlot.min.css": { file: "uPlot.min.css", type: "text/css; charset=utf-8" },
};
const staticDir = new URL("../public/web/", import.meta.url);
/** Requests may take this long to send their headers; a slow client cannot hold a socket longer. */
const headersTimeoutMs = 10_000;

async function loadStaticFiles(): Promise<Map<string, Buffer>> {
  const contents = new Map<string, Buffer>();
  for (const { file } of Object.values(staticFiles)) {
    if (contents.has(file)) continue;
    try {
      contents.set(file, await readFile(new URL(file, staticDir)));
    } catch (error: unknown) {
      throw new Error(`the web console's ${file} is missing from ${staticDir.pathname}: build @switchyard/console first`, { cause: error });
    }
  }
  return contents;
}

function sendJson(response: ServerResponse, statusCode: number, value: unknown): void {
  response.writeHead(statusCode, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" });
  response.end(JSON.stringify(value));
}

interface Context {
  /** For the forms: a command's deadline. */
  readonly client: ConsoleClient;
  /** For reads (snapshots, the journal for /metrics): a short deadline. */
  readonly reader: ConsoleClient;
  readonly feed: SnapshotFeed;
  readonly changeMetrics: ChangeMetrics;
  readonly sampler: ConsoleSampler;
  readonly figures: LocalFiguresSource;
  readonly files: Map<string, Buffer>;
  readonly access: ConsoleAccess;
}

async function metrics(context: Context, response: ServerResponse): Promise<void> {
  // Both reads are bounded by the reader's deadline; one that fails shows in the page, never fails the scrape.
  const [changes, cluster] = await Promise.allSettled([context.reader.listChanges(), context.reader.clusterStatus()]);
  const figures = await context.figures();
  if (changes.status === "fulfilled") context.changeMetrics.observe(changes.value.filter((change) => !isEventRecord(change)));
  response.writeHead(200, { "content-type": prometheusContentType, "cache-control": "no-store" });
  response.end(renderMetrics({
    figures,
    changes: context.changeMetrics,
    journalReadable: changes.status === "fulfilled",
    cluster: cluster.status === "fulfilled" ? cluster.value : undefined,
  }));
}

/** Each form's path and what it does: the same checks and calls as its CLI command. */
const formActions: ReadonlyMap<string, FormAction> = new Map([
  ["/api/volumes", createVolumeFromForm],
  ["/api/moves", moveExtentFromForm],
  ["/api/migrations", migrateFromForm],
  ["/api/migrations/cancel", cancelMigrationFromForm],
]);

async function postForm(context: Context, request: IncomingMessage, response: ServerResponse, path: string): Promise<void> {
  try {
    const body = await readJsonBody(request);
    const action = formActions.get(path);
    assert.ok(action !== undefined, `no form at ${path}`);
    const answer = await action(context.client, body);
    sendJson(response, 200, answer);
  } catch (error: unknown) {
    if (!(error instanceof FormError)) throw error;
    sendJson(response, error.httpStatus, { ok: false, error: error.message });
  } finally {
    context.feed.refresh();
  }
}

async function route(context: Context, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const path = new URL(request.url ?? "/", "http://console").pathname;
  const method = request.method ?? "GET";
  const admission = await context.access.admit(request, response, path);
  if (admission.answered) return;
  if (method === "GET" && path === "/api/session") {
    // The page's role and the CSRF token its forms send back; only its own origin can read this answer.
    sendJson(response, 200, { role: admission.session?.role, csrf: admission.session?.csrf });
    return;
  }
  const file = staticFiles[path];
  if (method === "GET" && file !== undefined) {
    response.writeHead(200, { "content-type": file.type, "cache-control": "no-cache" });
    response.end(context.files.get(file.file));
    return;
  }
  if (method === "GET" && path === "/metrics") return metrics(context, response);
  if (method === "GET" && path === "/api/snapshot") {
    sendJson(response, 200, await readSnapshot(context.reader));
    return;
  }
  if (method === "GET" && path === "/api/io-history") {
    const query = new URL(request.url ?? "/", "http://console").searchParams;
    const offset = Number.parseInt(query.get("offset") ?? "0", 10);
    sendJson(response, 200, context.sampler.history.answer(query.get("search") ?? "", Number.isSafeInteger(offset) && offset >= 0 ? offset : 0));
    return;
  }
  if (method === "GET" && path === "/api/events") {
    sendJson(response, 200, await context.sampler.events());
    return;
  }
  if (method === "GET" && path === "/events") {
    if (!context.feed.add(response)) sendJson(response, 503, { ok: false, error: "too many console pages are open; close one and reload" });
    return;
  }
  if (method === "POST" && formActions.has(path)) return postForm(context, request, response, path);
  sendJson(response, 404, { ok: false, error: `no ${method} ${path} here` });
}

export async function startConsoleServer(options: ConsoleServerOptions): Promise<ConsoleServer> {
  // Forms may wait as long as a command does; the page's reads give up sooner, so a
  // controller that stopped answering shows as unavailable within a few polls.
  const client = new ConsoleClient(options.controllerAddress, options.credentials);
  const reader = new ConsoleClient(options.controllerAddress, options.credentials, snapshotCallTimeoutMs);
  // The port is known once listening (0 picks one); until then no Host matches, so nothing is let in.
  const listen = { host: options.host, port: -1 };
  const context: Context = {
    client,
    reader,
    feed: new SnapshotFeed(reader),
    changeMetrics: new ChangeMetrics(),
    sampler: new ConsoleSampler(reader, options.figures),
    figures: options.figures,
    files: await loadStaticFiles(),
    access: new ConsoleAccess(await loadConsoleTokens(options.tokensFolder), listen, options.https !== undefined),
  };
  const handler: RequestListener = (request, response) => {
    route(context, request, response).catch((error: unknown) => {
      // The controller did not answer a read (/api/snapshot): the page says so and tries again.
      if (!response.headersSent) sendJson(response, 503, { ok: false, error: error instanceof Error ? error.message : String(error) });
      else response.end();
    });
  };
  const server: Server =
    options.https === undefined
      ? createServer({ headersTimeout: headersTimeoutMs }, handler)
      : createHttpsServer({ headersTimeout: headersTimeoutMs, key: options.https.key, cert: options.https.cert }, handler);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  listen.port = port;
  const address = options.host.includes(":") ? `[${options.host}]:${port}` : `${options.host}:${port}`;
  return {
    address,
    tokens: options.tokensFolder,
    url: `${options.https === undefined ? "http" : "https"}://${address}/`,
    async close() {
      context.feed.close();
      context.sampler.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => { resolve(); }));
      client.close();
      reader.close();
    },
  };
}
