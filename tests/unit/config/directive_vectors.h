/*
 * Vectors for the directive registry (config/directives.def), one or more per row:
 * test_directives.c applies each and test_registry.c fails when a row has none (style §9).
 * error NULL: accepted, and when value is given the directive's slot then reads as value (an
 * integer slot printed in decimal, a string slot as is); otherwise the message must contain
 * error.
 */
#ifndef PP_DIRECTIVE_VECTORS_H
#define PP_DIRECTIVE_VECTORS_H

typedef struct directive_vector_t {
    const char *name, *args;
    const char *error; /* NULL: accepted */
    const char *value; /* the slot afterwards (accepted vectors of slot directives), or NULL */
} directive_vector_t;

/* clang-format off */
static const directive_vector_t directive_vectors[] = {
    { "SecArgumentsLimit", "1000", NULL, "1000" },
    { "SecArgumentsLimit", "0", "SecArgumentsLimit: \"0\" is not a number from 1 to 2147483647", NULL },
    { "SecAuditEngine", "RelevantOnly", NULL, "2" },
    { "SecAuditEngine", "DynamicOrRelevant", NULL, "3" },
    { "SecAuditEngine", "Sometimes", "SecAuditEngine: \"Sometimes\" is not one of", NULL },
    { "SecAuditLog", "/tmp/parapet-unit-audit.log", NULL, "/tmp/parapet-unit-audit.log" },
    { "SecAuditLog", "|/bin/cat", NULL, "|/bin/cat" },
    { "SecAuditLog", "/nonexistent/dir/audit.log", "SecAuditLog: directory of \"/nonexistent/dir/audit.log\" does not exist", NULL },
    { "SecAuditLogFormat", "JSON", NULL, "1" },
    { "SecAuditLogFormat", "XML", "SecAuditLogFormat: \"XML\" is not one of", NULL },
    { "SecAuditLogParts", "ABCZ", NULL, "ABCZ" },
    { "SecAuditLogParts", "ABQ", "SecAuditLogParts: \"Q\" is not an audit part (ABCEFHZ)", NULL },
    { "SecAuditLogRelevantStatus", "^[45]", NULL, "^[45]" },
    { "SecAuditLogRelevantStatus", "^(5", "SecAuditLogRelevantStatus: invalid regular expression \"^(5\"", NULL },
    { "SecAuditLogStorageDir", "/tmp", NULL, "/tmp" },
    { "SecAuditLogStorageDir", "/nonexistent/dir", "SecAuditLogStorageDir: directory \"/nonexistent/dir\" does not exist", NULL },
    { "SecAuditLogStorageDir", "/dev/null", "SecAuditLogStorageDir: \"/dev/null\" is not a directory", NULL },
    { "SecAuditLogType", "Concurrent", NULL, "1" },
    { "SecAuditLogType", "Parallel", "SecAuditLogType: \"Parallel\" is not one of", NULL },
    { "SecCharset", "UTF-8", NULL, "UTF-8" },
    { "SecCharset", "a b", "SecCharset takes 1 argument", NULL },
    { "SecChrootDir", "/", NULL, "/" },
    { "SecChrootDir", "/nonexistent/dir", "does not exist", NULL },
    { "SecChrootLock", "/tmp/lock", NULL, "/tmp/lock" },
    { "SecFilter", "\"(bad\"", "SecFilter: invalid regular expression \"(bad\": missing closing parenthesis at offset 4", NULL },
    { "SecFilter", "\"unterminated", "SecFilter: unterminated \" quote", NULL },
    { "SecFilter", "union.+select \"deny,status:406\"", NULL, NULL },
    { "SecFilterActionsRestricted", "On", NULL, NULL },
    { "SecFilterActionsRestricted", "1", "SecFilterActionsRestricted: \"1\" is not On or Off", NULL },
    { "SecFilterCheckCookieFormat", "On", NULL, "1" },
    { "SecFilterCheckUnicodeEncoding", "off", NULL, "0" },
    { "SecFilterCheckUnicodeEncoding", "", "SecFilterCheckUnicodeEncoding takes 1 argument", NULL },
    { "SecFilterCheckURLEncoding", "On", NULL, "1" },
    { "SecFilterCookieFormat", "1", NULL, "1" },
    { "SecFilterCookieFormat", "2", "SecFilterCookieFormat: \"2\" is not a number from 0 to 1", NULL },
    { "SecFilterDebugLevel", "9", NULL, "9" },
    { "SecFilterDebugLevel", "10", "SecFilterDebugLevel: \"10\" is not a number from 0 to 9", NULL },
    { "SecFilterDebugLevel", "-1", "SecFilterDebugLevel: \"-1\" is not a number from 0 to 9", NULL },
    { "SecFilterDebugLog", "/dev/null", NULL, "/dev/null" },
    { "SecFilterDebugLog", "/nonexistent/dir/debug.log", "SecFilterDebugLog: cannot open \"/nonexistent/dir/debug.log\"", NULL },
    { "SecFilterDefaultAction", "\"deny,log,status:500\"", NULL, NULL },
    { "SecFilterDefaultAction", "\"deny,chain\"", "SecFilterDefaultAction: chain and skipnext cannot be default actions", NULL },
    { "SecFilterEngine", "On", NULL, "1" },
    { "SecFilterEngine", "dynamiconly", NULL, "2" },
    { "SecFilterEngine", "Maybe", "SecFilterEngine: \"Maybe\" is not one of Off, On or DynamicOnly", NULL },
    { "SecFilterEngine", "On Off", "SecFilterEngine takes 1 argument (On, Off or DynamicOnly), 2 given", NULL },
    { "SecFilterForceByteRange", "1 255", NULL, NULL },
    { "SecFilterForceByteRange", "200 100", "SecFilterForceByteRange: \"200 100\" is not a byte range (0-255, MIN <= MAX)", NULL },
    { "SecFilterForceByteRange", "0 256", "is not a byte range", NULL },
    { "SecFilterImport", "1001 1002", NULL, NULL },
    { "SecFilterInheritance", "Off", NULL, "0" },
    { "SecFilterInheritanceMandatory", "On", NULL, NULL },
    { "SecFilterInheritanceMandatory", "Yes", "SecFilterInheritanceMandatory: \"Yes\" is not On or Off", NULL },
    { "SecFilterNormalizeCookies", "On", NULL, "1" },
    { "SecFilterOutputMimeTypes", "\"text/html text/plain (null)\"", NULL, NULL },
    { "SecFilterRegexLimitFailOpen", "On", NULL, "1" },
    { "SecFilterRemove", "1001", NULL, NULL },
    { "SecFilterScanOutput", "On", NULL, "1" },
    { "SecFilterScanPOST", "On", NULL, "1" },
    { "SecFilterScanPOST", "yes", "SecFilterScanPOST: \"yes\" is not On or Off", NULL },
    { "SecFilterSelective", "\"ARG_a|HEADER_Host\" ^x$ \"id:7,pass\"", NULL, NULL },
    { "SecFilterSelective", "ARGS \"x\" \"deny,status:abc\"", "SecFilterSelective: action \"status\": \"abc\" is not an HTTP status (100-599)", NULL },
    { "SecFilterSelective", "NO_SUCH_VAR x", "NO_SUCH_VAR", NULL },
    { "SecFilterSignatureAction", "\"log,msg:'sig'\"", NULL, NULL },
    { "SecFilterSignatureAction", "\"log,bogus\"", "unknown action \"bogus\"", NULL },
    { "SecGuardianLog", "|/bin/cat", NULL, "|/bin/cat" },
    { "SecOutputInMemoryLimit", "1048576", NULL, "1048576" },
    { "SecOutputInMemoryLimit", "1M", "SecOutputInMemoryLimit: \"1M\" is not a number of bytes", NULL },
    { "SecPcreMatchLimit", "1000", NULL, "1000" },
    { "SecPcreMatchLimit", "-1", "SecPcreMatchLimit: \"-1\" is not a number from 1 to 2147483647", NULL },
    { "SecPcreMatchLimitRecursion", "1000", NULL, "1000" },
    { "SecPcreMatchLimitRecursion", "x", "is not a number from 1 to", NULL },
    { "SecRequestBodyNoFilesLimit", "1048576", NULL, "1048576" },
    { "SecRequestBodyNoFilesLimit", "1M", "SecRequestBodyNoFilesLimit: \"1M\" is not a number of bytes", NULL },
    { "SecRuleEvalTimeLimit", "0", NULL, "0" },
    { "SecRuleEvalTimeLimit", "3600001", "SecRuleEvalTimeLimit: \"3600001\" is not a number from 0 to 3600000", NULL },
    { "SecServerResponseToken", "On", NULL, "1" },
    { "SecServerSignature", "\"Microsoft-IIS/5.0\"", NULL, "Microsoft-IIS/5.0" },
    { "SecUploadApproveScript", "/bin/true", NULL, "/bin/true" },
    { "SecUploadApproveScript", "relative/script", "SecUploadApproveScript: relative/script is not an absolute path", NULL },
    { "SecUploadApproveScript", "/etc/passwd", "SecUploadApproveScript: /etc/passwd is not executable", NULL },
    { "SecUploadApproveTimeout", "3600", NULL, "3600" },
    { "SecUploadApproveTimeout", "0", "SecUploadApproveTimeout: \"0\" is not a number from 1 to 3600", NULL },
    { "SecUploadDir", "/tmp", NULL, "/tmp" },
    { "SecUploadDir", "/nonexistent/dir", "SecUploadDir", NULL },
    { "SecUploadInMemoryLimit", "125000", NULL, "125000" },
    { "SecUploadInMemoryLimit", "60k", "SecUploadInMemoryLimit: \"60k\" is not a number of bytes", NULL },
    { "SecUploadKeepFiles", "RelevantOnly", NULL, "2" },
    { "SecUploadKeepFiles", "Always", "SecUploadKeepFiles: \"Always\" is not one of", NULL },
    { "SecUploadScanClamd", "unix:/run/clamav/clamd.ctl", NULL, "unix:/run/clamav/clamd.ctl" },
    { "SecUploadScanClamd", "ftp:x", "SecUploadScanClamd", NULL },
    { "SecUploadScanClamdFailOpen", "On", NULL, "1" },
};
/* clang-format on */

#endif
