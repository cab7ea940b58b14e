#!/usr/bin/env bash
# Installs the Node.js SLS SDKs pinned in
# internal/localcloud/nodesdk/testdata/package-lock.json (@alicloud/log,
# @alicloud/sls20201230 and what the suite requires of theirs) into that
# directory's node_modules: the SLS emulator's second and third official
# clients, which go test ./internal/localcloud/nodesdk runs. Installs Node.js
# and npm from Debian's packages first when the machine has none.
# Package scripts are not run: the suite needs none (lz4-napi ships
# prebuilt binaries as optional dependencies).
set -euo pipefail
cd "$(dirname "$0")/../internal/localcloud/nodesdk/testdata"

if ! command -v npm >/dev/null 2>&1; then
	if [ "$(id -u)" != 0 ]; then
		echo "install-nodesdk: npm is missing; install Node.js ≥ 18 and npm, then rerun" >&2
		exit 1
	fi
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi
npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
node -e "require('@alicloud/log'); require('@alicloud/sls20201230'); require('protobufjs')"
