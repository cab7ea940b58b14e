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
# Usage: layer/build.sh -ca CA.pem|none [-cert CLIENT.pem -key CLIENT-KEY.pem] [-bin bin/sls2siem] -o OUT.zip
# make layer runs it with LAYER_CA, LAYER_CERT, LAYER_KEY (default: layer/ssl/siem-ca.pem). Without
# the CA bundle it fails; -ca none (LAYER_CA=none) packs no CA on purpose: the client certificate
# alone, for a SIEM whose certificate a public CA signs.
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
rm -f -- "$out" # whatever fails below, no earlier layer is left to be deployed by mistake
if [ -z "$ca" ]; then
	echo "layer: no CA bundle given (LAYER_CA): pass the SIEM's CA bundle (PEM), or LAYER_CA=none when a public CA signs the SIEM's certificate" >&2
	exit 1
fi
if [ "$ca" = none ]; then
	ca=""
elif [ ! -f "$ca" ]; then
	echo "layer: no CA bundle at $ca: put the SIEM's CA bundle (PEM) there or pass LAYER_CA=path/to/ca.pem; LAYER_CA=none packs no CA, on purpose (the SIEM's certificate is signed by a public CA: the function trusts the system roots)" >&2
	exit 1
fi
if [ -z "$ca$cert$key" ]; then
	# LAYER_CA=none and no client certificate: nothing to trust or present.
	# The layer only says so; the function needs none (SYSLOG_TLS_CA_FILE unset).
	out_abs="$(realpath -m -- "$out")"
	readme="$(mktemp)"
	trap 'rm -f "$readme"' EXIT
	printf '%s\n' "This layer carries no certificate: it was built with LAYER_CA=none and no client certificate." \
		"A SIEM whose certificate a public CA signs needs no layer. To pack one: make layer LAYER_CA=path/to/ca.pem [LAYER_CERT=client.pem LAYER_KEY=client-key.pem]" >"$readme"
	(cd "$(dirname "$0")/.." && "${GO:-go}" run ./scripts/mkzip -o "$out_abs" "$readme=ssl/README.txt:0644")
	echo "layer: LAYER_CA=none and no client certificate: wrote $out with ssl/README.txt only (no CA, no certificate)"
	exit 0
fi
if [ -n "$cert$key" ] && { [ ! -f "$cert" ] || [ ! -f "$key" ]; }; then
	echo "layer: a client certificate needs both files: LAYER_CERT=${cert:-(unset)} LAYER_KEY=${key:-(unset)}" >&2
	exit 1
fi

# Check with the function's own configuration parser: the CA must hold a PEM
# certificate, the certificate and key must form a pair.
check_env=(SYSLOG_HOST=layer-check.invalid SYSLOG_PROTOCOL=tls)
if [ -n "$ca" ]; then
	check_env+=("SYSLOG_TLS_CA_FILE=$ca")
fi
if [ -n "$cert" ]; then
	check_env+=("SYSLOG_TLS_CERT_FILE=$cert" "SYSLOG_TLS_KEY_FILE=$key")
fi
if ! env -i "PATH=$PATH" "${check_env[@]}" "$bin" check -mode trigger >&2; then
	echo "layer: $bin check rejected these files (see above); nothing was packed" >&2
	exit 1
fi

abs() { realpath -m -- "$1"; }
entries=()
if [ -n "$ca" ]; then
	entries+=("$(abs "$ca")=ssl/siem-ca.pem:0644")
fi
if [ -n "$cert" ]; then
	entries+=("$(abs "$cert")=ssl/client.pem:0644" "$(abs "$key")=ssl/client-key.pem:0600")
fi
out_abs="$(abs "$out")"
(cd "$(dirname "$0")/.." && "${GO:-go}" run ./scripts/mkzip -o "$out_abs" "${entries[@]}")
packed="${ca:+ssl/siem-ca.pem}${cert:+${ca:+, }ssl/client.pem, ssl/client-key.pem}"
echo "layer: wrote $out ($(wc -c <"$out") bytes): $packed"
