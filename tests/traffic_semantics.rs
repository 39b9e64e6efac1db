//! Where requests actually go: a small evaluator of Istio's HTTP route semantics over the
//! emitted VirtualServices, rather than snapshots of their text.
//!
//! Istio tries a VirtualService's `http` routes in order and takes the first that matches;
//! a route matches when any of its `match` entries does (none means every request), and an
//! entry when all of its fields hold. `port` is the port the request was addressed to: a
//! port of the Service for a mesh VirtualService, a listener port of the Gateway for a
//! gateway VirtualService.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{code_ids, compile_ok, diagnostics_of, parse_yaml, read, root, string_map, Lcg};
use meshc::Options;
use regex_syntax::hir::{Class, Hir, HirKind};
use serde_yaml::Value;

/// One HTTP request as a route sees it.
#[derive(Debug, Clone, Default)]
struct Request {
    port: u16,
    path: String,
    method: String,
    headers: BTreeMap<String, String>,
    query: BTreeMap<String, String>,
    /// Labels of the calling workload.
    source: BTreeMap<String, String>,
    source_namespace: Option<String>,
}

impl Request {
    fn on(port: u16, path: &str) -> Request {
        Request {
            port,
            path: path.to_string(),
            method: "GET".to_string(),
            ..Request::default()
        }
    }

    fn header(mut self, name: &str, value: &str) -> Request {
        self.headers.insert(name.to_string(), value.to_string());
        self
    }

    fn from(mut self, labels: &[(&str, &str)]) -> Request {
        self.source = labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        self
    }
}

/// One destination: host short name, subset, port, weight.
type Dest = (String, Option<String>, Option<u64>, Option<u64>);

/// A destination as a test expects it.
type Expected<'a> = (&'a str, Option<&'a str>, Option<u64>, Option<u64>);

/// Where a request goes: its destinations, or another action.
#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    Forward(Vec<Dest>),
    Other(&'static str),
    /// No route matched: Envoy answers 404.
    NoRoute,
}

fn full_match(pattern: &str, text: &str) -> bool {
    // Envoy matches RE2 regexes against the whole value.
    regex::Regex::new(&format!("^(?:{pattern})$"))
        .unwrap_or_else(|e| panic!("emitted regex `{pattern}` does not compile: {e}"))
        .is_match(text)
}

/// Whether a StringMatch (`exact`, `prefix`, `regex`) holds for `value`.
fn string_holds(m: &Value, value: &str) -> bool {
    if let Some(v) = m.get("exact").and_then(Value::as_str) {
        return value == v;
    }
    if let Some(v) = m.get("prefix").and_then(Value::as_str) {
        return value.starts_with(v);
    }
    if let Some(v) = m.get("regex").and_then(Value::as_str) {
        return full_match(v, value);
    }
    panic!("unknown string match {m:?}");
}

/// Whether one `match` entry holds: every field it has.
fn entry_holds(m: &Value, r: &Request) -> bool {
    let fields = m
        .as_mapping()
        .unwrap_or_else(|| panic!("a match entry is a mapping: {m:?}"));
    fields
        .iter()
        .all(|(key, value)| match key.as_str().unwrap_or_default() {
            "port" => value.as_u64() == Some(u64::from(r.port)),
            "uri" => string_holds(value, &r.path),
            "method" => string_holds(value, &r.method),
            "headers" => string_map_of(value)
                .iter()
                .all(|(name, m)| r.headers.get(name).is_some_and(|v| string_holds(m, v))),
            "withoutHeaders" => string_map_of(value).keys().all(|name| !r.headers.contains_key(name)),
            "queryParams" => string_map_of(value)
                .iter()
                .all(|(name, m)| r.query.get(name).is_some_and(|v| string_holds(m, v))),
            "sourceLabels" => string_map(value).iter().all(|(k, v)| r.source.get(k) == Some(v)),
            "sourceNamespace" => value.as_str() == r.source_namespace.as_deref(),
            other => panic!("the evaluator does not know the match field `{other}`"),
        })
}

fn string_map_of(value: &Value) -> BTreeMap<String, Value> {
    value
        .as_mapping()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.as_str()?.to_string(), v.clone())))
                .collect()
        })
        .unwrap_or_default()
}

fn matches_of(route: &Value) -> Vec<Value> {
    route
        .get("match")
        .and_then(Value::as_sequence)
        .cloned()
        .unwrap_or_default()
}

/// The index of the first route that takes the request, if any.
fn first_match(vs: &Value, r: &Request) -> Option<usize> {
    http_routes(vs).iter().position(|route| {
        let matches = matches_of(route);
        matches.is_empty() || matches.iter().any(|m| entry_holds(m, r))
    })
}

fn http_routes(vs: &Value) -> Vec<Value> {
    vs.get("spec")
        .and_then(|s| s.get("http"))
        .and_then(Value::as_sequence)
        .cloned()
        .unwrap_or_default()
}

fn evaluate(vs: &Value, r: &Request) -> Outcome {
    let Some(i) = first_match(vs, r) else {
        return Outcome::NoRoute;
    };
    let route = &http_routes(vs)[i];
    if route.get("redirect").is_some() {
        return Outcome::Other("redirect");
    }
    if route.get("directResponse").is_some() {
        return Outcome::Other("respond");
    }
    let destinations = route
        .get("route")
        .and_then(Value::as_sequence)
        .cloned()
        .unwrap_or_default();
    Outcome::Forward(
        destinations
            .iter()
            .map(|d| {
                let dest = &d["destination"];
                let host = dest["host"].as_str().unwrap_or_default();
                (
                    host.split('.').next().unwrap_or_default().to_string(),
                    dest.get("subset").and_then(Value::as_str).map(str::to_string),
                    dest.get("port").and_then(|p| p.get("number")).and_then(Value::as_u64),
                    d.get("weight").and_then(Value::as_u64),
                )
            })
            .collect(),
    )
}

// ------------------------------------------------------------------ the emitted mesh

struct Mesh {
    docs: Vec<Value>,
}

impl Mesh {
    fn compile(text: &str) -> Mesh {
        Mesh {
            docs: parse_yaml(&compile_ok(text, &Options::default()).to_yaml()),
        }
    }

    /// Compiles a mesh that may have warnings.
    fn compile_warned(text: &str) -> Mesh {
        let sources = [meshc::Source::new("input.mesh", text)];
        let output = meshc::compile(&sources, &Options::default())
            .unwrap_or_else(|f| panic!("errors: {:?}", code_ids(&f.diagnostics)));
        Mesh {
            docs: parse_yaml(&output.to_yaml()),
        }
    }

