//! `--routes gateway-api`: the seed and a richer mesh compile to Gateway API documents that
//! follow the rules of the Gateway API (v1.4 standard channel) schema and spec, checked
//! structurally here because `shared/tools/validate-manifests` has no Gateway API schemas;
//! the per-version Services select exactly their version's workloads; the other documents
//! pass that validator (when python3 is there); and what the Gateway API cannot express is
//! refused with M3024 at the route.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use meshc::{Code, Options, RouteApi, Source};
use serde_yaml::Value;

const GROUP: &str = "gateway.networking.k8s.io";
const V1: &str = "gateway.networking.k8s.io/v1";
const SEED_HOST: &str = "hello2-svc";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn gateway_api() -> Options {
    Options {
        routes: RouteApi::GatewayApi,
        ..Options::default()
    }
}

fn compile_text(text: &str, options: &Options) -> String {
    match meshc::compile(&[Source::new("input.mesh", text)], options) {
        Ok(output) => {
            assert!(output.warnings.is_empty(), "unexpected warnings: {:?}", output.warnings);
            output.to_yaml()
        }
        Err(failure) => {
            let codes: Vec<String> = failure
                .diagnostics
                .iter()
                .map(|d| {
                    format!(
                        "{} {} (line {})",
                        d.code.id(),
                        d.message,
                        line_of(text, d.primary.span.start)
                    )
                })
                .collect();
            panic!("compilation failed:\n{}", codes.join("\n"))
        }
    }
}

fn documents(yaml: &str) -> Vec<Value> {
    meshc::emit::yaml::parse_documents(yaml).unwrap_or_else(|e| panic!("the output is not YAML: {e}"))
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// The errors of a mesh that must not compile: (code, line).
fn errors(text: &str, options: &Options) -> Vec<(Code, usize)> {
    match meshc::compile(&[Source::new("input.mesh", text)], options) {
        Ok(_) => Vec::new(),
        Err(failure) => failure
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .map(|d| (d.code, line_of(text, d.primary.span.start)))
            .collect(),
    }
}

fn seed() -> String {
    read(&root().join("examples/hybrid-hello.mesh"))
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

fn list(v: &Value) -> &[Value] {
    v.as_sequence().map(Vec::as_slice).unwrap_or_default()
}

fn kind_of(doc: &Value) -> (&str, &str) {
    (s(&doc["apiVersion"]), s(&doc["kind"]))
}

fn name_of(doc: &Value) -> &str {
    s(&doc["metadata"]["name"])
}

fn namespace_of(doc: &Value) -> &str {
    s(&doc["metadata"]["namespace"])
}

fn find<'a>(docs: &'a [Value], kind: &str, name: &str) -> &'a Value {
    docs.iter()
        .find(|d| s(&d["kind"]) == kind && name_of(d) == name)
        .unwrap_or_else(|| panic!("no {kind} `{name}` in the output"))
}

fn string_map(v: &Value) -> BTreeMap<String, String> {
    v.as_mapping()
        .map(|m| m.iter().map(|(k, v)| (s(k).to_string(), s(v).to_string())).collect())
        .unwrap_or_default()
}

// ------------------------------------------------------------------ the rules of the spec

fn dns_label(x: &str) -> bool {
    !x.is_empty()
        && x.len() <= 63
        && x.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !x.starts_with('-')
        && !x.ends_with('-')
}

/// RFC 1123 subdomain: object names, `SectionName`, `PreciseHostname`.
fn subdomain(x: &str) -> bool {
    x.len() <= 253 && x.split('.').all(dns_label)
}

/// `Hostname`: a subdomain, optionally after `*.`, not an IP address.
fn hostname(x: &str) -> bool {
    x.parse::<std::net::IpAddr>().is_err() && subdomain(x.strip_prefix("*.").unwrap_or(x))
}

/// `HeaderName`: `^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$`, 1 to 256 characters.
fn header_name(x: &str) -> bool {
    !x.is_empty()
        && x.len() <= 256
        && x.chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c))
}

/// `Duration` (GEP-2257): `^([0-9]{1,5}(h|m|s|ms)){1,4}$`.
fn duration(x: &str) -> bool {
    let mut rest = x;
    let mut parts = 0;
    while !rest.is_empty() {
        let digits = rest.chars().take_while(char::is_ascii_digit).count();
        if !(1..=5).contains(&digits) {
            return false;
        }
        rest = &rest[digits..];
        let Some(unit) = ["ms", "h", "m", "s"].into_iter().find(|u| rest.starts_with(u)) else {
            return false;
        };
        rest = &rest[unit.len()..];
        parts += 1;
    }
    (1..=4).contains(&parts)
}

/// `Exact` and `PathPrefix` values (the CEL rules of `HTTPPathMatch`).
fn path_value(x: &str) -> bool {
    x.starts_with('/')
        && x.len() <= 1024
        && !["//", "/./", "/../", "%2f", "%2F", "#"].iter().any(|b| x.contains(b))
        && !x.ends_with("/..")
        && !x.ends_with("/.")
}

/// Keys outside `allowed` (a misspelt field would be pruned by the API server).
fn unknown_keys(v: &Value, allowed: &[&str], at: &str, problems: &mut Vec<String>) {
    if let Some(map) = v.as_mapping() {
        for key in map.keys() {
            if !allowed.contains(&s(key)) {
                problems.push(format!("{at}: unknown field `{}`", s(key)));
            }
        }
    } else if !v.is_null() {
        problems.push(format!("{at}: not a mapping"));
    }
}

/// An integer in a range.
fn int_in(v: &Value, low: i64, high: i64) -> bool {
    v.as_i64().is_some_and(|n| (low..=high).contains(&n))
}

