//! Reads the generated AuthorizationPolicies back and evaluates them as Istio does, for
//! every pair of services of every example, every ok case and generated meshes: exactly
//! the callers the `.mesh` declares (`calls`, `allow` lines, gateways that route to the
//! service) are allowed, on the service's ports, and every other caller is denied.
//!
//! The evaluator follows Istio's authorization semantics: the DENY policies that apply to
//! the workload first (any matching rule denies), then the ALLOW policies (when any applies,
//! the request must match one of their rules). A rule matches when one of its `from`
//! sources, one of its `to` operations and all of its `when` conditions match; every field
//! set on a source or an operation must match. The workloads, their identities and their
//! addresses are read from the same YAML (Deployments, WorkloadEntries and the TLS-mode
//! label); what the `.mesh` declares comes from the model (`meshc::analyze`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use common::{at, cases, example_paths, parse_yaml, read, str_at, string_map, CaseKind, Lcg};
use meshc::model::{self, Mesh};
use meshc::{Options, Source};
use serde_yaml::Value;

/// A workload read from the YAML.
#[derive(Debug, Clone)]
struct Workload {
    namespace: String,
    labels: BTreeMap<String, String>,
    /// Its identity, when it runs the Istio agent.
    principal: Option<String>,
    /// Its address, for VMs.
    ip: Option<String>,
}

/// A caller: its workload, the service it belongs to (namespace and service), or the
/// services it routes to when it is a gateway.
type Caller<'m> = (
    Workload,
    Option<(&'m str, &'m model::Service)>,
    Option<&'m BTreeSet<String>>,
);

/// One request as the callee's proxy sees it.
#[derive(Debug, Clone)]
struct Request {
    principal: Option<String>,
    ip: Option<String>,
    /// `iss/sub` of a valid token, and its claims.
    token: Option<(String, BTreeMap<String, String>)>,
    port: u16,
    method: String,
    path: String,
    host: String,
}

fn strings(value: Option<&Value>) -> Option<Vec<String>> {
    value.map(|v| {
        v.as_sequence()
            .unwrap_or_else(|| panic!("not a list: {v:?}"))
            .iter()
            .map(|s| s.as_str().unwrap_or_else(|| panic!("not a string: {s:?}")).to_string())
            .collect()
    })
}

/// Istio's string match: exact, `prefix*`, `*suffix` or `*`.
fn istio_match(pattern: &str, value: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    if let Some(prefix) = pattern.strip_suffix('*') {
        return value.starts_with(prefix);
    }
    if let Some(suffix) = pattern.strip_prefix('*') {
        return value.ends_with(suffix);
    }
    pattern == value
}

/// Each field, when set, must match; a field the evaluator does not know fails the test.
fn source_matches(source: &Value, request: &Request) -> bool {
    let map = source.as_mapping().expect("a source is a mapping");
    map.iter().all(|(key, value)| {
        let list = strings(Some(value)).unwrap();
        match key.as_str().unwrap() {
            "principals" => request
                .principal
                .as_ref()
                .is_some_and(|p| list.iter().any(|l| istio_match(l, p))),
            "namespaces" => request
                .principal
                .as_ref()
                .and_then(|p| p.split("/ns/").nth(1))
                .and_then(|rest| rest.split('/').next())
                .is_some_and(|ns| list.iter().any(|l| istio_match(l, ns))),
            "ipBlocks" => request.ip.as_ref().is_some_and(|ip| {
                list.iter()
                    .any(|block| block == ip || block.strip_suffix("/32") == Some(ip))
            }),
            "requestPrincipals" => request
                .token
                .as_ref()
                .is_some_and(|(p, _)| list.iter().any(|l| istio_match(l, p))),
            "notRequestPrincipals" => !request
                .token
                .as_ref()
                .is_some_and(|(p, _)| list.iter().any(|l| istio_match(l, p))),
            other => panic!("the evaluator does not know source field `{other}`"),
        }
    })
}

fn operation_matches(operation: &Value, request: &Request) -> bool {
    let map = operation.as_mapping().expect("an operation is a mapping");
    map.iter().all(|(key, value)| {
        let list = strings(Some(value)).unwrap();
        match key.as_str().unwrap() {
            "ports" => list.contains(&request.port.to_string()),
            "methods" => list.contains(&request.method),
            "paths" => list.iter().any(|l| istio_match(l, &request.path)),
            "hosts" => list.iter().any(|l| istio_match(l, &request.host)),
            other => panic!("the evaluator does not know operation field `{other}`"),
        }
    })
}

