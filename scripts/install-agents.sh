#!/usr/bin/env bash
# Installs the pinned agent CLIs used by the end-to-end tests into .agents/<name>.
#
#   scripts/install-agents.sh              # all of them (seven CLIs, two ACP adapters)
#   scripts/install-agents.sh claude aider # a subset
#   scripts/install-agents.sh claude@1.0.83 codex@latest
#                                          # another version, beside the pinned one, into
#                                          # .agents/<name>@<version> (latest is resolved
#                                          # to its number first)
#
# An agent already installed at the pinned version is left alone, so a second run is a
# fast no-op. Prints one line per agent; exits non-zero if any requested install failed.
set -euo pipefail
cd "$(dirname "$0")/.."

ROOT=$(pwd)
# AGENTAPI_AGENTS_DIR moves the install (tests/e2e/agents.py reads the same variable).
DEST=${AGENTAPI_AGENTS_DIR:-"$ROOT/.agents"}
PYTHON=${PYTHON:-python3}

ALL_AGENTS=(claude codex gemini opencode aider copilot auggie claude-acp codex-acp)

# name -> "npm package|version"; aider is a Python package and handled apart.
npm_spec() {
  case "$1" in
    claude) echo "@anthropic-ai/claude-code|2.1.197" ;;
    codex) echo "@openai/codex|0.169.0" ;;
    gemini) echo "@google/gemini-cli|0.61.0" ;;
    opencode) echo "opencode-ai|1.18.33" ;;
    # Copilot runs offline against the fake LLM through its BYOK provider variables;
    # Auggie installs and starts but needs an Augment tenant to answer (tests/e2e/agents.py).
    copilot) echo "@github/copilot|1.0.102" ;;
    auggie) echo "@augmentcode/auggie|0.36.0" ;;
    *) return 1 ;;
  esac
}
AIDER_VERSION=0.86.2

# ACP adapters for ACP mode (they drive the claude and codex CLIs installed above):
# name -> "npm package|version|executable". They have no --version: they speak ACP on stdio.
acp_spec() {
  case "$1" in
    claude-acp) echo "@zed-industries/claude-agent-acp|0.23.1|claude-agent-acp" ;;
    codex-acp) echo "@zed-industries/codex-acp|0.16.0|codex-acp" ;;
    *) return 1 ;;
  esac
}

npm_installed_version() {
  local dir=$1 pkg=$2 manifest
  manifest="$dir/node_modules/$pkg/package.json"
  [ -f "$manifest" ] || return 0
  # node is present whenever npm is; avoids depending on jq.
  node -e 'process.stdout.write(require(process.argv[1]).version || "")' "$manifest" 2>/dev/null || true
}