/// Everything the Gateway API schema and spec say about meshc's Gateway API documents,
/// checked against the other documents of the output (Services, Gateways, grants).
fn gateway_api_problems(docs: &[Value]) -> Vec<String> {
    let mut problems = Vec::new();
    let services: BTreeMap<(String, String), BTreeSet<i64>> = docs
        .iter()
        .filter(|d| kind_of(d) == ("v1", "Service"))
        .map(|d| {
            let ports = list(&d["spec"]["ports"])
                .iter()
                .filter_map(|p| p["port"].as_i64())
                .collect();
            ((namespace_of(d).to_string(), name_of(d).to_string()), ports)
        })
        .collect();
    let gateways: BTreeMap<(String, String), BTreeSet<String>> = docs
        .iter()
        .filter(|d| kind_of(d) == (V1, "Gateway"))
        .map(|d| {
            let listeners = list(&d["spec"]["listeners"])
                .iter()
                .map(|l| s(&l["name"]).to_string())
                .collect();
            ((namespace_of(d).to_string(), name_of(d).to_string()), listeners)
        })
        .collect();
    let grants: Vec<&Value> = docs.iter().filter(|d| s(&d["kind"]) == "ReferenceGrant").collect();

    for doc in docs.iter().filter(|d| s(&d["apiVersion"]).starts_with(GROUP)) {
        let (api, kind) = kind_of(doc);
        let ns = namespace_of(doc);
        let at = format!("{kind} {ns}/{}", name_of(doc));
        unknown_keys(doc, &["apiVersion", "kind", "metadata", "spec"], &at, &mut problems);
        if !subdomain(name_of(doc)) || ns.is_empty() {
            problems.push(format!(
                "{at}: a namespaced object needs a DNS-subdomain name and a namespace"
            ));
        }
        let spec = &doc["spec"];
        match kind {
            "HTTPRoute" | "GRPCRoute" => {
                if api != V1 {
                    problems.push(format!("{at}: {kind} is {V1}, not {api}"));
                }
                let grpc = kind == "GRPCRoute";
                unknown_keys(spec, &["parentRefs", "hostnames", "rules"], &at, &mut problems);
                route_problems(&at, ns, kind, grpc, spec, &services, &gateways, &grants, &mut problems);
            }
            "Gateway" => {
                if api != V1 {
                    problems.push(format!("{at}: Gateway is {V1}, not {api}"));
                }
                gateway_problems(&at, spec, &mut problems);
            }
            "ReferenceGrant" => {
                if api != format!("{GROUP}/v1beta1") && api != V1 {
                    problems.push(format!("{at}: unexpected apiVersion {api}"));
                }
                unknown_keys(spec, &["from", "to"], &at, &mut problems);
                if list(&spec["from"]).is_empty() || list(&spec["to"]).is_empty() {
                    problems.push(format!("{at}: from and to are required"));
                }
                for from in list(&spec["from"]) {
                    unknown_keys(from, &["group", "kind", "namespace"], &at, &mut problems);
                    if s(&from["kind"]).is_empty()
                        || !dns_label(s(&from["namespace"]))
                        || from["group"].as_str().is_none()
                    {
                        problems.push(format!("{at}: a `from` needs group, kind and namespace"));
                    }
                }
                for to in list(&spec["to"]) {
                    unknown_keys(to, &["group", "kind", "name"], &at, &mut problems);
                }
            }
            other => problems.push(format!("{at}: meshc writes no Gateway API {other}")),
        }
    }
    problems
}

#[allow(clippy::too_many_arguments)]
fn route_problems(
    at: &str,
    ns: &str,
    kind: &str,
    grpc: bool,
    spec: &Value,
    services: &BTreeMap<(String, String), BTreeSet<i64>>,
    gateways: &BTreeMap<(String, String), BTreeSet<String>>,
    grants: &[&Value],
    problems: &mut Vec<String>,
) {
    // parentRefs: required here (meshc attaches every route), at most 32, to an existing
    // Service (group "" explicitly, port one of its ports) or Gateway (listener names).
    let parents = list(&spec["parentRefs"]);
    if parents.is_empty() || parents.len() > 32 {
        problems.push(format!("{at}: 1 to 32 parentRefs"));
    }
    let mut parent_keys = BTreeSet::new();
    let with_section = parents.iter().filter(|p| p["sectionName"].is_string()).count();
    if with_section != 0 && with_section != parents.len() {
        problems.push(format!(
            "{at}: sectionName must be on every parentRef to one parent, or on none"
        ));
    }
    for p in parents {
        unknown_keys(
            p,
            &["group", "kind", "namespace", "name", "sectionName", "port"],
            at,
            problems,
        );
        let name = s(&p["name"]);
        if name.is_empty() {
            problems.push(format!("{at}: parentRef without a name"));
        }
        if !parent_keys.insert((name.to_string(), s(&p["sectionName"]).to_string(), p["port"].as_i64())) {
            problems.push(format!("{at}: parentRefs must be distinct"));
        }
        match p["kind"].as_str() {
            Some("Service") => {
                if p["group"].as_str() != Some("") {
                    problems.push(format!("{at}: a Service parentRef must set group \"\""));
                }
                match services.get(&(ns.to_string(), name.to_string())) {
                    None => problems.push(format!("{at}: parent Service `{name}` is not in the output")),
                    Some(ports) => {
                        if let Some(port) = p["port"].as_i64() {
                            if !ports.contains(&port) {
                                problems.push(format!("{at}: parent Service `{name}` has no port {port}"));
                            }
                        } else if ports.len() > 1 {
                            problems.push(format!("{at}: parent Service `{name}` has several ports; say which"));
                        }
                    }
                }
                if !spec["hostnames"].is_null() {
                    problems.push(format!("{at}: a mesh route has no hostnames"));
                }
            }
            None | Some("Gateway") => {
                if !matches!(p["group"].as_str(), None | Some(GROUP)) {
                    problems.push(format!("{at}: a Gateway parentRef's group is {GROUP}"));
                }
                match gateways.get(&(ns.to_string(), name.to_string())) {
                    None => problems.push(format!("{at}: parent Gateway `{name}` is not in the output")),
                    Some(listeners) => {
                        if let Some(section) = p["sectionName"].as_str() {
                            if !listeners.contains(section) {
                                problems.push(format!("{at}: Gateway `{name}` has no listener `{section}`"));
                            }
                        }
                    }
                }
            }
            Some(other) => problems.push(format!("{at}: unexpected parent kind {other}")),
        }
    }
    let hostnames = list(&spec["hostnames"]);
    if hostnames.len() > 16 || hostnames.iter().any(|h| !hostname(s(h))) {
        problems.push(format!("{at}: at most 16 hostnames, each a DNS name or `*.` and one"));
    }
    let rules = list(&spec["rules"]);
    if rules.is_empty() || rules.len() > 16 {
        problems.push(format!("{at}: 1 to 16 rules, not {}", rules.len()));
    }
    let total: usize = rules.iter().map(|r| list(&r["matches"]).len().max(1)).sum();
    if total > 128 {
        problems.push(format!("{at}: {total} matches across the rules; at most 128"));
    }
    for (i, rule) in rules.iter().enumerate() {
        let at = format!("{at} rule {i}");
        let allowed: &[&str] = if grpc {
            &["name", "matches", "filters", "backendRefs"]
        } else {
            &["name", "matches", "filters", "backendRefs", "timeouts"]
        };
        unknown_keys(rule, allowed, &at, problems);
        let matches = list(&rule["matches"]);
        if matches.len() > if grpc { 8 } else { 64 } {
            problems.push(format!("{at}: too many matches"));
        }
        for m in matches {
            match_problems(&at, grpc, m, problems);
        }
        let filters = list(&rule["filters"]);
        let backends = list(&rule["backendRefs"]);
        filter_problems(&at, grpc, rule, filters, !backends.is_empty(), problems);
        for f in filters {
            if let Some(backend) = f["requestMirror"].get("backendRef") {
                backend_problems(&at, ns, kind, backend, false, services, grants, problems);
            }
        }
        if backends.len() > 16 {
            problems.push(format!("{at}: at most 16 backendRefs"));
        }
        if backends.is_empty() && filters.is_empty() {
            problems.push(format!(
                "{at}: neither backends nor a filter: every request would get a 500"
            ));
        }
        for b in backends {
            backend_problems(&at, ns, kind, b, true, services, grants, problems);
        }
        if let Some(timeouts) = rule.get("timeouts") {
            unknown_keys(timeouts, &["request", "backendRequest"], &at, problems);
            if !duration(s(&timeouts["request"])) {
                problems.push(format!(
                    "{at}: timeouts.request `{}` is not a Gateway API duration",
                    s(&timeouts["request"])
                ));
            }
        }
    }
}

