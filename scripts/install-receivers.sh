#!/usr/bin/env bash
# install-receivers.sh installs the real syslog receivers used by the
# end-to-end tests (internal/e2e) on a Debian 12 machine:
#
#   - rsyslog 8.2302 with its TLS drivers (system packages), and
#   - syslog-ng 3.38, extracted with "dpkg -x" into $SYSLOG_NG_ROOT
#     (default /opt/syslog-ng), because syslog-ng-core conflicts with rsyslog.
#
# It is idempotent: it only installs what is missing, runs "apt-get update"
# only when something must be installed, and never leaves the system rsyslog
# service running (the tests start their own instances on free ports).
# Run it as root.
set -euo pipefail

SYSLOG_NG_ROOT="${SYSLOG_NG_ROOT:-/opt/syslog-ng}"
APT_PKGS=(rsyslog rsyslog-gnutls rsyslog-openssl rsyslog-relp openssl prometheus)
# Runtime dependencies of syslog-ng-core 3.38.1 (apt-cache depends syslog-ng-core).
SNG_LIBS=(libc6 libcap2 libglib2.0-0 libivykis0 libjson-c5 libnet1 libpcre3 libssl3 libsystemd0 libwrap0)

log() { printf 'install-receivers: %s\n' "$*"; }
die() { printf 'install-receivers: error: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root (apt-get install, ${SYSLOG_NG_ROOT})"
command -v apt-get >/dev/null && command -v dpkg-query >/dev/null || die "needs a Debian system with apt-get"

export DEBIAN_FRONTEND=noninteractive

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q '^install ok installed$'; }

updated=0
apt_update() {
	if [ "$updated" -eq 0 ]; then
		log "apt-get update"
		apt-get update -qq || die "apt-get update failed"
		updated=1
	fi
}

# Forbid maintainer scripts from starting services (rsyslog would otherwise
# start and bind the system log sockets). Restored on exit.
POLICY=/usr/sbin/policy-rc.d
policy_added=0
deny_service_start() {
	if [ ! -e "$POLICY" ]; then
		printf '#!/bin/sh\nexit 101\n' >"$POLICY"
		chmod 755 "$POLICY"
		policy_added=1
	fi
}
tmpdir=""
cleanup() {
	if [ "$policy_added" -eq 1 ]; then rm -f "$POLICY"; fi
	if [ -n "$tmpdir" ]; then rm -rf "$tmpdir"; fi
}
trap cleanup EXIT

# 1. apt packages: rsyslog + TLS drivers, and syslog-ng's libraries.
missing=()
for p in "${APT_PKGS[@]}" "${SNG_LIBS[@]}"; do
	installed "$p" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
	apt_update
	deny_service_start
	log "installing: ${missing[*]}"
	apt-get install -y -qq --no-install-recommends "${missing[@]}" ||
		die "apt-get install ${missing[*]} failed"
else
	log "apt packages already installed: ${APT_PKGS[*]} ${SNG_LIBS[*]}"
fi
command -v rsyslogd >/dev/null || die "rsyslogd not found after install"

# 2. The system rsyslog service must not run: the tests start their own.
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
	if systemctl is-active --quiet rsyslog.service || systemctl is-enabled --quiet rsyslog.service 2>/dev/null; then
		log "disabling and stopping the system rsyslog service"
		systemctl disable --now rsyslog.service syslog.socket >/dev/null 2>&1 ||
			die "could not stop the system rsyslog service"
	fi
elif [ -s /run/rsyslogd.pid ] && kill -0 "$(cat /run/rsyslogd.pid)" 2>/dev/null; then
	log "stopping the system rsyslog daemon (pid $(cat /run/rsyslogd.pid))"
	kill "$(cat /run/rsyslogd.pid)" || die "could not stop the system rsyslog daemon"
fi

# The prometheus package (for promtool) enables its service for the next
# boot on a systemd machine: the tests need only promtool.
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
	systemctl disable --now prometheus.service >/dev/null 2>&1 || true
fi

# 3. syslog-ng 3.38, extracted (not installed: it conflicts with rsyslog).
sng_ok() {
	[ -x "$SYSLOG_NG_ROOT/usr/sbin/syslog-ng" ] &&
		LD_LIBRARY_PATH="$SYSLOG_NG_ROOT/usr/lib/syslog-ng" \
			"$SYSLOG_NG_ROOT/usr/sbin/syslog-ng" --version \
			--module-path="$SYSLOG_NG_ROOT/usr/lib/syslog-ng/3.38" >/dev/null 2>&1
}
if sng_ok; then
	log "syslog-ng already extracted in $SYSLOG_NG_ROOT"
else
	apt_update
	tmpdir="$(mktemp -d)"
	# apt-get download drops privileges to _apt, which must write here.
	if id _apt >/dev/null 2>&1; then chown _apt "$tmpdir"; fi
	log "downloading syslog-ng-core"
	(cd "$tmpdir" && apt-get download -qq syslog-ng-core) || die "apt-get download syslog-ng-core failed"
	deb="$(ls "$tmpdir"/syslog-ng-core_*.deb 2>/dev/null | head -n1 || true)"
	[ -n "$deb" ] || die "apt-get download produced no syslog-ng-core .deb"
	log "extracting $(basename "$deb") into $SYSLOG_NG_ROOT"
	rm -rf "$SYSLOG_NG_ROOT"
	mkdir -p "$SYSLOG_NG_ROOT"
	dpkg -x "$deb" "$SYSLOG_NG_ROOT" || die "dpkg -x $deb failed"
	sng_ok || die "syslog-ng in $SYSLOG_NG_ROOT does not run (missing libraries?)"
fi

log "rsyslog: $(rsyslogd -v | head -n1)"
log "syslog-ng: $(LD_LIBRARY_PATH="$SYSLOG_NG_ROOT/usr/lib/syslog-ng" "$SYSLOG_NG_ROOT/usr/sbin/syslog-ng" --version \
	--module-path="$SYSLOG_NG_ROOT/usr/lib/syslog-ng/3.38" | head -n1) in $SYSLOG_NG_ROOT"
log "done"