    fn object(&self, kind: &str, name: &str) -> &Value {
        self.docs
            .iter()
            .find(|d| d["kind"].as_str() == Some(kind) && d["metadata"]["name"].as_str() == Some(name))
            .unwrap_or_else(|| panic!("no {kind} `{name}` in the output"))
    }

    fn virtual_services(&self) -> Vec<&Value> {
        self.docs
            .iter()
            .filter(|d| d["kind"].as_str() == Some("VirtualService"))
            .collect()
    }

    fn go(&self, vs: &str, r: &Request) -> Outcome {
        evaluate(self.object("VirtualService", vs), r)
    }

    /// The ports a VirtualService's HTTP routes receive requests on: the Service's HTTP
    /// ports (mesh), or the Gateway's listeners that carry HTTP for one of its hosts.
    fn http_ports(&self, vs: &Value) -> Vec<u16> {
        let ns = vs["metadata"]["namespace"].as_str().unwrap_or_default();
        let mut ports: Vec<u16> = match vs["spec"].get("gateways").and_then(Value::as_sequence) {
            Some(gateways) => {
                let hosts: Vec<&str> = vs["spec"]["hosts"]
                    .as_sequence()
                    .map(|h| h.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                gateways
                    .iter()
                    .filter_map(Value::as_str)
                    .flat_map(|g| self.gateway_http_ports(ns, g, &hosts))
                    .collect()
            }
            None => {
                let host = vs["spec"]["hosts"][0].as_str().unwrap_or_default();
                let short = host.split('.').next().unwrap_or_default();
                let service = self.docs.iter().find(|d| {
                    d["kind"].as_str() == Some("Service")
                        && d["metadata"]["name"].as_str() == Some(short)
                        && d["metadata"]["namespace"].as_str() == host.split('.').nth(1)
                });
                // An external host's ports are its ServiceEntry's, which name their protocol.
                let entry = self.docs.iter().find(|d| {
                    d["kind"].as_str() == Some("ServiceEntry")
                        && d["spec"]["hosts"]
                            .as_sequence()
                            .is_some_and(|h| h.iter().any(|h| h.as_str() == Some(host)))
                });
                let (owner, number) = match (service, entry) {
                    (Some(s), _) => (s, "port"),
                    (None, Some(e)) => (e, "number"),
                    (None, None) => return Vec::new(),
                };
                owner["spec"]["ports"]
                    .as_sequence()
                    .map(|ports| {
                        ports
                            .iter()
                            .filter(|p| {
                                let protocol = match p.get("protocol").and_then(Value::as_str) {
                                    Some(protocol) if number == "number" => protocol.to_ascii_lowercase(),
                                    _ => {
                                        let name = p["name"].as_str().unwrap_or_default();
                                        name.trim_end_matches(|c: char| c.is_ascii_digit())
                                            .trim_end_matches('-')
                                            .to_string()
                                    }
                                };
                                matches!(protocol.as_str(), "http" | "http2" | "grpc" | "grpc-web")
                            })
                            .filter_map(|p| p[number].as_u64().and_then(|n| u16::try_from(n).ok()))
                            .collect()
                    })
                    .unwrap_or_default()
            }
        };
        ports.sort_unstable();
        ports.dedup();
        ports
    }

    fn gateway_http_ports(&self, ns: &str, gateway: &str, hosts: &[&str]) -> Vec<u16> {
        let Some(gw) = self.docs.iter().find(|d| {
            d["kind"].as_str() == Some("Gateway")
                && d["metadata"]["name"].as_str() == Some(gateway)
                && d["metadata"]["namespace"].as_str() == Some(ns)
        }) else {
            return Vec::new();
        };
        let admits = |listener: &str, host: &str| {
            listener == "*"
                || listener == host
                || host == "*"
                || listener.strip_prefix('*').is_some_and(|s| host.ends_with(s))
                || host.strip_prefix('*').is_some_and(|s| listener.ends_with(s))
        };
        gw["spec"]["servers"]
            .as_sequence()
            .map(|servers| {
                servers
                    .iter()
                    .filter(|s| {
                        let protocol = s["port"]["protocol"].as_str().unwrap_or_default();
                        let mode = s.get("tls").and_then(|t| t.get("mode")).and_then(Value::as_str);
                        matches!(protocol, "HTTP" | "HTTP2" | "GRPC" | "GRPC-WEB")
                            || (protocol == "HTTPS" && matches!(mode, Some("SIMPLE" | "MUTUAL" | "ISTIO_MUTUAL")))
                    })
                    .filter(|s| {
                        s["hosts"].as_sequence().is_some_and(|l| {
                            l.iter()
                                .filter_map(Value::as_str)
                                .any(|l| hosts.iter().any(|h| admits(l, h)))
                        })
                    })
                    .filter_map(|s| s["port"]["number"].as_u64().and_then(|n| u16::try_from(n).ok()))
                    .collect()
            })
            .unwrap_or_default()
    }
}

// ------------------------------------------------------------------ requests from matches

/// A string the regex matches: the shortest way through it.
fn sample(hir: &Hir) -> String {
    match hir.kind() {
        HirKind::Literal(l) => String::from_utf8_lossy(&l.0).into_owned(),
        HirKind::Class(Class::Unicode(c)) => c.ranges().first().map(|r| r.start().to_string()).unwrap_or_default(),
        HirKind::Class(Class::Bytes(c)) => c
            .ranges()
            .first()
            .map(|r| char::from(r.start()).to_string())
            .unwrap_or_default(),
        HirKind::Repetition(r) => sample(&r.sub).repeat(usize::try_from(r.min).unwrap_or(1)),
        HirKind::Capture(c) => sample(&c.sub),
        HirKind::Concat(parts) => parts.iter().map(sample).collect(),
        HirKind::Alternation(parts) => parts.first().map(sample).unwrap_or_default(),
        HirKind::Empty | HirKind::Look(_) => String::new(),
    }
}

/// A value the StringMatch accepts.
fn value_for(m: &Value) -> String {
    if let Some(v) = m.get("exact").or_else(|| m.get("prefix")).and_then(Value::as_str) {
        return v.to_string();
    }
    let pattern = m["regex"].as_str().unwrap_or_default();
    let hir = regex_syntax::parse(pattern).unwrap_or_else(|e| panic!("regex `{pattern}`: {e}"));
    let value = sample(&hir);
    assert!(
        full_match(pattern, &value),
        "the sample `{value}` does not match `{pattern}`"
    );
    value
}

/// The requests one match entry describes, on each port it can arrive on.
fn requests_for(m: &Value, ports: &[u16]) -> Vec<Request> {
    let mut base = Request::on(0, "/");
    if let Some(uri) = m.get("uri") {
        base.path = value_for(uri);
    }
    if let Some(method) = m.get("method") {
        base.method = value_for(method);
    }
    for (name, v) in string_map_of(&m["headers"]) {
        base.headers.insert(name, value_for(&v));
    }
    for (name, v) in string_map_of(&m["queryParams"]) {
        base.query.insert(name, value_for(&v));
    }
    base.source = string_map(&m["sourceLabels"]);
    base.source_namespace = m.get("sourceNamespace").and_then(Value::as_str).map(str::to_string);
    // Where the match leaves the path open, try the root and a path nothing else names too.
    let mut paths = vec![base.path.clone()];
    match m.get("uri") {
        None => paths.push("/meshc/unmatched".to_string()),
        Some(uri) if uri.get("prefix").is_some() => paths.push(format!("{}meshc-unmatched", base.path)),
        Some(_) => {}
    }
    // Likewise the method: two that routes name, and one they rarely do.
    let methods: Vec<String> = match m.get("method") {
        Some(_) => vec![base.method.clone()],
        None => ["GET", "POST", "PATCH"].map(str::to_string).to_vec(),
    };
    let ports = match m.get("port").and_then(Value::as_u64) {
        Some(p) => vec![u16::try_from(p).unwrap_or_default()],
        None => ports.to_vec(),
    };
    let mut out = Vec::new();
    for port in ports {
        for path in &paths {
            for method in &methods {
                out.push(Request {
                    port,
                    path: path.clone(),
                    method: method.clone(),
                    ..base.clone()
                });
            }
        }
    }
    out
}

/// Every HTTP route of every VirtualService is reached by some request built from its own
/// match; every request to a service, on each of its HTTP ports, reaches some route.
fn assert_every_route_reachable(mesh: &Mesh, what: &str) {
    for vs in mesh.virtual_services() {
        let name = vs["metadata"]["name"].as_str().unwrap_or_default();
        let ports = mesh.http_ports(vs);
        for (i, route) in http_routes(vs).iter().enumerate() {
            let mut matches = matches_of(route);
            if matches.is_empty() {
                matches.push(Value::Mapping(Default::default()));
            }
            let reached = matches
                .iter()
                .flat_map(|m| requests_for(m, &ports))
                .any(|r| first_match(vs, &r) == Some(i));
            assert!(
                reached,
                "{what}: route {i} of VirtualService `{name}` is never reached (ports {ports:?}):\n{}",
                serde_yaml::to_string(vs).unwrap_or_default()
            );
        }
        if vs["spec"].get("gateways").is_none() && !http_routes(vs).is_empty() {
            for port in &ports {
                let stranger = Request::on(*port, "/nothing/routes/this").from(&[("app", "nobody")]);
                assert_ne!(
                    evaluate(vs, &stranger),
                    Outcome::NoRoute,
                    "{what}: a request on port {port} reaches no route of `{name}`"
                );
            }
        }
    }
}

fn forward(list: &[Expected<'_>]) -> Outcome {
    Outcome::Forward(
        list.iter()
            .map(|(h, s, p, w)| (h.to_string(), s.map(str::to_string), *p, *w))
            .collect(),
    )
}

#[test]
fn every_example_route_is_reachable_and_every_request_routed() {
    let mut checked = 0;
    for entry in std::fs::read_dir(root().join("examples")).expect("examples folder") {
        let path = entry.expect("entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some("mesh") {
            continue;
        }
        let mesh = Mesh::compile(&read(&path));
        assert_every_route_reachable(&mesh, &path.display().to_string());
        checked += 1;
    }
    assert!(checked >= 5, "only {checked} examples found");
}

#[test]
fn every_ok_and_warn_case_route_is_reachable() {
    let mut checked = 0;
    let folders = ["ok", "warn"].map(|k| root().join("tests/cases").join(k));
    let cases = folders
        .iter()
        .flat_map(|dir| std::fs::read_dir(dir).expect("case folder"))
        .map(|entry| entry.expect("entry").path());
    for case in cases {
        // Cases with options or imports are compiled differently; `cases.rs` covers them.
        if case.join("args").exists() || has_import(&case) {
            continue;
        }
        let mesh = Mesh::compile_warned(&read(&case.join("input.mesh")));
        assert_every_route_reachable(&mesh, &case.display().to_string());
        checked += 1;
    }
    assert!(checked >= 20, "only {checked} ok cases checked");
}

fn has_import(case: &Path) -> bool {
    read(&case.join("input.mesh"))
        .lines()
        .any(|l| l.trim_start().starts_with("import"))
}

// ------------------------------------------------------------------ catch-all by exhaustion

const SHOP: &str = r#"
namespace shop {
  service web {
    port http 8080
    port tcp 7000
    pod v1 image "registry.example.com/web:1"
    pod v2 image "registry.example.com/web:2"
    route header x-canary "yes" -> v2
    route port 8080 -> v1
  }
  service api {
    port http 8080
    port http 9090
    pod v1 image "registry.example.com/api:1"
    pod v2 image "registry.example.com/api:2"
    route port 8080 -> v1
  }
}
"#;

#[test]
fn the_only_port_is_a_catch_all_and_no_default_route_follows() {
    let mesh = Mesh::compile(SHOP);
    let web = mesh.object("VirtualService", "web");
    assert_eq!(http_routes(web).len(), 2, "no default route after `port 8080`");
    assert_eq!(
        mesh.go("web", &Request::on(8080, "/").header("x-canary", "yes")),
        forward(&[("web", Some("v2"), Some(8080), None)])
    );
    assert_eq!(
        mesh.go("web", &Request::on(8080, "/anything")),
        forward(&[("web", Some("v1"), Some(8080), None)])
    );
    assert_every_route_reachable(&mesh, "shop");
}

#[test]
fn a_port_of_several_is_no_catch_all() {
    let mesh = Mesh::compile(SHOP);
    assert_eq!(
        mesh.go("api", &Request::on(8080, "/")),
        forward(&[("api", Some("v1"), Some(8080), None)])
    );
    // The default route is there for 9090 only.
    assert_eq!(
        mesh.go("api", &Request::on(9090, "/")),
        forward(&[("api", None, Some(9090), None)])
    );
    // A written default route after it is written for 9090 only: on 8080 it takes nothing.
    let text = service_with("port http 8080\n port http 9090", "route port 8080 -> v1\n route -> v2");
    let mesh = Mesh::compile(&text);
    assert_eq!(http_routes(mesh.object("VirtualService", "web")).len(), 2);
    assert_eq!(
        mesh.go("web", &Request::on(9090, "/")),
        forward(&[("web", Some("v2"), Some(9090), None)])
    );
    assert_every_route_reachable(&mesh, &text);
}

fn codes(text: &str) -> Vec<String> {
    code_ids(&diagnostics_of(text, &Options::default()))
        .into_iter()
        .collect()
}

fn service_with(ports: &str, routes: &str) -> String {
    format!(
        r#"namespace shop {{
  service web {{
    {ports}
    pod v1 image "registry.example.com/web:1"
    pod v2 image "registry.example.com/web:2"
    pod v3 image "registry.example.com/web:3"
    {routes}
  }}
}}"#
    )
}