fn match_problems(at: &str, grpc: bool, m: &Value, problems: &mut Vec<String>) {
    let value_matches = |key: &str, max: usize, problems: &mut Vec<String>| {
        let entries = list(&m[key]);
        if entries.len() > 16 {
            problems.push(format!("{at}: at most 16 {key}"));
        }
        let mut names = BTreeSet::new();
        for e in entries {
            unknown_keys(e, &["type", "name", "value"], at, problems);
            let value = s(&e["value"]);
            if !matches!(e["type"].as_str(), None | Some("Exact" | "RegularExpression"))
                || !header_name(s(&e["name"]))
                || value.is_empty()
                || value.len() > max
                || !names.insert(s(&e["name"]).to_ascii_lowercase())
            {
                problems.push(format!("{at}: bad {key} entry {e:?}"));
            }
        }
    };
    if grpc {
        unknown_keys(m, &["method", "headers"], at, problems);
        if let Some(method) = m.get("method") {
            unknown_keys(method, &["type", "service", "method"], at, problems);
            if !matches!(method["type"].as_str(), None | Some("Exact" | "RegularExpression"))
                || (method["service"].is_null() && method["method"].is_null())
                || s(&method["service"]).contains('/')
                || s(&method["method"]).contains('/')
            {
                problems.push(format!("{at}: bad gRPC method match {method:?}"));
            }
        }
        value_matches("headers", 4096, problems);
    } else {
        unknown_keys(m, &["path", "headers", "queryParams", "method"], at, problems);
        if let Some(path) = m.get("path") {
            unknown_keys(path, &["type", "value"], at, problems);
            let value = s(&path["value"]);
            let ok = match path["type"].as_str() {
                None | Some("PathPrefix" | "Exact") => path_value(value),
                Some("RegularExpression") => !value.is_empty() && value.len() <= 1024,
                Some(_) => false,
            };
            if !ok {
                problems.push(format!("{at}: bad path match {path:?}"));
            }
        }
        value_matches("headers", 4096, problems);
        value_matches("queryParams", 1024, problems);
        if let Some(method) = m.get("method") {
            let methods = [
                "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
            ];
            if !methods.contains(&s(method)) {
                problems.push(format!("{at}: bad method {method:?}"));
            }
        }
    }
}

fn filter_problems(at: &str, grpc: bool, rule: &Value, filters: &[Value], backends: bool, problems: &mut Vec<String>) {
    let fields = [
        ("RequestHeaderModifier", "requestHeaderModifier"),
        ("ResponseHeaderModifier", "responseHeaderModifier"),
        ("RequestMirror", "requestMirror"),
        ("RequestRedirect", "requestRedirect"),
        ("URLRewrite", "urlRewrite"),
    ];
    if filters.len() > 16 {
        problems.push(format!("{at}: at most 16 filters"));
    }
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for f in filters {
        let kind = s(&f["type"]);
        let Some((_, field)) = fields.iter().find(|(k, _)| *k == kind) else {
            problems.push(format!("{at}: filter type `{kind}` is not a standard one meshc writes"));
            continue;
        };
        if grpc && matches!(kind, "RequestRedirect" | "URLRewrite") {
            problems.push(format!("{at}: GRPCRoute has no {kind} filter"));
        }
        *seen.entry(kind).or_default() += 1;
        let keys: Vec<&str> = f.as_mapping().map(|m| m.keys().map(s).collect()).unwrap_or_default();
        if keys.len() != 2 || !keys.contains(&"type") || !keys.contains(field) {
            problems.push(format!(
                "{at}: a {kind} filter has `type` and `{field}` only, not {keys:?}"
            ));
        }
        let body = &f[*field];
        match kind {
            "RequestHeaderModifier" | "ResponseHeaderModifier" => {
                unknown_keys(body, &["set", "add", "remove"], at, problems);
                let mut names = BTreeSet::new();
                for op in ["set", "add"] {
                    for h in list(&body[op]) {
                        unknown_keys(h, &["name", "value"], at, problems);
                        let value = s(&h["value"]);
                        if !header_name(s(&h["name"])) || value.is_empty() || value.len() > 4096 {
                            problems.push(format!("{at}: bad header {h:?}"));
                        }
                        names.insert(s(&h["name"]).to_ascii_lowercase());
                    }
                }
                for name in list(&body["remove"]) {
                    if !names.insert(s(name).to_ascii_lowercase()) {
                        problems.push(format!("{at}: one action per header name"));
                    }
                }
            }
            "RequestMirror" => {
                unknown_keys(body, &["backendRef", "percent", "fraction"], at, problems);
                if !body["percent"].is_null() && !body["fraction"].is_null() {
                    problems.push(format!("{at}: percent or fraction, not both"));
                }
                if !body["percent"].is_null() && !int_in(&body["percent"], 0, 100) {
                    problems.push(format!("{at}: a mirror percent is 0 to 100"));
                }
                if let Some(fraction) = body.get("fraction") {
                    let (n, d) = (
                        fraction["numerator"].as_i64(),
                        fraction["denominator"].as_i64().unwrap_or(100),
                    );
                    if !n.is_some_and(|n| n >= 0 && n <= d) || d < 1 {
                        problems.push(format!("{at}: a fraction's numerator is 0 to its denominator"));
                    }
                }
            }
            "RequestRedirect" => {
                unknown_keys(
                    body,
                    &["scheme", "hostname", "path", "port", "statusCode"],
                    at,
                    problems,
                );
                if backends {
                    problems.push(format!(
                        "{at}: RequestRedirect must not be used together with backendRefs"
                    ));
                }
                if !matches!(body["scheme"].as_str(), None | Some("http" | "https"))
                    || body["hostname"].as_str().is_some_and(|h| !subdomain(h))
                    || (!body["port"].is_null() && !int_in(&body["port"], 1, 65535))
                    || ![301, 302, 303, 307, 308].contains(&body["statusCode"].as_i64().unwrap_or(302))
                {
                    problems.push(format!("{at}: bad redirect {body:?}"));
                }
                path_modifier_problems(at, rule, &body["path"], problems);
            }
            _ => {
                unknown_keys(body, &["hostname", "path"], at, problems);
                if body["hostname"].as_str().is_some_and(|h| !subdomain(h)) {
                    problems.push(format!("{at}: a rewrite hostname is a precise hostname"));
                }
                path_modifier_problems(at, rule, &body["path"], problems);
            }
        }
    }
    for (kind, count) in &seen {
        if *count > 1 && *kind != "RequestMirror" {
            problems.push(format!("{at}: the {kind} filter cannot be repeated"));
        }
    }
    if seen.contains_key("RequestRedirect") && seen.contains_key("URLRewrite") {
        problems.push(format!("{at}: either RequestRedirect or URLRewrite, not both"));
    }
}

