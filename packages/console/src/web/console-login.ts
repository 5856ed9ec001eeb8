/**
 * Who may use the web console (issue 17, item 4): tokens kept in a folder
 * of the appliance's data (one per role, and one for /metrics scrapers),
 * and the sessions a login with one of them opens. A session is a random
 * id in an HttpOnly, SameSite=Strict cookie, with the role of the token that
 * opened it and a CSRF token every form must send back.
 *
 * Secrets are compared by their SHA-256 digests with timingSafeEqual, so the
 * time a wrong guess takes says nothing of the right one; none is ever
 * written to a reply, a log line or an error message.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

export type ConsoleRole = "operator" | "viewer";

/** The files of a console's token folder, each one secret of 43 base64url characters, mode 0600. */
export const consoleTokenFiles = { operator: "operator-token", viewer: "viewer-token", metrics: "metrics-token" } as const;

/** Random bytes per token and per session id: 256 bits, out of reach of guessing. */
const secretBytes = 32;
/** The folder holds secrets: only the owner may list or enter it. */
const tokenFolderMode = 0o700;
const tokenFileMode = 0o600;
/** A session ends this long after its login, used or not: a lost laptop's cookie goes stale within a working day. */
export const sessionLifetimeMs = 12 * 60 * 60 * 1000;
/** Sessions one console keeps; a login past this ends the oldest. Bounds the memory a flood of logins takes. */
export const sessionsMax = 256;

export interface ConsoleTokens {
  readonly operator: string;
  readonly viewer: string;
  readonly metrics: string;
}

function newSecret(): string {
  return randomBytes(secretBytes).toString("base64url");
}

async function readOrCreate(path: string): Promise<string> {
  try {
    const text = (await readFile(path, "utf8")).trim();
    if (/^[A-Za-z0-9_-]{32,}$/.test(text)) return text;
    throw new Error(`${path} does not hold a console token (32 or more base64url characters): delete it and start again to make a new one`);
  } catch (error: unknown) {
    if (!(error instanceof Error && "code" in error && error.code === "ENOENT")) throw error;
  }
  const token = newSecret();
  // "wx": two processes starting at once cannot both write; the loser reads the winner's.
  await writeFile(path, `${token}\n`, { mode: tokenFileMode, flag: "wx" }).catch((error: unknown) => {
    if (!(error instanceof Error && "code" in error && error.code === "EEXIST")) throw error;
  });
  return (await readFile(path, "utf8")).trim();
}

/** The tokens in `folder`, made on first use: nothing to set up for the embedded default. */
export async function loadConsoleTokens(folder: string): Promise<ConsoleTokens> {
  await mkdir(folder, { recursive: true, mode: tokenFolderMode });
  await chmod(folder, tokenFolderMode);
  return {
    operator: await readOrCreate(join(folder, consoleTokenFiles.operator)),
    viewer: await readOrCreate(join(folder, consoleTokenFiles.viewer)),
    metrics: await readOrCreate(join(folder, consoleTokenFiles.metrics)),
  };
}

function digest(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}

/** `offered` equals `secret`, in a time that does not depend on where they differ. */
export function secretsEqual(offered: string, secret: string): boolean {
  return timingSafeEqual(digest(offered), digest(secret));
}

export interface Session {
  readonly role: ConsoleRole;
  /** Sent back by the page with every form (header x-csrf-token). */
  readonly csrf: string;
  readonly endsAtMs: number;
}

/** The sessions of one console, in memory: a restart logs everyone out, which is the safe side. */
export class ConsoleSessions {
  private readonly sessions = new Map<string, Session>();

  constructor(
    private readonly tokens: ConsoleTokens,
    private readonly now: () => number = Date.now,
  ) {}

  /** The role `token` logs in as, if any. Both are compared, so the time taken does not say which matched. */
  roleOf(token: string): ConsoleRole | undefined {
    const operator = secretsEqual(token, this.tokens.operator);
    const viewer = secretsEqual(token, this.tokens.viewer);
    return operator ? "operator" : viewer ? "viewer" : undefined;
  }

  /** A scraper's bearer token is the metrics token. */
  isMetricsToken(token: string): boolean {
    return secretsEqual(token, this.tokens.metrics);
  }

  /** Opens a session for `role`; its id goes in the cookie. */
  open(role: ConsoleRole): { readonly id: string; readonly session: Session } {
    if (this.sessions.size >= sessionsMax) {
      const oldest = this.sessions.keys().next();
      if (oldest.done !== true) this.sessions.delete(oldest.value);
    }
    const id = newSecret();
    const session: Session = { role, csrf: newSecret(), endsAtMs: this.now() + sessionLifetimeMs };
    this.sessions.set(id, session);
    return { id, session };
  }

  /** The live session `id` names, if any; an ended one is forgotten. */
  find(id: string | undefined): Session | undefined {
    if (id === undefined) return undefined;
    const session = this.sessions.get(id);
    if (session === undefined) return undefined;
    if (this.now() >= session.endsAtMs) {
      this.sessions.delete(id);
      return undefined;
    }
    return session;
  }

  close(id: string): void {
    this.sessions.delete(id);
  }
}
