"""@validateDTD and @validateSchema against ModSecurity 2.9.7: XML bodies (ctl:requestBodyProcessor
=XML) that conform, that do not, and a request without an XML body (no document: no match on
both), through a real Apache with each module and the same DTD and schema files."""
import os
import shutil
import tempfile
import time

from harness import MODSEC_SO, Apache, Skip

DTD = """<!ELEMENT note (to,body)>
<!ELEMENT to (#PCDATA)>
<!ELEMENT body (#PCDATA)>
<!ATTLIST note id CDATA #IMPLIED>
"""
XSD = """<?xml version="1.0"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
  <xs:element name="note">
    <xs:complexType>
      <xs:sequence>
        <xs:element name="to" type="xs:string"/>
        <xs:element name="body" type="xs:string"/>
      </xs:sequence>
      <xs:attribute name="id" type="xs:integer"/>
    </xs:complexType>
  </xs:element>
</xs:schema>
"""
BODIES = [
    "<note><to>a</to><body>b</body></note>",
    "<note id=\"7\"><to>a</to><body>b</body></note>",
    "<note id=\"x\"><to>a</to><body>b</body></note>",
    "<note><to>a</to></note>",
    "<note><to>a</to><body>b</body><extra/></note>",
    "<other/>",
    "<note><body>b</body><to>a</to></note>",
]


def run(load_parapet, tmp, which):
    rules = ('SecRule REQUEST_HEADERS:Content-Type "^text/xml" '
             '"id:5000,phase:1,pass,nolog,ctl:requestBodyProcessor=XML"\n'
             'SecRule XML "@%s %s" "id:5001,phase:2,deny,status:403,log"\n'
             % (which, os.path.join(tmp, "note.dtd" if which == "validateDTD" else "note.xsd")))
    base = "SecRuleEngine On\nSecRequestBodyAccess On\n"
    if load_parapet:
        snippet = base + rules
    else:
        # ModSecurity reads the DTD/schema per request through libxml2's entity loader, which
        # SecXmlExternalEntity Off (its default) blocks: the operators only work with it On.
        snippet = ("LoadModule security2_module %s\nSecXmlExternalEntity On\n" % MODSEC_SO + base +
                   "SecDataDir @ROOT@/data\nSecTmpDir @ROOT@/data\n" + rules)
    srv = Apache(snippet=snippet, load_parapet=load_parapet,
                 name="ms2xmlv-" + ("parapet" if load_parapet else "modsec"))
    srv.start()
    try:
        got = [srv.request("POST", "/index.html", body=b.encode(),
                           headers={"Content-Type": "text/xml"}).status for b in BODIES]
        got.append(srv.request("POST", "/index.html", body=b"a=1",
                               headers={"Content-Type": "application/x-www-form-urlencoded"}).status)
        time.sleep(0.3)
        log = srv.error_log()
    finally:
        srv.stop()
    return got, log


def test_xml_validation_matches_modsecurity():
    if not os.path.exists(MODSEC_SO):
        raise Skip("libapache2-mod-security2 is not installed")
    tmp = tempfile.mkdtemp(prefix="parapet-xmlv-")
    try:
        os.chmod(tmp, 0o755)
        for name, text in (("note.dtd", DTD), ("note.xsd", XSD)):
            with open(os.path.join(tmp, name), "w") as f:
                f.write(text)
            os.chmod(os.path.join(tmp, name), 0o644)
        for which, want in (("validateDTD", [200, 200, 200, 403, 403, 403, 403, 200]),
                            ("validateSchema", [200, 200, 403, 403, 403, 403, 403, 200])):
            theirs, ms_log = run(False, tmp, which)
            ours, pp_log = run(True, tmp, which)
            assert theirs == want, "%s: modsecurity %r\n%s" % (which, theirs, ms_log[-2000:])
            assert ours == theirs, "%s: parapet %r, modsecurity %r\n%s" % (which, ours, theirs,
                                                                           pp_log[-2000:])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_xml_schema_from_the_network_is_refused():
    """A schema that imports another by URL stops start-up (file:line and why): Parapet never
    reads schemas or DTDs from the network. A missing DTD stops it too."""
    import subprocess
    from harness import REPO
    tmp = tempfile.mkdtemp(prefix="parapet-xmlv-")
    try:
        xsd = os.path.join(tmp, "remote.xsd")
        with open(xsd, "w") as f:
            f.write('<?xml version="1.0"?>\n<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">'
                    '<xs:import namespace="urn:x" schemaLocation="http://schemas.example/x.xsd"/>'
                    '</xs:schema>\n')
        for arg, why in (("@validateSchema %s" % xsd, "never reads schemas from the network"),
                         ("@validateDTD %s/missing.dtd" % tmp, "Failed to load DTD")):
            conf = os.path.join(tmp, "x.conf")
            with open(conf, "w") as f:
                f.write('SecRuleEngine On\nSecRule XML "%s" "id:1,phase:2,deny"\n' % arg)
            p = subprocess.run([str(REPO / "build" / "parapet"), "check", conf],
                               capture_output=True, text=True, timeout=30)
            out = p.stdout + p.stderr
            assert p.returncode != 0 and "%s:2:" % conf in out and why in out, (arg, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