fn path_modifier_problems(at: &str, rule: &Value, path: &Value, problems: &mut Vec<String>) {
    if path.is_null() {
        return;
    }
    unknown_keys(path, &["type", "replaceFullPath", "replacePrefixMatch"], at, problems);
    match s(&path["type"]) {
        "ReplaceFullPath" if path["replaceFullPath"].is_string() && path["replacePrefixMatch"].is_null() => {}
        "ReplacePrefixMatch" if path["replacePrefixMatch"].is_string() && path["replaceFullPath"].is_null() => {
            let matches = list(&rule["matches"]);
            if matches.len() != 1 || s(&matches[0]["path"]["type"]) != "PathPrefix" {
                problems.push(format!("{at}: ReplacePrefixMatch needs exactly one PathPrefix match"));
            }
        }
        _ => problems.push(format!("{at}: bad path modifier {path:?}")),
    }
}

#[allow(clippy::too_many_arguments)]
fn backend_problems(
    at: &str,
    ns: &str,
    route_kind: &str,
    b: &Value,
    weighted: bool,
    services: &BTreeMap<(String, String), BTreeSet<i64>>,
    grants: &[&Value],
    problems: &mut Vec<String>,
) {
    let allowed: &[&str] = if weighted {
        &["group", "kind", "name", "namespace", "port", "weight", "filters"]
    } else {
        &["group", "kind", "name", "namespace", "port"]
    };
    unknown_keys(b, allowed, at, problems);
    if !matches!(b["group"].as_str(), None | Some("")) || !matches!(b["kind"].as_str(), None | Some("Service")) {
        problems.push(format!("{at}: backends are Services (group \"\", kind Service)"));
    }
    let target_ns = b["namespace"].as_str().unwrap_or(ns);
    let name = s(&b["name"]);
    let Some(port) = b["port"].as_i64() else {
        problems.push(format!("{at}: a Service backend needs a port"));
        return;
    };
    match services.get(&(target_ns.to_string(), name.to_string())) {
        None => problems.push(format!("{at}: backend Service {target_ns}/{name} is not in the output")),
        Some(ports) if !ports.contains(&port) => {
            problems.push(format!("{at}: backend Service {target_ns}/{name} has no port {port}"))
        }
        Some(_) => {}
    }
    if !b["weight"].is_null() && !int_in(&b["weight"], 0, 1_000_000) {
        problems.push(format!("{at}: a weight is 0 to 1000000"));
    }
    if target_ns != ns {
        let granted = grants.iter().any(|g| {
            namespace_of(g) == target_ns
                && list(&g["spec"]["from"])
                    .iter()
                    .any(|f| s(&f["group"]) == GROUP && s(&f["kind"]) == route_kind && s(&f["namespace"]) == ns)
                && list(&g["spec"]["to"]).iter().any(|t| {
                    s(&t["group"]).is_empty()
                        && s(&t["kind"]) == "Service"
                        && t["name"].as_str().is_none_or(|n| n == name)
                })
        });
        if !granted {
            problems.push(format!(
                "{at}: no ReferenceGrant in `{target_ns}` lets {route_kind}s of `{ns}` reach `{name}`"
            ));
        }
    }
}

fn gateway_problems(at: &str, spec: &Value, problems: &mut Vec<String>) {
    unknown_keys(
        spec,
        &["gatewayClassName", "listeners", "addresses", "infrastructure"],
        at,
        problems,
    );
    if s(&spec["gatewayClassName"]) != "istio" {
        problems.push(format!("{at}: gatewayClassName is istio"));
    }
    let listeners = list(&spec["listeners"]);
    if listeners.is_empty() || listeners.len() > 64 {
        problems.push(format!("{at}: 1 to 64 listeners"));
    }
    let mut names = BTreeSet::new();
    let mut combos = BTreeSet::new();
    for l in listeners {
        unknown_keys(
            l,
            &["name", "hostname", "port", "protocol", "tls", "allowedRoutes"],
            at,
            problems,
        );
        let protocol = s(&l["protocol"]);
        if !subdomain(s(&l["name"])) || !names.insert(s(&l["name"]).to_string()) {
            problems.push(format!("{at}: listener names are unique section names"));
        }
        if !int_in(&l["port"], 1, 65535) || !["HTTP", "HTTPS", "TLS", "TCP", "UDP"].contains(&protocol) {
            problems.push(format!("{at}: bad listener {l:?}"));
        }
        if !combos.insert((l["port"].as_i64(), protocol.to_string(), s(&l["hostname"]).to_string())) {
            problems.push(format!(
                "{at}: port, protocol and hostname must be unique for each listener"
            ));
        }
        if let Some(host) = l["hostname"].as_str() {
            if !hostname(host) || matches!(protocol, "TCP" | "UDP") {
                problems.push(format!("{at}: bad listener hostname {host}"));
            }
        }
        let tls = &l["tls"];
        match protocol {
            "HTTP" | "TCP" | "UDP" if !tls.is_null() => {
                problems.push(format!("{at}: tls must not be specified for {protocol}"))
            }
            "HTTPS" | "TLS" if tls.is_null() => problems.push(format!("{at}: {protocol} needs tls")),
            _ => {}
        }
        if !tls.is_null() {
            unknown_keys(tls, &["mode", "certificateRefs", "options"], at, problems);
            let mode = tls["mode"].as_str().unwrap_or("Terminate");
            let refs = list(&tls["certificateRefs"]);
            match mode {
                "Terminate" if refs.is_empty() => problems.push(format!("{at}: Terminate needs certificateRefs")),
                "Passthrough" if protocol == "HTTPS" => problems.push(format!("{at}: HTTPS must terminate TLS")),
                "Terminate" | "Passthrough" => {}
                other => problems.push(format!("{at}: unknown TLS mode {other}")),
            }
            for r in refs {
                unknown_keys(r, &["group", "kind", "name", "namespace"], at, problems);
                if !subdomain(s(&r["name"])) || !matches!(r["kind"].as_str(), None | Some("Secret")) {
                    problems.push(format!("{at}: a certificateRef names a Secret"));
                }
            }
        }
    }
}