#[test]
fn routes_after_an_exhaustive_route_are_errors() {
    // The seed article's blue/green header routes.
    let seed = service_with(
        "port http 8001",
        r#"route port 8001 or header version "v1" -> v1
    route port 8001 or header version "v2" -> v2"#,
    );
    // The first route's header alternative never decides anything either (M3020).
    assert_eq!(codes(&seed), ["M3012", "M3020"]);
    let cases = [
        (
            "port http 8080\n port tcp 7000",
            "route port 8080 -> v1\n route header a \"b\" -> v2",
        ),
        (
            "port http 8080\n port http 9090",
            "route port 8080 or port 9090 -> v1\n route -> v2",
        ),
        (
            "port http 8080\n port http 9090",
            "route port 8080 -> v1\n route port 9090 -> v2\n route -> v3",
        ),
        ("port http 8080", "route prefix \"/\" -> v1\n route exact \"/a\" -> v2"),
        (
            "port http 8080",
            "route port 8080 prefix \"/a\" -> v1\n route prefix \"/a/b\" -> v2",
        ),
    ];
    for (ports, routes) in cases {
        assert_eq!(codes(&service_with(ports, routes)), ["M3012"], "{ports} / {routes}");
    }
    // Not exhaustive: a method, one port of two, a header.
    let fine = [
        ("port http 8080\n port http 9090", "route port 8080 -> v1\n route -> v2"),
        ("port http 8080", "route method GET -> v1\n route -> v2"),
        ("port http 8080", "route header a \"b\" -> v1\n route port 8080 -> v2"),
    ];
    for (ports, routes) in fine {
        assert_eq!(
            codes(&service_with(ports, routes)),
            Vec::<String>::new(),
            "{ports} / {routes}"
        );
    }
}

