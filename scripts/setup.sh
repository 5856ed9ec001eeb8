#!/usr/bin/env bash
# Sets up a fresh Debian machine (Node 20 already installed) to build and test
# Switchyard, and is safe to run again: each step checks before it acts.
#   1. Debian packages for the NBD interop tests, the browser test, the alert
#      rule checks and the benchmark, if missing.
#   2. pnpm at exactly the version pinned by package.json "packageManager".
#   3. pnpm install --frozen-lockfile.
#   4. pnpm turbo run generate build.
# Runs as root (CI) or as a user with sudo for apt. Quiet when all is well;
# on failure it prints the failing step's output and a one-line reason.
set -euo pipefail

export TURBO_TELEMETRY_DISABLED=1
export DEBIAN_FRONTEND=noninteractive

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

# Debian packages the tests and the benchmark drive: qemu-img/qemu-io/qemu-nbd
# (qemu-utils), nbdinfo/nbdcopy (libnbd-bin), nbdkit, fio, and the Python
# libnbd bindings for scripted NBD checks, and Chromium for the web console's
# browser test (driven by playwright-core at /usr/bin/chromium: no browser is
# downloaded), and prometheus for promtool, which checks and unit-tests the
# alert rules in deploy/prometheus (the package's own server is not used; on a
# machine with systemd it starts one, which the tests do not need), and zsh,
# whose completion script the CLI test loads (bash is there already), and
# openssl, which makes the cluster CA and certificates (`switchyard cert`,
# `switchyard up`), and etcd (etcd-server for the daemon, etcd-client for etcdctl), which
# scripts/etcd-cluster.sh starts as a three-member cluster on loopback for
# the coordination tests (like prometheus, the package's own service is not
# used).
debian_packages=(qemu-utils libnbd-bin nbdkit fio python3-libnbd chromium prometheus zsh etcd-server etcd-client openssl)

die() {
  echo "setup.sh: error: $*" >&2
  exit 1
}

# Runs a command with its output captured; shows the output only on failure.
quietly() {
  local description="$1"
  shift
  local log
  log="$(mktemp)"
  if ! "$@" >"$log" 2>&1; then
    echo "setup.sh: $description failed; its output:" >&2
    tail -n 60 "$log" >&2
    rm -f "$log"
    die "$description failed (command: $*)"
  fi
  rm -f "$log"
}

as_root() {
  if [[ "$(id -u)" == 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    die "not root and no sudo: cannot run '$*'"
  fi
}

install_debian_packages() {
  command -v dpkg-query >/dev/null 2>&1 || die "dpkg-query not found: this script expects Debian"
  local missing=() package
  for package in "${debian_packages[@]}"; do
    if [[ "$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)" != "install ok installed" ]]; then
      missing+=("$package")
    fi
  done
  if ((${#missing[@]} == 0)); then
    return
  fi
  echo "setup.sh: installing Debian packages: ${missing[*]}"
  quietly "apt-get update" as_root apt-get update -q
  quietly "apt-get install ${missing[*]}" as_root apt-get install -y -q --no-install-recommends "${missing[@]}"
}

pinned_pnpm_version() {
  # "pnpm@12.4.2", possibly followed by "+sha512.…" (corepack's hash suffix).
  local package_manager
  package_manager="$(node -p 'require("./package.json").packageManager ?? ""')"
  [[ "$package_manager" =~ ^pnpm@([0-9]+\.[0-9]+\.[0-9]+[^+]*) ]] ||
    die "package.json packageManager is '$package_manager', expected pnpm@X.Y.Z"
  echo "${BASH_REMATCH[1]}"
}

install_pnpm() {
  local wanted current=""
  wanted="$(pinned_pnpm_version)"
  if command -v pnpm >/dev/null 2>&1; then
    current="$(pnpm --version 2>/dev/null || true)"
  fi
  if [[ "$current" == "$wanted" ]]; then
    return
  fi
  echo "setup.sh: installing pnpm $wanted (found '${current:-none}')"
  local global_prefix
  global_prefix="$(npm prefix -g)"
  if [[ -w "$global_prefix/lib" || -w "$global_prefix" ]]; then
    quietly "npm install -g pnpm@$wanted" npm install -g --no-fund --no-audit --loglevel=error "pnpm@$wanted"
  else
    quietly "npm install -g pnpm@$wanted" as_root npm install -g --no-fund --no-audit --loglevel=error "pnpm@$wanted"
  fi
  hash -r
  current="$(pnpm --version 2>/dev/null || true)"
  [[ "$current" == "$wanted" ]] || die "pnpm --version says '$current' after installing $wanted (is another pnpm earlier on PATH: $(command -v pnpm)?)"
}

command -v node >/dev/null 2>&1 || die "node not found: install Node.js 20 first"
[[ "$(node -p 'process.versions.node.split(".")[0]')" == 20 ]] || die "Node.js 20 required, found $(node --version)"

install_debian_packages
install_pnpm
quietly "pnpm install --frozen-lockfile" pnpm install --frozen-lockfile
quietly "pnpm turbo run generate build" pnpm turbo run generate build --output-logs=errors-only
echo "setup.sh: ready (Debian tools, pnpm $(pnpm --version), dependencies, build)"
