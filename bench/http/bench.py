#!/usr/bin/env python3
"""HTTP benchmark: bare Apache vs Apache + Parapet (1.9 rules) vs Apache + ModSecurity 2.9.7
(the same 100 rules as SecRule), beside Apache + Parapet with those SecRules and OWASP CRS on
both WAFs at PL1 and PL4 (issues 13 and 15; --no-extra leaves them out), then memory growth on large uploads and the engine's
instruction counts under callgrind. Writes bench/RESULTS.md from bench/RESULTS.md.in.

Three Apache instances run side by side, each in its own temporary ServerRoot on a free
127.0.0.1 port, with one generated configuration that differs only in the WAF block. Every
instance runs as a child of this script in its own session and is stopped by PID (SIGTERM,
then SIGKILL by PID for anything of its group still there); nothing is matched by name.
The layout mirrors tests/e2e/harness.py, but the configuration is tuned for measuring (no
access log, unlimited keep-alive, one worker process) and kept here so the harness can evolve.

Order of a run (the method is spelled out in RESULTS.md):
  1. memory: single 10 MB uploads to the fresh workers, then one 1 GiB streamed upload to bare
     Apache and Parapet; worker VmRSS before, VmHWM (reset through clear_refs) after;
  2. statuses: every scenario once per server (200 benign, 403 from both WAFs on the attack
     and on the same attack inside urlencoded and multipart bodies); a mismatch aborts;
  3. throughput: Apache pinned to CPU 0, wrk -t1 -c8 to CPU 1; rounds x scenarios x servers
     (server order rotating); server CPU per request from /proc/PID/stat of every process of
     the instance; any unexpected status during a wrk run aborts;
  4. callgrind: build/bench_rules (N minus 0 iterations), then apache2 -X per configuration;
  5. RESULTS.md from the template.
The module is copied into the run's temporary directory first, so a rebuild of
build/mod_parapet.so in the meantime cannot mix two builds in one run.

Standard library only.
"""
import argparse
import hashlib
import http.client
import os
import platform
import pwd
import random
import re
import resource
import shutil
import signal
import socket
import statistics
import string
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1]
REPO = BENCH.parent
BUILD = REPO / "build"
PARAPET_SO = Path(os.environ.get("PARAPET_BENCH_MODULE", BUILD / "mod_parapet.so"))
RULES_DIR = Path(os.environ.get("PARAPET_BENCH_RULES", "/work/shared/bench/rules"))
RULES_19 = RULES_DIR / "ms19-100.conf"
RULES_2 = RULES_DIR / "ms2-100.conf"
TEMPLATE = BENCH / "RESULTS.md.in"
APACHE_BIN = shutil.which("apache2") or "/usr/sbin/apache2"
MODSEC_SO = Path("/usr/lib/apache2/modules/mod_security2.so")
CHILD_USER = "www-data"
START_TIMEOUT_S = 30
STOP_TIMEOUT_S = 15
CLK_TCK = os.sysconf("SC_CLK_TCK")
KiB = 1024
MiB = 1024 * 1024
GiB = 1024 * MiB

SERVERS = ("bare", "parapet", "modsec")
# Issues 13 and 15: the SecRule form of the 100 rules on Parapet, and OWASP CRS on both WAFs
# (Debian's modsecurity.conf-recommended + crs-setup.conf + the CRS rule files) at PL1 and PL4.
EXTRA = ("parapet-2x", "parapet-crs", "modsec-crs", "parapet-crs4", "modsec-crs4")
LABEL = {"bare": "bare Apache", "parapet": "Apache + Parapet",
         "modsec": "Apache + ModSecurity 2.9.7",
         "parapet-2x": "Parapet, ms2-100 (SecRule)",
         "parapet-crs": "Parapet + CRS PL1", "modsec-crs": "ModSecurity + CRS PL1",
         "parapet-crs4": "Parapet + CRS PL4", "modsec-crs4": "ModSecurity + CRS PL4"}
# Whose overhead each Parapet configuration is compared with.
REFERENCE = {"parapet": "modsec", "parapet-2x": "modsec", "parapet-crs": "modsec-crs",
             "parapet-crs4": "modsec-crs4"}
CRS_KINDS = ("parapet-crs", "modsec-crs", "parapet-crs4", "modsec-crs4")
RECOMMENDED = Path("/etc/modsecurity/modsecurity.conf-recommended")
UNICODE_MAP = Path("/etc/modsecurity/unicode.mapping")
CRS_SETUP = Path("/etc/modsecurity/crs/crs-setup.conf")
CRS_RULES = "/usr/share/modsecurity-crs/rules/*.conf"

