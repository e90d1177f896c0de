#!/bin/sh
# Parapet demo: `demo/run.sh PORT` writes a server configuration into build/demo/ from the
# templates in demo/conf/, starts apache2 with mod_parapet on 127.0.0.1:PORT in the
# background (PID in build/demo/apache.pid) and prints what to try. `demo/run.sh stop` stops
# that server, and only that one: the PID from the pid file, checked against our config path.
# Normally run through `make demo PORT=8080` and `make demo-stop`. `demo/run.sh PORT crs`
# (`make demo CRS=1`) serves the same site with the OWASP Core Rule Set instead of the two 1.9
# rules: conf/parapet.conf as `make install` installs it, with Debian's modsecurity-crs at
# paranoia level 1, blocking; it then sends sample requests and writes what happened to
# each to /samples.html.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SRC="$ROOT/demo"
DEMO="$ROOT/build/demo"
CONF="$DEMO/conf/httpd.conf"
PIDFILE="$DEMO/apache.pid"
MODULE="${PARAPET_MODULE:-$ROOT/build/mod_parapet.so}"
APACHE2=$(command -v apache2 || echo /usr/sbin/apache2)

usage() {
    echo "usage: $0 PORT [crs] | stop" >&2
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
    if [ "$MODE" = crs ]; then
        # The installed parapet.conf, pointed at an empty ModSecurity directory (so its own
        # base configuration is used) and at the demo's data and log directories.
        mkdir -p "$DEMO/modsecurity" "$DEMO/data"
        [ "$(id -u)" = 0 ] && chown www-data:www-data "$DEMO/data"
        chmod 0750 "$DEMO/data"
        {
            echo "Define APACHE_LOG_DIR $DEMO/logs"
            echo "LoadModule headers_module $MODDIR/mod_headers.so"
            echo "Header always set X-Unique-Id \"%{UNIQUE_ID}e\""
            sed -e "s#@MODSEC_ETC@#$DEMO/modsecurity#g" -e "s#@CRS_DIR@#$CRS_DIR#g" \
                -e "s#@CACHE_DIR@#$DEMO/data#g" "$ROOT/conf/parapet.conf"
            echo "Alias /samples.html $DEMO/samples.html"
            echo "<Directory $DEMO>"
            echo "    <Files samples.html>"
            echo "        Require all granted"
            echo "    </Files>"
            echo "</Directory>"
        } >"$DEMO/conf/parapet.conf"
    fi
}

# CRS mode: sample requests, each with what the server answered, on the terminal and in
# build/demo/samples.html.
SAMPLES='pass|GET|/cgi-bin/echo?q=hello+world|
pass|GET|/cgi-bin/echo?name=O%27Brien&city=Z%C3%BCrich|
pass|POST|/cgi-bin/echo|name=Alice&comment=Nice+site%2C+thanks%21
block|GET|/cgi-bin/echo?q=%3Cscript%3Ealert(1)%3C/script%3E|
block|GET|/cgi-bin/echo?id=1%27+UNION+SELECT+password+FROM+users--|
block|GET|/cgi-bin/echo?file=../../../../etc/passwd|
block|GET|/cgi-bin/echo?host=127.0.0.1%3Bcat+/etc/passwd|
block|POST|/cgi-bin/echo|cmd=%3C%3Fphp+system(%24_GET%5Bc%5D)%3B+%3F%3E'

run_samples() {
    base="http://127.0.0.1:$PORT"
    out="$DEMO/samples.html"
    {
        echo '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Parapet + CRS samples</title>'
        echo '<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}td,th{padding:.2em .6em;border-bottom:1px solid #ddd;text-align:left}.b{color:#a00}.p{color:#070}</style></head><body>'
        echo '<h1>Parapet + OWASP CRS 3.3.4 (paranoia level 1, blocking)</h1>'
        echo '<p>Sample requests sent by <code>make demo CRS=1</code> when the server started, and what it answered. The CRS rule ids are from the error log.</p>'
        echo '<table><tr><th>expected</th><th>request</th><th>status</th><th>CRS rules</th></tr>'
    } >"$out"
    echo "Sample requests (also at $base/samples.html):"
    echo "$SAMPLES" | while IFS='|' read -r want method path data; do
        if [ "$method" = POST ]; then
            status=$(curl -s -o /dev/null -D "$DEMO/run/headers" -w '%{http_code}' --data "$data" "$base$path")
        else
            status=$(curl -s -o /dev/null -D "$DEMO/run/headers" -w '%{http_code}' "$base$path")
        fi
        uid=$(sed -n 's/^X-Unique-Id: *\([^[:space:]]*\).*/\1/Ip' "$DEMO/run/headers" | tr -d '\r')
        sleep 0.2
        ids=""
        if [ -n "$uid" ]; then
            ids=$(grep -F "[unique_id \"$uid\"]" "$DEMO/logs/error.log" | sed -n 's/.*\[id "\([0-9]*\)"\].*/\1/p' | sort -u | tr '\n' ' ')
        fi
        shown="$method $path${data:+ (body: $data)}"
        printf '  %-5s %s  %s  %s\n' "$want" "$status" "$shown" "$ids"
        class=p
        [ "$status" = 403 ] && class=b
        esc=$(printf '%s' "$shown" | sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g')
        echo "<tr><td>$want</td><td><code>$esc</code></td><td class=\"$class\">$status</td><td>$ids</td></tr>" >>"$out"
    done
    echo '</table></body></html>' >>"$out"
    chmod 0644 "$out"
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

[ $# -ge 1 ] && [ $# -le 2 ] || usage
MODE=${2:-}
case "$MODE" in '' | crs) ;; *) usage ;; esac
CRS_DIR=${CRS_DIR:-/usr/share/modsecurity-crs}
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
if [ "$MODE" = crs ] && [ ! -f "$CRS_DIR/owasp-crs.load" ]; then
    echo "$CRS_DIR/owasp-crs.load not found: apt-get install modsecurity-crs" >&2
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
if [ "$MODE" = crs ]; then
    echo
    echo "  CRS mode: OWASP CRS 3.3.4 from $CRS_DIR at paranoia level 1, blocking."
    run_samples
fi
