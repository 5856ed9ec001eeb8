// Goal: the package graph of DESIGN.md holds and the declared dependencies
// enforce it: `proto`, `nbd` and `security` are leaves, `device` and `apparatus` use
// only them, `controller` uses `proto` and `security` alone (it has no data path), and
// only `console` and the tools may use everything. Every import of a
// Switchyard package is declared in the importing package.json and goes
// through the target's `exports` map; no relative import leaves its
// package; production code never imports a `./testing` subpath; only
// `proto` touches protobufjs and proto-loader.
// Method: read every workspace package.json and every TypeScript file under
// packages/ and tools/ (dist, node_modules and generated code left out),
// parse the import specifiers, and list every breach; each check expects an
// empty list, so a message names the file and the import.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const repositoryRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const scope = "@switchyard/";

/** What each package under packages/ may depend on at run time; console (and every tool) may use all. */
const allowedDependencies: Readonly<Record<string, readonly string[] | "any">> = {
  "@switchyard/proto": [],
  "@switchyard/nbd": [],
  "@switchyard/security": [],
  "@switchyard/device": ["@switchyard/proto", "@switchyard/nbd", "@switchyard/security"],
  "@switchyard/apparatus": ["@switchyard/proto", "@switchyard/nbd", "@switchyard/security"],
  // DESIGN.md: the controller's one driver runs its cores over ports, coordination among them (issue 18).
  "@switchyard/controller": ["@switchyard/proto", "@switchyard/security", "@switchyard/coordination"],
  "@switchyard/coordination": ["@switchyard/proto"],
  "@switchyard/console": "any",
};

/** Libraries only the proto package may touch (STYLE.md "Only proto touches protobufjs / proto-loader"). */
const protoOnlyLibraries = ["protobufjs", "@grpc/proto-loader"];

interface WorkspacePackage {
  readonly name: string;
  readonly folder: string;
  readonly isTool: boolean;
  readonly dependencies: Readonly<Record<string, string>>;
  readonly devDependencies: Readonly<Record<string, string>>;
  readonly exportKeys: readonly string[];
}

interface SourceImport {
  readonly file: string;
  readonly specifier: string;
}

function readPackages(): WorkspacePackage[] {
  const found: WorkspacePackage[] = [];
  for (const parent of ["packages", "tools"]) {
    for (const entry of fs.readdirSync(path.join(repositoryRoot, parent), { withFileTypes: true })) {
      const manifestPath = path.join(repositoryRoot, parent, entry.name, "package.json");
      if (!entry.isDirectory() || !fs.existsSync(manifestPath)) continue;
      const manifest = JSON.parse(fs.readFileSync(manifestPath, "utf8")) as {
        name: string;
        dependencies?: Record<string, string>;
        devDependencies?: Record<string, string>;
        exports?: Record<string, unknown>;
      };
      found.push({
        name: manifest.name,
        folder: path.join(repositoryRoot, parent, entry.name),
        isTool: parent === "tools",
        dependencies: manifest.dependencies ?? {},
        devDependencies: manifest.devDependencies ?? {},
        exportKeys: Object.keys(manifest.exports ?? {}),
      });
    }
  }
  return found;
}

const skippedFolders = new Set(["node_modules", "dist", "gen", "test-artifacts"]);

function typeScriptFiles(folder: string): string[] {
  const files: string[] = [];
  const pending = [folder];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    for (const entry of fs.readdirSync(next, { withFileTypes: true })) {
      const entryPath = path.join(next, entry.name);
      if (entry.isDirectory() && !skippedFolders.has(entry.name)) pending.push(entryPath);
      else if (entry.isFile() && entry.name.endsWith(".ts")) files.push(entryPath);
    }
  }
  return files;
}

