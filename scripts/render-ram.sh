#!/usr/bin/env bash
# Fills in the placeholders of the RAM policies in deploy/ram/ from the same
# variables s.yaml reads (the environment, then .env next to s.yaml) and
# writes the results to dist/ram/, ready to paste into the RAM console or to
# pass to `aliyun ram CreatePolicy --PolicyDocument "$(cat dist/ram/X.json)"`.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f .env ]; then
	set -a
	# shellcheck disable=SC1091
	. ./.env
	set +a
fi
: "${SLS2SIEM_ACCOUNT_ID:?set SLS2SIEM_ACCOUNT_ID (see deploy/example.env)}"
: "${SLS2SIEM_PROJECT:?set SLS2SIEM_PROJECT (see deploy/example.env)}"
: "${SLS2SIEM_LOGSTORE:?set SLS2SIEM_LOGSTORE (see deploy/example.env)}"
region="${SLS2SIEM_REGION:-cn-hangzhou}"
name="${SLS2SIEM_FUNCTION_NAME:-sls2siem}"
log_logstore="${SLS2SIEM_LOG_LOGSTORE:-sls2siem-log}"
group="${SLS_CONSUMER_GROUP:-$name}"
out="${1:-dist/ram}"

mkdir -p "$out"
for f in deploy/ram/*.json; do
	sed -e "s|<region>|$region|g" \
		-e "s|<account-id>|$SLS2SIEM_ACCOUNT_ID|g" \
		-e "s|<project>|$SLS2SIEM_PROJECT|g" \
		-e "s|<log-logstore>|$log_logstore|g" \
		-e "s|<deadletter-logstore>|${SHIP_DEADLETTER_LOGSTORE:-sls2siem-deadletter}|g" \
		-e "s|<logstore>|$SLS2SIEM_LOGSTORE|g" \
		-e "s|<function-name>|$name|g" \
		-e "s|<consumer-group>|$group|g" \
		"$f" >"$out/$(basename "$f")"
	if grep -q '<[a-z-]*>' "$out/$(basename "$f")"; then
		echo "render-ram: $f has a placeholder this script does not know" >&2
		exit 1
	fi
done
echo "render-ram: wrote $(ls "$out" | wc -l) policies to $out/"
