#!/usr/bin/env bash
# Source this file (". scripts/env.sh") to get a Node >= 22 and pnpm on PATH.
# When the machine's Node is older than 22, Node 24 and pnpm are installed from the npm
# registry (the `node` package ships the binary) into the git-ignored .toolchain/ folder.
# No other network source is used. Idempotent: finished work is not redone.
HELM_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HELM_TOOLCHAIN="$HELM_ROOT/.toolchain"
HELM_NODE_SPEC="node@24"
HELM_PNPM_VERSION="$(sed -n 's/.*"packageManager": *"pnpm@\([^"]*\)".*/\1/p' "$HELM_ROOT/package.json")"

helm_node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

if [ -x "$HELM_TOOLCHAIN/node_modules/.bin/node" ]; then
  export PATH="$HELM_TOOLCHAIN/node_modules/.bin:$PATH"
fi
if [ "$(helm_node_major)" -lt 22 ] || ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version 2>/dev/null)" != "$HELM_PNPM_VERSION" ]; then
  want="pnpm@$HELM_PNPM_VERSION"
  [ "$(helm_node_major)" -lt 22 ] && want="$HELM_NODE_SPEC $want"
  echo "helm: bootstrapping toolchain into .toolchain/ ($want)" >&2
  mkdir -p "$HELM_TOOLCHAIN"
  [ -f "$HELM_TOOLCHAIN/package.json" ] || echo '{"name":"helm-toolchain","private":true}' > "$HELM_TOOLCHAIN/package.json"
  # shellcheck disable=SC2086
  (cd "$HELM_TOOLCHAIN" && npm install --no-audit --no-fund --loglevel=error $want) >&2 || {
    echo "helm: toolchain bootstrap failed" >&2; return 1 2>/dev/null || exit 1; }
  export PATH="$HELM_TOOLCHAIN/node_modules/.bin:$PATH"
  hash -r
fi
if [ "$(helm_node_major)" -lt 22 ]; then
  echo "helm: Node >= 22 required, found $(node --version 2>/dev/null || echo none)" >&2
  return 1 2>/dev/null || exit 1
fi
export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1