// ------------------------------------------------------------------ the seed

#[test]
fn the_seed_compiles_to_valid_gateway_api_documents() {
    let docs = documents(&compile_text(&seed(), &gateway_api()));
    let problems = gateway_api_problems(&docs);
    assert!(problems.is_empty(), "Gateway API problems:\n{}", problems.join("\n"));

    let kinds: BTreeSet<(&str, &str)> = docs.iter().map(kind_of).collect();
    assert!(
        !kinds.iter().any(|(_, k)| *k == "VirtualService"),
        "no VirtualService in this mode"
    );
    assert!(
        !kinds.contains(&("networking.istio.io/v1", "Gateway")),
        "no Istio Gateway in this mode"
    );
    for expected in [
        ("v1", "Namespace"),
        ("v1", "Service"),
        ("apps/v1", "Deployment"),
        ("networking.istio.io/v1", "WorkloadEntry"),
        ("networking.istio.io/v1", "DestinationRule"),
        (V1, "Gateway"),
        (V1, "HTTPRoute"),
    ] {
        assert!(kinds.contains(&expected), "no {expected:?} in the output");
    }

    // hello2: an HTTPRoute on its own Service, 30/60/10 on /hello, 90/5/5 on /bye, then
    // everything else to the whole service.
    let route = find(&docs, "HTTPRoute", "hello2");
    let parents = list(&route["spec"]["parentRefs"]);
    assert_eq!(parents.len(), 1);
    assert_eq!(s(&parents[0]["group"]), "");
    assert_eq!(s(&parents[0]["kind"]), "Service");
    assert_eq!(s(&parents[0]["name"]), SEED_HOST);
    assert!(
        parents[0]["port"].is_null(),
        "one port: the route attaches to the whole Service"
    );
    let rules = list(&route["spec"]["rules"]);
    assert_eq!(rules.len(), 3);
    let split = |rule: &Value| -> Vec<(String, i64, Option<i64>)> {
        list(&rule["backendRefs"])
            .iter()
            .map(|b| {
                (
                    s(&b["name"]).to_string(),
                    b["port"].as_i64().unwrap_or(0),
                    b["weight"].as_i64(),
                )
            })
            .collect()
    };
    let path = |rule: &Value| -> (String, String) {
        let m = &list(&rule["matches"])[0]["path"];
        (s(&m["type"]).to_string(), s(&m["value"]).to_string())
    };
    assert_eq!(path(&rules[0]), ("PathPrefix".into(), "/hello".into()));
    assert_eq!(
        split(&rules[0]),
        vec![
            ("hello2-svc-v1".into(), 8001, Some(30)),
            ("hello2-svc-v2".into(), 8001, Some(60)),
            ("hello2-svc-v3".into(), 8001, Some(10)),
        ]
    );
    assert_eq!(path(&rules[1]), ("Exact".into(), "/bye".into()));
    assert_eq!(
        split(&rules[1]),
        vec![
            ("hello2-svc-v1".into(), 8001, Some(90)),
            ("hello2-svc-v2".into(), 8001, Some(5)),
            ("hello2-svc-v3".into(), 8001, Some(5)),
        ]
    );
    assert!(rules[2]["matches"].is_null(), "the default rule matches everything");
    assert_eq!(split(&rules[2]), vec![(SEED_HOST.into(), 8001, None)]);

    // The gateway: class istio, one HTTP listener on 8003 for any host, and a route to hello1.
    let gateway = find(&docs, "Gateway", "hybrid-gateway");
    assert_eq!(s(&gateway["apiVersion"]), V1);
    let listeners = list(&gateway["spec"]["listeners"]);
    assert_eq!(listeners.len(), 1);
    assert_eq!(listeners[0]["port"].as_i64(), Some(8003));
    assert_eq!(s(&listeners[0]["protocol"]), "HTTP");
    assert!(listeners[0]["hostname"].is_null(), "hosts \"*\": no hostname");
    let ingress = find(&docs, "HTTPRoute", "hybrid-gateway");
    assert_eq!(s(&list(&ingress["spec"]["parentRefs"])[0]["name"]), "hybrid-gateway");
    assert!(ingress["spec"]["hostnames"].is_null());
    assert_eq!(
        split(&list(&ingress["spec"]["rules"])[0]),
        vec![("hello1-svc".into(), 8003, None)]
    );
}