fn condition_matches(condition: &Value, request: &Request) -> bool {
    let key = str_at(condition, "key");
    let claim = key
        .strip_prefix("request.auth.claims[")
        .and_then(|k| k.strip_suffix(']'))
        .unwrap_or_else(|| panic!("the evaluator does not know condition key `{key}`"));
    let actual = request.token.as_ref().and_then(|(_, claims)| claims.get(claim));
    let values = strings(condition.get("values"));
    let not_values = strings(condition.get("notValues"));
    let positive = values.is_none_or(|v| actual.is_some_and(|a| v.iter().any(|x| istio_match(x, a))));
    let negative = not_values.is_none_or(|v| !actual.is_some_and(|a| v.iter().any(|x| istio_match(x, a))));
    positive && negative
}

fn rule_matches(rule: &Value, request: &Request) -> bool {
    let map = rule.as_mapping().expect("a rule is a mapping");
    for key in map.keys() {
        assert!(
            matches!(key.as_str(), Some("from" | "to" | "when")),
            "the evaluator does not know rule field {key:?}"
        );
    }
    let from = rule
        .get("from")
        .and_then(Value::as_sequence)
        .is_none_or(|f| f.iter().any(|s| source_matches(at(s, "source"), request)));
    let to = rule
        .get("to")
        .and_then(Value::as_sequence)
        .is_none_or(|t| t.iter().any(|o| operation_matches(at(o, "operation"), request)));
    let when = rule
        .get("when")
        .and_then(Value::as_sequence)
        .is_none_or(|w| w.iter().all(|c| condition_matches(c, request)));
    from && to && when
}

/// Whether Istio lets `request` reach a workload with `labels` in `namespace`.
fn allowed(policies: &[&Value], namespace: &str, labels: &BTreeMap<String, String>, request: &Request) -> bool {
    let applies = |p: &&&Value| {
        str_at(p, "metadata.namespace") == namespace
            && p.get("spec").and_then(|s| s.get("selector")).is_none_or(|s| {
                string_map(at(s, "matchLabels"))
                    .iter()
                    .all(|(k, v)| labels.get(k) == Some(v))
            })
    };
    let applying: Vec<&&Value> = policies.iter().filter(applies).collect();
    let action = |p: &Value| {
        p.get("spec")
            .and_then(|s| s.get("action"))
            .and_then(Value::as_str)
            .unwrap_or("ALLOW")
            .to_string()
    };
    let rules = |p: &Value| -> Vec<Value> {
        p.get("spec")
            .and_then(|s| s.get("rules"))
            .and_then(Value::as_sequence)
            .cloned()
            .unwrap_or_default()
    };
    for policy in &applying {
        let action = action(policy);
        assert!(
            matches!(action.as_str(), "ALLOW" | "DENY"),
            "unexpected action {action}"
        );
        if action == "DENY" && rules(policy).iter().any(|r| rule_matches(r, request)) {
            return false;
        }
    }
    let allow: Vec<&&&Value> = applying.iter().filter(|p| action(p) == "ALLOW").collect();
    allow.is_empty() || allow.iter().any(|p| rules(p).iter().any(|r| rule_matches(r, request)))
}

/// The workloads of the YAML: pods of Deployments, VMs of WorkloadEntries.
fn workloads(docs: &[Value], trust_domain: &str) -> Vec<Workload> {
    let mut out = Vec::new();
    for doc in docs {
        let namespace = || str_at(doc, "metadata.namespace").to_string();
        match str_at(doc, "kind") {
            "Deployment" => {
                let account = str_at(doc, "spec.template.spec.serviceAccountName");
                out.push(Workload {
                    namespace: namespace(),
                    labels: string_map(at(doc, "spec.template.metadata.labels")),
                    principal: Some(format!("{trust_domain}/ns/{}/sa/{account}", namespace())),
                    ip: None,
                });
            }
            "WorkloadEntry" => {
                let labels = string_map(at(doc, "spec.labels"));
                let agent = labels.get("security.istio.io/tlsMode").map(String::as_str) == Some("istio");
                let account = str_at(doc, "spec.serviceAccount");
                out.push(Workload {
                    namespace: namespace(),
                    labels,
                    principal: agent.then(|| format!("{trust_domain}/ns/{}/sa/{account}", namespace())),
                    ip: Some(str_at(doc, "spec.address").to_string()),
                });
            }
            _ => {}
        }
    }
    out
}

