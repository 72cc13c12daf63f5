#!/usr/bin/env bash
# GET /api, the OpenAPI 3.0 document of the whole HTTP API, from the real `kadastr serve` on a
# sample register: its content type, servers[0].url the server's base URL, the same document
# as data/openapi.json otherwise, f=json, 406 for another f, 400 for another parameter, 304 on
# its ETag; @redocly/cli 1.x (scripts/redocly.sh) lints it with the recommended rules and no
# warning. Then document and code are held to each other both ways (check_openapi.py below):
# every path of the document, filled with real values of the sample, answers 200 with a
# content type and a body that the document declares (an undeclared property is an error);
# every query parameter it declares is known to the route; and the routes, parameters,
# collections and queryables the server has (lists kept here, read off ogc.c, ogc_items.c and
# api.c by hand) are all in the document.
set -e
. "$(dirname "$0")/lib.sh"

sq() { sqlite3 -batch -noheader "$@"; }

"$KADASTR" sample db --parcels 300 >/dev/null
start_server db
TYPE="application/vnd.oai.openapi+json;version=3.0"

# ---- the document as served ----------------------------------------------------------------
run curl -sS -D api.headers -o api.json -w '%{http_code} %{content_type}' "$BASE/api"
expect_eq "GET /api" "200 $TYPE" "$out"
expect_contains "X-Request-Id" "X-Request-Id: " "$(cat api.headers)"
expect_eq "servers[0].url is the base URL" "$BASE" "$(jget "$(cat api.json)" servers.0.url)"
expect_eq "OpenAPI 3.0.3" "3.0.3" "$(jget "$(cat api.json)" openapi)"
run python3 -c 'import json, sys
a = json.load(open(sys.argv[1])); b = json.load(open(sys.argv[2]))
b["servers"][0]["url"] = a["servers"][0]["url"]
print(a == b)' api.json "$KD_SOURCE_DIR/data/openapi.json"
expect_eq "the document is data/openapi.json" "True" "$out"
run curl -sS -o f.json -w '%{http_code} %{content_type}' "$BASE/api?f=json"
expect_eq "GET /api?f=json" "200 $TYPE" "$out"
if cmp -s api.json f.json; then ok; else fail "?f=json answers another document"; fi
run curl -sS -o yaml.json -w '%{http_code} %{content_type}' -H 'Accept-Language: ru' "$BASE/api?f=yaml"
expect_eq "GET /api?f=yaml" "406 application/problem+json" "$out"
expect_eq "406 names f" "f" "$(jget "$(cat yaml.json)" parameter)"
expect_eq "406 type" "$BASE/problems/http/not_acceptable" "$(jget "$(cat yaml.json)" type)"
run curl -sS -o bad.json -w '%{http_code}' "$BASE/api?format=json"
expect_eq "GET /api?format=json" "400" "$out"
expect_eq "400 unknown parameter" "format" "$(jget "$(cat bad.json)" parameter)"
run curl -sS -I -o /dev/null -w '%{http_code} %{content_type}' "$BASE/api"
expect_eq "HEAD /api" "200 $TYPE" "$out"
etag=$(sed -n 's/^ETag: *//Ip' api.headers | tr -d '\r')
run curl -sS -o /dev/null -w '%{http_code}' -H "If-None-Match: $etag" "$BASE/api"
expect_eq "If-None-Match gets 304" "304" "$out"
run curl -sS "$BASE/"
expect_eq "the landing page's service-desc" "$BASE/api $TYPE" "$(python3 -c 'import json, sys
l = [x for x in json.loads(sys.argv[1])["links"] if x["rel"] == "service-desc"][0]
print(l["href"], l["type"])' "$out")"

# ---- @redocly/cli lints the document as served ------------------------------------------------
run bash "$KD_SOURCE_DIR/scripts/redocly.sh" lint --extends recommended api.json
expect_eq "redocly lint exit" 0 "$rc"
expect_contains "redocly: valid" "Your API description is valid" "$out$err"
case "$out$err" in
  *arning*) fail "redocly warns: $out$err" ;;
  *) ok ;;
esac

# ---- the document against the code, both ways ------------------------------------------------
NUM=$(sq db "SELECT number FROM parcels WHERE valid_to IS NULL ORDER BY id LIMIT 1")
cat >ids.json <<EOF
{"parcels": "$NUM",
 "zones": "$(sq db "SELECT id FROM zones WHERE valid_to IS NULL ORDER BY id LIMIT 1")",
 "restrictions": "$(sq db "SELECT id FROM restrictions WHERE valid_to IS NULL ORDER BY id LIMIT 1")",
 "admin_units": "$(sq db "SELECT id FROM admin_units WHERE valid_to IS NULL ORDER BY id LIMIT 1")"}
EOF
cat >check_openapi.py <<'EOF'
import http.client, json, re, sys, urllib.parse