#[test]
fn a_gateway_listener_that_alone_carries_http_is_exhaustive() {
    let gateway = |listeners: &str, routes: &str| {
        format!(
            r#"namespace shop {{
  service web {{
    port http 8080
    pod v1 image "registry.example.com/web:1"
  }}
  gateway edge {{
    {listeners}
    {routes}
  }}
}}"#
        )
    };
    let single = gateway(
        "listen http 80\n listen tls 443 hosts \"a.example.com\" tls passthrough",
        "route port 80 -> web\n route prefix \"/x\" -> web",
    );
    assert_eq!(codes(&single), ["M3012"]);
    let two = gateway(
        "listen http 80\n listen http 81",
        "route port 80 -> web\n route prefix \"/x\" -> web",
    );
    assert_eq!(codes(&two), Vec::<String>::new());
    let mesh = Mesh::compile(&two);
    assert_eq!(
        mesh.go("edge", &Request::on(81, "/x")),
        forward(&[("web", None, Some(8080), None)])
    );
    assert_eq!(mesh.go("edge", &Request::on(81, "/y")), Outcome::NoRoute);
}

// ------------------------------------------------------------------ gateway carry-over

const CARRY: &str = r#"
namespace shop {
  service web {
    port http 8080
    port http 9090
    pod v1 image "registry.example.com/web:1"
    pod v2 image "registry.example.com/web:2"
    pod v3 image "registry.example.com/web:3"
    route port 9090 header x-canary "yes" -> v3
    route from client -> v3
    route port 8080 header x-canary "yes" -> v2
    route port 8080 { v1 90% v2 10% }
  }
  service client {
    port http 8080
    pod v1 image "registry.example.com/client:1"
  }
  gateway edge {
    listen http 8080 hosts "*"
    listen http 9090 hosts "*"
    route -> web:8080
  }
  gateway side {
    selector istio "side"
    listen http 80 hosts "*"
    listen http 81 hosts "*"
    route port 80 -> web:8080
    route -> client
  }
}
"#;

#[test]
fn a_gateway_carries_only_the_routes_of_the_port_it_names() {
    let mesh = Mesh::compile(CARRY);
    let split = forward(&[
        ("web", Some("v1"), Some(8080), Some(90)),
        ("web", Some("v2"), Some(8080), Some(10)),
    ]);
    // Listener 9090 is not web's port 9090: the canary header sends to v2 on 8080, never v3.
    let canary = Request::on(9090, "/").header("x-canary", "yes");
    assert_eq!(
        mesh.go("edge", &canary),
        forward(&[("web", Some("v2"), Some(8080), None)])
    );
    assert_eq!(mesh.go("edge", &Request::on(9090, "/")), split);
    assert_eq!(mesh.go("edge", &Request::on(8080, "/")), split);
    // `from client` names a caller in the mesh; ingress traffic comes from the gateway.
    let from_client = Request::on(8080, "/").from(&[("app", "client")]);
    assert_eq!(mesh.go("edge", &from_client), split);
    // Inside the mesh, both still hold.
    assert_eq!(
        mesh.go("web", &from_client),
        forward(&[("web", Some("v3"), Some(8080), None)])
    );
    assert_eq!(
        mesh.go("web", &Request::on(9090, "/").header("x-canary", "yes")),
        forward(&[("web", Some("v3"), Some(9090), None)])
    );
    // A gateway route on one listener carries web's routes to that listener only.
    assert_eq!(mesh.go("side", &Request::on(80, "/")), split);
    assert_eq!(
        mesh.go("side", &Request::on(81, "/").header("x-canary", "yes")),
        forward(&[("client", None, Some(8080), None)])
    );
    assert_every_route_reachable(&mesh, "carry");
}