fn selects(service: &model::Service, labels: &BTreeMap<String, String>) -> bool {
    labels.get(&service.selector.0) == Some(&service.selector.1)
}

/// A concrete path an Istio path pattern matches.
fn sample_path(pattern: &str) -> String {
    if pattern == "*" {
        "/anything".to_string()
    } else if let Some(prefix) = pattern.strip_suffix('*') {
        format!("{prefix}x")
    } else if let Some(suffix) = pattern.strip_prefix('*') {
        format!("/x{suffix}")
    } else {
        pattern.to_string()
    }
}

/// What the `.mesh` says about `caller` (a service, or `None` for a stranger) calling
/// `callee` with `method` and `path`.
fn declared(caller: Option<(&str, &model::Service)>, callee: &model::Service, method: &str, path: &str) -> bool {
    let Some((ns, caller)) = caller else { return false };
    let lines: Vec<&model::Allow> = callee
        .security
        .allow
        .iter()
        .filter(|a| a.from.0 == ns && a.from.1 == caller.name)
        .collect();
    if !lines.is_empty() {
        return lines.iter().any(|a| {
            (a.methods.is_empty() || a.methods.iter().any(|m| m == method))
                && (a.paths.is_empty() || a.paths.iter().any(|p| istio_match(p, path)))
        });
    }
    caller.calls.iter().any(|(_, host)| *host == callee.fqdn)
}

/// Evaluates every caller against every service; returns the number of checks.
/// Where a gateway's workload runs, and as whom: its `identity` line, or the gateway of the
/// output target: Istio's ingress gateway, or for the Gateway API the deployment Istio makes
/// for the Gateway, `<name>-istio` in its namespace.
fn gateway_identity(options: &Options, ns: &str, gateway: &str, security: &model::GatewaySecurity) -> (String, String) {
    match (&security.identity, options.routes) {
        (Some(identity), _) => identity.clone(),
        (None, meshc::RouteApi::Istio) => (
            "istio-system".to_string(),
            "istio-ingressgateway-service-account".to_string(),
        ),
        (None, meshc::RouteApi::GatewayApi) => (ns.to_string(), format!("{gateway}-istio")),
    }
}

fn check_mesh(name: &str, mesh: &Mesh, docs: &[Value], options: &Options) -> usize {
    let policies: Vec<&Value> = docs
        .iter()
        .filter(|d| str_at(d, "kind") == "AuthorizationPolicy")
        .collect();
    let workloads = workloads(docs, &options.trust_domain);
    let services: Vec<(&str, &model::Service)> = mesh
        .namespaces
        .iter()
        .flat_map(|n| n.services.iter().map(move |s| (n.name.as_str(), s)))
        .collect();
    // Gateways' identities, and the services they route to: gateways that share a
    // workload (the default ingress gateway) share its identity.
    let mut gateways: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (ns, gateway, security) in mesh
        .namespaces
        .iter()
        .flat_map(|n| n.gateways.iter().zip(&n.gateway_security).map(move |(g, s)| (n, g, s)))
    {
        let (namespace, account) = gateway_identity(options, &ns.name, &gateway.name, security);
        let principal = format!("{}/ns/{namespace}/sa/{account}", options.trust_domain);
        gateways
            .entry(principal)
            .or_default()
            .extend(gateway.destinations().into_iter().map(str::to_string));
    }
    let stranger = Workload {
        namespace: "elsewhere".into(),
        labels: BTreeMap::new(),
        principal: Some(format!("{}/ns/elsewhere/sa/intruder", options.trust_domain)),
        ip: Some("203.0.113.9".into()),
    };
    let mut checks = 0;
    for (callee_ns, callee) in &services {
        let targets: Vec<&Workload> = workloads
            .iter()
            .filter(|w| w.namespace == *callee_ns && selects(callee, &w.labels))
            .collect();
        assert!(
            !targets.is_empty(),
            "{name}: no workload of `{}` in the YAML",
            callee.name
        );
        let mut requests: Vec<(String, String)> = vec![("GET".into(), "/".into()), ("POST".into(), "/other".into())];
        for allow in &callee.security.allow {
            let method = allow.methods.first().cloned().unwrap_or_else(|| "GET".into());
            for path in &allow.paths {
                requests.push((method.clone(), sample_path(path)));
            }
        }
        let jwt = callee.security.jwt.as_ref().filter(|j| !j.optional);
        let good_claims: BTreeMap<String, String> = jwt
            .map(|j| j.claims.iter().map(|(c, v)| (c.clone(), v[0].clone())).collect())
            .unwrap_or_default();
        // Every workload of the mesh, a stranger, and every gateway.
        let mut callers: Vec<Caller<'_>> = workloads
            .iter()
            .map(|w| {
                let owner = services
                    .iter()
                    .find(|(ns, s)| *ns == w.namespace && selects(s, &w.labels))
                    .copied();
                (w.clone(), owner, None)
            })
            .collect();
        callers.push((stranger.clone(), None, None));
        for (principal, routes_to) in &gateways {
            let gateway = Workload {
                namespace: String::new(),
                labels: BTreeMap::new(),
                principal: Some(principal.clone()),
                ip: None,
            };
            callers.push((gateway, None, Some(routes_to)));
        }
        for target in &targets {
            // The service's ports, and one it does not have (never allowed).
            let other_port = (1..).find(|p| !callee.ports.iter().any(|q| q.target == *p)).unwrap();
            for port in callee.ports.iter().map(|p| p.target).chain([other_port]) {
                for (caller, owner, gateway) in &callers {
                    for (method, path) in &requests {
                        for token in [true, false] {
                            let request = Request {
                                principal: caller.principal.clone(),
                                ip: caller.ip.clone(),
                                token: token.then(|| ("https://issuer/user".to_string(), good_claims.clone())),
                                port,
                                method: method.clone(),
                                path: path.clone(),
                                host: callee.fqdn.clone(),
                            };
                            let by_mesh = match gateway {
                                Some(routes_to) => routes_to.contains(&callee.fqdn),
                                None => declared(*owner, callee, method, path),
                            };
                            let on_port = port != other_port;
                            let expected = by_mesh && on_port && (token || jwt.is_none());
                            let got = allowed(&policies, &target.namespace, &target.labels, &request);
                            assert_eq!(
                                got,
                                expected,
                                "{name}: {caller:?} calling `{}.{callee_ns}` ({method} {path}, port {port}, token {token}): allowed {got}, the mesh says {expected}",
                                callee.name
                            );
                            checks += 1;
                        }
                    }
                }
            }
        }
    }
    checks
}

