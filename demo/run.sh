#!/bin/sh
# Parapet demo: `demo/run.sh PORT` writes a server configuration into build/demo/ from the
# templates in demo/conf/, starts apache2 with mod_parapet on 127.0.0.1:PORT in the
# background (PID in build/demo/apache.pid) and prints what to try. `demo/run.sh stop` stops
# that server, and only that one: the PID from the pid file, checked against our config path.
# Normally run through `make demo PORT=8080` and `make demo-stop`.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SRC="$ROOT/demo"
DEMO="$ROOT/build/demo"
CONF="$DEMO/conf/httpd.conf"
PIDFILE="$DEMO/apache.pid"
MODULE="${PARAPET_MODULE:-$ROOT/build/mod_parapet.so}"
APACHE2=$(command -v apache2 || echo /usr/sbin/apache2)

usage() {
    echo "usage: $0 PORT | stop" >&2
    exit 2
}

# Prints the PID from the pid file if that process is our demo apache2, else nothing.
demo_pid() {
    [ -r "$PIDFILE" ] || return 0
    pid=$(cat "$PIDFILE")
    case "$pid" in '' | *[!0-9]*) return 0 ;; esac
    if [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF "$CONF"; then
        echo "$pid"
    fi
}

stop_demo() {
    pid=$(demo_pid)
    if [ -z "$pid" ]; then
        echo "Parapet demo is not running."
        rm -f "$PIDFILE"
        return 0
    fi
    kill -TERM "$pid"
    i=0
    while [ -d "/proc/$pid" ] && [ $i -lt 100 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    if [ -d "/proc/$pid" ]; then
        echo "apache2 (PID $pid) did not stop within 10 s" >&2
        return 1
    fi
    rm -f "$PIDFILE"
    echo "Parapet demo stopped (PID $pid)."
}

render() {
    sed -e "s#@DEMO@#$DEMO#g" -e "s#@SRC@#$SRC#g" -e "s#@PORT@#$PORT#g" \
        -e "s#@MODDIR@#$MODDIR#g" -e "s#@MODULE@#$MODULE#g" \
        -e "s#@USER_GROUP@#$USER_GROUP#g" "$1" >"$2"
}

write_config() {
    mkdir -p "$DEMO/conf" "$DEMO/logs" "$DEMO/run" "$DEMO/uploads"
    MODDIR=$(apxs -q LIBEXECDIR 2>/dev/null || echo /usr/lib/apache2/modules)
    USER_GROUP=""
    if [ "$(id -u)" = 0 ]; then
        # Children run as www-data: they write uploads and spilled bodies.
        USER_GROUP="User www-data\\nGroup www-data"
        chown www-data:www-data "$DEMO/uploads"
    fi
    chmod 0750 "$DEMO/uploads"
    for tpl in "$SRC"/conf/*.conf; do
        render "$tpl" "$DEMO/conf/$(basename "$tpl")"
    done
}

wait_until_up() {
    i=0
    while [ $i -lt 100 ]; do
        if [ -n "$(demo_pid)" ] && curl -s -o /dev/null "http://127.0.0.1:$PORT/"; then
            return 0
        fi
        sleep 0.1
        i=$((i + 1))
    done
    echo "apache2 did not come up; see $DEMO/logs/error.log" >&2
    tail -n 20 "$DEMO/logs/error.log" >&2 || true
    return 1
}

print_help() {
    base="http://127.0.0.1:$PORT"
    cat <<EOF
Parapet demo running on $base/ (PID $(demo_pid)).

  Open $base/ in a browser for the GET, POST and upload forms, or try:

  benign (200, echoed by the CGI):
    curl '$base/cgi-bin/echo?q=hello+world'
    curl --data 'name=Alice&comment=Nice+site' $base/cgi-bin/echo
  attacks (403 Forbidden, never reach the CGI):
    curl -i '$base/cgi-bin/echo?q=%3Cscript%3Ealert(1)%3C/script%3E'
    curl -i --data 'id=1 union select password from users' $base/cgi-bin/echo
    curl -i --form-string 'description=<script>x</script>' -F 'upload=@/etc/hostname' $base/cgi-bin/echo

  logs:
    error log   $DEMO/logs/error.log
    access log  $DEMO/logs/access.log  (t1 t2 t3 = mod_security-time1..3, D = %D, in us)
    debug log   $DEMO/logs/debug.log
    audit log   $DEMO/logs/audit.log
    uploads     $DEMO/uploads

  stop it with:  make demo-stop
EOF
}

[ $# -eq 1 ] || usage
case "$1" in
stop)
    stop_demo
    exit $?
    ;;
'' | *[!0-9]*) usage ;;
esac
PORT=$1
if [ "$PORT" -lt 1 ] || [ "$PORT" -gt 65535 ]; then
    usage
fi

if [ -n "$(demo_pid)" ]; then
    echo "Parapet demo already running (PID $(demo_pid)); stop it with: make demo-stop" >&2
    exit 1
fi
if [ ! -f "$MODULE" ]; then
    echo "$MODULE is not built; run make first" >&2
    exit 1
fi
write_config
if ! out=$("$APACHE2" -t -f "$CONF" 2>&1); then
    echo "$out" >&2
    exit 1
fi
"$APACHE2" -f "$CONF" -k start
wait_until_up
print_help