aider_installed_version() {
  local dir=$1 info
  # Reading the dist-info folder name is much faster than starting pip.
  for info in "$dir"/lib/python3*/site-packages/aider_chat-*.dist-info; do
    [ -d "$info" ] || continue
    info=${info##*/aider_chat-}
    echo "${info%.dist-info}"
    return 0
  done
}

# Runs the installed CLI once: a package can install cleanly yet miss its platform binary.
runs_at_version() {
  local bin=$1 version=$2
  timeout 120 "$bin" --version </dev/null 2>/dev/null | grep -qF "$version"
}

# Installs PKG@VERSION into DIR with npm unless it is there already, then checks that npm
# put that version there and that BIN exists; CHECK=run also runs BIN --version.
npm_install() {
  local name=$1 pkg=$2 version=$3 dir=$4 bin=$5 check=$6 log start
  if [ "$(npm_installed_version "$dir" "$pkg")" = "$version" ] && [ -x "$bin" ]; then
    echo "$name: $pkg@$version already installed"
    return 0
  fi
  if ! command -v npm >/dev/null 2>&1; then
    echo "$name: FAILED (npm not found)"
    return 1
  fi
  mkdir -p "$dir"
  log="$dir/install.log"
  start=$SECONDS
  if npm install --prefix "$dir" --no-audit --no-fund --no-save --loglevel=error \
    "$pkg@$version" </dev/null >"$log" 2>&1 \
    && [ "$(npm_installed_version "$dir" "$pkg")" = "$version" ] \
    && [ -x "$bin" ] \
    && { [ "$check" != run ] || runs_at_version "$bin" "$version"; }; then
    echo "$name: installed $pkg@$version in $((SECONDS - start))s"
  else
    echo "$name: FAILED to install $pkg@$version (see $log)"
    return 1
  fi
}

install_npm_agent() {
  local name=$1 wanted=${2:-} spec pkg version dir
  spec=$(npm_spec "$name")
  pkg=${spec%%|*}
  version=${spec##*|}
  dir="$DEST/$name"
  if [ -n "$wanted" ]; then
    version=$(resolve_npm_version "$pkg" "$wanted") || {
      echo "$name: FAILED (no version $wanted of $pkg on npm)"
      return 1
    }
    # The pinned version has its own folder already.
    [ "$version" = "${spec##*|}" ] || dir="$DEST/$name@$version"
  fi
  npm_install "$name" "$pkg" "$version" "$dir" "$dir/node_modules/.bin/$name" run
}

# "latest" (or a dist-tag) becomes a version number; a number is checked to exist.
resolve_npm_version() {
  local pkg=$1 wanted=$2 found
  command -v npm >/dev/null 2>&1 || return 1
  found=$(npm view "$pkg@$wanted" version 2>/dev/null </dev/null | tail -n 1 | sed "s/.*'\(.*\)'.*/\1/")
  [ -n "$found" ] || return 1
  echo "$found"
}

# The ACP adapters have no --version to run (they speak ACP on stdio).
install_acp_adapter() {
  local name=$1 spec pkg version exe dir
  spec=$(acp_spec "$name")
  pkg=${spec%%|*}
  exe=${spec##*|}
  version=${spec#*|}
  version=${version%%|*}
  dir="$DEST/$name"
  npm_install "$name" "$pkg" "$version" "$dir" "$dir/node_modules/.bin/$exe" exists
}

install_aider() {
  local wanted=${1:-} dir="$DEST/aider" have log
  local AIDER_VERSION=$AIDER_VERSION
  if [ -n "$wanted" ]; then
    if [ "$wanted" = latest ]; then
      wanted=$("$PYTHON" -m pip index versions aider-chat 2>/dev/null | sed -n 's/^aider-chat (\(.*\))$/\1/p')
      [ -n "$wanted" ] || {
        echo "aider: FAILED (cannot find the latest aider-chat)"
        return 1
      }
    fi
    [ "$wanted" = "$AIDER_VERSION" ] || dir="$DEST/aider@$wanted"
    AIDER_VERSION=$wanted
  fi
  have=$(aider_installed_version "$dir")
  if [ "$have" = "$AIDER_VERSION" ] && [ -x "$dir/bin/aider" ]; then
    echo "aider: aider-chat==$AIDER_VERSION already installed"
    return 0
  fi
  mkdir -p "$DEST"
  log="$DEST/aider-install.log"
  local start=$SECONDS
  if { [ -x "$dir/bin/python" ] || "$PYTHON" -m venv "$dir"; } >"$log" 2>&1 \
    && "$dir/bin/python" -m pip install --quiet --disable-pip-version-check \
      "aider-chat==$AIDER_VERSION" </dev/null >>"$log" 2>&1 \
    && [ "$(aider_installed_version "$dir")" = "$AIDER_VERSION" ] \
    && runs_at_version "$dir/bin/aider" "$AIDER_VERSION"; then
    echo "aider: installed aider-chat==$AIDER_VERSION in $((SECONDS - start))s"
  else
    echo "aider: FAILED to install aider-chat==$AIDER_VERSION (see $log)"
    return 1
  fi
}

if [ $# -gt 0 ]; then
  agents=("$@")
else
  agents=("${ALL_AGENTS[@]}")
fi

status=0
for request in "${agents[@]}"; do
  name=${request%%@*}
  version=""
  [ "$name" = "$request" ] || version=${request#*@}
  case "$name" in
    aider) install_aider "$version" || status=1 ;;
    claude | codex | gemini | opencode | copilot | auggie) install_npm_agent "$name" "$version" || status=1 ;;
    claude-acp | codex-acp) install_acp_adapter "$name" || status=1 ;;
    *)
      echo "$name: unknown agent (known: ${ALL_AGENTS[*]})"
      status=1
      ;;
  esac
done
exit $status