// ------------------------------------------------------------------ bypassed version routes

fn bypass(web_route: &str, cart_versions: &str) -> String {
    format!(
        r#"namespace shop {{
  service web {{
    port http 8080
    pod v1 image "registry.example.com/web:1"
    {web_route}
  }}
  service cart {{
    port http 8080
    {cart_versions}
    route header x-beta "1" -> v1
  }}
  gateway edge {{
    listen http 80
    route prefix "/shop" -> web
  }}
}}"#
    )
}

#[test]
fn a_mesh_route_past_a_version_choice_is_reported() {
    let two = "pod v1 image \"registry.example.com/cart:1\"\n pod v2 image \"registry.example.com/cart:2\"";
    let one = "pod v1 image \"registry.example.com/cart:1\"";
    let text = bypass("route prefix \"/cart\" -> cart", two);
    assert_eq!(codes(&text), ["M3025"]);
    // What the warning is about: the header route of cart is not applied to web's requests.
    let mesh = Mesh::compile_warned(&text);
    assert_eq!(
        mesh.go("web", &Request::on(8080, "/cart").header("x-beta", "1")),
        forward(&[("cart", None, None, None)])
    );
    assert_eq!(
        codes(&bypass("route prefix \"/cart\" { cart 50% cart/v2 50% }", two)),
        ["M3025"]
    );
    // One version: nothing to bypass. A named version: the route chooses.
    assert_eq!(
        codes(&bypass("route prefix \"/cart\" -> cart", one)),
        Vec::<String>::new()
    );
    assert_eq!(
        codes(&bypass("route prefix \"/cart\" -> cart/v2", two)),
        Vec::<String>::new()
    );
}

#[test]
fn a_gateway_route_past_a_single_version_is_not_reported() {
    let gateway = |versions: &str, target: &str| {
        format!(
            r#"namespace shop {{
  service web {{
    port http 8080
    {versions}
    route prefix "/old" -> v1 rewrite "/new"
    route {{ v1 100% }}
  }}
  gateway edge {{
    listen http 80
    route prefix "/web" -> {target}
  }}
}}"#
        )
    };
    let one = "pod v1 image \"registry.example.com/web:1\"";
    let two = "pod v1 image \"registry.example.com/web:1\"\n pod v2 image \"registry.example.com/web:2\"";
    assert_eq!(codes(&gateway(one, "web")), Vec::<String>::new());
    assert_eq!(codes(&gateway(two, "web")), ["M3018"]);
    assert_eq!(codes(&gateway(two, "web/v1")), Vec::<String>::new());
}

#[test]
fn conditions_that_never_decide_or_never_hold_are_reported() {
    // The header alternative of a route that matches everything never decides anything.
    let redundant = service_with("port http 8001", "route port 8001 or header version \"v1\" -> v1");
    assert_eq!(codes(&redundant), ["M3020"]);
    let mesh = Mesh::compile_warned(&redundant);
    assert_eq!(
        mesh.go("web", &Request::on(8001, "/").header("version", "v2")),
        forward(&[("web", Some("v1"), None, None)])
    );
    // A port of another kind, or none of the service's, never holds.
    let tcp_port = service_with("port http 8080\n port tcp 7000", "route port 7000 -> v1");
    assert_eq!(codes(&tcp_port), ["M2011"]);
    let http_port = service_with("port http 8080\n port tcp 7000", "route tcp port 8080 -> v1");
    assert_eq!(codes(&http_port), ["M2011"]);
    // Requests through a gateway come from the gateway, never from a mesh service.
    let from = r#"namespace shop {
  service web {
    port http 8080
    pod v1 image "registry.example.com/web:1"
  }
  gateway edge {
    listen http 80
    route from web -> web
  }
}"#;
    assert_eq!(codes(from), ["M3007"]);
}

/// A service `web` with versions v1 and v2 behind a gateway `edge` with this body.
fn gateway_to_web(body: &str) -> String {
    format!(
        r#"namespace shop {{
  service web {{
    port http 8080
    pod v1 image "registry.example.com/web:1"
    pod v2 image "registry.example.com/web:2"
  }}
  gateway edge {{
    {body}
  }}
}}"#
    )
}

#[test]
fn a_hosts_own_routes_come_before_the_routes_for_every_host() {
    let text = &gateway_to_web(
        r#"listen http 80 hosts "a.example.com", "b.example.com"
    route prefix "/y" -> web/v1
    route -> web/v2
    route host "a.example.com" prefix "/y" -> web/v2"#,
    );
    // Written after the routes for every host, the host's route is still reached: it is
    // tried first for its host.
    assert_eq!(codes(text), Vec::<String>::new());
    let mesh = Mesh::compile(text);
    let v = |subset| forward(&[("web", Some(subset), Some(8080), None)]);
    assert_eq!(mesh.go("edge-a-example-com", &Request::on(80, "/y")), v("v2"));
    assert_eq!(mesh.go("edge", &Request::on(80, "/y")), v("v1"));
    assert_eq!(mesh.go("edge", &Request::on(80, "/other")), v("v2"));
    // Its own earlier routes do shadow it.
    let shadowed = text.replace(
        "route host \"a.example.com\" prefix \"/y\" -> web/v2",
        "route host \"a.example.com\" prefix \"/y\" -> web/v2\n    route host \"a.example.com\" prefix \"/y/z\" -> web/v1",
    );
    assert_eq!(codes(&shadowed), ["M3012"]);
}

#[test]
fn port_alternatives_that_name_every_listener_of_a_host_take_that_host() {
    let text = &gateway_to_web(
        r#"listen http 80 hosts "a.example.com", "b.example.com"
    listen http 81 hosts "a.example.com"
    listen http 82 hosts "b.example.com"
    route host "a.example.com" port 80 or host "a.example.com" port 81 -> web/v1
    route -> web/v2"#,
    );
    assert_eq!(codes(text), Vec::<String>::new());
    let mesh = Mesh::compile(text);
    let a = mesh.object("VirtualService", "edge-a-example-com");
    assert_eq!(
        http_routes(a).len(),
        1,
        "the routes for every host are never reached for `a`"
    );
    let v = |subset| forward(&[("web", Some(subset), Some(8080), None)]);
    assert_eq!(mesh.go("edge-a-example-com", &Request::on(81, "/")), v("v1"));
    assert_eq!(mesh.go("edge", &Request::on(82, "/")), v("v2"));
    assert_every_route_reachable(&mesh, "hosts");
}

