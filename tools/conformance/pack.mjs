#!/usr/bin/env node
/**
 * `pnpm run pack`: makes `switchyard-conformance` one package a third party
 * installs on its own, with no registry and no checkout:
 * dist/switchyard-conformance-VERSION.tgz, whose one bin runs the suite.
 *
 * The workspace package (@switchyard/conformance) is private and depends on
 * other workspace packages, which are not published. So the built CLI
 * (dist/cli.js, run `pnpm turbo run build` first) is bundled with everything
 * it imports, workspace packages and npm packages alike, into one ES module
 * with zero runtime dependencies (rolldown, the bundler vite already brings).
 *
 * Two kinds of files are read at run time from paths relative to the code
 * that reads them, so the package carries them where the bundle looks:
 * - @switchyard/proto loads its `.proto` files from `../proto` of its module:
 *   lib/proto/ beside lib/bin/cli.js;
 * - @grpc/reflection (the suite's own device serves server reflection)
 *   loads its own from `__dirname/../../proto`: proto/ at the package root.
 * And the licences of the npm packages inside the bundle go with it, in
 * THIRD-PARTY-LICENSES.txt.
 *
 * Options: --out DIR (where the tarball goes; dist/ if absent). Prints the
 * tarball's path as its last line.
 */
import { execFileSync } from "node:child_process";
import { cp, mkdir, readFile, readdir, rm, stat, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "rolldown";

const packageDir = path.dirname(fileURLToPath(import.meta.url));
const builtCli = path.join(packageDir, "dist", "cli.js");
/** Where the package is put together before npm packs it; inside dist/, so git and `pnpm clean` ignore it. */
const stageDir = path.join(packageDir, "dist", "package");
/** The bin inside the package: two folders deep, so that @grpc/reflection's `__dirname/../../proto` stays inside it. */
const bundleRelative = "lib/bin/cli.js";
/** The published name: unscoped, so that `npx switchyard-conformance` and the bin share it. */
const publishedName = "switchyard-conformance";

/**
 * An ES module has no `require`, `__filename` or `__dirname`; the CommonJS
 * packages inside the bundle (grpc-js, proto-loader, protobufjs, reflection)
 * use them, so the bundle defines them once, for the bundle's own file.
 */
const commonJsGlobals = [
  'import { createRequire as __switchyardCreateRequire } from "node:module";',
  'import { dirname as __switchyardDirname } from "node:path";',
  'import { fileURLToPath as __switchyardFileUrlToPath } from "node:url";',
  "const require = __switchyardCreateRequire(import.meta.url);",
  "const __filename = __switchyardFileUrlToPath(import.meta.url);",
  "const __dirname = __switchyardDirname(__filename);",
].join("\n");

/** Workspace packages' built modules: side-effect free, so that only what the suite uses is bundled (not the controller's etcd client). */
const workspaceModule = /[\\/]packages[\\/][^\\/]+[\\/]dist[\\/]/;

async function bundle() {
  const result = await build({
    input: builtCli,
    platform: "node",
    logLevel: "warn",
    treeshake: { moduleSideEffects: (id) => !workspaceModule.test(id) },
    output: { file: path.join(stageDir, bundleRelative), format: "esm", codeSplitting: false, banner: commonJsGlobals },
  });
  const [chunk] = result.output;
  if (chunk === undefined || chunk.type !== "chunk") throw new Error("rolldown produced no bundle");
  return chunk.moduleIds;
}

/** The root folder of the npm package a bundled module belongs to, or undefined for our own code. */
function npmPackageRoot(moduleId) {
  const marker = `${path.sep}node_modules${path.sep}`;
  const at = moduleId.lastIndexOf(marker);
  if (at < 0) return undefined;
  const parts = moduleId.slice(at + marker.length).split(path.sep);
  const nameParts = parts[0]?.startsWith("@") ? 2 : 1;
  return moduleId.slice(0, at + marker.length) + parts.slice(0, nameParts).join(path.sep);
}

async function licenceText(root) {
  const manifest = JSON.parse(await readFile(path.join(root, "package.json"), "utf8"));
  const files = (await readdir(root)).filter((name) => /^(licen[cs]e|copying|notice)/i.test(name)).sort();
  const texts = await Promise.all(files.map((name) => readFile(path.join(root, name), "utf8")));
  const body = texts.length > 0 ? texts.join("\n") : `(no licence file shipped; package.json says ${manifest.license ?? "nothing"})`;
  return `${manifest.name}@${manifest.version} (${manifest.license ?? "no licence field"})\n\n${body.trim()}\n`;
}

async function writeLicences(moduleIds) {
  const roots = [...new Set(moduleIds.map(npmPackageRoot).filter((root) => root !== undefined))].sort();
  const sections = await Promise.all(roots.map(licenceText));
  const rule = `\n${"-".repeat(72)}\n\n`;
  await writeFile(path.join(stageDir, "THIRD-PARTY-LICENSES.txt"), `switchyard-conformance bundles these npm packages:\n\n${sections.join(rule)}`);
}

async function copyProtoFiles() {
  const require = createRequire(import.meta.url);
  // @switchyard/proto's main module is dist/index.js: its folder's parent is the package.
  const protoPackage = path.dirname(path.dirname(require.resolve("@switchyard/proto", { paths: [packageDir] })));
  await cp(path.join(protoPackage, "proto"), path.join(stageDir, "lib", "proto"), { recursive: true });
  // @grpc/reflection is proto's dependency, not ours: resolved from proto's folder.
  const reflectionMain = require.resolve("@grpc/reflection", { paths: [protoPackage] });
  const reflectionProto = path.join(reflectionMain.slice(0, reflectionMain.lastIndexOf(`${path.sep}build${path.sep}`)), "build", "proto", "grpc");
  await cp(reflectionProto, path.join(stageDir, "proto", "grpc"), { recursive: true });
}

async function writeManifest() {
  const own = JSON.parse(await readFile(path.join(packageDir, "package.json"), "utf8"));
  const manifest = {
    name: publishedName,
    version: own.version,
    description: own.description,
    type: "module",
    engines: own.engines,
    bin: { [publishedName]: bundleRelative },
    files: ["lib", "proto", "README.md", "THIRD-PARTY-LICENSES.txt"],
  };
  await writeFile(path.join(stageDir, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  await cp(path.join(packageDir, "README.md"), path.join(stageDir, "README.md"));
}

function optionValue(name) {
  const index = process.argv.indexOf(name);
  return index < 0 ? undefined : process.argv[index + 1];
}

async function main() {
  await stat(builtCli).catch((error) => {
    throw new Error(`${builtCli} is missing: run \`pnpm turbo run build\` first`, { cause: error });
  });
  const outDir = path.resolve(optionValue("--out") ?? path.join(packageDir, "dist"));
  await rm(stageDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  const moduleIds = await bundle();
  await Promise.all([writeLicences(moduleIds), copyProtoFiles(), writeManifest()]);
  // npm pack needs no registry for a package without dependencies.
  const packed = JSON.parse(execFileSync("npm", ["pack", "--json", "--pack-destination", outDir], { cwd: stageDir, encoding: "utf8" }));
  const filename = packed[0]?.filename;
  if (typeof filename !== "string") throw new Error(`npm pack answered ${JSON.stringify(packed)}`);
  process.stdout.write(`${path.join(outDir, filename)}\n`);
}

await main();