# Browser-like headers on every request (the same set as bench/engine/bench_rules.c, without
# Accept-Encoding: no compression module is loaded), so header and cookie rules have work.
HEADERS = [
    ("Host", "localhost"),
    ("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"),
    ("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
    ("Accept-Language", "en-US,en;q=0.5"),
    ("Referer", "http://localhost/search"),
    ("Cookie", "session=4f2a9c0d1e8b7a6c; theme=dark"),
]
BOUNDARY = "----ParapetBenchBoundary7d93b2c4e5f6a1"

# ---- Apache configuration ------------------------------------------------------------------

MODULE_DIR = "/usr/lib/apache2/modules"
# unique_id: ModSecurity 2 takes the transaction id from it (Debian's security2.load depends on
# it), so it is loaded in all three instances. Everything else is the minimum to serve files.
MODULES = ("mpm_event", "authz_core", "mime", "dir", "unique_id")

CONF_TEMPLATE = """\
# Generated by bench/http/bench.py ({name}).
ServerRoot "{root}"
DefaultRuntimeDir "{root}/run"
PidFile "{root}/run/apache.pid"
Listen 127.0.0.1:{port}
ServerName 127.0.0.1:{port}
{user_group}
{load_modules}
# One worker process with 16 threads: one process to read CPU time and RSS from.
<IfModule mpm_event_module>
    StartServers 1
    ServerLimit 1
    ThreadLimit 16
    ThreadsPerChild 16
    MaxRequestWorkers 16
    MinSpareThreads 1
    MaxSpareThreads 16
    MaxConnectionsPerChild 0
</IfModule>
Timeout 300
KeepAlive On
MaxKeepAliveRequests 0
KeepAliveTimeout 30
LimitRequestBody 0
ErrorLog "{root}/logs/error.log"
LogLevel warn
TypesConfig /etc/mime.types
DocumentRoot "{root}/htdocs"
DirectoryIndex index.html
<Directory />
    AllowOverride None
    Require all denied
</Directory>
<Directory "{root}/htdocs">
    Require all granted
</Directory>

# ---- WAF ----
{waf}
"""

WAF_PARAPET = """\
LoadModule parapet_module {so}
<IfModule mod_security.c>
    Include "{rules}"
    SecFilterEngine On
    SecFilterScanPOST On
    SecFilterDebugLevel 0
    SecAuditEngine Off
    SecUploadDir "{root}/data/uploads"
    SecUploadKeepFiles Off
    SecRequestBodyLimit 2147483648
</IfModule>
"""

WAF_PARAPET_2X = """\
LoadModule parapet_module {so}
SecRuleEngine On
SecRequestBodyAccess On
SecRequestBodyLimit 1073741824
SecResponseBodyAccess Off
SecAuditEngine Off
SecDebugLogLevel 0
SecDataDir "{root}/data/modsec"
SecTmpDir "{root}/data/tmp"
SecUploadDir "{root}/data/uploads"
SecUploadKeepFiles Off
Include "{rules}"
"""

# CRS: Debian's recommended configuration (SecRuleEngine On instead of DetectionOnly, the
# audit log off, the unicode map by absolute path, data and tmp in the instance's root),
# crs-setup.conf, the paranoia level, the rule files. The same text for both WAFs.
WAF_CRS = """\
LoadModule {module} {so}
Include "{root}/conf/modsecurity.conf"
Include "{setup}"
SecAction "id:900000,phase:1,nolog,pass,t:none,setvar:tx.paranoia_level={pl}"
Include {rules}
"""


def recommended_conf(root):
    text = RECOMMENDED.read_text()
    edits = [("SecRuleEngine DetectionOnly", "SecRuleEngine On"),
             ("SecAuditEngine RelevantOnly", "SecAuditEngine Off"),
             ("SecAuditLog /var/log/apache2/modsec_audit.log",
              "SecAuditLog %s/logs/modsec_audit.log" % root),
             ("SecUnicodeMapFile unicode.mapping", "SecUnicodeMapFile %s" % UNICODE_MAP),
             ("SecTmpDir /tmp/", "SecTmpDir %s/data/tmp" % root),
             ("SecDataDir /tmp/", "SecDataDir %s/data/modsec" % root)]
    for old, new in edits:
        if old not in text:
            raise Abort("%s changed (no '%s'): adapt bench.py" % (RECOMMENDED, old))
        text = text.replace(old, new)
    return text


WAF_MODSEC = """\
LoadModule security2_module {so}
<IfModule security2_module>
    SecRuleEngine On
    SecRequestBodyAccess On
    SecRequestBodyLimit 1073741824
    SecResponseBodyAccess Off
    SecAuditEngine Off
    SecDebugLogLevel 0
    SecDataDir "{root}/data/modsec"
    SecTmpDir "{root}/data/tmp"
    SecUploadDir "{root}/data/uploads"
    SecUploadKeepFiles Off
    Include "{rules}"
</IfModule>
"""


def running_as_root():
    return os.geteuid() == 0


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_stat(pid):
    """Fields of /proc/PID/stat after the command name (index 0 = state), or None."""
    try:
        text = Path("/proc", str(pid), "stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2:].split()


def processes_in_group(pgid):
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = proc_stat(entry)
            if fields and int(fields[2]) == pgid:
                found.append(int(entry))
    return found


def children_of(ppid):
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = proc_stat(entry)
            if fields and int(fields[1]) == ppid:
                found.append(int(entry))
    return found


def busy_seconds():
    """CPU time the whole machine spent busy (all CPUs, everything but idle and iowait)."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:9]]
    user, nice, system, idle, iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / CLK_TCK


def children_cpu_seconds():
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def status_kb(pid, field):
    try:
        for line in Path("/proc", str(pid), "status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


class Server:
    """One Apache instance in a private root under the run's temporary directory."""

    module = PARAPET_SO                 # main() points this at a private copy

    def __init__(self, kind, base, cpu):
        self.kind = kind
        self.root = base / kind
        self.cpu = cpu
        self.port = None
        self.proc = None

    def prepare(self, htdocs):
        self.root.mkdir()
        os.chmod(self.root, 0o755)
        for sub in ("htdocs", "logs", "run", "conf", "data", "data/uploads", "data/tmp",
                    "data/modsec"):
            (self.root / sub).mkdir()
        for name, content in htdocs.items():
            (self.root / "htdocs" / name).write_bytes(content)
        if running_as_root():
            user = pwd.getpwnam(CHILD_USER)
            for sub in ("data", "data/uploads", "data/tmp", "data/modsec"):
                os.chown(self.root / sub, user.pw_uid, user.pw_gid)
        self.port = free_port()
        if self.kind == "parapet":
            waf = WAF_PARAPET.format(so=self.module, rules=RULES_19, root=self.root)
        elif self.kind == "modsec":
            waf = WAF_MODSEC.format(so=MODSEC_SO, rules=RULES_2, root=self.root)
        elif self.kind == "parapet-2x":
            waf = WAF_PARAPET_2X.format(so=self.module, rules=RULES_2, root=self.root)
        elif self.kind in CRS_KINDS:
            (self.root / "conf" / "modsecurity.conf").write_text(recommended_conf(self.root))
            parapet = self.kind.startswith("parapet")
            waf = WAF_CRS.format(module="parapet_module" if parapet else "security2_module",
                                 so=self.module if parapet else MODSEC_SO, root=self.root,
                                 setup=CRS_SETUP, rules=CRS_RULES,
                                 pl=4 if self.kind.endswith("4") else 1)
        else:
            waf = "# none: the baseline"
        loads = "\n".join("LoadModule %s_module %s/mod_%s.so" % (m, MODULE_DIR, m)
                          for m in MODULES)
        user_group = "User %s\nGroup %s" % (CHILD_USER, CHILD_USER) if running_as_root() else ""
        self.conf = self.root / "conf" / "httpd.conf"
        self.conf.write_text(CONF_TEMPLATE.format(name=self.kind, root=self.root, port=self.port,
                                                  user_group=user_group, load_modules=loads,
                                                  waf=waf))

    def command(self, *extra):
        cmd = [APACHE_BIN, "-f", str(self.conf)] + list(extra)
        if self.cpu is not None:
            cmd = ["taskset", "-c", str(self.cpu)] + cmd
        return cmd

    def start(self, wrapper=(), extra=("-DFOREGROUND",), timeout=START_TIMEOUT_S):
        self.console = open(self.root / "logs" / "console.log", "wb")
        # Own session: the group id is the PID we get back (taskset and valgrind exec).
        self.proc = subprocess.Popen(list(wrapper) + self.command(*extra),
                                     stdin=subprocess.DEVNULL, stdout=self.console,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                rc, text = self.proc.returncode, self.logs()
                self.stop()
                raise Abort("%s: apache2 exited with %s:\n%s" % (LABEL[self.kind], rc, text))
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise Abort("%s: apache2 did not listen on 127.0.0.1:%d" % (LABEL[self.kind], self.port))

    def logs(self, tail=4000):
        out = []
        for name in ("console.log", "error.log"):
            try:
                out.append((self.root / "logs" / name).read_text(errors="replace")[-tail:])
            except OSError:
                pass
        return "\n".join(out)

    def stop(self):
        """SIGTERM to the process we started, then SIGKILL by PID to anything left in its group."""
        if self.proc is None:
            return
        pgid = self.proc.pid
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        deadline = time.time() + STOP_TIMEOUT_S
        while processes_in_group(pgid) and time.time() < deadline:
            time.sleep(0.1)
        for pid in processes_in_group(pgid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc = None
        self.console.close()

    # ---- measurement -----------------------------------------------------------------------

    def cpu_seconds(self):
        """CPU time (user + system) of every live process of the instance, plus what the
        parent has collected from children that already exited."""
        ticks = 0
        for pid in processes_in_group(self.proc.pid):
            fields = proc_stat(pid)
            if fields is None:
                continue
            ticks += int(fields[11]) + int(fields[12])       # utime, stime
            if pid == self.proc.pid:
                ticks += int(fields[13]) + int(fields[14])   # cutime, cstime
        return ticks / CLK_TCK

    def worker(self, wait=0):
        kids = children_of(self.proc.pid)
        deadline = time.time() + wait
        while not kids and time.time() < deadline:      # just started: not forked yet
            time.sleep(0.1)
            kids = children_of(self.proc.pid)
        if len(kids) != 1:
            raise RuntimeError("%s: expected one worker process, found %s" % (self.kind, kids))
        return kids[0]

    def reset_peak(self, pid):
        """Resets VmHWM of pid to its current RSS (Linux clear_refs, value 5)."""
        Path("/proc", str(pid), "clear_refs").write_text("5")

    def leftover_files(self):
        return sorted(str(p.relative_to(self.root)) for sub in ("data/uploads", "data/tmp")
                      for p in (self.root / sub).iterdir())


# ---- request bodies -------------------------------------------------------------------------

def urlencoded_body(size):
    rnd = random.Random(2)
    words = ("lorem ipsum dolor sit amet consectetur adipiscing elit sed eiusmod tempor "
             "incididunt labore dolore magna aliqua enim minim veniam quis nostrud exercitation "
             "ullamco laboris nisi aliquip commodo consequat duis aute irure reprehenderit "
             "voluptate velit esse cillum fugiat nulla pariatur excepteur sint occaecat").split()
    fields, i = [], 0
    while len("&".join(fields)) < size:
        value = "+".join(rnd.choice(words) for _ in range(12))
        fields.append("field%02d=%s" % (i, value))
        i += 1
    body = "&".join(fields)[:size]
    return body.rstrip("+&=").encode()


def multipart_parts(file_size, block):
    """(head, tail) around a file part of file_size bytes; block is the content unit."""
    head = ("--{b}\r\n"
            "Content-Disposition: form-data; name=\"description\"\r\n\r\n"
            "Holiday photo from the coast\r\n"
            "--{b}\r\n"
            "Content-Disposition: form-data; name=\"upload\"; filename=\"photo.jpg\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").format(b=BOUNDARY).encode()
    tail = ("\r\n--%s--\r\n" % BOUNDARY).encode()
    assert BOUNDARY.encode() not in block
    return head, tail


def random_block(size, seed):
    data = random.Random(seed).randbytes(size)
    # No line in the file starts with '--': ModSecurity 2.9.7 takes such a line for a possible
    # unmatched boundary (MULTIPART_UNMATCHED_BOUNDARY, which the recommended configuration's
    # rule 200004 denies), and the upload is meant to be benign for every WAF.
    while b"\n--" in data:
        data = data.replace(b"\n--", b"\n-x")
    assert BOUNDARY.encode() not in data
    return data


def write_multipart(path, file_size, seed):
    block = random_block(min(file_size, MiB), seed)
    head, tail = multipart_parts(file_size, block)
    with open(path, "wb") as f:
        f.write(head)
        left = file_size
        while left:
            n = min(left, len(block))
            f.write(block[:n])
            left -= n
        f.write(tail)


class StreamedMultipart:
    """A multipart body of one huge file part generated on the fly (never held in memory)."""

    def __init__(self, file_size, block=MiB):
        self.file_size = file_size
        self.block = random_block(block, 7)
        self.head, self.tail = multipart_parts(file_size, self.block)
        self.length = len(self.head) + file_size + len(self.tail)

    def __iter__(self):
        yield self.head
        left = self.file_size
        while left:
            n = min(left, len(self.block))
            yield self.block if n == len(self.block) else self.block[:n]
            left -= n
        yield self.tail


# ---- scenarios --------------------------------------------------------------------------------

class Scenario:
    def __init__(self, key, title, method, path, body_file=None, content_type=None,
                 attack=False, duration=None, connections=8, only=None):
        self.key = key
        self.title = title
        self.method = method
        self.path = path
        self.body_file = body_file
        self.content_type = content_type
        self.attack = attack
        self.duration = duration
        self.connections = connections
        self.only = only            # measured on these configurations only (None: on all)
        self.expect = {}            # CRS: ModSecurity's status, found by precheck()

    def expected(self, kind):
        if kind in self.expect:
            return self.expect[kind]
        return 403 if self.attack and kind != "bare" else 200

    def runs_on(self, kind):
        return self.only is None or kind in self.only

    def headers(self):
        hdrs = list(HEADERS)
        if self.content_type:
            hdrs.append(("Content-Type", self.content_type))
        return hdrs

    def lua(self):
        """wrk script: method, headers and (from a file, read once) the body."""
        lines = ['wrk.method = "%s"' % self.method]
        for name, value in self.headers():
            lines.append('wrk.headers["%s"] = "%s"' % (name, value.replace('"', '\\"')))
        if self.body_file:
            lines += ['local f = assert(io.open("%s", "rb"))' % self.body_file,
                      "wrk.body = f:read(\"*a\")", "f:close()"]
        return "\n".join(lines) + "\n"


def write_bodies(bodies):
    """The request bodies of post2k, mp100k and mp10m (also for build/bench_rules:
    PP_BENCH_BODY=DIR/multipart-100k.bin is the mp100k request on the engine alone)."""
    (bodies / "form-2k.txt").write_bytes(urlencoded_body(2 * KiB))
    write_multipart(bodies / "multipart-100k.bin", 100 * KiB, 1)
    write_multipart(bodies / "multipart-10m.bin", 10 * MiB, 3)


def make_scenarios(tmp, args):
    bodies = tmp / "bodies"
    bodies.mkdir()
    write_bodies(bodies)
    mp = "multipart/form-data; boundary=" + BOUNDARY
    d = args.duration
    scenarios = [
        Scenario("get5", "GET, 5 arguments", "GET",
                 "/search.html?q=shoes&page=2&sort=price&lang=en&ref=home", duration=d),
        Scenario("post2k", "POST 2 KB urlencoded", "POST", "/search.html",
                 bodies / "form-2k.txt", "application/x-www-form-urlencoded", duration=d),
        Scenario("mp100k", "POST 100 KB multipart (1 file)", "POST", "/search.html",
                 bodies / "multipart-100k.bin", mp, duration=d),
        Scenario("mp10m", "POST 10 MB multipart (1 file)", "POST", "/search.html",
                 bodies / "multipart-10m.bin", mp, duration=args.duration_large),
        Scenario("attack", "GET attack (UNION SELECT, rule 300001)", "GET",
                 "/search.html?q=1+union+select+password+from+users&page=2&sort=asc&lang=en"
                 "&ref=home", attack=True, duration=d),
        # Made for backtracking (checked, not assumed: the per-request CPU is the measure):
        # 1,800 bytes of '--x' runs for CRS's comment and SQL regexes (942440's '--[^-]*?-',
        # lazy scans that restart at every '--'), after a quote and an unclosed bracket.
        Scenario("redos", "GET crafted to backtrack (CRS)", "GET",
                 "/search.html?q=%27(" + "--x" * 600 + "&page=2&sort=price&lang=en&ref=home",
                 duration=d, only=("bare", "parapet-crs", "modsec-crs")),
    ]
    for sc in scenarios:
        sc.script = tmp / ("wrk-%s.lua" % sc.key)
        sc.script.write_text(sc.lua())
    return scenarios


def send(port, method, path, headers, body=None, length=None, timeout=600):
    """One request with http.client; body is bytes, a file path or an iterable of bytes."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for name, value in headers:
            conn.putheader(name, value)
        if isinstance(body, Path):
            length = body.stat().st_size
        elif isinstance(body, bytes):
            length = len(body)
        if body is not None:
            conn.putheader("Content-Length", str(length))
        conn.endheaders()
        if isinstance(body, Path):
            with open(body, "rb") as f:
                while True:
                    piece = f.read(MiB)
                    if not piece:
                        break
                    conn.send(piece)
        elif isinstance(body, bytes):
            conn.send(body)
        elif body is not None:
            for piece in body:
                conn.send(piece)
        resp = conn.getresponse()
        resp.read()
        return resp.status
    finally:
        conn.close()


def body_attacks(scenarios):
    """Checked, not measured: the attack inside a urlencoded and a multipart body, so a WAF
    that skipped body inspection could not pass for a fast one."""
    form = next(sc for sc in scenarios if sc.key == "post2k")
    mp = next(sc for sc in scenarios if sc.key == "mp100k")
    payload = "1 union select password from users"
    head, tail = multipart_parts(16, b"x")
    mp_body = head.replace(b"Holiday photo from the coast", payload.encode()) + b"0" * 16 + tail
    return [
        (Scenario("post-attack", "POST urlencoded attack", "POST", form.path,
                  content_type=form.content_type, attack=True),
         Path(form.body_file).read_bytes() + b"&comment=" + payload.replace(" ", "+").encode()),
        (Scenario("mp-attack", "POST multipart attack", "POST", mp.path,
                  content_type=mp.content_type, attack=True), mp_body),
    ]


def precheck(servers, scenarios, excluded, attacks):
    """Every scenario once per configuration, then the body attacks. CRS configurations:
    ModSecurity's status is the expected one (at PL4 CRS refuses some benign requests, e.g. the
    form's blanks by 920273), and Parapet + CRS must give the same; one that does not is left
    out of the measurement (excluded[kind] says why) instead of being measured on different
    work."""
    checks = [(sc, Path(sc.body_file) if sc.body_file else None) for sc in scenarios]
    for sc, body in checks + attacks:
        for ms in ("modsec-crs", "modsec-crs4"):
            if ms in servers and sc.runs_on(ms):
                status = send(servers[ms].port, sc.method, sc.path, sc.headers(), body)
                if status not in (200, 403):
                    raise Abort("%s answered %d to '%s'\n%s" % (LABEL[ms], status, sc.title,
                                                               servers[ms].logs()))
                sc.expect[ms] = sc.expect["parapet" + ms[6:]] = status
        for kind in list(servers):
            if not sc.runs_on(kind) or kind in excluded:
                continue
            srv = servers[kind]
            status = send(srv.port, sc.method, sc.path, sc.headers(), body)
            if status != sc.expected(kind):
                if kind in EXTRA:
                    excluded[kind] = ("answered %d where %s answered %d to '%s'" % (
                        status, "ModSecurity" if kind in CRS_KINDS else "the rules expect",
                        sc.expected(kind), sc.title))
                    continue
                raise Abort("%s answered %d (expected %d) to '%s'; the run is invalid.\n%s" % (
                    LABEL[kind], status, sc.expected(kind), sc.title, srv.logs()))


class Abort(Exception):
    pass


# ---- wrk ------------------------------------------------------------------------------------

WRK_REQUESTS = re.compile(r"(\d+) requests in ([\d.]+)(us|ms|s|m)")
WRK_NON2XX = re.compile(r"Non-2xx or 3xx responses: (\d+)")
WRK_ERRORS = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
UNIT_S = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


def run_wrk(srv, sc, duration, client_cpu):
    cmd = ["wrk", "-t1", "-c%d" % sc.connections, "-d%ds" % duration, "--timeout", "60s",
           "-s", str(sc.script), "http://127.0.0.1:%d%s" % (srv.port, sc.path)]
    if client_cpu is not None:
        cmd = ["taskset", "-c", str(client_cpu)] + cmd
    worker = srv.worker()
    srv.reset_peak(worker)
    rss0 = status_kb(worker, "VmRSS")
    busy0, wrk0, t0 = busy_seconds(), children_cpu_seconds(), time.time()
    cpu0 = srv.cpu_seconds()
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 120)
    # In-flight requests are answered (or abandoned) once wrk closes its connections.
    time.sleep(0.2)
    cpu1 = srv.cpu_seconds()
    busy1, wrk1, t1 = busy_seconds(), children_cpu_seconds(), time.time()
    # What the rest of the machine (anything but this server and wrk) used meanwhile.
    foreign = (busy1 - busy0) - (cpu1 - cpu0) - (wrk1 - wrk0)
    foreign_share = max(0.0, foreign) / ((t1 - t0) * (os.cpu_count() or 1))
    hwm = status_kb(worker, "VmHWM")
    out = res.stdout + res.stderr
    m = WRK_REQUESTS.search(out)
    if res.returncode != 0 or not m:
        raise Abort("wrk failed on %s / %s:\n%s" % (LABEL[srv.kind], sc.title, out))
    requests = int(m.group(1))
    seconds = float(m.group(2)) * UNIT_S[m.group(3)]
    non2xx = int(WRK_NON2XX.search(out).group(1)) if WRK_NON2XX.search(out) else 0
    errs = WRK_ERRORS.search(out)
    errors = sum(int(x) for x in errs.groups()) if errs else 0
    expected_non2xx = requests if sc.expected(srv.kind) >= 300 else 0
    if requests == 0 or non2xx != expected_non2xx:
        raise Abort("%s / %s: %d of %d answers were not %d; the run is invalid.\n%s\n%s" % (
            LABEL[srv.kind], sc.title, abs(non2xx - expected_non2xx), requests,
            sc.expected(srv.kind), out, srv.logs()))
    if errors > requests // 100 + 8:
        raise Abort("%s / %s: %d socket errors in %d requests:\n%s" % (
            LABEL[srv.kind], sc.title, errors, requests, out))
    return {"rps": requests / seconds, "requests": requests, "errors": errors,
            "cpu_us": (cpu1 - cpu0) * 1e6 / requests, "rss0": rss0, "hwm": hwm,
            "foreign": foreign_share}


# ---- phases ----------------------------------------------------------------------------------

def throughput_phase(servers, scenarios, args, client_cpu, log):
    kinds = tuple(servers)
    results = {(sc.key, k): [] for sc in scenarios for k in kinds if sc.runs_on(k)}
    for kind in kinds:                                     # warm-up, not recorded
        run_wrk(servers[kind], scenarios[0], 1, client_cpu)
    for rnd in range(args.rounds):
        order = kinds[rnd % len(kinds):] + kinds[:rnd % len(kinds)]
        for sc in scenarios:
            for kind in order:
                if not sc.runs_on(kind):
                    continue
                r = run_wrk(servers[kind], sc, sc.duration, client_cpu)
                results[(sc.key, kind)].append(r)
                log("  round %d  %-7s %-8s %9.1f req/s %9.1f us CPU/req  (other load %2.0f %%)"
                    % (rnd + 1, sc.key, kind, r["rps"], r["cpu_us"], 100 * r["foreign"]))
    return results


def summarize(results, scenarios):
    rows = []
    for sc in scenarios:
        row = {"scenario": sc}
        kinds = [k for (key, k) in results if key == sc.key]
        for kind in kinds:
            runs = results[(sc.key, kind)]
            row[kind] = {"rps": statistics.median(r["rps"] for r in runs),
                         "cpu_us": statistics.median(r["cpu_us"] for r in runs),
                         "cpu_min": min(r["cpu_us"] for r in runs),
                         "cpu_max": max(r["cpu_us"] for r in runs),
                         "hwm_growth": max(r["hwm"] - r["rss0"] for r in runs),
                         "requests": sum(r["requests"] for r in runs)}
        # Ratios pair the runs of one round (measured back to back), then take the median.
        base = results[(sc.key, "bare")]
        row["ratio"] = {}
        for kind in kinds:
            if kind == "bare":
                continue
            runs = results[(sc.key, kind)]
            row["ratio"][kind] = {
                "rps": statistics.median(r["rps"] / b["rps"] for r, b in zip(runs, base)),
                "cpu": statistics.median(r["cpu_us"] / b["cpu_us"] for r, b in zip(runs, base))}
        if "parapet" in kinds and "modsec" in kinds:
            row["ratio"]["p_vs_m"] = statistics.median(
                p["cpu_us"] / m["cpu_us"]
                for p, m in zip(results[(sc.key, "parapet")], results[(sc.key, "modsec")]))
        rows.append(row)
    return rows


def memory_phase(servers, scenarios, args, log):
    """RSS of the worker before / peak during / after single large uploads."""
    mp10 = next(sc for sc in scenarios if sc.key == "mp10m")
    out = {}
    plan = [("10 MB multipart (single request, repeated 3x)", "mp10m", SERVERS)]
    if args.gigabyte:
        plan.append(("1 GiB multipart (streamed once)", "mp1g", ("bare", "parapet")))
    for title, key, kinds in plan:
        for kind in kinds:
            srv = servers[kind]
            pid = srv.worker()
            srv.reset_peak(pid)
            rss0 = status_kb(pid, "VmRSS")
            anon0 = status_kb(pid, "RssAnon")
            t0 = time.time()
            if key == "mp10m":
                for _ in range(3):
                    status = send(srv.port, "POST", mp10.path, mp10.headers(),
                                  Path(mp10.body_file))
                    if status != 200:
                        break
                nbytes = 3 * Path(mp10.body_file).stat().st_size
            else:
                body = StreamedMultipart(GiB)
                status = send(srv.port, "POST", mp10.path, mp10.headers(), iter(body),
                              length=body.length)
                nbytes = body.length
            secs = time.time() - t0
            time.sleep(0.3)
            hwm, rss1 = status_kb(pid, "VmHWM"), status_kb(pid, "VmRSS")
            anon1 = status_kb(pid, "RssAnon")
            left = srv.leftover_files()
            if status != 200:
                raise Abort("%s answered %d to the %s upload\n%s" % (LABEL[kind], status, title,
                                                                     srv.logs()))
            out[(key, kind)] = {"title": title, "rss0": rss0, "hwm": hwm, "rss1": rss1,
                                "anon0": anon0, "anon1": anon1, "secs": secs,
                                "mbps": nbytes / MiB / secs, "left": left}
            log("  %-40s %-8s RSS %d -> peak %d -> %d KiB (%.1f s) leftover files: %d" % (
                title, kind, rss0, hwm, rss1, secs, len(left)))
    return out


CG_LINE = re.compile(r"^\s*([\d,]+) \(\s*[\d.]+%\)\s+(?!=>|<)(\S+?)(?: \[(\S+)\])?\s*$")


def inclusive_costs(outfile):
    """Inclusive instructions per function from callgrind_annotate (recursion levels merged)."""
    res = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100",
                          str(outfile)], capture_output=True, text=True, timeout=300)
    costs = {}
    for line in res.stdout.splitlines():
        m = CG_LINE.match(line)
        if not m or ":" not in m.group(2):
            continue
        name = re.sub(r"'\d+$", "", m.group(2).split(":", 1)[1])
        where = m.group(2).split(":", 1)[0]
        if "/src/" in where:
            name = where[where.index("/src/") + 5:] + ":" + name
        costs[name] = max(costs.get(name, 0), int(m.group(1).replace(",", "")))
    return costs


def hotspots(full_out, zero_out, n, top=18):
    """Per-request inclusive instructions of the engine's functions: N run minus N = 0."""
    full, zero = inclusive_costs(full_out), inclusive_costs(zero_out)
    per = sorted(((full[k] - zero.get(k, 0)) / n, k) for k in full
                 if k.startswith("engine/") or k in ("apr_psprintf", "pcre2_jit_match_8"))
    return [(k, v) for v, k in reversed(per) if v > 0][:top]


def configtest_phase(servers, kinds, log, repeat=3):
    """`apache2 -t` on each configuration's file: best of `repeat`, wall and CPU time (user +
    system of the apache2 process, from this script's children's rusage)."""
    out = {}
    for kind in kinds:
        srv = servers[kind]
        best = None
        for _ in range(repeat):
            cpu0, t0 = children_cpu_seconds(), time.time()
            res = subprocess.run([APACHE_BIN, "-t", "-f", str(srv.conf)], capture_output=True,
                                 text=True, timeout=300)
            wall, cpu = time.time() - t0, children_cpu_seconds() - cpu0
            if res.returncode != 0:
                out[kind] = {"error": (res.stdout + res.stderr).strip()[-600:]}
                break
            if best is None or cpu < best["cpu"]:
                best = {"wall": wall, "cpu": cpu}
        else:
            out[kind] = best
        if "error" not in out[kind]:
            log("  apache2 -t %-12s %.3f s wall, %.3f s CPU" % (kind, best["wall"], best["cpu"]))
    return out


def callgrind_total(cmd, outfile, cwd=None):
    subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=%s" % outfile] + cmd,
                   capture_output=True, text=True, check=True, cwd=cwd, timeout=900)
    return read_callgrind_total(outfile)


def read_callgrind_total(outfile):
    total = 0
    for line in Path(outfile).read_text().splitlines():
        if line.startswith(("summary:", "totals:")):
            total = max(total, int(line.split()[1]))
    return total


def count_rules(path):
    return sum(1 for line in path.read_text().splitlines()
               if re.match(r"\s*(SecFilter|SecFilterSelective|SecRule)\s", line))


def engine_phase(tmp, args, log):
    out = {"iterations": args.cg_iterations, "rules": count_rules(RULES_19)}
    if not (BUILD / "bench_rules").exists():
        out["error"] = "build/bench_rules is missing (make build/bench_rules)"
        return out
    exe = tmp / "bench_rules"
    shutil.copy2(BUILD / "bench_rules", exe)
    full = callgrind_total([str(exe), str(RULES_19), str(args.cg_iterations)],
                           tmp / "cg-engine-n.out")
    zero = callgrind_total([str(exe), str(RULES_19), "0"], tmp / "cg-engine-0.out")
    per_req = (full - zero) / args.cg_iterations
    out.update(full=full, zero=zero, per_request=per_req, per_rule=per_req / out["rules"])
    res = subprocess.run([str(exe), str(RULES_19), "50000"], capture_output=True, text=True)
    out["native"] = res.stdout.strip()
    log("  engine: %.0f instructions/request, %.0f per rule (%d rules)" % (
        per_req, out["per_rule"], out["rules"]))
    # CRS PL1 on the engine alone: the configuration the parapet-crs instance loads (its
    # modsecurity.conf is in that instance's root), same request, N minus 0.
    crs_conf = tmp / "engine-crs.conf"
    crs_root = tmp / "parapet-crs"
    if (crs_root / "conf" / "modsecurity.conf").exists():
        crs_conf.write_text(WAF_CRS.split("\n", 1)[1].format(
            root=crs_root, setup=CRS_SETUP, rules=CRS_RULES, pl=1))
        n = max(20, args.cg_iterations // 10)
        try:
            full = callgrind_total([str(exe), str(crs_conf), str(n)], tmp / "cg-crs-n.out")
            zero = callgrind_total([str(exe), str(crs_conf), "0"], tmp / "cg-crs-0.out")
            out["crs"] = {"iterations": n, "full": full, "zero": zero,
                          "per_request": (full - zero) / n}
            if shutil.which("callgrind_annotate"):
                out["crs"]["hot"] = hotspots(tmp / "cg-crs-n.out", tmp / "cg-crs-0.out", n)
            log("  engine CRS PL1: %.0f instructions/request" % out["crs"]["per_request"])
        except subprocess.CalledProcessError as err:
            out["crs"] = {"error": "bench_rules did not load CRS: %s" % (
                (err.stderr or err.stdout or "").strip()[-600:] or err)}
    mp = tmp / "bench_multipart"
    if (BUILD / "bench_multipart").exists():
        shutil.copy2(BUILD / "bench_multipart", mp)
        try:
            res = subprocess.run([str(mp)], capture_output=True, text=True, timeout=120)
            out["multipart"] = (res.stdout + res.stderr).strip() or "(no output)"
            if res.returncode != 0:
                out["multipart"] += "\n(exit status %d)" % res.returncode
        except subprocess.TimeoutExpired:
            out["multipart"] = "(timed out after 120 s)"
    else:
        out["multipart"] = None
    return out


def apache_callgrind_phase(tmp, htdocs, args, log, kinds=SERVERS):
    """Instructions per request inside Apache (apache2 -X under callgrind), counted only in
    ap_run_process_connection, for the three configurations: the differences to bare Apache
    are the WAFs' own cost on the same request."""
    sc = Scenario("get5", "", "GET", "/search.html?q=shoes&page=2&sort=price&lang=en&ref=home")
    base = tmp / "callgrind"
    base.mkdir()
    out = {"requests": args.cg_requests}
    for kind in kinds:
        srv = Server(kind, base, None)
        srv.prepare(htdocs)
        cgout = base / ("cg-%s.out" % kind)
        # apache2 -X still switches to User before the output is written: the file must be
        # the child user's already (callgrind creates it at start-up, as root).
        cgout.touch()
        if running_as_root():
            user = pwd.getpwnam(CHILD_USER)
            os.chown(cgout, user.pw_uid, user.pw_gid)
        wrapper = ["valgrind", "--tool=callgrind", "--callgrind-out-file=%s" % cgout, "--vgdb=no",
                   "--collect-atstart=no", "--toggle-collect=ap_run_process_connection"]
        try:
            srv.start(wrapper=wrapper, extra=("-X",), timeout=600)
            conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=120)
            for _ in range(args.cg_requests):
                conn.putrequest("GET", sc.path, skip_host=True, skip_accept_encoding=True)
                for name, value in sc.headers():
                    conn.putheader(name, value)
                conn.endheaders()
                resp = conn.getresponse()
                resp.read()
                if resp.status != 200:
                    raise Abort("%s under callgrind answered %d" % (LABEL[kind], resp.status))
            conn.close()
        finally:
            srv.stop()
        out[kind] = read_callgrind_total(cgout) / args.cg_requests
        log("  apache -X callgrind %-8s %.0f instructions/request" % (kind, out[kind]))
    return out


# ---- report ------------------------------------------------------------------------------------

def sh(*cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True).stdout.strip()
    except OSError:
        return "?"


def machine():
    lscpu = sh("lscpu")
    model = re.search(r"Model name:\s*(.+)", lscpu)
    virt = re.search(r"Hypervisor vendor:\s*(.+)", lscpu)
    apache = sh(APACHE_BIN, "-v").splitlines()
    return {
        "cpu": model.group(1).strip() if model else platform.processor(),
        "cores": str(os.cpu_count()),
        "hypervisor": virt.group(1).strip() if virt else "none",
        "mem": "%.1f GiB" % (os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / GiB),
        "kernel": platform.release(),
        "os": sh("sh", "-c", ". /etc/os-release && echo $PRETTY_NAME"),
        "apache": apache[0].split(":", 1)[1].strip() if apache else "?",
        "modsec": sh("dpkg-query", "-W", "-f", "${Version}", "libapache2-mod-security2"),
        "pcre2": sh("pcre2-config", "--version"),
        "wrk": sh("dpkg-query", "-W", "-f", "${Version}", "wrk"),
        "valgrind": sh("valgrind", "--version"),
        "commit": sh("git", "-C", str(REPO), "describe", "--always", "--dirty"),
        "rules": "%s (sha256 %s…), %s (sha256 %s…)" % (
            RULES_19.name, hashlib.sha256(RULES_19.read_bytes()).hexdigest()[:12],
            RULES_2.name, hashlib.sha256(RULES_2.read_bytes()).hexdigest()[:12]),
    }


def fmt_int(x):
    return "{:,.0f}".format(x)


def throughput_table(rows):
    head = ("| scenario | req/s bare | req/s Parapet | req/s ModSec | CPU µs/req bare "
            "| CPU µs/req Parapet | CPU µs/req ModSec | Parapet req/s ÷ bare "
            "| ModSec req/s ÷ bare | Parapet CPU ÷ bare | ModSec CPU ÷ bare "
            "| Parapet CPU ÷ ModSec CPU |\n|" + "---|" * 12)
    lines = [head]
    for r in rows:
        b, p, m, q = r["bare"], r["parapet"], r["modsec"], r["ratio"]
        lines.append("| %s | %s | %s | %s | %.1f | %.1f | %.1f | %.2f | %.2f | %.2f | %.2f "
                     "| %.2f |" % (
                         r["scenario"].title, fmt_int(b["rps"]), fmt_int(p["rps"]),
                         fmt_int(m["rps"]), b["cpu_us"], p["cpu_us"], m["cpu_us"],
                         q["parapet"]["rps"], q["modsec"]["rps"], q["parapet"]["cpu"],
                         q["modsec"]["cpu"], q["p_vs_m"]))
    return "\n".join(lines)


def waf_cost_table(rows):
    lines = ["| scenario | Parapet CPU − bare (µs/req) | ModSec CPU − bare (µs/req) "
             "| spread of CPU µs/req over rounds (bare / Parapet / ModSec) |",
             "|---|---|---|---|"]
    for r in rows:
        b, p, m = r["bare"], r["parapet"], r["modsec"]
        lines.append("| %s | %.1f | %.1f | %.1f–%.1f / %.1f–%.1f / %.1f–%.1f |" % (
            r["scenario"].title, p["cpu_us"] - b["cpu_us"], m["cpu_us"] - b["cpu_us"],
            b["cpu_min"], b["cpu_max"], p["cpu_min"], p["cpu_max"], m["cpu_min"], m["cpu_max"]))
    return "\n".join(lines)


def memory_table(mem, rows):
    lines = ["| upload | server | RSS before (KiB) | peak RSS (KiB) | peak growth (KiB) "
             "| RSS after (KiB) | anon RSS before → after (KiB) | time (s) | MiB/s "
             "| files left in upload/tmp dirs |", "|" + "---|" * 10]
    for (key, kind), m in mem.items():
        lines.append("| %s | %s | %s | %s | %s | %s | %s → %s | %.2f | %.0f | %d |" % (
            m["title"], LABEL[kind], fmt_int(m["rss0"]), fmt_int(m["hwm"]),
            fmt_int(m["hwm"] - m["rss0"]), fmt_int(m["rss1"]), fmt_int(m["anon0"]),
            fmt_int(m["anon1"]), m["secs"], m["mbps"], len(m["left"])))
    mp = next(r for r in rows if r["scenario"].key == "mp10m")
    lines.append("")
    lines.append("Under load (the 10 MB wrk runs, 8 concurrent uploads), largest peak growth "
                 "of the worker over one run: bare %s KiB, Parapet %s KiB, ModSecurity %s KiB." % (
                     fmt_int(mp["bare"]["hwm_growth"]), fmt_int(mp["parapet"]["hwm_growth"]),
                     fmt_int(mp["modsec"]["hwm_growth"])))
    return "\n".join(lines)


def load_text(start, end, foreign):
    median = statistics.median(foreign)
    text = ("Other processes on the machine during the wrk runs (CPU busy time not spent by the "
            "measured Apache or wrk, as a share of all %d CPUs): median %.0f %%, maximum %.0f %%; "
            "load average %.1f at the start, %.1f at the end." % (
                os.cpu_count() or 1, 100 * median, 100 * foreign[-1], start[0], end[0]))
    if median > 0.10:
        text += (" **The machine was not quiet**: requests/s are disturbed (wrk and Apache "
                 "wait for a core), CPU per request much less so. Re-run on an idle machine for "
                 "throughput figures.")
    return text


def verdict(ok):
    return "**met**" if ok else "**not met**"


def targets(rows, mem, eng, apcg, leftovers):
    get5 = next(r for r in rows if r["scenario"].key == "get5")
    ratio = get5["ratio"]["parapet"]["rps"]
    capacity = 1 / get5["ratio"]["parapet"]["cpu"]
    lines = ["| target | measured | status |", "|---|---|---|",
             "| Parapet GET-5-args throughput ≥ 90 %% of bare Apache (wrk req/s) | %.1f %% | %s |"
             % (ratio * 100, verdict(ratio >= 0.90)),
             "| the same, as CPU-bound capacity (bare CPU/req ÷ Parapet CPU/req) | %.1f %% | %s |"
             % (capacity * 100, verdict(capacity >= 0.90))]
    worse = [r["scenario"].title for r in rows if r["ratio"]["p_vs_m"] >= 1.0]
    desc = ", ".join("%s %.2f" % (r["scenario"].key, r["ratio"]["p_vs_m"]) for r in rows)
    lines.append("| Parapet CPU/request below ModSecurity 2.9.7 (every scenario) | "
                 "Parapet ÷ ModSec: %s | %s%s |" % (
                     desc, verdict(not worse),
                     "" if not worse else " (not below in: %s)" % "; ".join(worse)))
    if "per_rule" in eng:
        lines.append("| engine instructions per rule per request vs ModSecurity's ~11,000 | "
                     "%s | %s |" % (fmt_int(eng["per_rule"]), verdict(eng["per_rule"] < 11000)))
    if apcg:
        mod = (apcg["modsec"] - apcg["bare"]) / eng["rules"]
        par = (apcg["parapet"] - apcg["bare"]) / eng["rules"]
        lines.append("| in Apache (callgrind, −bare): Parapet vs ModSecurity per rule | "
                     "Parapet %s, ModSecurity %s | %s |" % (fmt_int(par), fmt_int(mod),
                                                          verdict(par < mod)))
    # Uploads (issue 17): throughput of a large upload, CPU of a small one, the parser alone.
    mp10 = next((r for r in rows if r["scenario"].key == "mp10m"), None)
    if mp10:
        r10 = mp10["ratio"]["parapet"]["rps"]
        lines.append("| 10 MB multipart through Apache ≥ 50 %% of bare Apache's MB/s (wrk req/s) | "
                     "%.1f %% | %s |" % (r10 * 100, verdict(r10 >= 0.50)))
        # wrk's req/s moves with the load on the machine (bare Apache's more than Parapet's);
        # the CPU each request costs the server does much less, so it is shown beside it.
        c10 = 1 / mp10["ratio"]["parapet"]["cpu"]
        lines.append("| the same, as CPU-bound capacity (bare CPU/req ÷ Parapet CPU/req) | "
                     "%.1f %% | %s |" % (c10 * 100, verdict(c10 >= 0.50)))
    mp100 = next((r for r in rows if r["scenario"].key == "mp100k"), None)
    if mp100:
        over_p = mp100["parapet"]["cpu_us"] - mp100["bare"]["cpu_us"]
        over_m = mp100["modsec"]["cpu_us"] - mp100["bare"]["cpu_us"]
        share = over_p / over_m if over_m > 0 else float("inf")
        lines.append("| 100 KB multipart CPU overhead (−bare) ≤ 1/4 of ModSecurity's | "
                     "%.1f µs vs %.1f µs: %.2f | %s |" % (over_p, over_m, share,
                                                         verdict(share <= 0.25)))
    mps = re.search(r": ([0-9]+) MB/s", eng.get("multipart") or "")
    if mps:
        lines.append("| multipart parser alone ≥ 5 GB/s on a large binary file part "
                     "(bench_multipart, CPU time) | %s MB/s | %s |" % (
                         fmt_int(int(mps.group(1))), verdict(int(mps.group(1)) >= 5000)))
    left = sum(len(m["left"]) for m in mem.values()) + sum(len(v) for v in leftovers.values())
    lines.append("| no upload or spool file left behind (`SecUploadKeepFiles Off`), after every "
                 "measurement | %d files | %s |" % (left, verdict(left == 0)))
    g = mem.get(("mp1g", "parapet"))
    if g:
        growth = g["hwm"] - g["rss0"]
        lines.append("| 1 GiB multipart upload grows the worker by < 10 MB (peak RSS) | "
                     "%s KiB | %s |" % (fmt_int(growth), verdict(growth < 10 * 1000)))
    return "\n".join(lines)


def engine_text(eng, apcg):
    if "error" in eng:
        return eng["error"]
    lines = [
        "`valgrind --tool=callgrind build/bench_rules %s N` (the GET with 5 arguments and "
        "the browser headers, through the same `pp_tx_*` calls as the adapter), N = %d minus "
        "N = 0 (start-up, configuration, PCRE2 compilation):" % (RULES_19.name,
                                                                  eng["iterations"]),
        "",
        "| | instructions |", "|---|---|",
        "| total, N = %d | %s |" % (eng["iterations"], fmt_int(eng["full"])),
        "| total, N = 0 | %s |" % fmt_int(eng["zero"]),
        "| per request | %s |" % fmt_int(eng["per_request"]),
        "| per rule per request (%d rules) | %s |" % (eng["rules"], fmt_int(eng["per_rule"])),
        "",
        "Native run, no valgrind: `%s`" % eng.get("native", "?"),
    ]
    if apcg:
        lines += [
            "",
            "Inside Apache: `apache2 -X` under `valgrind --tool=callgrind --collect-atstart=no "
            "--toggle-collect=ap_run_process_connection`, %d keep-alive GET-5-args requests, "
            "total ÷ requests. The WAF's cost is the difference to bare Apache:"
            % apcg["requests"],
            "",
            "| configuration | instructions/request | − bare | per rule |", "|---|---|---|---|",
        ]
        for kind in SERVERS:
            extra = apcg[kind] - apcg["bare"]
            lines.append("| %s | %s | %s | %s |" % (
                LABEL[kind], fmt_int(apcg[kind]), "—" if kind == "bare" else fmt_int(extra),
                "—" if kind == "bare" else fmt_int(extra / eng["rules"])))
    lines += ["", "### Multipart parser (bench/engine/bench_multipart.c)", ""]
    if eng.get("multipart") is None:
        lines.append("Not built: bench/engine/bench_multipart.c is not in this tree (or did "
                     "not build; see the `make bench` output).")
    else:
        lines += ["```", eng["multipart"], "```"]
    return "\n".join(lines)


def last_error(srv, err):
    """The configuration error Apache printed (file:line: reason), else the exception."""
    text = srv.logs()
    lines = [l for l in text.splitlines() if l.strip() and "AH00" not in l[:6]]
    for line in lines:
        if "Syntax error" in line or "error" in line.lower():
            return line.strip()[:600]
    return str(err).splitlines()[0][:600]


def overhead(row, kind):
    return row[kind]["cpu_us"] - row["bare"]["cpu_us"]


def share(row, kind):
    """Parapet configuration's CPU overhead over bare ÷ its reference's (ModSecurity's)."""
    ref = overhead(row, REFERENCE[kind])
    return overhead(row, kind) / ref if ref > 0 else float("inf")


def extra_report(rows, excluded, rss_start, rss_end, ctest, eng, apcg, args):
    """Issues 13 and 15: the SecRule form and CRS, tables and targets for RESULTS.md."""
    out = {"requests": sum(r[k]["requests"] for r in rows for k in r
                           if k not in ("scenario", "ratio"))}
    kinds = [k for k in EXTRA if any(k in r for r in rows)]
    lines = ["| scenario | configuration | req/s | CPU µs/req | req/s ÷ bare | CPU − bare (µs) "
             "| reference | reference CPU − bare (µs) | overhead ÷ reference's "
             "| CPU spread over rounds (µs) |", "|" + "---|" * 10]
    for r in rows:
        for kind in kinds:
            if kind not in r:
                continue
            ref = REFERENCE.get(kind)
            lines.append("| %s | %s | %s | %.1f | %.2f | %.1f | %s | %s | %s | %.1f–%.1f |" % (
                r["scenario"].title, LABEL[kind], fmt_int(r[kind]["rps"]), r[kind]["cpu_us"],
                r["ratio"][kind]["rps"], overhead(r, kind),
                LABEL[ref] if ref and ref in r else "—",
                "%.1f" % overhead(r, ref) if ref and ref in r else "—",
                "%.3f" % share(r, kind) if ref and ref in r else "—",
                r[kind]["cpu_min"], r[kind]["cpu_max"]))
    out["extra_table"] = "\n".join(lines) if kinds else "No SecRule/CRS configuration was measured."
    if excluded:
        out["extra_table"] += "\n\nLeft out of the measurement (not faked):\n\n" + "\n".join(
            "- **%s**: %s" % (LABEL[k], v.replace("|", "\\|")) for k, v in excluded.items())

    by = {r["scenario"].key: r for r in rows}
    t = ["| target | measured | status |", "|---|---|---|"]

    def missing(kind):
        why = excluded.get(kind, "not measured")
        t.append("| %s | — | **not measured**: %s |" % (LABEL[kind], why.replace("|", "\\|")))

    if "parapet-2x" in kinds:
        g = by["get5"]
        t.append("| ms2-100 (SecRule) on Parapet: GET-5-args ≥ 90 %% of bare (wrk req/s) "
                 "| %.1f %% | %s |" % (100 * g["ratio"]["parapet-2x"]["rps"],
                                      verdict(g["ratio"]["parapet-2x"]["rps"] >= 0.90)))
        cap = 1 / g["ratio"]["parapet-2x"]["cpu"]
        t.append("| the same, as CPU-bound capacity (bare CPU/req ÷ Parapet CPU/req) | %.1f %% "
                 "| %s |" % (100 * cap, verdict(cap >= 0.90)))
        shares = [(r["scenario"].key, share(r, "parapet-2x")) for r in rows
                  if "parapet-2x" in r]
        t.append("| ms2-100 on Parapet: CPU overhead ≤ 1/10 of ModSecurity's, every workload "
                 "| %s | %s |" % (", ".join("%s %.3f" % x for x in shares),
                                  verdict(all(v <= 0.10 for _, v in shares))))
    elif args.extra:
        missing("parapet-2x")
    for p, pl in (("parapet-crs", "PL1"), ("parapet-crs4", "PL4")):
        if p not in kinds or REFERENCE[p] not in kinds:
            if args.extra:
                missing(p)
            continue
        for key, limit in (("get5", 20), ("post2k", 20), ("mp100k", 10)):
            r = by[key]
            v = share(r, p)
            t.append("| CRS %s: CPU overhead on %s ≤ 1/%d of ModSecurity's | %.1f µs vs %.1f µs: "
                     "%.3f | %s |" % (pl, r["scenario"].title, limit, overhead(r, p),
                                      overhead(r, REFERENCE[p]), v, verdict(v <= 1 / limit)))
        m = REFERENCE[p]
        if all(k in rss_end for k in (p, m, "bare")):
            gp, gm = rss_end[p] - rss_end["bare"], rss_end[m] - rss_end["bare"]
            t.append("| CRS %s: worker RSS growth over bare ≤ 1/2 of ModSecurity's (VmRSS after "
                     "all the wrk runs) | %s KiB vs %s KiB: %.2f | %s |" % (
                         pl, fmt_int(gp), fmt_int(gm), gp / gm if gm > 0 else float("inf"),
                         verdict(gm > 0 and gp <= gm / 2)))
        if p in ctest and m in ctest and "error" not in ctest[p] and "error" not in ctest[m]:
            cp, cm = ctest[p]["cpu"], ctest[m]["cpu"]
            t.append("| CRS %s: `apache2 -t` CPU time ≤ 1/2 of ModSecurity's (best of 3) "
                     "| %.3f s vs %.3f s: %.2f | %s |" % (pl, cp, cm, cp / cm, verdict(cp <= cm / 2)))
    if "redos" in by and "parapet-crs" in by["redos"]:
        rd, g = by["redos"], by["get5"]
        tot = rd["parapet-crs"]["cpu_us"] / g["parapet-crs"]["cpu_us"]
        ovr = overhead(rd, "parapet-crs") / overhead(g, "parapet-crs")
        t.append("| CRS PL1: request crafted to backtrack ≤ 10× a benign one (CPU/req, "
                 "GET-5-args) | %.1f µs vs %.1f µs: %.1f× (WAF's part alone %.1f×; "
                 "ModSecurity %.1f×) | %s |" % (
                     rd["parapet-crs"]["cpu_us"], g["parapet-crs"]["cpu_us"], tot, ovr,
                     rd["modsec-crs"]["cpu_us"] / g["modsec-crs"]["cpu_us"]
                     if "modsec-crs" in rd else float("nan"), verdict(tot <= 10)))
    out["extra_targets"] = "\n".join(t)

    n = ["| configuration | worker VmRSS after start-up (KiB) | after all the wrk runs (KiB) "
         "| − bare after the runs (KiB) | `apache2 -t` wall (s) | `apache2 -t` CPU (s) |",
         "|---|---|---|---|---|---|"]
    for kind in SERVERS + EXTRA:
        if kind not in rss_end:
            continue
        c = ctest.get(kind, {})
        n.append("| %s | %s | %s | %s | %s | %s |" % (
            LABEL[kind], fmt_int(rss_start[kind]), fmt_int(rss_end[kind]),
            "—" if kind == "bare" else fmt_int(rss_end[kind] - rss_end["bare"]),
            "%.3f" % c["wall"] if "wall" in c else c.get("error", "—"),
            "%.3f" % c["cpu"] if "cpu" in c else "—"))
    crs = eng.get("crs")
    n += ["", "Engine alone, CRS PL1 (`valgrind --tool=callgrind build/bench_rules CONF N`, the "
          "parapet-crs configuration without the LoadModule line, GET with 5 arguments, "
          "N minus N = 0): "]
    if not crs:
        n[-1] += "not run."
    elif "error" in crs:
        n[-1] += crs["error"]
    else:
        n[-1] += ("**%s instructions per request** (N = %d; start-up with CRS: %s "
                  "instructions). ModSecurity's reference figure: ~7,000,000." % (
                      fmt_int(crs["per_request"]), crs["iterations"], fmt_int(crs["zero"])))
        if crs.get("hot"):
            n += ["", "Where those instructions go (callgrind, inclusive per request, N run "
                  "minus N = 0; functions nest, so the column does not add up):", "",
                  "| function | instructions/request | share |", "|---|---|---|"]
            n += ["| `%s` | %s | %.0f %% |" % (k, fmt_int(v), 100 * v / crs["per_request"])
                  for k, v in crs["hot"]]
    if apcg:
        n += ["", "Inside Apache (`apache2 -X` under callgrind, %d GET-5-args requests, "
              "instructions per request in `ap_run_process_connection`):" % apcg["requests"], "",
              "| configuration | instructions/request | − bare |", "|---|---|---|"]
        for kind in SERVERS + EXTRA:
            if kind in apcg:
                n.append("| %s | %s | %s |" % (LABEL[kind], fmt_int(apcg[kind]),
                                               "—" if kind == "bare"
                                               else fmt_int(apcg[kind] - apcg["bare"])))
    out["extra_notes"] = "\n".join(n)
    return out


def write_results(path, ctx):
    text = string.Template(TEMPLATE.read_text()).substitute(ctx)
    path.write_text(text)


# ---- main ---------------------------------------------------------------------------------------

SCENARIO_KEYS = ("get5", "post2k", "mp100k", "mp10m", "attack", "redos")


def split_list(text):
    return tuple(x.strip() for x in text.split(",") if x.strip())


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=5, help="interleaved rounds (median reported)")
    ap.add_argument("--duration", type=int, default=3, help="seconds per wrk run")
    ap.add_argument("--duration-large", type=int, default=4,
                    help="seconds per wrk run of the 10 MB scenario")
    ap.add_argument("--cg-iterations", type=int, default=2000)
    ap.add_argument("--cg-requests", type=int, default=200,
                    help="requests per apache2 -X callgrind run (0 skips it)")
    ap.add_argument("--no-gigabyte", dest="gigabyte", action="store_false",
                    help="skip the 1 GiB streamed upload")
    ap.add_argument("--no-extra", dest="extra", action="store_false",
                    help="only bare / Parapet (1.9 rules) / ModSecurity: no SecRule form, no CRS")
    ap.add_argument("--quick", action="store_true",
                    help="smoke test: 1 round of 1 s, no 1 GiB, small callgrind runs")
    ap.add_argument("--output", type=Path, default=BENCH / "RESULTS.md")
    ap.add_argument("--scenarios", default=None,
                    help="focused run: only these scenarios (comma-separated keys: get5, post2k, "
                         "mp100k, mp10m, attack, redos); only their statuses are checked and "
                         "their throughput measured (no upload-memory or callgrind phase; the "
                         "workers' VmRSS after start-up and after the runs is printed), a table "
                         "is printed and RESULTS.md is left alone")
    ap.add_argument("--bodies", type=Path, default=None, metavar="DIR",
                    help="only write the request bodies (form-2k.txt, multipart-100k.bin, "
                         "multipart-10m.bin) into DIR, for build/bench_rules (PP_BENCH_BODY)")
    ap.add_argument("--servers", default=None,
                    help="focused run: only these configurations (comma-separated: bare, "
                         "parapet, modsec, parapet-2x, parapet-crs, modsec-crs, parapet-crs4, "
                         "modsec-crs4); bare is always added, the ratios need it")
    ap.add_argument("--smaps", type=Path, default=None,
                    help="focused run: also copy each worker's /proc/PID/smaps after start-up "
                         "and after the wrk runs into this directory (KIND-start.smaps, "
                         "KIND-end.smaps)")
    args = ap.parse_args()
    args.focused = args.scenarios is not None or args.servers is not None
    kinds = SERVERS + EXTRA
    scen = SCENARIO_KEYS if args.scenarios is None else split_list(args.scenarios)
    given = kinds if args.servers is None else split_list(args.servers)
    unknown = [k for k in scen if k not in SCENARIO_KEYS] + [k for k in given if k not in kinds]
    if unknown or not scen:
        ap.error("unknown scenario or configuration: %s" % (", ".join(unknown) or "(none)"))
    args.scenarios = scen
    # In the table's order; bare Apache always, every ratio is against it.
    args.servers = tuple(k for k in kinds if k == "bare" or k in given)
    if args.quick:
        args.rounds, args.duration, args.duration_large = 1, 1, 2
        args.gigabyte, args.cg_iterations, args.cg_requests = False, 50, 20
    return args


def focused_table(rows, kinds):
    """A focused run's summary: per scenario and configuration the medians, the spread, and the
    ratios to bare Apache of the same round."""
    lines = ["| scenario | configuration | req/s | CPU µs/req | CPU spread (µs) | req/s ÷ bare "
             "| CPU − bare (µs) | bare CPU ÷ CPU (capacity) |", "|" + "---|" * 8]
    for r in rows:
        for kind in kinds:
            if kind not in r:
                continue
            x, b = r[kind], r["bare"]
            q = r["ratio"].get(kind)
            lines.append("| %s | %s | %s | %.1f | %.1f–%.1f | %s | %s | %s |" % (
                r["scenario"].key, LABEL[kind], fmt_int(x["rps"]), x["cpu_us"], x["cpu_min"],
                x["cpu_max"], "%.2f" % q["rps"] if q else "—",
                "%.1f" % (x["cpu_us"] - b["cpu_us"]) if q else "—",
                "%.2f" % (1 / q["cpu"]) if q else "—"))
    return "\n".join(lines)


def worker_memory(servers, smaps_dir, tag, wait=0):
    """Per configuration the worker's (VmRSS, anonymous RSS) in KiB; with smaps_dir, a copy of
    its /proc/PID/smaps as KIND-TAG.smaps."""
    out = {}
    for kind, srv in servers.items():
        pid = srv.worker(wait=wait)
        out[kind] = (status_kb(pid, "VmRSS"), status_kb(pid, "RssAnon"))
        if smaps_dir is not None:
            smaps_dir.mkdir(parents=True, exist_ok=True)
            text = Path("/proc", str(pid), "smaps").read_text()
            (smaps_dir / ("%s-%s.smaps" % (kind, tag))).write_text(text)
    return out


def focused_memory_table(start, end, kinds):
    """Worker VmRSS after start-up and after the focused run's wrk runs, the growth over bare
    Apache, and each Parapet configuration's growth over its reference's (the issue-15 ratio).
    The full run measures after more scenarios (and the memory phase's uploads): the figures
    are comparable between focused runs of the same scenarios only."""
    lines = ["| configuration | VmRSS after start-up (KiB) | anon | VmRSS after the runs (KiB) "
             "| anon | − bare after the runs (KiB) | ÷ reference's |", "|" + "---|" * 7]
    for kind in kinds:
        if kind not in end:
            continue
        grow = end[kind][0] - end["bare"][0]
        ref = REFERENCE.get(kind)
        ratio = "—"
        if kind != "bare" and ref in end:
            ratio = "%.2f" % (grow / max(1, end[ref][0] - end["bare"][0]))
        lines.append("| %s | %s | %s | %s | %s | %s | %s |" % (
            LABEL[kind], fmt_int(start[kind][0]), fmt_int(start[kind][1]), fmt_int(end[kind][0]),
            fmt_int(end[kind][1]), "—" if kind == "bare" else fmt_int(grow), ratio))
    return "\n".join(lines)


def focused_run(args, tmp, htdocs, server_cpu, client_cpu, servers, log):
    """--scenarios / --servers: statuses and throughput of the chosen scenarios on the chosen
    configurations only (the body attacks are still checked on every WAF, so a WAF that
    skipped body inspection cannot pass for a fast one); prints the table, writes nothing."""
    every = make_scenarios(tmp, args)
    scenarios = [sc for sc in every if sc.key in args.scenarios]
    excluded = {}
    for kind in args.servers:
        srv = Server(kind, tmp, server_cpu)
        srv.prepare(htdocs)
        servers[kind] = srv.start()
    log("started: " + ", ".join("%s on 127.0.0.1:%d" % (k, s.port) for k, s in servers.items()))
    # Before any request, as the full run's "after start-up" column.
    rss_start = worker_memory(servers, args.smaps, "start", wait=10)
    precheck(servers, scenarios, excluded, body_attacks(every))
    if excluded:
        raise Abort("; ".join("%s %s" % (LABEL[k], why) for k, why in excluded.items()))
    log("statuses checked")
    results = throughput_phase(servers, scenarios, args, client_cpu, log)
    rows = summarize(results, scenarios)
    leftovers = {kind: srv.leftover_files() for kind, srv in servers.items()}
    foreign = sorted(r["foreign"] for runs in results.values() for r in runs)
    rss_end = worker_memory(servers, args.smaps, "end")
    print("\n" + focused_table(rows, args.servers) + "\n")
    print(focused_memory_table(rss_start, rss_end, args.servers) + "\n")
    print("%d rounds; other load on the machine: median %.0f %%, maximum %.0f %%; files left "
          "in upload/tmp dirs: %s" % (args.rounds, 100 * statistics.median(foreign),
                                      100 * foreign[-1], ", ".join(
                                          "%s %d" % (k, len(v)) for k, v in leftovers.items())))
    return 1 if any(leftovers.values()) else 0


def preflight():
    missing = [str(p) for p in (PARAPET_SO, MODSEC_SO, RULES_19, RULES_2, TEMPLATE)
               if not p.exists()]
    missing += [t for t in ("wrk", "valgrind", "taskset") if not shutil.which(t)]
    if not Path(APACHE_BIN).exists():
        missing.append(APACHE_BIN)
    if missing:
        raise Abort("missing: " + ", ".join(missing))


def main():
    args = parse_args()
    if args.bodies is not None:
        args.bodies.mkdir(parents=True, exist_ok=True)
        write_bodies(args.bodies)
        return 0
    started = time.time()

    def log(msg):
        print("[%5.0fs] %s" % (time.time() - started, msg), flush=True)

    def on_signal(signum, frame):
        raise KeyboardInterrupt()

    signal.signal(signal.SIGTERM, on_signal)
    preflight()
    cpus = os.cpu_count() or 1
    server_cpu, client_cpu = (0, 1) if cpus >= 2 else (None, None)
    tmp = Path(tempfile.mkdtemp(prefix="parapet-bench-"))
    os.chmod(tmp, 0o755)
    servers = {}
    try:
        htdocs = {"search.html": b"<html><body><p>search results</p></body></html>\n",
                  "index.html": b"<html><body>parapet bench</body></html>\n"}
        # A private copy: other work in the tree may relink build/mod_parapet.so meanwhile, and
        # the callgrind phase starts Apache again later. Every instance loads the same bytes.
        Server.module = tmp / "mod_parapet.so"
        shutil.copy2(PARAPET_SO, Server.module)
        module_sha = hashlib.sha256(Server.module.read_bytes()).hexdigest()[:12]
        if args.focused:
            return focused_run(args, tmp, htdocs, server_cpu, client_cpu, servers, log)
        scenarios = make_scenarios(tmp, args)
        excluded = {}
        for kind in SERVERS + (EXTRA if args.extra else ()):
            srv = Server(kind, tmp, server_cpu)
            srv.prepare(htdocs)
            if kind.startswith("parapet-"):
                try:
                    servers[kind] = srv.start()
                except Abort as err:
                    # Not faked: a configuration Parapet refuses is reported as refused.
                    excluded[kind] = "did not start: %s" % last_error(srv, err)
                    log("%s: %s" % (kind, excluded[kind]))
                    srv.stop()
            else:
                servers[kind] = srv.start()
        log("started: " + ", ".join("%s on 127.0.0.1:%d" % (k, s.port)
                                    for k, s in servers.items()))
        load_start = os.getloadavg()
        # Memory first, on workers that have served nothing yet: later, the allocators' free
        # lists (kept from the concurrent runs) would hide what a single upload costs.
        log("memory")
        rss_start = {k: status_kb(s.worker(wait=10), "VmRSS") for k, s in servers.items()}
        mem = memory_phase(servers, scenarios, args, log)
        precheck(servers, scenarios, excluded, body_attacks(scenarios))
        for kind in excluded:
            if kind in servers:
                log("%s left out: %s" % (kind, excluded[kind]))
                servers.pop(kind).stop()
        log("statuses checked (200 benign everywhere, 403 on attacks from both WAFs)")
        results = throughput_phase(servers, scenarios, args, client_cpu, log)
        rows = summarize(results, scenarios)
        leftovers = {kind: srv.leftover_files() for kind, srv in servers.items()}
        rss_end = {k: status_kb(s.worker(), "VmRSS") for k, s in servers.items()}
        load_end = os.getloadavg()
        foreign = sorted(r["foreign"] for runs in results.values() for r in runs)
        for srv in servers.values():
            srv.stop()
        ctest = configtest_phase(servers, [k for k in ("bare",) + CRS_KINDS if k in servers],
                                 log)
        cg_kinds = [k for k in SERVERS + ("parapet-2x", "parapet-crs", "modsec-crs")
                    if k in servers]
        servers = {}
        log("callgrind")
        eng = engine_phase(tmp, args, log)
        apcg = (apache_callgrind_phase(tmp, htdocs, args, log, cg_kinds)
                if args.cg_requests else None)
        elapsed = time.time() - started
        m = machine()
        m["commit"] += ", mod_parapet.so sha256 %s…" % module_sha
        base_rows = [r for r in rows if r["scenario"].only is None]
        extra = extra_report(rows, excluded, rss_start, rss_end, ctest, eng, apcg, args)
        rows = base_rows
        table = throughput_table(rows)
        print("\n" + table + "\n")
        print(targets(rows, mem, eng, apcg, leftovers) + "\n")
        print(extra["extra_targets"] + "\n")
        ctx = dict(m)
        ctx.update(extra)
        ctx.update(
            command=" ".join(["make bench  (bench/run.sh → python3 bench/http/bench.py"]
                             + sys.argv[1:]) + ")",
            page_bytes=len(htdocs["search.html"]),
            date=time.strftime("%Y-%m-%d %H:%M %Z"),
            elapsed="%.0f" % elapsed,
            rounds=args.rounds, duration=args.duration, duration_large=args.duration_large,
            pinning=("Apache on CPU %s, wrk on CPU %s (taskset)" % (server_cpu, client_cpu)
                     if server_cpu is not None else "none (one CPU)"),
            table=table, waf_cost=waf_cost_table(rows), memory=memory_table(mem, rows),
            targets=targets(rows, mem, eng, apcg, leftovers), engine=engine_text(eng, apcg),
            requests=fmt_int(extra["requests"]),
            load=load_text(load_start, load_end, foreign),
            leftovers=", ".join("%s %d" % (LABEL[k], len(v)) for k, v in leftovers.items()),
        )
        write_results(args.output, ctx)
        log("wrote %s" % args.output)
    except Abort as err:
        print("bench: ABORTED: %s" % err, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        return 130
    finally:
        for srv in servers.values():
            srv.stop()
        if os.environ.get("PARAPET_BENCH_KEEP"):
            print("bench: kept %s" % tmp, file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