/// Random services with one or two HTTP ports and routes on ports, paths, a header and
/// methods: whenever meshc accepts the routes, Istio reaches every route it writes and every
/// request to the service reaches a route.
#[test]
fn random_routes_are_reachable_whenever_meshc_accepts_them() {
    const CONDITIONS: &[&str] = &[
        "port 8080",
        "port 9090",
        "prefix \"/a\"",
        "prefix \"/a/b\"",
        "exact \"/a\"",
        "prefix \"/\"",
        "header x-a \"1\"",
        "header x-a \"2\"",
        "method GET",
        "method POST",
    ];
    const TARGETS: &[&str] = &["v1", "v2", "{ v1 50% v2 50% }"];
    let accepted = accepted_of_random(|rng| {
        let ports = if rng.below(2) == 0 {
            "port http 8080"
        } else {
            "port http 8080\n    port http 9090"
        };
        let routes = random_routes(rng, CONDITIONS, TARGETS);
        service_with(ports, &routes.join("\n    ")).replace("-> {", "{")
    });
    assert!(accepted > 100, "only {accepted} of 300 random meshes compiled");
}

/// The same for gateways with one or two HTTP listeners (and a TLS one carrying no HTTP),
/// routes for one host and for every host.
#[test]
fn random_gateway_routes_are_reachable_whenever_meshc_accepts_them() {
    const PLACES: &[&str] = &["port 80", "port 81", "host \"a.example.com\""];
    const CONDITIONS: &[&str] = &[
        "prefix \"/a\"",
        "exact \"/a\"",
        "prefix \"/\"",
        "header x-a \"1\"",
        "method GET",
    ];
    const TARGETS: &[&str] = &["web/v1", "web/v2", "web"];
    let accepted = accepted_of_random(|rng| {
        let listeners = match rng.below(3) {
            0 => "listen http 80\n    listen tls 443 hosts \"a.example.com\" tls passthrough",
            1 => "listen http 80\n    listen http 81",
            _ => "listen http 80 hosts \"a.example.com\", \"b.example.com\"\n    listen http 81 hosts \"*\"",
        };
        // Routes on ports, or routes for one host, not both: a host's VirtualService keeps
        // the routes for every host that its own routes do not take one by one, so after
        // `port` routes that take its ports only together it holds dead copies (a known
        // limit of `Route::taken_by`).
        let place = if rng.below(2) == 0 { &PLACES[..2] } else { &PLACES[2..] };
        let conditions: Vec<&str> = place.iter().chain(CONDITIONS).copied().collect();
        let routes = random_routes(rng, &conditions, TARGETS);
        gateway_to_web(&format!("{listeners}\n    {}", routes.join("\n    ")))
    });
    assert!(accepted > 100, "only {accepted} of 300 random gateways compiled");
}

/// How many of 300 meshes, each made from its own seeded generator, meshc accepts; checks
/// each accepted one with [`reachable_when_accepted`].
fn accepted_of_random(make: impl Fn(&mut Lcg) -> String) -> usize {
    (0..300)
        .filter(|seed| reachable_when_accepted(*seed, &make(&mut Lcg::new(*seed))))
        .count()
}

/// Compiles; when meshc accepts the mesh, every route is reachable. Otherwise only routing
/// findings are allowed. Whether it was accepted.
fn reachable_when_accepted(seed: u64, text: &str) -> bool {
    let sources = [meshc::Source::new("input.mesh", text)];
    match meshc::compile(&sources, &Options::default()) {
        Ok(output) => {
            let mesh = Mesh {
                docs: parse_yaml(&output.to_yaml()),
            };
            assert_every_route_reachable(&mesh, &format!("seed {seed}:\n{text}"));
            true
        }
        Err(failure) => {
            let codes = code_ids(&failure.diagnostics);
            let known = ["M2011", "M3012", "M3015", "M3018", "M3020"];
            assert!(
                codes.iter().all(|c| known.contains(&c.as_str())),
                "seed {seed}: unexpected {codes:?}\n{text}"
            );
            false
        }
    }
}

/// One to four routes, each with up to two alternatives of one or two conditions (each
/// testing a different thing).
fn random_routes(rng: &mut Lcg, conditions: &[&str], targets: &[&str]) -> Vec<String> {
    let mut routes = Vec::new();
    for _ in 0..1 + rng.below(4) {
        let mut alternatives = Vec::new();
        for _ in 0..rng.below(3) {
            let mut words: Vec<&str> = Vec::new();
            for _ in 0..1 + rng.below(2) {
                let c = conditions[rng.below(conditions.len())];
                // One test of each thing per alternative.
                let thing = c.split(' ').next().unwrap_or_default();
                let thing = if matches!(thing, "prefix" | "exact") {
                    "path"
                } else {
                    thing
                };
                let taken = words.iter().any(|w| {
                    let t = w.split(' ').next().unwrap_or_default();
                    (if matches!(t, "prefix" | "exact") { "path" } else { t }) == thing
                });
                if !taken {
                    words.push(c);
                }
            }
            alternatives.push(words.join(" "));
        }
        routes.push(format!(
            "route {} -> {}",
            alternatives.join(" or "),
            targets[rng.below(targets.len())]
        ));
    }
    routes
}

#[test]
fn a_route_for_one_host_or_a_path_takes_that_path_on_every_host() {
    let text = &gateway_to_web(
        r#"listen http 80 hosts "a.example.com", "b.example.com"
    route host "a.example.com" or prefix "/a" -> web/v1
    route prefix "/" -> web/v2"#,
    );
    assert_eq!(codes(text), Vec::<String>::new());
    let mesh = Mesh::compile(text);
    let v = |subset| forward(&[("web", Some(subset), Some(8080), None)]);
    assert_eq!(mesh.go("edge", &Request::on(80, "/a/x")), v("v1"));
    assert_eq!(mesh.go("edge", &Request::on(80, "/b")), v("v2"));
    assert_eq!(mesh.go("edge-a-example-com", &Request::on(80, "/b")), v("v1"));
    assert_every_route_reachable(&mesh, text);
}

// ------------------------------------------------------------------ meshc traffic's engine

