#!/usr/bin/env bash
# Installs the Serverless Devs CLI pinned in deploy/package-lock.json into
# deploy/node_modules (make deploy, make preview and the s.yaml consistency
# tests in internal/deploy run it from there). Installs Node.js and npm from
# Debian's packages first when the machine has none.
set -euo pipefail
cd "$(dirname "$0")/../deploy"

if ! command -v npm >/dev/null 2>&1; then
	if [ "$(id -u)" != 0 ]; then
		echo "install-deploy-tools: npm is missing; install Node.js ≥ 14 and npm, then rerun" >&2
		exit 1
	fi
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi
npm ci --no-audit --no-fund --loglevel=error
node_modules/.bin/s --version >/dev/null
