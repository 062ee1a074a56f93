#!/usr/bin/env bash
# The dependency lock: `uv.lock` (every package, pinned, with hashes, for the `test` extra and the
# `tools` group) and `tools/bootstrap-requirements.txt` (the `bootstrap` group, uv alone, exported
# from it, which `make install` feeds to pip with --require-hashes before uv exists).
#
#   tools/lockfile.sh refresh [DIR]   follow pyproject.toml, keeping every pin it allows (`make lock`)
#   tools/lockfile.sh upgrade [DIR]   the newest versions pyproject.toml allows (`make lock-upgrade`)
#   tools/lockfile.sh check [DIR]     exit 1, saying what to run, when either file is stale
#
# DIR defaults to the repository; UV names the uv binary (default: DIR/.venv/bin/uv, else `uv`).
set -euo pipefail

mode=${1:-}
dir=${2:-"$(dirname "$0")/.."}
cd "$dir"
uv=${UV:-.venv/bin/uv}
[ -x "$uv" ] || uv=uv

bootstrap=tools/bootstrap-requirements.txt
header="# uv, installed by \`make install\` with pip --require-hashes before anything else.
# Generated from uv.lock by \`make lock\` (tools/lockfile.sh); do not edit."

export_bootstrap() {
    printf '%s\n' "$header"
    "$uv" export --quiet --frozen --only-group bootstrap --no-emit-project --no-header \
        --format requirements-txt
}

case "$mode" in
refresh | upgrade)
    if [ "$mode" = upgrade ]; then "$uv" lock --upgrade; else "$uv" lock; fi
    mkdir -p tools
    export_bootstrap >"$bootstrap.new"
    mv "$bootstrap.new" "$bootstrap"
    echo "uv.lock and $bootstrap refreshed: commit both"
    ;;
check)
    stale=""
    if ! "$uv" lock --check --quiet 2>/dev/null; then
        stale="uv.lock does not match the dependencies in pyproject.toml"
    elif ! diff -q <(export_bootstrap) "$bootstrap" >/dev/null 2>&1; then
        stale="$bootstrap does not match uv.lock"
    fi
    if [ -n "$stale" ]; then
        echo "lock check failed: $stale." >&2
        echo "Run \`make lock\` and commit uv.lock and $bootstrap." >&2
        exit 1
    fi
    echo "lock check: uv.lock and $bootstrap match pyproject.toml"
    ;;
*)
    echo "usage: tools/lockfile.sh refresh|upgrade|check [DIR]" >&2
    exit 2
    ;;
esac