base, doc_path, ids_path = sys.argv[1:4]
doc = json.load(open(doc_path))
ids = json.load(open(ids_path))
host = urllib.parse.urlsplit(base)
failures = checks = 0

def fail(msg):
    global failures
    failures += 1
    print("FAIL:", msg)

def ok():
    global checks
    checks += 1

def get(target):
    c = http.client.HTTPConnection(host.hostname, host.port, timeout=30)
    c.request("GET", target)
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, r.getheader("Content-Type"), body

def deref(s):
    while "$ref" in s:
        s = doc["components"][s["$ref"].split("/")[2]][s["$ref"].split("/")[3]]
    return s

# What the server has, read off the code by hand: the routes (ogc.c kd_ogc_route, api.c
# kd_api_route) and the query parameters each takes (kd_req_check_args lists).
QUERYABLES = {"parcels": ["cadastral_number", "land_category", "land_use"],
              "zones": ["code", "kind"], "restrictions": ["code", "kind"],
              "admin_units": ["code", "level", "parent_code"]}
ITEMS = ["bbox", "bbox-crs", "crs", "limit", "offset", "datetime"]
ROUTES = {
    "/": [], "/api": ["f"], "/conformance": [], "/collections": [],
    "/collections/{collectionId}": [],
    "/collections/{collectionId}/items": ITEMS + sorted({q for v in QUERYABLES.values() for q in v}),
    "/collections/{collectionId}/items/{featureId}": ["crs", "datetime"],
    "/collections/{collectionId}/queryables": [],
    "/collections/{collectionId}/schema.xsd": [],
    "/api/v1/parcels/{number}": [], "/api/v1/parcels/{number}/neighbours": [],
    "/api/v1/parcels/{number}/neighbors": [], "/api/v1/parcels/{number}/history": [],
    "/api/v1/lookup": ["lon", "lat", "x", "y", "crs"],
    "/health": [], "/metrics": [],
}

# A JSON value against a schema of the document: types, nullable, enum, required, items,
# allOf/anyOf/oneOf, and no property the schema does not declare (the document must say
# everything the server writes).
def props_of(s):
    s = deref(s)
    names = set(s.get("properties", {}))
    for sub in s.get("allOf", []):
        names |= props_of(sub)
    return names

def validate(v, s, where, errs, strict=True):
    s = deref(s)
    if v is None:
        if not s.get("nullable") and "type" in s:
            errs.append(f"{where}: null not allowed")
        return
    for sub in s.get("allOf", []):  # the properties of the whole are checked below
        validate(v, sub, where, errs, strict=False)
    for key in ("anyOf", "oneOf"):
        if key in s:
            subs = [[] for _ in s[key]]
            for sub, e in zip(s[key], subs):
                validate(v, sub, where, e)
            if all(subs):
                errs.append(f"{where}: matches none of {key}: {subs[0][:2]}")
    t = s.get("type")
    pytypes = {"object": dict, "array": list, "string": str, "boolean": bool,
               "integer": int, "number": (int, float)}
    if t and (not isinstance(v, pytypes[t]) or (t in ("integer", "number") and isinstance(v, bool))):
        errs.append(f"{where}: {json.dumps(v)[:60]} is not {t}")
        return
    if "enum" in s and v not in s["enum"]:
        errs.append(f"{where}: {v!r} not in {s['enum']}")
    if "pattern" in s and isinstance(v, str) and not re.search(s["pattern"], v):
        errs.append(f"{where}: {v!r} does not match {s['pattern']}")
    if isinstance(v, dict):
        for r in s.get("required", []):
            if r not in v:
                errs.append(f"{where}: required {r} missing")
        declared = props_of(s)
        for k, x in v.items():
            if k in s.get("properties", {}):
                validate(x, s["properties"][k], f"{where}.{k}", errs)
            elif isinstance(s.get("additionalProperties"), dict):
                validate(x, s["additionalProperties"], f"{where}.{k}", errs)
            elif (strict and declared and k not in declared and s.get("additionalProperties") is not True
                  and "anyOf" not in s and "oneOf" not in s):
                errs.append(f"{where}: property {k} not in the document")
    if isinstance(v, list) and "items" in s:
        for n, x in enumerate(v[:50]):
            validate(x, s["items"], f"{where}[{n}]", errs)

# ---- routes, both ways ----
paths = doc["paths"]
if set(paths) == set(ROUTES):
    ok()
else:
    fail(f"routes not in the document: {sorted(set(ROUTES) - set(paths))}; "
         f"paths the server does not serve: {sorted(set(paths) - set(ROUTES))}")
status, _, _ = get("/no/such/route")
ok() if status == 404 else fail(f"an unknown path answers {status}, not 404")