#[test]
fn version_services_select_exactly_their_versions_workloads() {
    let docs = documents(&compile_text(&seed(), &gateway_api()));
    // Every workload with its labels: Deployments by their pod template, WorkloadEntries by
    // their spec labels (where meshc writes them).
    let workloads: Vec<(String, String, BTreeMap<String, String>)> = docs
        .iter()
        .filter_map(|d| {
            match s(&d["kind"]) {
                "Deployment" => Some(("Deployment", string_map(&d["spec"]["template"]["metadata"]["labels"]))),
                "WorkloadEntry" => Some(("WorkloadEntry", string_map(&d["spec"]["labels"]))),
                _ => None,
            }
            .map(|(k, labels)| (k.to_string(), name_of(d).to_string(), labels))
        })
        .collect();
    let selected = |selector: &BTreeMap<String, String>| -> BTreeSet<String> {
        workloads
            .iter()
            .filter(|(_, _, labels)| selector.iter().all(|(k, v)| labels.get(k) == Some(v)))
            .map(|(kind, name, _)| format!("{kind}/{name}"))
            .collect()
    };
    let expected: [(&str, &[&str]); 3] = [
        ("hello2-svc-v1", &["Deployment/hello2-deploy-v1"]),
        ("hello2-svc-v2", &["WorkloadEntry/hello2-v2-192-168-0-171"]),
        ("hello2-svc-v3", &["WorkloadEntry/hello2-v3-192-168-0-172"]),
    ];
    let main = find(&docs, "Service", SEED_HOST);
    for (name, workloads) in expected {
        let service = find(&docs, "Service", name);
        let selector = string_map(&service["spec"]["selector"]);
        let want: BTreeSet<String> = workloads.iter().map(|w| w.to_string()).collect();
        assert_eq!(selected(&selector), want, "{name} selects {selector:?}");
        assert_eq!(
            service["spec"]["ports"], main["spec"]["ports"],
            "{name} has the service's ports"
        );
    }
    // The main Service still selects every version.
    assert_eq!(selected(&string_map(&main["spec"]["selector"])).len(), 3);
    // Only versions that routes name get a Service.
    let version_services: Vec<&str> = docs
        .iter()
        .filter(|d| kind_of(d) == ("v1", "Service") && name_of(d).contains("-svc-"))
        .map(name_of)
        .collect();
    assert_eq!(version_services, ["hello2-svc-v1", "hello2-svc-v2", "hello2-svc-v3"]);
}

#[test]
fn everything_but_the_routes_is_as_in_istio_mode() {
    let istio = documents(&compile_text(&seed(), &Options::default()));
    let gateway = documents(&compile_text(&seed(), &gateway_api()));
    let key = |d: &Value| (s(&d["kind"]).to_string(), name_of(d).to_string());
    let istio_kept: Vec<&Value> = istio
        .iter()
        .filter(|d| !matches!(s(&d["kind"]), "VirtualService" | "Gateway"))
        // A gateway's callee allows the gateway's identity, which differs: Istio's ingress
        // gateway, or the deployment Istio makes for a Gateway API gateway.
        .filter(|d| !(s(&d["kind"]) == "AuthorizationPolicy" && name_of(d) == "hello1-svc"))
        .collect();
    for doc in &istio_kept {
        let same = gateway
            .iter()
            .find(|g| key(g) == key(doc) && kind_of(g) == kind_of(doc));
        assert_eq!(same, Some(*doc), "{:?} differs between the modes", key(doc));
    }
    assert!(
        istio.iter().any(|d| s(&d["kind"]) == "VirtualService"),
        "the default stays Istio VirtualServices"
    );
    assert!(!istio.iter().any(|d| s(&d["apiVersion"]).starts_with(GROUP)));
}

#[test]
fn the_gateway_api_example_is_the_seed() {
    let example = read(&root().join("examples/hybrid-hello-gateway-api.mesh"));
    assert!(
        example.contains("--routes gateway-api"),
        "the example says how to compile it"
    );
    assert_eq!(
        compile_text(&example, &gateway_api()),
        compile_text(&seed(), &gateway_api())
    );
}

#[test]
fn the_command_line_flag_selects_the_mode() {
    let example = root().join("examples/hybrid-hello-gateway-api.mesh");
    let path = example.to_str().unwrap_or_default();
    let out = Command::new(env!("CARGO_BIN_EXE_meshc"))
        .args(["build", "--routes", "gateway-api", path])
        .output()
        .expect("meshc runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = read(&example);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        compile_text(&text, &gateway_api())
    );
    let out = Command::new(env!("CARGO_BIN_EXE_meshc"))
        .args(["build", "--routes", "istio", path])
        .output()
        .expect("meshc runs");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        compile_text(&text, &Options::default())
    );
}

/// The documents the project's validator has schemas for (all but the Gateway API's) pass
/// it. Skipped, with a notice, without python3 or the validator.
#[test]
fn the_other_documents_pass_validate_manifests() {
    let validator = root().join("../shared/tools/validate-manifests");
    if !validator.is_file() {
        eprintln!("notice: {} is missing; skipping the validation", validator.display());
        return;
    }
    if Command::new("python3").arg("--version").output().is_err() {
        eprintln!("notice: python3 is not available; skipping validate-manifests");
        return;
    }
    let mut stream = String::new();
    for text in [seed(), RICH.to_string()] {
        let options = Options {
            sidecars: true,
            ..gateway_api()
        };
        let output = meshc::compile(&[Source::new("input.mesh", text)], &options).expect("compiles");
        for doc in output.documents.iter().filter(|d| !d.api_version.starts_with(GROUP)) {
            stream.push_str("---\n");
            stream.push_str(&doc.yaml);
        }
    }
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("gateway_api");
    std::fs::create_dir_all(&dir).expect("scratch folder");
    let file = dir.join("non-gateway-api.yaml");
    std::fs::write(&file, &stream).expect("write the documents");
    let out = Command::new("python3")
        .arg(&validator)
        .arg(&file)
        .output()
        .expect("python3 runs");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let ran = report.lines().any(|l| l.contains(" passed, ") && l.contains(" failed"));
    if !ran {
        eprintln!("notice: validate-manifests did not run (its dependencies?); skipping:\n{report}");
        return;
    }
    assert!(out.status.success(), "validate-manifests rejects the output:\n{report}");
}

// ------------------------------------------------------------------ a richer mesh

/// Every Gateway API feature meshc writes: gRPC, several ports, redirects, rewrites, header
/// changes, timeouts, mirrors, a gateway with TLS and an HTTPS redirect, routes across
/// namespaces, and per-version policy.
const RICH: &str = r#"
namespace shop {
  service web {
    port http 8080
    port http 8081
    calls api.backend
    pod v1 image "registry.example.com/web:1.0"
    pod v2 {
      image "registry.example.com/web:2.0"
      policy { lb least-request }
    }
    policy { outlier consecutive-errors 5 interval 10s }
    route exact "/old" redirect "/new" authority "new.example.com:8443" scheme "https" code 308
    route prefix "/legacy" or exact "/legacy-page" -> v1 rewrite "/modern"
    route prefix "/h" -> v1 request set x-a "1" request remove x-b response add x-c "2" timeout 1.5s
    route prefix "/m" -> v1 mirror web/v2:8080 12.5%
    route query tag regex "beta.*" method GET port 8081 -> v2
    route header x-beta "yes" -> v2
    route { v1 90% v2 10% }
  }

