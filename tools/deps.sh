#!/bin/sh
# Installs what Parapet needs on Debian 12 when run as root; otherwise prints the exact
# apt-get line and stops. Used by `make demo` and `make check` (and so by CI).
set -e
PKGS="prometheus build-essential apache2 apache2-dev libapr1-dev libaprutil1-dev libpcre2-dev libjson-c-dev
libyajl-dev libxml2-dev
libcmocka-dev clamav clamav-daemon clamdscan curl python3 valgrind clang libclang-rt-14-dev wrk
libapache2-mod-security2 modsecurity-crs python3-yaml liblmdb-dev libhiredis-dev redis-server fail2ban
libmaxminddb-dev libmaxminddb0"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
    echo "deps: installing$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # Debian's clamav-daemon/apache2 postinst may try to start services; they are not needed.
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
    # Tests start their own Apache and clamd on private ports/sockets; stop the system ones the
    # packages may have started so they do not hold port 80 or burn CPU loading signatures.
    for svc in apache2 clamav-daemon clamav-freshclam prometheus prometheus-node-exporter fail2ban; do
        if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$svc" 2>/dev/null; then
            systemctl stop "$svc" || true
        fi
    done
else
    echo "Missing packages:$missing"
    echo "Run: sudo apt-get install -y$missing"
    exit 1
fi