# ---- collections: the document's enum, /collections and the queryables ----
enum = deref(doc["components"]["parameters"]["collectionId"])["schema"]["enum"]
status, _, body = get("/collections")
served = [c["id"] for c in json.loads(body)["collections"]]
ok() if sorted(enum) == sorted(served) == sorted(QUERYABLES) else \
    fail(f"collections: document {enum}, server {served}, this test {sorted(QUERYABLES)}")

def fill(path, coll):
    return (path.replace("{collectionId}", coll)
            .replace("{featureId}", urllib.parse.quote(ids[coll], safe=":"))
            .replace("{number}", ids["parcels"]))

def query_value(p):
    v = p.get("example", p.get("schema", {}).get("default"))
    if v is None and "examples" in p:
        v = next(iter(p["examples"].values()))["value"]
    if isinstance(v, list):  # style form, explode false
        v = ",".join(str(x) for x in v)
    return str(v)

for path, item in paths.items():
    for method, op in item.items():
        if method != "get":
            fail(f"{method} {path}: the server answers GET, HEAD and OPTIONS only")
            continue
        params = [deref(p) for p in op.get("parameters", [])]
        query = [p for p in params if p["in"] == "query"]
        names = [p["name"] for p in query]
        if sorted(set(names)) == sorted(set(ROUTES.get(path, names))):
            ok()
        else:
            fail(f"{path}: parameters in the document {sorted(names)}, in the code {sorted(ROUTES.get(path, []))}")
        for p in params:
            if p["in"] == "path" and "{%s}" % p["name"] not in path:
                fail(f"{path}: path parameter {p['name']} not in the path")
        colls = enum if "{collectionId}" in path else ["parcels"]
        for coll in colls:
            target = fill(path, coll)
            if path == "/api/v1/lookup":  # lon/lat from the document's examples
                target += "?" + urllib.parse.urlencode(
                    {p["name"]: query_value(p) for p in query if p["name"] in ("lon", "lat")})
            status, ctype, body = get(target)
            if status != 200:
                fail(f"GET {target}: {status} {body[:200]!r}")
                continue
            ok()
            resp = deref(op["responses"]["200"])
            content = resp.get("content", {})
            if ctype not in content:
                fail(f"GET {target}: Content-Type {ctype} not in the document ({list(content)})")
                continue
            ok()
            if "json" in ctype:
                errs = []
                validate(json.loads(body), content[ctype]["schema"], f"GET {target}", errs)
                for e in errs[:5]:
                    fail(e)
                if not errs:
                    ok()
        # every declared query parameter is known to the route (for one collection at least)
        for p in query:
            known = False
            for coll in colls:
                target = fill(path, coll) + "?" + urllib.parse.urlencode({p["name"]: query_value(p)})
                status, _, body = get(target)
                if status == 404:
                    fail(f"GET {target}: 404")
                if not (status == 400 and b"unknown_parameter" in body):
                    known = True
                    break
            ok() if known else fail(f"{path}: parameter {p['name']} is not known to the server")

# ---- errors as the document says: statuses declared, bodies as Problem ----
for path, target, want in [
        ("/collections/{collectionId}/items", "/collections/parcels/items?bbox=1", 400),
        ("/collections/{collectionId}/items", "/collections/parcels/items?limit=0", 400),
        ("/collections/{collectionId}", "/collections/roads", 404),
        ("/collections/{collectionId}/items/{featureId}", "/collections/zones/items/999999", 404),
        ("/api/v1/parcels/{number}", "/api/v1/parcels/1:2", 400),
        ("/api/v1/parcels/{number}", "/api/v1/parcels/10:26:01:02:03:9999", 404),
        ("/api/v1/parcels/{number}/history", "/api/v1/parcels/10:26:01:02:03:9999/history", 404),
        ("/api/v1/lookup", "/api/v1/lookup?lon=500&lat=1", 400),
        ("/health", "/health?x=1", 400),
        ("/api", "/api?f=html", 406),
        ("/metrics", "/metrics?" + "a" * 9000, 414)]:
    status, ctype, body = get(target)
    responses = paths.get(path, {}).get("get", {}).get("responses", {})
    if status != want or str(status) not in responses:
        fail(f"GET {target[:80]}: {status}, want {want}, declared {list(responses)}")
        continue
    resp = deref(responses[str(status)])
    schema = resp["content"].get(ctype, {}).get("schema")
    if not schema:
        fail(f"GET {target[:80]}: {ctype} not declared for {status}")
        continue
    errs = []
    validate(json.loads(body), schema, f"GET {target[:80]}", errs)
    for e in errs[:5]:
        fail(e)
    if not errs:
        ok()
print(f"check_openapi: {checks} checks, {failures} failures")
sys.exit(1 if failures else 0)
EOF
run python3 check_openapi.py "$BASE" api.json ids.json
echo "$out"
[ -z "$err" ] || echo "$err"
expect_eq "the document against the code" 0 "$rc"

# ---- SIGTERM: a clean stop -----------------------------------------------------------------
stop_server "$SERVER"
done_testing