fn analyze(name: &str, sources: &[Source], options: &Options) -> (Mesh, Vec<Value>) {
    let (mesh, diagnostics) = meshc::analyze(sources, options);
    let output =
        meshc::compile(sources, options).unwrap_or_else(|f| panic!("{name} does not compile: {:?}", f.diagnostics));
    assert!(!diagnostics.iter().any(meshc::Diagnostic::is_error));
    (mesh.expect("a mesh"), parse_yaml(&output.to_yaml()))
}

#[test]
fn examples_allow_exactly_the_declared_callers() {
    let mut checks = 0;
    for path in example_paths() {
        let name = path.display().to_string();
        let sources = [Source::new("input.mesh", read(&path))];
        let options = Options::default();
        let (mesh, docs) = analyze(&name, &sources, &options);
        checks += check_mesh(&name, &mesh, &docs, &options);
    }
    assert!(checks > 100, "only {checks} checks");
}

#[test]
fn ok_cases_allow_exactly_the_declared_callers() {
    for case in cases(CaseKind::Ok) {
        let (mesh, docs) = analyze(&case.id(), &case.sources, &case.options);
        check_mesh(&case.id(), &mesh, &docs, &case.options);
    }
}

/// A random valid mesh with calls across namespaces, VMs with and without the agent (their
/// callees accept plain text), accounts, `allow` lines, tokens and gateways.
fn generated(seed: u64) -> String {
    let mut rng = Lcg::new(seed);
    let mut out = String::new();
    let namespaces = 1 + rng.below(2);
    let sizes: Vec<usize> = (0..namespaces).map(|_| 1 + rng.below(4)).collect();
    // Plan the calls first, so callees of agent-less VMs can say `mtls permissive`.
    let mut agentless: BTreeSet<(usize, usize)> = BTreeSet::new();
    let mut calls: BTreeMap<(usize, usize), Vec<(usize, usize)>> = BTreeMap::new();
    for (ns, &size) in sizes.iter().enumerate() {
        for s in 0..size {
            if rng.below(4) == 0 {
                agentless.insert((ns, s));
            }
            for _ in 0..rng.below(3) {
                let to_ns = rng.below(namespaces);
                let to = (to_ns, rng.below(sizes[to_ns]));
                if to != (ns, s) {
                    calls.entry((ns, s)).or_default().push(to);
                }
            }
        }
    }
    let plaintext_callee = |to: (usize, usize)| {
        calls
            .iter()
            .any(|(from, tos)| agentless.contains(from) && tos.contains(&to))
    };
    for (ns, &size) in sizes.iter().enumerate() {
        let _ = writeln!(out, "namespace ns{ns} {{");
        for s in 0..size {
            let _ = writeln!(out, "  service s{s} {{");
            let _ = writeln!(out, "    port http {} -> {}", 80 + s, 8080 + rng.below(3));
            if rng.below(3) == 0 {
                let _ = writeln!(out, "    port grpc {}", 9000 + s);
            }
            for &(to_ns, to) in calls.get(&(ns, s)).map(Vec::as_slice).unwrap_or_default() {
                let _ = writeln!(out, "    calls s{to}.ns{to_ns}");
            }
            let allow = (rng.below(3) == 0).then(|| {
                let from_ns = rng.below(namespaces);
                (from_ns, rng.below(sizes[from_ns]))
            });
            if plaintext_callee((ns, s)) || allow.is_some_and(|from| agentless.contains(&from)) {
                out.push_str("    mtls permissive\n");
            }
            out.push_str("    pod v1 image \"registry.example.com/app:1\"");
            // Services that share an account share an identity, which no policy can tell
            // apart: each account here belongs to one service.
            if rng.below(3) == 0 {
                let _ = write!(out, " account special-s{s}");
            }
            out.push('\n');
            let agent = if agentless.contains(&(ns, s)) {
                " agent none"
            } else {
                ""
            };
            let _ = writeln!(out, "    vm v2 at 10.{ns}.{s}.1, 10.{ns}.{s}.2{agent}");
            if let Some((from_ns, from)) = allow {
                let _ = writeln!(
                    out,
                    "    allow from s{from}.ns{from_ns} methods GET paths \"/api/*\" \"/health\""
                );
            }
            if rng.below(5) == 0 {
                let claim = if rng.below(2) == 0 { " claim role \"admin\"" } else { "" };
                let _ = writeln!(
                    out,
                    "    jwt issuer \"https://issuer\" jwks \"https://issuer/jwks.json\"{claim}"
                );
            }
            out.push_str("  }\n");
        }
        if rng.below(2) == 0 {
            let _ = writeln!(
                out,
                "  gateway edge {{\n    listen http 80 hosts \"*\"\n    route -> s0:80\n  }}"
            );
        }
        out.push_str("}\n");
    }
    out
}