/// The engine's outcome for a route, in the evaluator's terms.
fn engine_outcome(route: Option<&meshc::traffic::Route>) -> Outcome {
    use meshc::traffic::Action;
    match route.map(|r| &r.action) {
        None => Outcome::NoRoute,
        Some(Action::Redirect(_)) => Outcome::Other("redirect"),
        Some(Action::Respond(_)) => Outcome::Other("respond"),
        Some(Action::Forward(list)) => Outcome::Forward(
            list.iter()
                .map(|d| {
                    (
                        d.host.split('.').next().unwrap_or_default().to_string(),
                        d.subset.clone(),
                        None,
                        (list.len() > 1).then_some(u64::from(d.weight)),
                    )
                })
                .collect(),
        ),
    }
}

/// Without ports: the engine's destinations name no port (the emitted ones may).
fn portless(outcome: Outcome) -> Outcome {
    match outcome {
        Outcome::Forward(list) => Outcome::Forward(list.into_iter().map(|(h, s, _, w)| (h, s, None, w)).collect()),
        other => other,
    }
}

/// `meshc traffic`'s engine, over the model, takes the same route as this evaluator over the
/// emitted VirtualServices, for every request built from every route's match, on every
/// example: an independent oracle of the engine's first-match semantics.
#[test]
fn the_traffic_engine_agrees_with_the_evaluator_on_every_example() {
    let mut compared = 0;
    for path in common::example_paths() {
        let text = read(&path);
        let mesh = Mesh::compile(&text);
        let sources = [meshc::Source::new("input.mesh", text.as_str())];
        let (model, _) = meshc::analyze(&sources, &Options::default());
        let table = meshc::traffic::Table::from_mesh(&model.expect("a model"));
        for vs in mesh.virtual_services() {
            let name = vs["metadata"]["name"].as_str().unwrap_or_default();
            let ports = mesh.http_ports(vs);
            let gateways: Vec<String> = vs["spec"]
                .get("gateways")
                .and_then(Value::as_sequence)
                .map(|g| g.iter().filter_map(Value::as_str).map(str::to_string).collect())
                .unwrap_or_default();
            let host = vs["spec"]["hosts"][0].as_str().unwrap_or_default().to_string();
            if gateways.is_empty() && !table.services.iter().any(|s| s.host == host) {
                continue; // an external host's routes: the engine does not route inside them
            }
            for route in http_routes(vs) {
                let mut matches = matches_of(&route);
                if matches.is_empty() {
                    matches.push(Value::Mapping(Default::default()));
                }
                for r in matches.iter().flat_map(|m| requests_for(m, &ports)) {
                    let mut request = meshc::traffic::Request {
                        method: r.method.clone(),
                        path: r.path.clone(),
                        host: Some(host.replace('*', "oracle")),
                        port: Some(r.port),
                        headers: r.headers.clone(),
                        query: r.query.clone(),
                        ..meshc::traffic::Request::default()
                    };
                    let engine = match gateways.first() {
                        Some(gateway) => {
                            let listener = table
                                .gateways
                                .iter()
                                .find(|g| &g.name == gateway)
                                .and_then(|g| g.listeners.iter().find(|l| l.port == r.port));
                            // The evaluator does not model a listener's redirect to HTTPS.
                            if listener.is_some_and(|l| l.https_redirect) {
                                continue;
                            }
                            // A shared VirtualService's `*` host: a host with no routes of its own.
                            if host == "*" {
                                request.host = Some("oracle.meshc.invalid".into());
                            }
                            engine_outcome(table.decide_at_gateway(gateway, &request).as_ref())
                        }
                        None => {
                            let labels: meshc::model::Labels = r.source.clone().into_iter().collect();
                            let sender = (!r.source.is_empty()).then_some(meshc::traffic::Sender {
                                labels: &labels,
                                namespace: r.source_namespace.as_deref(),
                            });
                            engine_outcome(table.decide(&host, &request, sender))
                        }
                    };
                    let evaluated = portless(evaluate(vs, &r));
                    assert_eq!(
                        engine,
                        evaluated,
                        "{}: VirtualService `{name}`, request {r:?}",
                        path.display()
                    );
                    compared += 1;
                }
            }
        }
    }
    assert!(compared >= 50, "only {compared} requests compared");
}

// ------------------------------------------------------------------ the engine over YAML

/// A trace in the terms both readers share: places and services by their Service name (the
/// first label of their host), shares to a millionth; which route took a request is left
/// out (the manifests repeat a route once per port where the `.mesh` writes it once).
fn comparable(trace: &meshc::traffic::Trace, table: &meshc::traffic::Table) -> Vec<String> {
    let by_name: BTreeMap<&str, &str> = table
        .services
        .iter()
        .map(|s| (s.name.as_str(), s.host.split('.').next().unwrap_or_default()))
        .collect();
    let name = |n: &str| by_name.get(n).map_or(n.to_string(), |h| h.to_string());
    let share = |s: f64| format!("{:.6}", s);
    let mut out = Vec::new();
    for hop in &trace.hops {
        out.push(format!("hop {} {}", name(&hop.place), share(hop.share)));
        for v in &hop.versions {
            out.push(format!("  {}/{} {}", name(&v.service), v.version, share(v.share)));
            for e in &v.endpoints {
                out.push(format!("    {} vm={} {}", e.endpoint, e.vm, share(e.share)));
            }
        }
        for (what, s) in &hop.answered {
            let what = match what.split_once(" calls ") {
                Some((caller, rest)) => format!("{} calls {rest}", name(caller)),
                None => what.clone(),
            };
            out.push(format!("  answered {what} {}", share(*s)));
        }
    }
    out
}

/// The mesh's table with only the calls the manifests can show: those made through an
/// environment variable of a pod version (`calls X via env NAME`).
fn mesh_table_as_manifests_see_it(mesh: &meshc::model::Mesh) -> meshc::traffic::Table {
    let mut table = meshc::traffic::Table::from_mesh(mesh);
    for (service, s) in table
        .services
        .iter_mut()
        .zip(mesh.namespaces.iter().flat_map(|n| &n.services))
    {
        let env: Vec<&str> = s
            .versions
            .iter()
            .filter_map(|v| match &v.workload {
                meshc::model::Workload::Pod(p) => Some(p.env.iter().map(|(_, value)| value.as_str())),
                meshc::model::Workload::Vm(_) => None,
            })
            .flatten()
            .collect();
        service.calls.retain(|h| env.contains(&h.as_str()));
    }
    table
}