  service cart {
    port grpc 9090
    pod v1 image "registry.example.com/cart:1.0"
    pod v2 image "registry.example.com/cart:2.0"
    route exact "/shop.Cart/Add" -> v2
    route prefix "/shop.Cart/" header x-canary "1" -> v2
    route { v1 50% v2 50% }
  }

  gateway public {
    listen http 80 hosts "shop.example.com", "*.shop.example.com" https-redirect
    listen https 443 hosts "shop.example.com", "*.shop.example.com" tls simple credential "shop-cert"
    route host "admin.shop.example.com" prefix "/" -> api.backend/v2
    route prefix "/api" -> api.backend
    route -> web:8080
  }
}

namespace backend {
  service api {
    port http 9000
    pod v1 image "registry.example.com/api:1.0"
    vm v2 at 10.0.0.5, 10.0.0.6
  }
}
"#;

#[test]
fn a_richer_mesh_compiles_to_valid_gateway_api_documents() {
    let options = Options {
        sidecars: true,
        ..gateway_api()
    };
    let docs = documents(&compile_text(RICH, &options));
    let problems = gateway_api_problems(&docs);
    assert!(problems.is_empty(), "Gateway API problems:\n{}", problems.join("\n"));

    // One route per port, each attached to its port; a GRPCRoute for the gRPC service.
    for (kind, name, port) in [
        ("HTTPRoute", "web-http-8080", 8080),
        ("HTTPRoute", "web-http-8081", 8081),
    ] {
        let route = find(&docs, kind, name);
        assert_eq!(
            list(&route["spec"]["parentRefs"])[0]["port"].as_i64(),
            Some(port),
            "{name}"
        );
        for rule in list(&route["spec"]["rules"]) {
            for b in list(&rule["backendRefs"])
                .iter()
                .filter(|b| s(&b["name"]).starts_with("web"))
            {
                assert_eq!(
                    b["port"].as_i64(),
                    Some(port),
                    "{name}: own backends use the route's port"
                );
            }
        }
    }
    // The `port 8081` route is only on that port's HTTPRoute.
    let has_query = |name: &str| {
        list(&find(&docs, "HTTPRoute", name)["spec"]["rules"])
            .iter()
            .any(|r| list(&r["matches"]).iter().any(|m| !m["queryParams"].is_null()))
    };
    assert!(has_query("web-http-8081") && !has_query("web-http-8080"));

    // The gRPC route: method matches from the paths.
    let grpc = find(&docs, "GRPCRoute", "cart");
    assert!(
        list(&grpc["spec"]["parentRefs"])[0]["port"].is_null(),
        "one port: the whole Service"
    );
    let methods: Vec<&Value> = list(&grpc["spec"]["rules"])
        .iter()
        .flat_map(|r| list(&r["matches"]))
        .filter_map(|m| m.get("method"))
        .collect();
    assert_eq!(s(&methods[0]["service"]), "shop.Cart");
    assert_eq!(s(&methods[0]["method"]), "Add");
    assert!(methods[1]["method"].is_null());

    let http = find(&docs, "HTTPRoute", "web-http-8080");
    let rules = list(&http["spec"]["rules"]);
    let filter = |rule: &Value, kind: &str| -> Value {
        list(&rule["filters"])
            .iter()
            .find(|f| s(&f["type"]) == kind)
            .cloned()
            .unwrap_or_else(|| panic!("no {kind} filter in {rule:?}"))
    };
    let redirect = filter(&rules[0], "RequestRedirect");
    let redirect = &redirect["requestRedirect"];
    assert_eq!(
        (
            s(&redirect["hostname"]),
            redirect["port"].as_i64(),
            s(&redirect["scheme"]),
            redirect["statusCode"].as_i64()
        ),
        ("new.example.com", Some(8443), "https", Some(308))
    );
    // A rewrite after `prefix or exact`: one rule per alternative, each with its rewrite.
    let rewrites: Vec<String> = rules
        .iter()
        .filter_map(|r| list(&r["filters"]).iter().find(|f| s(&f["type"]) == "URLRewrite"))
        .filter_map(|f| f["urlRewrite"]["path"]["type"].as_str().map(str::to_string))
        .collect();
    assert_eq!(rewrites, ["ReplacePrefixMatch", "ReplaceFullPath"]);
    let timed = rules
        .iter()
        .find(|r| !r["timeouts"].is_null())
        .expect("a rule with a timeout");
    assert_eq!(s(&timed["timeouts"]["request"]), "1s500ms");
    let mirror = rules
        .iter()
        .find_map(|r| {
            list(&r["filters"])
                .iter()
                .find(|f| s(&f["type"]) == "RequestMirror")
                .cloned()
        })
        .expect("a mirror");
    assert_eq!(mirror["requestMirror"]["fraction"]["numerator"].as_i64(), Some(125));
    assert_eq!(mirror["requestMirror"]["fraction"]["denominator"].as_i64(), Some(1000));
    assert_eq!(s(&mirror["requestMirror"]["backendRef"]["name"]), "web-v2");

    // The version with a policy of its own gets a DestinationRule for its Service, with the
    // service's outlier detection and its own load balancer.
    let rule = find(&docs, "DestinationRule", "web-v2");
    assert_eq!(s(&rule["spec"]["host"]), "web-v2.shop.svc.cluster.local");
    assert_eq!(
        s(&rule["spec"]["trafficPolicy"]["loadBalancer"]["simple"]),
        "LEAST_REQUEST"
    );
    assert!(rule["spec"]["trafficPolicy"]["outlierDetection"].is_mapping());
    let v1 = find(&docs, "DestinationRule", "web-v1");
    assert!(v1["spec"]["trafficPolicy"]["loadBalancer"].is_null());

    // The gateway: a listener per server and host, the redirect on the HTTP listeners, the
    // routes on the HTTPS ones, and the admin host's own route.
    let redirect = find(&docs, "HTTPRoute", "public-https-redirect");
    let sections: Vec<&str> = list(&redirect["spec"]["parentRefs"])
        .iter()
        .map(|p| s(&p["sectionName"]))
        .collect();
    assert_eq!(sections, ["http-80-x-shop-example-com", "http-80-shop-example-com"]);
    let shared = find(&docs, "HTTPRoute", "public");
    assert!(list(&shared["spec"]["parentRefs"])
        .iter()
        .all(|p| s(&p["sectionName"]).starts_with("https-443")));
    let admin = find(&docs, "HTTPRoute", "public-admin-shop-example-com");
    assert_eq!(s(&list(&admin["spec"]["hostnames"])[0]), "admin.shop.example.com");
    assert_eq!(
        list(&admin["spec"]["rules"]).len(),
        1,
        "shared routes after `prefix \"/\"` are never reached"
    );

    // Routes of `shop` reach Services of `backend`: a grant there allows it.
    let grant = find(&docs, "ReferenceGrant", "routes-from-shop");
    assert_eq!(namespace_of(grant), "backend");
    find(&docs, "Service", "api-v2");

    // The caller's Sidecar reaches the version Services of what it calls.
    let sidecar = find(&docs, "Sidecar", "web");
    let hosts: Vec<&str> = list(&list(&sidecar["spec"]["egress"])[0]["hosts"])
        .iter()
        .map(s)
        .collect();
    assert!(hosts.contains(&"backend/api-v2.backend.svc.cluster.local"), "{hosts:?}");
}

