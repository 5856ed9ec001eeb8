#!/usr/bin/env bash
# Runs every check CI runs, in order, and ends with one line
# "N passed, N failed, N skipped" summed over every package's vitest run.
#   1. scripts/setup.sh (Debian tools, pinned pnpm, install, generate, build)
#   2. the NBD tools the interop tests and benchmark drive, Chromium for the
#      web console's browser test, promtool for deploy/prometheus, and zsh and
#      script (a terminal for the CLI's progress) for the CLI test, and etcd
#      and etcdctl for the coordination tests (scripts/etcd-cluster.sh starts
#      a three-member cluster from them), are on PATH
#   3. regenerating the protobuf code changes nothing that is committed
#   4. typecheck and lint, then every package's tests but the interop
#      suite's, one at a time, beside
#   5. the interop suite's tests, in a lane of their own
# A missing tool is a failure, never a skip. Steps 3-5 all run even when an
# earlier one fails, so one run reports everything; the exit code is non-zero
# if anything failed.
set -euo pipefail

export TURBO_TELEMETRY_DISABLED=1

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

failures=()

step() {
  echo
  echo "==> $*"
}

step "setup"
if ! bash scripts/setup.sh; then
  # Nothing can be tested without an install and a build.
  echo "test.sh: setup (install, generate, build) failed; no tests ran" >&2
  echo "0 passed, 1 failed"
  exit 1
fi

step "required tools"
required_tools=(qemu-io qemu-img qemu-nbd nbdinfo nbdcopy nbdkit fio chromium promtool zsh script etcd etcdctl openssl)
missing_tools=()
for tool in "${required_tools[@]}"; do
  command -v "$tool" >/dev/null 2>&1 || missing_tools+=("$tool")
done
if ((${#missing_tools[@]} > 0)); then
  echo "test.sh: error: required tools missing from PATH: ${missing_tools[*]}" >&2
  echo "0 passed, ${#missing_tools[@]} failed"
  exit 1
fi
echo "all present: ${required_tools[*]}"

step "generated protobuf code is up to date"
generated_paths=(packages/proto/src/gen packages/proto/src/messages.ts)
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  if ! pnpm turbo run generate --force --output-logs=errors-only; then
    failures+=("generate")
  elif ! git diff --exit-code --stat -- "${generated_paths[@]}" ||
    [[ -n "$(git ls-files --others --exclude-standard -- "${generated_paths[@]}")" ]]; then
    git ls-files --others --exclude-standard -- "${generated_paths[@]}"
    echo "test.sh: regenerating ${generated_paths[*]} changed it: run 'pnpm generate' and commit the result" >&2
    failures+=("generated code")
  else
    echo "unchanged"
  fi
else
  echo "skipped: not a git checkout, so there is nothing to compare the regenerated code with"
fi

step "typecheck, lint and tests"
# Two lanes for CI's two cores. Run one package at a time, the tests took
# 28 minutes with the machine two-thirds busy: the interop suite alone was 17
# of them, keeping about 1.5 cores busy, and the other packages together 11,
# about one core. So the interop suite runs in a lane of its own from the
# start, and typecheck, lint and every other package one at a time in a
# second lane beside it. --only: setup built everything, and two runs must
# not restore the same build outputs under each other's tests.
# Each package's vitest also writes a JSON report (the path is relative to the
# package, in the git-ignored test-artifacts/); summarize-tests.mjs sums them.
node scripts/summarize-tests.mjs --clean
test_lane() {
  pnpm turbo run test --only --concurrency=1 --continue "$@" -- \
    --reporter=default --reporter=json --outputFile.json=test-artifacts/vitest-report.json
}
interop_status=0
test_lane --filter=@switchyard/interop &
interop_lane=$!
# One at a time: turbo's default runs ten tsc and eslint processes at once,
# which starved the interop lane's first cases for four minutes (a cluster's
# start took over a minute and a hook timed out; CI failed so, session 26).
pnpm turbo run typecheck lint --only --continue --concurrency=1 --output-logs=errors-only || failures+=("typecheck/lint")
test_status=0
test_lane --filter='!@switchyard/interop' || test_status=$?
wait "$interop_lane" || interop_status=$?
((test_status != 0)) || test_status=$interop_status
((test_status == 0 && interop_status == 0)) || failures+=("tests")

echo
if ((${#failures[@]} > 0)); then
  echo "test.sh: failed steps: ${failures[*]}" >&2
fi
summary_status=0
node scripts/summarize-tests.mjs --runner-exit-code "$test_status" || summary_status=$?
if ((${#failures[@]} > 0 || summary_status != 0)); then
  exit 1
fi
