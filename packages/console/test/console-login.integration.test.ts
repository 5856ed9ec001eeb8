// Goal: the web console lets nobody in without a login, and nobody change
// anything from another page (issue 17, item 4). Method: the real console
// server over real HTTP and HTTPS (certificates made by openssl through the
// test PKI), its controller address a closed port, so whatever passes the
// door gets an answer from the route (503 or the form's own error), and what
// the door stops gets 401, 403 or 421 before any route runs. A console on
// 0.0.0.0 serves HTTPS and asks /metrics for the metrics token.
import * as grpc from "@grpc/grpc-js";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { Agent, request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeTestPki, type TestPki } from "@switchyard/security/testing";
import { serverCertificateFile, serverKeyFile } from "@switchyard/security";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startConsoleServer, type ConsoleServer } from "../dist/web/console-server.js"; // built: it serves the page from dist/public
import { consoleTokenFiles } from "../dist/web/console-login.js";
import { figuresHere } from "../dist/web/local-figures.js";

/** Nobody listens here: reads that pass the door fail fast instead of waiting on a controller. */
const closedControllerAddress = "127.0.0.1:1";

let folder = "";
let pki: TestPki;
let plain: ConsoleServer;
let secure: ConsoleServer;

async function token(name: keyof typeof consoleTokenFiles, tokens = plain.tokens): Promise<string> {
  return (await readFile(join(tokens, consoleTokenFiles[name]), "utf8")).trim();
}

/** POST /login from the console's own page; the session cookie it sets (name=value), or undefined. */
async function logIn(url: string, offered: string): Promise<{ status: number; cookie: string | undefined; setCookie: string | null; location: string | null }> {
  const response = await fetch(new URL("login", url), {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", origin: new URL(url).origin },
    body: new URLSearchParams({ token: offered }).toString(),
    redirect: "manual",
  });
  const setCookie = response.headers.get("set-cookie");
  return { status: response.status, cookie: setCookie?.split(";")[0], setCookie, location: response.headers.get("location") };
}

async function session(url: string, cookie: string): Promise<{ role: string; csrf: string }> {
  const response = await fetch(new URL("api/session", url), { headers: { cookie } });
  expect(response.status).toBe(200);
  return (await response.json()) as { role: string; csrf: string };
}

function postForm(url: string, headers: Record<string, string>): Promise<Response> {
  return fetch(new URL("api/volumes", url), {
    method: "POST",
    headers: { "content-type": "application/json", origin: new URL(url).origin, ...headers },
    body: JSON.stringify({ name: "v1", size: "4MiB" }),
  });
}

/** GET /login's status with a Host header of our choosing (fetch does not let a caller set Host). */
function getWithHost(url: string, host: string): Promise<number> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: hostname, port: Number(port), path: "/login", headers: { host } }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on("error", reject);
    request.end();
  });
}

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), "switchyard-console-login-"));
  pki = await makeTestPki();
  const common = { controllerAddress: closedControllerAddress, credentials: grpc.credentials.createInsecure(), figures: figuresHere([], []) };
  plain = await startConsoleServer({ ...common, host: "127.0.0.1", port: 0, tokensFolder: join(folder, "plain") });
  const node = pki.folder({ role: "apparatus", id: "a0" });
  secure = await startConsoleServer({
    ...common,
    host: "0.0.0.0",
    port: 0,
    tokensFolder: join(folder, "secure"),
    https: { key: await readFile(join(node, serverKeyFile)), cert: await readFile(join(node, serverCertificateFile)) },
  });
}, 60_000);

afterAll(async () => {
  await plain.close();
  await secure.close();
  await pki.remove();
  await rm(folder, { recursive: true, force: true });
});