#[test]
fn generated_meshes_allow_exactly_the_declared_callers() {
    for seed in 0..48 {
        let text = generated(seed);
        let name = format!("generated mesh {seed}:\n{text}");
        let sources = [Source::new("input.mesh", text.clone())];
        for options in [
            Options::default(),
            Options {
                routes: meshc::RouteApi::GatewayApi,
                trust_domain: "corp.example".into(),
                ..Options::default()
            },
        ] {
            let (mesh, docs) = analyze(&name, &sources, &options);
            check_mesh(&name, &mesh, &docs, &options);
        }
    }
}

#[test]
fn the_gateway_requires_a_token_for_its_hosts() {
    let path = common::root().join("examples/jwt-gateway.mesh");
    let sources = [Source::new("input.mesh", read(&path))];
    let (mesh, docs) = analyze("jwt-gateway", &sources, &Options::default());
    let policies: Vec<&Value> = docs
        .iter()
        .filter(|d| str_at(d, "kind") == "AuthorizationPolicy")
        .collect();
    let gateway = &mesh.namespaces[0].gateways[0];
    let identity = gateway_identity(
        &Options::default(),
        &mesh.namespaces[0].name,
        &gateway.name,
        &mesh.namespaces[0].gateway_security[0],
    );
    let request = |host: &str, token: bool| Request {
        principal: None,
        ip: Some("198.51.100.7".into()),
        token: token.then(|| ("https://auth.example.com/alice".to_string(), BTreeMap::new())),
        port: 8443,
        method: "GET".into(),
        path: "/".into(),
        host: host.into(),
    };
    let labels: &BTreeMap<String, String> = &gateway.selector.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    assert!(allowed(
        &policies,
        &identity.0,
        labels,
        &request("shop.example.com", true)
    ));
    assert!(!allowed(
        &policies,
        &identity.0,
        labels,
        &request("shop.example.com", false)
    ));
    assert!(!allowed(
        &policies,
        &identity.0,
        labels,
        &request("shop.example.com:443", false)
    ));
    // Other hosts on the same gateway workload are not this gateway's business.
    assert!(allowed(
        &policies,
        &identity.0,
        labels,
        &request("other.example.com", false)
    ));
    let authn = docs
        .iter()
        .find(|d| str_at(d, "kind") == "RequestAuthentication")
        .expect("a RequestAuthentication");
    assert_eq!(str_at(authn, "metadata.namespace"), "istio-system");
    assert_eq!(str_at(authn, "spec.jwtRules.0.issuer"), "https://auth.example.com");
}

