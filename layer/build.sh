#!/usr/bin/env bash
# Packs a SIEM's private CA bundle, and optionally a client certificate and
# key for mutual TLS, into a Function Compute layer zip. FC unpacks a layer
# under /opt, for the go1 and the custom runtimes alike, so the function finds:
#
#   /opt/ssl/siem-ca.pem       SYSLOG_TLS_CA_FILE=/opt/ssl/siem-ca.pem
#   /opt/ssl/client.pem        SYSLOG_TLS_CERT_FILE=/opt/ssl/client.pem      (optional)
#   /opt/ssl/client-key.pem    SYSLOG_TLS_KEY_FILE=/opt/ssl/client-key.pem   (optional, mode 0600)
#
# Before packing, the files are checked by the function binary itself
# (`sls2siem check` with exactly these variables), so a layer that packs is a
# layer the function accepts. The zip is reproducible (scripts/mkzip).
#
# Usage: layer/build.sh -ca CA.pem [-cert CLIENT.pem -key CLIENT-KEY.pem] [-bin bin/sls2siem] -o OUT.zip
# make layer runs it with LAYER_CA, LAYER_CERT, LAYER_KEY (default: layer/ssl/*.pem).
# Never commit these files: layer/.gitignore keeps *.pem, *.crt and *.key out of git.
set -euo pipefail

ca="" cert="" key="" out="" bin="bin/sls2siem"
usage() { sed -n 's/^# Usage: //p' "$0" >&2; exit 2; }
while [ $# -gt 0 ]; do
	case "$1" in
	-ca) ca="${2-}"; shift 2 ;;
	-cert) cert="${2-}"; shift 2 ;;
	-key) key="${2-}"; shift 2 ;;
	-bin) bin="${2-}"; shift 2 ;;
	-o) out="${2-}"; shift 2 ;;
	*) usage ;;
	esac
done
[ -n "$out" ] || usage
if [ -n "$ca" ] && [ ! -f "$ca" ] && [ "$ca" != "layer/ssl/siem-ca.pem" ]; then
	echo "layer: no CA bundle at $ca" >&2
	exit 1
fi
if [ -z "$ca" ] || [ ! -f "$ca" ]; then
	# Nothing to pack yet (a fresh clone): build a layer that only explains
	# where the certificates go, and say so loudly. No certificate is invented.
	if [ -n "$cert$key" ]; then
		echo "layer: a client certificate needs the SIEM's CA bundle too (LAYER_CA)" >&2
		exit 1
	fi
	out_abs="$(realpath -m -- "$out")"
	readme="$(mktemp)"
	trap 'rm -f "$readme"' EXIT
	printf '%s\n' "This layer carries no certificate yet." \
		"Put the SIEM's CA bundle (PEM) at layer/ssl/siem-ca.pem, or run: make layer LAYER_CA=path/to/ca.pem [LAYER_CERT=client.pem LAYER_KEY=client-key.pem]" >"$readme"
	(cd "$(dirname "$0")/.." && "${GO:-go}" run ./scripts/mkzip -o "$out_abs" "$readme=ssl/README.txt:0644")
	echo "layer: WARNING: no CA bundle given (LAYER_CA, default layer/ssl/siem-ca.pem): wrote $out with ssl/README.txt only; it adds no trust. Re-run with the SIEM's CA before you deploy a TLS receiver with a private CA." >&2
	exit 0
fi
if [ -n "$cert$key" ] && { [ ! -f "$cert" ] || [ ! -f "$key" ]; }; then
	echo "layer: a client certificate needs both files: LAYER_CERT=${cert:-(unset)} LAYER_KEY=${key:-(unset)}" >&2
	exit 1
fi

# Check with the function's own configuration parser: the CA must hold a PEM
# certificate, the certificate and key must form a pair.
check_env=(SYSLOG_HOST=layer-check.invalid SYSLOG_PROTOCOL=tls "SYSLOG_TLS_CA_FILE=$ca")
if [ -n "$cert" ]; then
	check_env+=("SYSLOG_TLS_CERT_FILE=$cert" "SYSLOG_TLS_KEY_FILE=$key")
fi
if ! env -i "PATH=$PATH" "${check_env[@]}" "$bin" check -mode trigger >&2; then
	echo "layer: $bin check rejected these files (see above); nothing was packed" >&2
	exit 1
fi

abs() { realpath -m -- "$1"; }
entries=("$(abs "$ca")=ssl/siem-ca.pem:0644")
if [ -n "$cert" ]; then
	entries+=("$(abs "$cert")=ssl/client.pem:0644" "$(abs "$key")=ssl/client-key.pem:0600")
fi
out_abs="$(abs "$out")"
(cd "$(dirname "$0")/.." && "${GO:-go}" run ./scripts/mkzip -o "$out_abs" "${entries[@]}")
echo "layer: wrote $out ($(wc -c <"$out") bytes): ssl/siem-ca.pem${cert:+, ssl/client.pem, ssl/client-key.pem}"