describe("the web console's login", () => {
  it("keeps its tokens in files only the owner reads, and keeps them across restarts", async () => {
    for (const name of Object.values(consoleTokenFiles)) expect((await stat(join(plain.tokens, name))).mode & 0o777).toBe(0o600);
    expect((await stat(plain.tokens)).mode & 0o777).toBe(0o700);
    const before = await token("operator");
    const again = await startConsoleServer({ controllerAddress: closedControllerAddress, credentials: grpc.credentials.createInsecure(), figures: figuresHere([], []), host: "127.0.0.1", port: 0, tokensFolder: plain.tokens });
    await again.close();
    expect(await token("operator")).toBe(before);
    expect(before).not.toBe(await token("viewer"));
  });

  it("sends a person without a session to the login page, and answers the API 401", async () => {
    const page = await fetch(plain.url, { redirect: "manual" });
    expect(page.status).toBe(303);
    expect(page.headers.get("location")).toBe("login");
    const login = await fetch(new URL("login", plain.url));
    expect(login.status).toBe(200);
    expect(await login.text()).toContain('<form id="login" method="post" action="login">');
    for (const path of ["api/snapshot", "api/events", "api/io-history", "api/session", "events", "app.js"]) {
      expect((await fetch(new URL(path, plain.url))).status, path).toBe(401);
    }
    expect((await postForm(plain.url, {})).status).toBe(401);
  });

  it("opens a session for the right token only, in an HttpOnly SameSite=Strict cookie, and never echoes the token", async () => {
    const wrong = await logIn(plain.url, "not-the-token-at-all-not-the-token-at-all");
    expect(wrong).toMatchObject({ status: 303, location: "login?failed", setCookie: null });
    const failedPage = await (await fetch(new URL("login?failed", plain.url))).text();
    expect(failedPage).toContain("That token opens no session here.");
    const operator = await logIn(plain.url, await token("operator"));
    expect(operator.status).toBe(303);
    expect(operator.setCookie).toMatch(/^switchyard_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict$/);
    expect(operator.setCookie).not.toContain(await token("operator"));
    expect(await session(plain.url, operator.cookie ?? "")).toMatchObject({ role: "operator", csrf: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) as unknown });
    // The metrics token is for scrapers: it opens no session.
    expect((await logIn(plain.url, await token("metrics"))).setCookie).toBeNull();
  });

  it("takes a form only with this session's CSRF token, from this console's Origin, from an operator", async () => {
    const operator = (await logIn(plain.url, await token("operator"))).cookie ?? "";
    const { csrf } = await session(plain.url, operator);
    const noToken = await postForm(plain.url, { cookie: operator });
    expect(noToken.status).toBe(403);
    expect(await noToken.json()).toMatchObject({ ok: false, error: expect.stringContaining("CSRF token") as unknown });
    expect((await postForm(plain.url, { cookie: operator, "x-csrf-token": "A".repeat(43) })).status).toBe(403);
    const foreign = await postForm(plain.url, { cookie: operator, "x-csrf-token": csrf, origin: "http://127.0.0.1:9" });
    expect(foreign.status).toBe(403);
    expect(await foreign.json()).toMatchObject({ error: expect.stringContaining("Origin") as unknown });
    const noOrigin = await fetch(new URL("api/volumes", plain.url), { method: "POST", headers: { cookie: operator, "x-csrf-token": csrf }, body: "{}" });
    expect(noOrigin.status).toBe(403);
    // Past the door: the form's own answer (no controller listens), not the door's.
    expect([401, 403, 421]).not.toContain((await postForm(plain.url, { cookie: operator, "x-csrf-token": csrf })).status);

    const viewer = (await logIn(plain.url, await token("viewer"))).cookie ?? "";
    const viewerSession = await session(plain.url, viewer);
    expect(viewerSession.role).toBe("viewer");
    const refused = await postForm(plain.url, { cookie: viewer, "x-csrf-token": viewerSession.csrf });
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ error: expect.stringContaining("viewer may look") as unknown });
  });

  it("ends a session at logout", async () => {
    const cookie = (await logIn(plain.url, await token("operator"))).cookie ?? "";
    const { csrf } = await session(plain.url, cookie);
    const out = await fetch(new URL("logout", plain.url), { method: "POST", headers: { cookie, "x-csrf-token": csrf, origin: new URL(plain.url).origin }, redirect: "manual" });
    expect(out.status).toBe(303);
    expect(out.headers.get("set-cookie")).toContain("Max-Age=0");
    expect((await fetch(new URL("api/session", plain.url), { headers: { cookie } })).status).toBe(401);
  });

  it("answers only to its own Host: a page pointing another name at 127.0.0.1 gets 421", async () => {
    const port = new URL(plain.url).port;
    for (const host of [`attacker.example:${port}`, `127.0.0.1:1`, "127.0.0.1"]) {
      expect(await getWithHost(plain.url, host), host).toBe(421);
    }
    expect((await fetch(new URL("login", plain.url.replace("127.0.0.1", "localhost")))).status).toBe(200);
  });

  it("serves /metrics on loopback to anyone", async () => {
    expect((await fetch(new URL("metrics", plain.url))).status).toBe(200);
  });

  it("serves HTTPS beyond loopback, with Secure cookies, and /metrics only with the metrics token", async () => {
    expect(secure.url).toMatch(/^https:\/\/0\.0\.0\.0:\d+\/$/);
    const port = Number(new URL(secure.url).port);
    const ca = await readFile(join(pki.dir, "ca-cert.pem"));
    const agent = new Agent({ ca });
    const get = (path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined> }> =>
      new Promise((resolve, reject) => {
        const request = httpsRequest({ host: "127.0.0.1", port, path, agent, servername: "localhost", headers: { host: `127.0.0.1:${port}`, ...headers } }, (response) => {
          response.resume();
          resolve({ status: response.statusCode ?? 0, headers: response.headers });
        });
        request.on("error", reject);
        request.end();
      });
    const refused = await get("/metrics");
    expect(refused.status).toBe(401);
    expect(refused.headers["www-authenticate"]).toBe('Bearer realm="switchyard"');
    expect((await get("/metrics", { authorization: "Bearer wrong-token-wrong-token-wrong-token" })).status).toBe(401);
    expect((await get("/metrics", { authorization: `Bearer ${await token("metrics", secure.tokens)}` })).status).toBe(200);
    const login = await new Promise<string | undefined>((resolve, reject) => {
      void token("operator", secure.tokens).then((offered) => {
        const body = new URLSearchParams({ token: offered }).toString();
        const request = httpsRequest(
          { method: "POST", host: "127.0.0.1", port, path: "/login", agent, servername: "localhost", headers: { host: `127.0.0.1:${port}`, origin: `https://127.0.0.1:${port}`, "content-type": "application/x-www-form-urlencoded" } },
          (response) => {
            response.resume();
            resolve(response.headers["set-cookie"]?.[0]);
          },
        );
        request.on("error", reject);
        request.end(body);
      }, reject);
    });
    expect(login).toMatch(/; HttpOnly; SameSite=Strict; Secure$/);
    agent.destroy();
  });
});