#[test]
fn the_evaluator_denies_what_no_rule_allows() {
    // The evaluator itself: an allow-nothing policy denies, a DENY rule wins over ALLOW.
    let docs = parse_yaml(
        "kind: AuthorizationPolicy\nmetadata: {name: a, namespace: n}\nspec: {}\n---\n\
         kind: AuthorizationPolicy\nmetadata: {name: b, namespace: n}\nspec:\n  rules:\n  - to:\n    - operation: {ports: [\"80\"]}\n---\n\
         kind: AuthorizationPolicy\nmetadata: {name: c, namespace: n}\nspec:\n  action: DENY\n  rules:\n  - to:\n    - operation: {paths: [\"/admin/*\"]}\n",
    );
    let policies: Vec<&Value> = docs.iter().collect();
    let request = |port: u16, path: &str| Request {
        principal: None,
        ip: None,
        token: None,
        port,
        method: "GET".into(),
        path: path.into(),
        host: "h".into(),
    };
    let labels = BTreeMap::new();
    assert!(allowed(&policies, "n", &labels, &request(80, "/")));
    assert!(!allowed(&policies, "n", &labels, &request(81, "/")));
    assert!(!allowed(&policies, "n", &labels, &request(80, "/admin/x")));
    assert!(allowed(&policies, "other", &labels, &request(81, "/")));
}

#[test]
fn only_vms_with_the_agent_carry_the_tls_mode_label() {
    let case = cases(CaseKind::Ok)
        .into_iter()
        .find(|c| c.name == "security-mtls-allow")
        .expect("the case");
    let (mesh, docs) = analyze(&case.id(), &case.sources, &case.options);
    let mut seen = 0;
    for version in mesh
        .namespaces
        .iter()
        .flat_map(|n| &n.services)
        .flat_map(|s| &s.versions)
    {
        let model::Workload::Vm(vm) = &version.workload else {
            continue;
        };
        for entry in &vm.entries {
            let doc = docs
                .iter()
                .find(|d| str_at(d, "kind") == "WorkloadEntry" && str_at(d, "metadata.name") == entry.name)
                .expect("the WorkloadEntry");
            let label = string_map(at(doc, "spec.labels"))
                .get("security.istio.io/tlsMode")
                .cloned();
            assert_eq!(label.as_deref(), version.agent.then_some("istio"), "{}", entry.name);
            seen += 1;
        }
        // A VM without the agent gets no WorkloadGroup: nothing would register it.
        let groups = docs
            .iter()
            .filter(|d| str_at(d, "kind") == "WorkloadGroup" && str_at(d, "metadata.name") == vm.group);
        assert_eq!(groups.count(), usize::from(version.agent), "{}", vm.group);
    }
    assert_eq!(seen, 3, "two agent-less addresses and one with the agent");
}

#[test]
fn the_trust_domain_reaches_the_principals_and_the_vms_agents() {
    let path = common::root().join("examples/hybrid-hello.mesh");
    let sources = [Source::new("input.mesh", read(&path))];
    let options = Options {
        trust_domain: "corp.example".into(),
        ..Options::default()
    };
    let output = meshc::compile(&sources, &options).expect("the seed compiles");
    let yaml = output.to_yaml();
    assert!(yaml.contains("- corp.example/ns/hybrid-hello/sa/hello1\n"), "{yaml}");
    assert!(!yaml.contains("cluster.local/ns/"), "{yaml}");
    let mesh_files: Vec<&meshc::GeneratedFile> =
        output.files.iter().filter(|f| f.path.ends_with("/mesh.yaml")).collect();
    assert!(!mesh_files.is_empty());
    for file in mesh_files {
        assert!(
            file.contents.contains("TRUST_DOMAIN: corp.example"),
            "{}:\n{}",
            file.path,
            file.contents
        );
    }
}