// Static imports and re-exports (`from "x"`), bare imports (`import "x"`) and dynamic imports (`import("x")`).
const importPattern = /\bfrom\s+["']([^"']+)["']|\bimport\s+["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']\s*\)/g;

function importsOf(file: string): SourceImport[] {
  const text = fs.readFileSync(file, "utf8");
  return Array.from(text.matchAll(importPattern), (match) => ({ file, specifier: match[1] ?? match[2] ?? match[3] ?? "" }));
}

/** Test code: unit tests, integration tests, and test helpers on `testing` subpaths. */
function isTestCode(pkg: WorkspacePackage, file: string): boolean {
  const relative = path.relative(pkg.folder, file);
  return pkg.isTool || relative.endsWith(".test.ts") || relative.startsWith(`test${path.sep}`) || relative.split(path.sep).some((part) => part === "testing" || part === "testing.ts");
}

/** `@switchyard/device/testing` -> { name: "@switchyard/device", subpath: "./testing" }. */
function splitSpecifier(specifier: string): { name: string; subpath: string } {
  const [scopePart = "", namePart = "", ...rest] = specifier.split("/");
  return { name: `${scopePart}/${namePart}`, subpath: rest.length === 0 ? "." : `./${rest.join("/")}` };
}

function relativeTo(file: string): string {
  return path.relative(repositoryRoot, file);
}

const packages = readPackages();
const packageByName = new Map(packages.map((pkg) => [pkg.name, pkg]));
const importsByPackage = new Map(packages.map((pkg) => [pkg, typeScriptFiles(pkg.folder).flatMap(importsOf)]));

describe("the package graph", () => {
  it("finds every package and its sources", () => {
    for (const name of Object.keys(allowedDependencies)) expect(packageByName.has(name), name).toBe(true);
    for (const [pkg, imports] of importsByPackage) expect(imports.length, `${pkg.name} has no imports at all`).toBeGreaterThan(0);
  });

  it("declares only the dependencies DESIGN.md allows each package", () => {
    const breaches: string[] = [];
    for (const pkg of packages) {
      const allowed = allowedDependencies[pkg.name];
      if (pkg.isTool || allowed === "any") continue;
      assertKnown(pkg, allowed);
      for (const name of Object.keys(pkg.dependencies).filter((dependency) => dependency.startsWith(scope))) {
        if (allowed === undefined || !allowed.includes(name)) breaches.push(`${pkg.name} depends on ${name}`);
      }
    }
    expect(breaches).toEqual([]);
  });

  it("has no cycle, test dependencies included, and the leaves depend on no Switchyard package even for tests", () => {
    const breaches: string[] = [];
    for (const leaf of ["@switchyard/proto", "@switchyard/nbd", "@switchyard/security"]) {
      const pkg = packageByName.get(leaf);
      const named = Object.keys({ ...pkg?.dependencies, ...pkg?.devDependencies }).filter((name) => name.startsWith(scope));
      if (named.length > 0) breaches.push(`${leaf} names ${named.join(", ")}`);
    }
    for (const pkg of packages) {
      const cycle = cycleFrom(pkg.name);
      if (cycle !== undefined) breaches.push(`cycle: ${cycle.join(" -> ")}`);
    }
    expect(breaches).toEqual([]);
  });

  it("declares every Switchyard package a file imports: production code in dependencies, tests in either", () => {
    const breaches: string[] = [];
    for (const [pkg, imports] of importsByPackage) {
      for (const { file, specifier } of imports.filter((found) => found.specifier.startsWith(scope))) {
        const { name } = splitSpecifier(specifier);
        if (name === pkg.name) continue;
        const declared = isTestCode(pkg, file) ? name in pkg.dependencies || name in pkg.devDependencies : name in pkg.dependencies;
        if (!declared) breaches.push(`${relativeTo(file)} imports ${specifier}, which ${pkg.name} does not declare`);
      }
    }
    expect(breaches).toEqual([]);
  });

  it("imports other packages only through their exports maps, and never its own by name", () => {
    const breaches: string[] = [];
    for (const [pkg, imports] of importsByPackage) {
      for (const { file, specifier } of imports.filter((found) => found.specifier.startsWith(scope))) {
        const { name, subpath } = splitSpecifier(specifier);
        const target = packageByName.get(name);
        if (target === undefined) breaches.push(`${relativeTo(file)} imports ${specifier}: no such package`);
        else if (name === pkg.name) breaches.push(`${relativeTo(file)} imports its own package by name (${specifier})`);
        else if (!target.exportKeys.includes(subpath)) breaches.push(`${relativeTo(file)} imports ${specifier}: ${name} exports only ${target.exportKeys.join(", ")}`);
      }
    }
    expect(breaches).toEqual([]);
  });

  it("has no relative import that leaves its package", () => {
    const breaches: string[] = [];
    for (const [pkg, imports] of importsByPackage) {
      for (const { file, specifier } of imports.filter((found) => found.specifier.startsWith("."))) {
        const resolved = path.resolve(path.dirname(file), specifier);
        if (path.relative(pkg.folder, resolved).startsWith("..")) breaches.push(`${relativeTo(file)} reaches ${specifier} outside ${pkg.name}`);
      }
    }
    expect(breaches).toEqual([]);
  });

  it("keeps test-only code out of production: no production file imports a ./testing subpath", () => {
    const breaches: string[] = [];
    for (const [pkg, imports] of importsByPackage) {
      for (const { file, specifier } of imports) {
        if (isTestCode(pkg, file)) continue;
        if (specifier.startsWith(scope) && splitSpecifier(specifier).subpath === "./testing") breaches.push(`${relativeTo(file)} imports ${specifier}`);
        if (/^\.{1,2}\/(.*\/)?testing(\.js|\/)/.test(specifier)) breaches.push(`${relativeTo(file)} imports ${specifier}`);
      }
    }
    expect(breaches).toEqual([]);
  });

  it("lets only proto touch protobufjs and proto-loader", () => {
    const breaches: string[] = [];
    for (const [pkg, imports] of importsByPackage) {
      if (pkg.name === "@switchyard/proto") continue;
      for (const { file, specifier } of imports.filter((found) => protoOnlyLibraries.includes(found.specifier))) breaches.push(`${relativeTo(file)} imports ${specifier}`);
    }
    expect(breaches).toEqual([]);
  });
});

function assertKnown(pkg: WorkspacePackage, allowed: readonly string[] | "any" | undefined): void {
  if (allowed === undefined) throw new Error(`${pkg.name} is a package under packages/ that the graph does not place: add it to allowedDependencies`);
}

/** A cycle through `start` in the graph of dependencies and test dependencies, if there is one. */
function cycleFrom(start: string): string[] | undefined {
  const pending: string[][] = [[start]];
  const seen = new Set<string>();
  for (let trail = pending.pop(); trail !== undefined; trail = pending.pop()) {
    const last = trail.at(-1) ?? "";
    const pkg = packageByName.get(last);
    for (const next of Object.keys({ ...pkg?.dependencies, ...pkg?.devDependencies }).filter((name) => name.startsWith(scope))) {
      if (next === start) return [...trail, next];
      if (seen.has(next)) continue;
      seen.add(next);
      pending.push([...trail, next]);
    }
  }
  return undefined;
}
