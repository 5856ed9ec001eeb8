/**
 * The web console's door (issue 17, item 4): every request passes `admit`
 * before it is routed. It checks the Host, serves the login page and takes
 * logins and logouts, and lets through only a request with a live session
 * (and, for a POST, this console's Origin and the session's CSRF token;
 * for a form, the operator role). /metrics is open on loopback and asks a
 * bearer token (the metrics token) anywhere else.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { isLoopback } from "../plain-control.js";
import { ConsoleSessions, secretsEqual, type ConsoleTokens, type Session } from "./console-login.js";
import {
  bearerToken,
  cookieValue,
  csrfHeaderName,
  endedSessionCookie,
  hostAllowed,
  originAllowed,
  sessionCookie,
  sessionCookieName,
  type ListenAddress,
} from "./request-guard.js";

/** A login form carries one token: anything longer is not one, and is not read further. */
const loginBodyBytesMax = 4096;

/** Paths anyone may GET: the login page and the style sheet it uses. */
const publicPaths = new Set(["/login", "/style.css"]);

/** What `admit` decided: the request was answered here, or it goes on with this session (none for an open /metrics). */
export type Admission = { readonly answered: true } | { readonly answered: false; readonly session: Session | undefined };

const answered: Admission = { answered: true };

function refuse(response: ServerResponse, statusCode: number, error: string, headers: Record<string, string> = {}): Admission {
  response.writeHead(statusCode, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", ...headers });
  response.end(JSON.stringify({ ok: false, error }));
  return answered;
}

function redirect(response: ServerResponse, location: string, headers: Record<string, string> = {}): Admission {
  response.writeHead(303, { location, "cache-control": "no-store", ...headers });
  response.end();
  return answered;
}

/** The login page: a plain form, no script; `failed` adds a fixed line (nothing from the request is echoed). */
function loginPage(failed: boolean): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Switchyard console: log in</title><link rel="stylesheet" href="style.css"></head>
<body class="login">
<main>
<h1>Switchyard</h1>
<form id="login" method="post" action="login">
<label for="token">Console token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required>
<button type="submit">Log in</button>
</form>
${failed ? '<p id="login-failed" class="error">That token opens no session here.</p>' : ""}
<p class="note">The operator's token is in the console folder of the appliance's data (<code>console/operator-token</code>; <code>viewer-token</code> may only look).</p>
</main>
</body>
</html>
`;
}

async function readLoginToken(request: IncomingMessage): Promise<string | undefined> {
  let body = "";
  for await (const chunk of request as AsyncIterable<Buffer>) {
    body += chunk.toString("utf8");
    if (body.length > loginBodyBytesMax) return undefined;
  }
  return new URLSearchParams(body).get("token")?.trim();
}

export class ConsoleAccess {
  readonly sessions: ConsoleSessions;
  private readonly scheme: "http" | "https";

  constructor(
    tokens: ConsoleTokens,
    private readonly listen: ListenAddress,
    private readonly secure: boolean,
  ) {
    this.sessions = new ConsoleSessions(tokens);
    this.scheme = secure ? "https" : "http";
  }

  /** Answers the request here (refused, a login or a logout), or lets it on with its session. */
  async admit(request: IncomingMessage, response: ServerResponse, path: string): Promise<Admission> {
    const method = request.method ?? "GET";
    if (!hostAllowed(request.headers.host, this.listen)) return refuse(response, 421, "this request's Host header does not name this console");
    if (method === "POST" && !originAllowed(request.headers.origin, request.headers.host, this.scheme)) {
      return refuse(response, 403, "a form must come from this console's own page (its Origin header did not name it)");
    }
    if (method === "GET" && path === "/login") return this.showLogin(response, new URL(request.url ?? "/", "http://console").searchParams.has("failed"));
    if (method === "GET" && publicPaths.has(path)) return { answered: false, session: undefined };
    if (method === "POST" && path === "/login") return this.login(request, response);
    if (path === "/metrics") return this.admitScrape(request, response);
    const id = cookieValue(request.headers.cookie, sessionCookieName);
    const session = this.sessions.find(id);
    if (session === undefined) {
      if (method === "GET" && (path === "/" || path === "/index.html")) return redirect(response, "login");
      return refuse(response, 401, "log in first: this console needs a session");
    }
    if (method === "POST" && path === "/logout") return this.logout(response, id);
    if (method === "POST") return this.admitForm(request, response, session);
    return { answered: false, session };
  }

  private showLogin(response: ServerResponse, failed: boolean): Admission {
    response.writeHead(failed ? 401 : 200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
    response.end(loginPage(failed));
    return answered;
  }

  private async login(request: IncomingMessage, response: ServerResponse): Promise<Admission> {
    const token = await readLoginToken(request);
    const role = token === undefined ? undefined : this.sessions.roleOf(token);
    if (role === undefined) return redirect(response, "login?failed");
    const { id } = this.sessions.open(role);
    return redirect(response, "./", { "set-cookie": sessionCookie(id, this.secure) });
  }

  private logout(response: ServerResponse, id: string | undefined): Admission {
    if (id !== undefined) this.sessions.close(id);
    return redirect(response, "login", { "set-cookie": endedSessionCookie(this.secure) });
  }

  private admitForm(request: IncomingMessage, response: ServerResponse, session: Session): Admission {
    const offered = request.headers[csrfHeaderName];
    if (typeof offered !== "string" || !secretsEqual(offered, session.csrf)) return refuse(response, 403, `a form must carry this session's CSRF token (header ${csrfHeaderName}); reload the page`);
    if (session.role !== "operator") return refuse(response, 403, "a viewer may look but not change: log in with the operator's token");
    return { answered: false, session };
  }

  private admitScrape(request: IncomingMessage, response: ServerResponse): Admission {
    if (isLoopback(this.listen.host)) return { answered: false, session: undefined };
    const token = bearerToken(request.headers.authorization);
    if (token !== undefined && this.sessions.isMetricsToken(token)) return { answered: false, session: undefined };
    const session = this.sessions.find(cookieValue(request.headers.cookie, sessionCookieName));
    if (session !== undefined) return { answered: false, session };
    return refuse(response, 401, "/metrics beyond loopback needs the console's metrics token (Authorization: Bearer, the file console/metrics-token)", { "www-authenticate": 'Bearer realm="switchyard"' });
  }
}