/// The requests each route of a VirtualService's `tcp` and `tls` lists is built for.
fn l4_requests(vs: &Value) -> Vec<(meshc::traffic::Protocol, Request, Option<String>)> {
    let mut out = Vec::new();
    for (key, protocol) in [
        ("tcp", meshc::traffic::Protocol::Tcp),
        ("tls", meshc::traffic::Protocol::Tls),
    ] {
        for route in vs["spec"].get(key).and_then(Value::as_sequence).into_iter().flatten() {
            let mut matches = matches_of(route);
            if matches.is_empty() {
                matches.push(Value::Mapping(Default::default()));
            }
            for m in matches {
                let port = m
                    .get("port")
                    .and_then(Value::as_u64)
                    .and_then(|p| u16::try_from(p).ok());
                let mut r = Request::on(port.unwrap_or(0), "/");
                r.source = string_map(&m["sourceLabels"]);
                r.source_namespace = m.get("sourceNamespace").and_then(Value::as_str).map(str::to_string);
                let sni = m["sniHosts"]
                    .as_sequence()
                    .and_then(|l| l.first())
                    .and_then(Value::as_str)
                    .map(|s| s.replace('*', "oracle"));
                out.push((protocol, r, sni));
            }
        }
    }
    out
}

/// The service (by host) whose version carries `labels`, and that version; or any other
/// service than `host`, every version alike, when no labels are asked for.
fn sender(
    table: &meshc::traffic::Table,
    labels: &BTreeMap<String, String>,
    host: &str,
) -> Option<(String, Option<String>)> {
    if labels.is_empty() {
        return table
            .services
            .iter()
            .find(|s| s.host != host && !s.versions.is_empty())
            .map(|s| (s.host.clone(), None));
    }
    table.services.iter().find_map(|s| {
        s.versions
            .iter()
            .find(|v| labels.iter().all(|(k, val)| v.labels.get(k) == Some(val)))
            .map(|v| (s.host.clone(), Some(v.name.clone())))
    })
}

/// Proof that `meshc traffic` reads existing manifests as it reads the `.mesh`: for every
/// example and `ok` case (without options or imports), the YAML meshc builds, read back through `meshc lint`'s model, gives the same
/// trace (shares per hop, version and endpoint, answers) as the `.mesh` model for every
/// request built from every route's match (HTTP, TCP and TLS), entering at the gateway
/// or sent by a workload the match names.
#[test]
fn the_trace_over_the_built_yaml_equals_the_trace_over_the_mesh() {
    use meshc::traffic::{Protocol, Start, Table};
    let mut compared = 0;
    let mut l4 = 0;
    let ok = std::fs::read_dir(root().join("tests/cases/ok"))
        .expect("case folder")
        .map(|entry| entry.expect("entry").path())
        .filter(|case| !case.join("args").exists() && !has_import(case))
        .map(|case| case.join("input.mesh"));
    for path in common::example_paths().into_iter().chain(ok) {
        let text = read(&path);
        let sources = [meshc::Source::new("input.mesh", text.as_str())];
        let output = meshc::compile(&sources, &Options::default()).expect("the example compiles");
        let yaml: String = output.documents.iter().map(|d| format!("---\n{}", d.yaml)).collect();
        let (manifests, problems) = meshc::manifests::read(&[meshc::Source::new("built.yaml", yaml.as_str())]);
        assert!(problems.is_empty(), "{}: the built YAML reads back", path.display());
        let from_yaml = Table::from_manifests(&manifests);
        let (model, _) = meshc::analyze(&sources, &Options::default());
        let from_mesh = mesh_table_as_manifests_see_it(&model.expect("a model"));
        let mesh = Mesh::compile(&text);
        for vs in mesh.virtual_services() {
            let name = vs["metadata"]["name"].as_str().unwrap_or_default();
            let host = vs["spec"]["hosts"][0].as_str().unwrap_or_default().to_string();
            let gateway = vs["spec"]
                .get("gateways")
                .and_then(Value::as_sequence)
                .and_then(|g| g.first())
                .and_then(Value::as_str)
                .map(str::to_string);
            if gateway.is_none() && !from_mesh.services.iter().any(|s| s.host == host) {
                continue; // an external host's routes: the engine does not route inside them
            }
            let ports = mesh.http_ports(vs);
            let mut requests: Vec<(Protocol, Request, Option<String>)> = Vec::new();
            for route in http_routes(vs) {
                let mut matches = matches_of(&route);
                if matches.is_empty() {
                    matches.push(Value::Mapping(Default::default()));
                }
                for r in matches.iter().flat_map(|m| requests_for(m, &ports)) {
                    requests.push((Protocol::Http, r, None));
                }
            }
            requests.extend(l4_requests(vs));
            for (protocol, r, sni) in requests {
                let request = meshc::traffic::Request {
                    method: r.method.clone(),
                    path: r.path.clone(),
                    host: Some(if host == "*" {
                        "oracle.meshc.invalid".into()
                    } else {
                        host.replace('*', "oracle")
                    }),
                    port: (r.port != 0).then_some(r.port),
                    headers: r.headers.clone(),
                    query: r.query.clone(),
                    protocol,
                    sni,
                    address: None,
                };
                let (start_mesh, start_yaml) = match &gateway {
                    Some(g) => (Start::Gateway(g.clone()), Start::Gateway(g.clone())),
                    None => {
                        let Some((from, version)) = sender(&from_mesh, &r.source, &host) else {
                            continue;
                        };
                        let start = |table: &Table| {
                            let name = table.services.iter().find(|s| s.host == from).map(|s| s.name.clone());
                            Start::Service {
                                name: name.expect("the sender in both tables"),
                                version: version.clone(),
                                to: Some(host.clone()),
                            }
                        };
                        (start(&from_mesh), start(&from_yaml))
                    }
                };
                let want = from_mesh.trace(&start_mesh, &request).expect("traced over the mesh");
                let got = from_yaml.trace(&start_yaml, &request).expect("traced over the YAML");
                assert_eq!(
                    comparable(&got, &from_yaml),
                    comparable(&want, &from_mesh),
                    "{}: VirtualService `{name}`, {protocol:?} request {r:?}",
                    path.display()
                );
                compared += 1;
                l4 += usize::from(protocol != Protocol::Http);
            }
        }
    }
    assert!(compared >= 500, "only {compared} requests compared");
    assert!(l4 >= 5, "only {l4} TCP or TLS requests compared");
}
