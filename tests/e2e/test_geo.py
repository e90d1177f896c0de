"""@geoLookup and GEO over a MaxMind database the test writes itself (tests/e2e/mmdb.py; nothing
is downloaded), through `parapet eval` (the engine with the adapter's calls). Not differential:
Debian's mod_security2 2.9.7 is built without libmaxminddb and reads only legacy GeoIP .dat
files (docs/operators.md)."""
import json
import subprocess
import tempfile
from pathlib import Path

import mmdb

PARAPET = Path(__file__).resolve().parents[2] / "build" / "parapet"
MEMBERS = ("COUNTRY_CODE", "COUNTRY_CODE3", "COUNTRY_NAME", "COUNTRY_CONTINENT", "REGION", "CITY",
           "POSTAL_CODE", "LATITUDE", "LONGITUDE", "DMA_CODE", "AREA_CODE")
NETWORKS = [
    ("192.0.2.0/24", mmdb.city("FR", "France", "EU", "IDF", "Paris", "75001", 48.8566, 2.3522)),
    ("2001:db8::/32", mmdb.city("US", "United States", "NA", "CA", "Los Angeles", "90001",
                                34.05, -118.24, 803)),
    ("198.51.100.7/32", mmdb.city("BR", "Brazil", "SA", None, None, None, -10, -55)),
]


def expect(cond, message):
    if not cond:
        raise AssertionError(message)


def evaluate(d, conf_text, query):
    conf = Path(d) / "rules" / "geo.conf"
    conf.parent.mkdir(exist_ok=True)
    conf.write_text(conf_text)
    req = Path(d) / "r.http"
    req.write_text("GET /?%s HTTP/1.1\r\nHost: x\r\n\r\n" % query)
    p = subprocess.run([str(PARAPET), "eval", "-c", str(conf), str(req)], capture_output=True,
                       text=True, timeout=30)
    expect(p.returncode in (0, 1), "eval %s: rc %d %s" % (query, p.returncode, p.stderr))
    return json.loads(p.stdout)


GEO_RULES = """SecRuleEngine On
SecGeoLookupDb ../geo.mmdb
SecRule ARGS:ip "@geoLookup" "id:1,phase:1,pass,log,msg:'geo %s'"
SecRule &GEO "@eq 0" "id:2,phase:1,pass,log,msg:'GEO empty'"
""" % "|".join("%%{GEO.%s}" % m for m in MEMBERS)


def test_geolookup_fills_geo_from_a_maxmind_database():
    with tempfile.TemporaryDirectory(prefix="parapet-geo-") as d:
        (Path(d) / "geo.mmdb").write_bytes(mmdb.build(NETWORKS))
        cases = {
            "ip=192.0.2.9": "geo FR||France|EU|IDF|Paris|75001|48.856600|2.352200|0|0",
            "ip=2001:db8::5": "geo US||United States|NA|CA|Los Angeles|90001|34.050000|-118.240000|803|0",
            "ip=2001:DB8:0:0:0:0:0:1": "geo US||United States|NA|CA|Los Angeles|90001|34.050000|-118.240000|803|0",
            "ip=198.51.100.7": "geo BR||Brazil|SA||||-10.000000|-55.000000|0|0",
            "ip=198.51.100.8": None,     # not in the database
            "ip=10.0.0.1": None,
            "ip=localhost": None,        # a host name: no DNS query, a failed lookup
            "ip=192.0.2.9x": None,
            "ip=": None,
            "ip=%00192.0.2.9": None,
        }
        for query, want in cases.items():
            v = evaluate(d, GEO_RULES, query)
            msgs = {m["id"]: m["msg"] for m in v["matched"]}
            if want is None:
                expect("1" not in msgs and msgs.get("2") == "GEO empty",
                       "%s: expected a failed lookup, got %s" % (query, v["matched"]))
            else:
                expect(msgs.get("1") == want and "2" not in msgs,
                       "%s: expected %r, got %s" % (query, want, v["matched"]))
        # A later failed lookup empties GEO again (ModSecurity clears its table).
        v = evaluate(d, GEO_RULES, "ip=192.0.2.9&ip=10.0.0.1")
        ids = [m["id"] for m in v["matched"]]
        expect("1" in ids and "2" in ids, "found then not found: %s" % v["matched"])


CRS_910100 = """SecRuleEngine On
SecGeoLookupDb %s
SecAction "id:900,phase:1,pass,nolog,setvar:'tx.high_risk_country_codes=BR FR'"
SecRule ARGS:ip "@geoLookup" "id:910100,phase:1,deny,status:403,log,msg:'Client IP is from a HIGH Risk Country Location',chain"
    SecRule GEO:COUNTRY_CODE "@within %%{tx.high_risk_country_codes}" "setvar:'tx.blocked=1'"
"""


def test_crs_910100_blocks_high_risk_countries():
    """CRS 3.3.4's 910100 chain (REQUEST-910-IP-REPUTATION.conf:79) with the database: an
    address in a listed country is refused, others pass."""
    with tempfile.TemporaryDirectory(prefix="parapet-geo-") as d:
        db = Path(d) / "geo.mmdb"
        db.write_bytes(mmdb.build(NETWORKS))
        conf = CRS_910100 % db
        for query, status in (("ip=192.0.2.1", 403), ("ip=198.51.100.7", 403),
                              ("ip=2001:db8::1", 200), ("ip=203.0.113.1", 200)):
            v = evaluate(d, conf, query)
            expect(v["status"] == status, "%s: status %d, expected %d (%s)"
                   % (query, v["status"], status, v["matched"]))


def test_geo_database_errors_stop_start_up():
    with tempfile.TemporaryDirectory(prefix="parapet-geo-") as d:
        bad = Path(d) / "bad.mmdb"
        bad.write_bytes(b"not a maxmind database\n" * 10)
        for name, reason in (("missing.mmdb", "cannot open the GeoIP database"),
                             ("bad.mmdb", "cannot open the GeoIP database")):
            conf = Path(d) / "g.conf"
            conf.write_text("SecRuleEngine On\nSecGeoLookupDb %s\n" % name)
            p = subprocess.run([str(PARAPET), "check", str(conf)], capture_output=True,
                               text=True, timeout=30)
            out = p.stdout + p.stderr
            expect(p.returncode != 0 and "%s:2:" % conf in out and reason in out
                   and str(Path(d) / name) in out,
                   "SecGeoLookupDb %s: rc %d %s" % (name, p.returncode, out))
