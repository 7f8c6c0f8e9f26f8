# Flattens a JSON document into lines "path<TAB>value" (path of keys joined by '.', array items as
# [i]), so shell code can look up fields with grep/awk and no jq. Strings are unescaped for the
# common cases; malformed JSON stops with an error naming the file.
function skip_ws() { while (pos <= len && substr(s, pos, 1) ~ /[ \t\r\n]/) pos++ }
function fail(msg) { printf "make-figures: error: %s: malformed JSON (%s at character %d)\n", FILENAME, msg, pos > "/dev/stderr"; bad = 1; exit 1 }
function parse_string(    out, c) {
    out = ""; pos++                                   # opening quote
    while (pos <= len) {
        c = substr(s, pos, 1)
        if (c == "\\") {
            c = substr(s, pos + 1, 1); pos += 2
            if (c == "n" || c == "t" || c == "r") out = out " "
            else if (c == "u") { out = out "?"; pos += 4 }
            else out = out c
            continue
        }
        pos++
        if (c == "\"") return out
        out = out c
    }
    fail("unterminated string")
}
function parse_value(path,    c, key, i, start) {
    skip_ws(); c = substr(s, pos, 1)
    if (c == "{") {
        pos++; skip_ws()
        if (substr(s, pos, 1) == "}") { pos++; return }
        while (1) {
            skip_ws()
            if (substr(s, pos, 1) != "\"") fail("expected a key")
            key = parse_string(); skip_ws()
            if (substr(s, pos, 1) != ":") fail("expected ':'")
            pos++
            parse_value(path == "" ? key : path "." key)
            skip_ws(); c = substr(s, pos, 1); pos++
            if (c == "}") return
            if (c != ",") fail("expected ',' or '}'")
        }
    } else if (c == "[") {
        pos++; skip_ws(); i = 0
        if (substr(s, pos, 1) == "]") { pos++; return }
        while (1) {
            parse_value(path "[" i++ "]")
            skip_ws(); c = substr(s, pos, 1); pos++
            if (c == "]") return
            if (c != ",") fail("expected ',' or ']'")
        }
    } else if (c == "\"") {
        print path "\t" parse_string()
    } else {
        start = pos
        while (pos <= len && substr(s, pos, 1) !~ /[,}\] \t\r\n]/) pos++
        if (pos == start) fail("expected a value")
        print path "\t" substr(s, start, pos - start)
    }
}
{ s = s $0 "\n" }
END {
    if (bad) exit 1
    len = length(s); pos = 1
    skip_ws()
    if (pos > len) { printf "make-figures: error: %s: empty JSON file\n", FILENAME > "/dev/stderr"; exit 1 }
    parse_value("")
    skip_ws()
    if (pos <= len) fail("trailing text")
}