// ------------------------------------------------------------------ what cannot be said

fn mesh_with(route: &str) -> String {
    format!(
        "namespace shop {{\n  service web {{\n    port http 8080\n    calls api\n    pod v1 image \"r/web:1\"\n    pod v2 image \"r/web:2\"\n    {route}\n    route -> v1\n  }}\n  service api {{\n    port http 9000\n    pod v1 image \"r/api:1\"\n  }}\n  external ext {{\n    hosts \"ext.example.com\"\n    port http 80\n  }}\n}}\n"
    )
}

#[test]
fn what_the_gateway_api_cannot_say_is_m3024_at_the_route() {
    let cases = [
        ("fault", r#"route header x "1" -> v2 fault abort 503 50%"#),
        ("retries", r#"route prefix "/a" -> v2 retries 3"#),
        ("cors", r#"route prefix "/a" -> v2 cors origin "https://a.example.com""#),
        ("respond", r#"route exact "/down" respond 503"#),
        ("from", "route from api -> v2"),
        ("absent", "route header x-debug absent -> v2"),
        ("header prefix", r#"route header x prefix "a" -> v2"#),
        ("query prefix", r#"route query q prefix "a" -> v2"#),
        ("external", "route prefix \"/ext\" -> ext"),
        ("rewrite without path", r#"route header x "1" -> v2 rewrite "/v2""#),
        ("order", "route header x \"1\" -> v2\n    route prefix \"/api\" -> v1"),
        ("regex before the default", r#"route regex "/v[0-9]+/.*" -> v2"#),
    ];
    for (what, route) in cases {
        let text = mesh_with(route);
        let found = errors(&text, &gateway_api());
        assert!(
            found.contains(&(Code::NotExpressible, 7)),
            "{what}: expected M3024 at line 7, got {found:?}\n{text}"
        );
        assert!(
            found.iter().all(|(c, _)| *c == Code::NotExpressible),
            "{what}: only M3024, got {found:?}"
        );
        assert!(
            !errors(&text, &Options::default()).contains(&(Code::NotExpressible, 7)),
            "{what}: M3024 is for --routes gateway-api only"
        );
    }
}

#[test]
fn rule_order_that_survives_the_ranking_is_accepted() {
    for route in [
        "route prefix \"/api\" -> v1\n    route header x \"1\" -> v2",
        "route prefix \"/api\" header x \"1\" -> v2\n    route prefix \"/api\" -> v1",
        "route exact \"/a\" -> v2\n    route prefix \"/b\" header x \"1\" -> v1",
        "route header x \"1\" -> v2\n    route header x \"2\" query q \"1\" -> v1",
        // The requests the header route would lose are taken by the first route either way.
        "route prefix \"/api\" header x \"1\" -> v2\n    route header x \"1\" -> v2\n    route prefix \"/api\" -> v1",
    ] {
        let text = mesh_with(route);
        assert_eq!(errors(&text, &gateway_api()), Vec::new(), "{text}");
    }
}

#[test]
fn tcp_routes_grpc_limits_and_gateways_are_refused() {
    let tcp = "namespace db {\n  service mongo {\n    port mongo 27017\n    pod v1 image \"r/m:1\"\n    pod v2 image \"r/m:2\"\n    route tcp -> v2\n  }\n}\n";
    assert!(
        errors(tcp, &gateway_api()).contains(&(Code::NotExpressible, 6)),
        "TCP route"
    );

    let grpc = "namespace rpc {\n  service cart {\n    port grpc 9090\n    pod v1 image \"r/c:1\"\n    pod v2 image \"r/c:2\"\n    route prefix \"/cart\" -> v2 timeout 2s\n    route -> v1\n  }\n}\n";
    let found = errors(grpc, &gateway_api());
    assert!(
        found.contains(&(Code::NotExpressible, 6)),
        "gRPC path prefix and timeout: {found:?}"
    );

    let mutual = "namespace gw {\n  service web {\n    port http 80\n    pod v1 image \"r/w:1\"\n  }\n  gateway edge {\n    selector istio \"edge\"\n    listen https 443 hosts \"a.example.com\" tls mutual credential \"cert\"\n    route -> web\n  }\n}\n";
    let found = errors(mutual, &gateway_api());
    assert!(found.contains(&(Code::NotExpressible, 6)), "custom selector: {found:?}");
    assert!(found.contains(&(Code::NotExpressible, 8)), "mutual TLS: {found:?}");

    let many: String = (0..17).map(|i| format!("route exact \"/p{i}\" -> v2\n    ")).collect();
    let found = errors(&mesh_with(&many), &gateway_api());
    assert!(
        found.contains(&(Code::NotExpressible, 23)),
        "17 rules and a default: {found:?}"
    );
}

#[test]
fn version_service_names_must_be_free() {
    let text = "namespace shop {\n  service web {\n    port http 8080\n    pod v1 image \"r/w:1\"\n    pod v2 image \"r/w:2\"\n    route { v1 50% v2 50% }\n  }\n  service web-v1 {\n    port http 8080\n    pod v1 image \"r/x:1\"\n  }\n}\n";
    assert!(errors(text, &Options::default()).is_empty(), "fine with Istio subsets");
    let found = errors(text, &gateway_api());
    assert!(
        found.contains(&(Code::NameCollision, 4)) || found.contains(&(Code::NameCollision, 8)),
        "the version Service `web-v1` collides with service `web-v1`: {found:?}"
    );
}
