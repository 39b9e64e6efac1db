//! `--routes gateway-api`: which parts of the mesh the Kubernetes Gateway API can express,
//! and the shape meshc gives them. The checker pass ([`check`]) reports everything the
//! Gateway API standard channel (v1.4) cannot say as M3024 at the route, so that
//! `emit::gateway_api` only ever sees routes it can write; the plans below (which route
//! objects, rules, listeners and per-version Services there are, and their names) are
//! shared by both, so the two cannot disagree.
//!
//! What does not carry over, and why:
//!
//! * fault injection, retries, CORS, direct responses: no such field in the standard
//!   channel (retries and CORS are experimental there);
//! * `from` conditions (source labels), header absence, prefix matches on headers and query
//!   parameters: an HTTPRoute matches on path, headers and query parameters by exact value
//!   or regular expression only;
//! * TCP and TLS routes: TCPRoute and TLSRoute are not in the standard channel;
//! * routes to or of external services: a backend is a Kubernetes Service;
//! * gateways with their own selector, mutual TLS or auto-passthrough listeners: a Gateway
//!   of class `istio` gets a gateway deployment of its own, terminates TLS with a
//!   certificate, or passes it through;
//! * rule order: the Gateway API ranks rules by how specific their match is (exact path,
//!   longest path prefix, method, number of header and query matches), not by their order
//!   in the file, so a route whose requests a later, more specific route would take is
//!   reported.

use std::collections::{BTreeMap, BTreeSet};

use super::rules;
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::model::{
    self, Action, Conditions, Destination, HeaderMatch, Mesh, Namespace, Policy, Protocol, Route, RouteKind, Service,
    StringMatch,
};
use crate::source::Span;

/// Rules per HTTPRoute or GRPCRoute.
pub(crate) const MAX_RULES: usize = 16;
/// Matches per HTTPRoute rule.
pub(crate) const MAX_MATCHES: usize = 64;
/// Matches per GRPCRoute rule (8 before Gateway API v1.3).
pub(crate) const MAX_GRPC_MATCHES: usize = 8;
/// Matches across the rules of one route.
pub(crate) const MAX_ROUTE_MATCHES: usize = 128;
/// Backends per rule; header and query matches per match; entries per header operation.
pub(crate) const MAX_LIST: usize = 16;
/// Hostnames per route.
pub(crate) const MAX_HOSTNAMES: usize = 16;
/// Listeners per Gateway.
pub(crate) const MAX_LISTENERS: usize = 64;
/// Path and rewrite values, regular expressions, gRPC service and method names.
const MAX_PATH: usize = 1024;
const MAX_HEADER_VALUE: usize = 4096;
const MAX_QUERY_VALUE: usize = 1024;
const MAX_HEADER_NAME: usize = 256;

const FALLBACK: &str = "or compile with `--routes istio`, which writes VirtualServices";

/// Which route kind a set of rules becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    /// HTTPRoute.
    Http,
    /// GRPCRoute: for services' gRPC ports.
    Grpc,
}

impl Flavor {
    pub(crate) fn kind(self) -> &'static str {
        match self {
            Flavor::Http => "HTTPRoute",
            Flavor::Grpc => "GRPCRoute",
        }
    }
}

/// One rule as written: a route and those of its alternatives that apply where it is
/// written (empty: the route matches every request).
#[derive(Debug, Clone)]
pub(crate) struct Rule<'m> {
    pub(crate) route: &'m Route,
    pub(crate) alternatives: Vec<&'m Conditions>,
}

impl<'m> Rule<'m> {
    /// The match groups this rule is written as: one rule, or, when it rewrites the path,
    /// one rule per alternative (a `ReplacePrefixMatch` rewrite allows exactly one
    /// `PathPrefix` match in its rule, and alternatives may need different rewrites).
    pub(crate) fn groups(&self) -> Vec<Vec<&'m Conditions>> {
        if self.route.options.rewrite_uri.is_some() && self.alternatives.len() > 1 {
            self.alternatives.iter().map(|a| vec![*a]).collect()
        } else {
            vec![self.alternatives.clone()]
        }
    }
}

/// One HTTPRoute or GRPCRoute meshc writes.
#[derive(Debug, Clone)]
pub(crate) struct RouteObject<'m> {
    pub(crate) name: String,
    pub(crate) flavor: Flavor,
    /// Mesh routes: the service they are for.
    pub(crate) service: Option<&'m Service>,
    /// Mesh routes: the Service port the route attaches to; `None` attaches it to the whole
    /// Service (it has one port).
    pub(crate) parent_port: Option<u16>,
    /// Mesh routes: the port that backends of the service itself use.
    pub(crate) own_port: Option<u16>,
    /// Ingress routes: the gateway.
    pub(crate) gateway: Option<&'m model::Gateway>,
    /// Ingress routes: the request hosts (empty: any host the listeners accept).
    pub(crate) hostnames: Vec<String>,
    pub(crate) rules: Vec<Rule<'m>>,
}

/// The HTTPRoutes and GRPCRoutes of a service: one per port that carries HTTP (a GRPCRoute
/// for a `grpc` port), each with the routes that apply to that port.
pub(crate) fn mesh_routes(service: &Service) -> Vec<RouteObject<'_>> {
    let http: Vec<&Route> = service.routes.iter().filter(|r| r.kind == RouteKind::Http).collect();
    if http.is_empty() {
        return Vec::new();
    }
    let ports: Vec<&model::Port> = service.http_ports().collect();
    let several = ports.len() > 1;
    ports
        .iter()
        .map(|port| {
            let rules = http
                .iter()
                .filter_map(|route| {
                    if route.alternatives.is_empty() {
                        return Some(Rule {
                            route,
                            alternatives: Vec::new(),
                        });
                    }
                    let alternatives: Vec<&Conditions> = route
                        .alternatives
                        .iter()
                        .filter(|c| c.port.is_none_or(|p| p == port.number))
                        .collect();
                    (!alternatives.is_empty()).then_some(Rule { route, alternatives })
                })
                .collect();
            RouteObject {
                name: if several {
                    format!("{}-{}", service.virtual_service, port.name)
                } else {
                    service.virtual_service.clone()
                },
                flavor: if port.protocol == Protocol::Grpc {
                    Flavor::Grpc
                } else {
                    Flavor::Http
                },
                service: Some(service),
                parent_port: (service.ports.len() > 1).then_some(port.number),
                own_port: Some(port.number),
                gateway: None,
                hostnames: Vec::new(),
                rules,
            }
        })
        .collect()
}

/// `a.example.com` → `a-example-com`, `*.example.com` → `x-example-com`: a host as part of
/// an object name (as the Istio emitter names per-host VirtualServices).
pub(crate) fn host_suffix(host: &str) -> String {
    let suffix: String = host
        .chars()
        .map(|c| match c {
            '.' => '-',
            '*' => 'x',
            c => c,
        })
        .collect();
    suffix.trim_matches('-').to_string()
}

/// The HTTPRoutes of a gateway: one for the hosts without routes of their own, and one per
/// host with routes of its own (its routes first, then the gateway's), as the Istio
/// emitter writes VirtualServices. TCP and TLS routes are left out (they are reported).
pub(crate) fn gateway_routes(gateway: &model::Gateway) -> Vec<RouteObject<'_>> {
    fn http(routes: &[Route]) -> Vec<&Route> {
        routes.iter().filter(|r| r.kind == RouteKind::Http).collect()
    }
    fn object<'m>(
        gateway: &'m model::Gateway,
        name: String,
        hostnames: Vec<String>,
        routes: Vec<&'m Route>,
    ) -> RouteObject<'m> {
        RouteObject {
            name,
            flavor: Flavor::Http,
            service: None,
            parent_port: None,
            own_port: None,
            gateway: Some(gateway),
            hostnames: if hostnames.iter().any(|h| h == "*") {
                Vec::new()
            } else {
                hostnames
            },
            // A `port` condition at a gateway tests the listener's port: an alternative for a
            // port no listener has never matches (the Istio route neither).
            rules: routes
                .into_iter()
                .filter_map(|route| {
                    let listens =
                        |c: &&Conditions| c.port.is_none_or(|p| gateway.servers.iter().any(|s| s.number == p));
                    let alternatives: Vec<&Conditions> = route.alternatives.iter().filter(listens).collect();
                    (route.alternatives.is_empty() || !alternatives.is_empty()).then_some(Rule { route, alternatives })
                })
                .collect(),
        }
    }
    let shared_hosts = gateway.shared_hosts();
    let mut out = Vec::new();
    let shared = http(&gateway.routes);
    if !shared.is_empty() && !shared_hosts.is_empty() {
        out.push(object(
            gateway,
            gateway.virtual_service.clone(),
            shared_hosts,
            shared.clone(),
        ));
    }
    for (host, routes) in &gateway.host_routes {
        let mut rules = http(routes);
        // Shared routes that the host's own routes leave no request to (after its own
        // `prefix "/"`, say) are never reached in Istio either: leave them out rather than
        // let the Gateway API's ranking reach them.
        for route in shared.iter().copied() {
            if !unreachable(route, &rules) {
                rules.push(route);
            }
        }
        if rules.is_empty() {
            continue;
        }
        let name = format!("{}-{}", gateway.virtual_service, host_suffix(host));
        out.push(object(gateway, name, vec![host.clone()], rules));
    }
    out
}

/// Whether every request `route` matches is taken by one of `earlier`, in file order.
fn unreachable(route: &Route, earlier: &[&Route]) -> bool {
    // `prefix "/"` matches every path, as no path condition does.
    fn normal(c: &Conditions) -> Conditions {
        let mut c = c.clone();
        if matches!(&c.uri, Some(StringMatch::Prefix(p)) if p == "/") {
            c.uri = None;
        }
        c
    }
    let alternatives = |r: &Route| -> Vec<Conditions> {
        if r.alternatives.is_empty() {
            vec![Conditions::default()]
        } else {
            r.alternatives.iter().map(normal).collect()
        }
    };
    let taken: Vec<Conditions> = earlier.iter().flat_map(|r| alternatives(r)).collect();
    alternatives(route)
        .iter()
        .all(|a| taken.iter().any(|e| a.covered_by(e)))
}

/// The HTTPRoute that answers plain HTTP with a redirect to HTTPS, for listeners with
/// `https-redirect`.
pub(crate) fn redirect_route_name(gateway: &model::Gateway) -> String {
    format!("{}-https-redirect", gateway.name)
}

/// Every route object of the mesh, with the namespace it is written in.
pub(crate) fn all_routes(mesh: &Mesh) -> Vec<(&Namespace, RouteObject<'_>)> {
    let mut out = Vec::new();
    for ns in &mesh.namespaces {
        for service in &ns.services {
            out.extend(mesh_routes(service).into_iter().map(|o| (ns, o)));
        }
        for gateway in &ns.gateways {
            out.extend(gateway_routes(gateway).into_iter().map(|o| (ns, o)));
        }
    }
    out
}

/// The destinations of a route: where it forwards, and where it mirrors.
pub(crate) fn destinations(route: &Route) -> impl Iterator<Item = &Destination> {
    let forward: &[Destination] = match &route.action {
        Action::Forward(list) => list,
        _ => &[],
    };
    forward.iter().chain(route.options.mirror.as_ref().map(|(d, _)| d))
}

/// The service of the mesh with this FQDN, and its namespace.
pub(crate) fn service_by_fqdn<'m>(mesh: &'m Mesh, fqdn: &str) -> Option<(&'m Namespace, &'m Service)> {
    mesh.namespaces
        .iter()
        .find_map(|ns| ns.services.iter().find(|s| s.fqdn == fqdn).map(|s| (ns, s)))
}

/// A version that routes send to by name: the Gateway API has no subsets, so it gets a
/// Service of its own selecting the version's workloads.
#[derive(Debug, Clone, Copy)]
pub(crate) struct VersionBackend<'m> {
    pub(crate) namespace: &'m Namespace,
    pub(crate) service: &'m Service,
    pub(crate) version: &'m model::Version,
}

impl VersionBackend<'_> {
    /// `<service host>-<version>`
    pub(crate) fn name(&self) -> String {
        version_service_name(self.service, &self.version.name)
    }

    /// The version Service's address: `<name>.<namespace>.svc.<domain>`.
    pub(crate) fn fqdn(&self) -> String {
        let rest = self.service.fqdn.split_once('.').map_or("", |(_, rest)| rest);
        format!("{}.{rest}", self.name())
    }

    /// The DestinationRule carrying the version's traffic policy to its Service.
    pub(crate) fn destination_rule(&self) -> String {
        format!("{}-{}", self.service.destination_rule, self.version.name)
    }

    /// The traffic policy of the version's Service: the service's, with the version's
    /// settings in its place where it has them (as a DestinationRule subset overrides).
    pub(crate) fn policy(&self) -> Policy {
        let (service, version) = (&self.service.policy, &self.version.policy);
        let (tcp, http) = if version.tcp.is_some() || version.http.is_some() {
            (version.tcp.clone(), version.http.clone())
        } else {
            (service.tcp.clone(), service.http.clone())
        };
        Policy {
            lb: version.lb.clone().or_else(|| service.lb.clone()),
            tcp,
            http,
            outlier: version.outlier.clone().or_else(|| service.outlier.clone()),
            tls: version.tls.clone().or_else(|| service.tls.clone()),
        }
    }
}

pub(crate) fn version_service_name(service: &Service, version: &str) -> String {
    format!("{}-{version}", service.host)
}

/// Every version some route sends to or mirrors to by name, sorted by namespace, service
/// and version, each once.
pub(crate) fn version_backends(mesh: &Mesh) -> Vec<VersionBackend<'_>> {
    let mut wanted: BTreeSet<(&str, &str)> = BTreeSet::new();
    for (_, object) in all_routes(mesh) {
        for rule in &object.rules {
            for d in destinations(rule.route) {
                if let Some(subset) = &d.subset {
                    wanted.insert((d.host.as_str(), subset.as_str()));
                }
            }
        }
    }
    let mut out = Vec::new();
    for ns in &mesh.namespaces {
        for service in &ns.services {
            for version in &service.versions {
                if wanted.contains(&(service.fqdn.as_str(), version.name.as_str())) {
                    out.push(VersionBackend {
                        namespace: ns,
                        service,
                        version,
                    });
                }
            }
        }
    }
    out
}

/// A backendRef: a Service, its namespace (when another than the route's) and port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Backend {
    pub(crate) name: String,
    pub(crate) namespace: String,
    pub(crate) port: u16,
}

/// The Service a destination becomes. `None` for a host that is no service of the mesh, or
/// whose port cannot be told (both reported by the checker).
pub(crate) fn backend(mesh: &Mesh, object: &RouteObject<'_>, d: &Destination) -> Option<Backend> {
    let (ns, service) = service_by_fqdn(mesh, &d.host)?;
    let own = object.service.is_some_and(|s| s.fqdn == d.host);
    let only = match service.ports.as_slice() {
        [only] => Some(only.number),
        _ => None,
    };
    let port = d.port.or(object.own_port.filter(|_| own)).or(only)?;
    let name = match &d.subset {
        Some(version) => version_service_name(service, version),
        None => service.host.clone(),
    };
    Some(Backend {
        name,
        namespace: ns.name.clone(),
        port,
    })
}

/// A listener's TLS mode, `Terminate` (with the certificate's secret) or `Passthrough`.
pub(crate) type ListenerTls = (&'static str, Option<String>);

/// One Gateway listener: a server of the Istio model, for one of its hosts.
#[derive(Debug, Clone)]
pub(crate) struct ListenerPlan<'m> {
    pub(crate) name: String,
    /// `None`: any host.
    pub(crate) hostname: Option<String>,
    pub(crate) port: u16,
    /// `HTTP`, `HTTPS`, `TLS` or `TCP`; `None` when the server cannot be expressed.
    pub(crate) protocol: Option<&'static str>,
    pub(crate) tls: Option<ListenerTls>,
    pub(crate) server: &'m model::Server,
}

impl ListenerPlan<'_> {
    /// Whether HTTPRoutes attach to it (HTTP, or HTTPS terminated here).
    pub(crate) fn carries_http(&self) -> bool {
        matches!(self.protocol, Some("HTTP" | "HTTPS"))
    }
}

/// The listener protocol and TLS settings of a server; `None` for what the Gateway API
/// cannot say.
fn listener_protocol(server: &model::Server) -> Option<(&'static str, Option<ListenerTls>)> {
    let tls = server.tls.as_ref();
    let mode = tls.map(|t| t.mode);
    let credential = tls.and_then(|t| t.credential.clone());
    match (server.protocol, mode) {
        (Protocol::Http | Protocol::Http2 | Protocol::Grpc | Protocol::GrpcWeb, None) => Some(("HTTP", None)),
        (Protocol::Https, Some("SIMPLE")) => Some(("HTTPS", Some(("Terminate", credential)))),
        (Protocol::Tls, Some("SIMPLE")) => Some(("TLS", Some(("Terminate", credential)))),
        (Protocol::Https | Protocol::Tls, Some("PASSTHROUGH")) => Some(("TLS", Some(("Passthrough", None)))),
        (Protocol::Tcp | Protocol::Mongo | Protocol::Mysql | Protocol::Redis, None) => Some(("TCP", None)),
        _ => None,
    }
}

/// The listeners of a gateway: one per server and host (TCP listeners take no host).
pub(crate) fn listeners(gateway: &model::Gateway) -> Vec<ListenerPlan<'_>> {
    let mut out = Vec::new();
    for server in &gateway.servers {
        let protocol = listener_protocol(server);
        let (protocol_name, tls) = match &protocol {
            Some((p, tls)) => (Some(*p), tls.clone()),
            None => (None, None),
        };
        let hosts: Vec<Option<String>> = if protocol_name == Some("TCP") {
            vec![None]
        } else {
            server.hosts.iter().map(|h| (h != "*").then(|| h.clone())).collect()
        };
        let several = hosts.len() > 1;
        for host in hosts {
            let name = match (&host, several) {
                (Some(h), true) => format!("{}-{}", server.name, host_suffix(h)),
                (None, true) => format!("{}-any", server.name),
                (_, false) => server.name.clone(),
            };
            out.push(ListenerPlan {
                name,
                hostname: host,
                port: server.number,
                protocol: protocol_name,
                tls: tls.clone(),
                server,
            });
        }
    }
    out
}

/// The selector of the gateway deployment Istio's own ingress gateway has; a Gateway of
/// class `istio` gets a deployment of its own instead.
fn default_selector(selector: &model::Labels) -> bool {
    selector.len() == 1 && selector.get("istio").is_some_and(|v| v == "ingressgateway")
}

// ------------------------------------------------------------------ values

/// A duration in the Gateway API's format (GEP-2257: `^([0-9]{1,5}(h|m|s|ms)){1,4}$`):
/// the text itself when it fits, else the same time in whole units (`1.5s` → `1s500ms`).
pub(crate) fn duration(text: &str) -> Option<String> {
    if gateway_duration_ok(text) {
        return Some(text.to_string());
    }
    let (number, unit) = split_duration(text)?;
    let scale: f64 = match unit {
        "ms" => 1.0,
        "s" => 1_000.0,
        "m" => 60_000.0,
        "h" => 3_600_000.0,
        _ => return None,
    };
    let ms = number.parse::<f64>().ok()? * scale;
    if !ms.is_finite() || ms < 0.0 || ms.fract() != 0.0 || ms > 1e15 {
        return None;
    }
    let mut rest = ms as u64;
    let mut out = String::new();
    for (unit, size) in [("h", 3_600_000u64), ("m", 60_000), ("s", 1_000), ("ms", 1)] {
        let count = rest / size;
        rest %= size;
        if count > 0 {
            out.push_str(&format!("{count}{unit}"));
        }
    }
    if out.is_empty() {
        out.push_str("0s");
    }
    gateway_duration_ok(&out).then_some(out)
}

fn split_duration(text: &str) -> Option<(&str, &str)> {
    let at = text.find(|c: char| c.is_ascii_alphabetic())?;
    Some((&text[..at], &text[at..]))
}

fn gateway_duration_ok(text: &str) -> bool {
    let mut parts = 0;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.chars().take_while(char::is_ascii_digit).count();
        if !(1..=5).contains(&digits) {
            return false;
        }
        rest = &rest[digits..];
        let unit = ["ms", "h", "m", "s"].into_iter().find(|u| rest.starts_with(u));
        let Some(unit) = unit else { return false };
        rest = &rest[unit.len()..];
        parts += 1;
    }
    (1..=4).contains(&parts)
}

/// How much of the traffic a mirror copies: a whole percentage, or a fraction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Share {
    Percent(i32),
    Fraction(i32, i32),
}

pub(crate) fn mirror_share(percent: f64) -> Option<Share> {
    if !(0.0..=100.0).contains(&percent) {
        return None;
    }
    if percent.fract() == 0.0 {
        return Some(Share::Percent(percent as i32));
    }
    for digits in 1..=4 {
        let scale = 10f64.powi(digits);
        let numerator = (percent * scale).round();
        if (numerator - percent * scale).abs() < 1e-6 {
            return Some(Share::Fraction(numerator as i32, (100.0 * scale) as i32));
        }
    }
    None
}

/// `HeaderName`: `^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$`, 1 to 256 characters.
pub(crate) fn header_name_ok(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_HEADER_NAME
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c))
}

/// `PreciseHostname`: lowercase RFC 1123 labels separated by dots, not an IP address.
pub(crate) fn precise_hostname_ok(host: &str) -> bool {
    host.len() <= 253
        && host.parse::<std::net::IpAddr>().is_err()
        && host.split('.').all(|label| rules::dns_label(label).is_ok())
}

/// `Hostname`: a precise hostname, optionally with a `*.` first label.
pub(crate) fn hostname_ok(host: &str) -> bool {
    precise_hostname_ok(host.strip_prefix("*.").unwrap_or(host))
}

/// Why an `Exact` or `PathPrefix` path value is not one the Gateway API accepts.
fn path_problem(path: &str) -> Option<String> {
    if !path.starts_with('/') {
        return Some("it must start with `/`".into());
    }
    if path.len() > MAX_PATH {
        return Some(format!("it must be at most {MAX_PATH} characters"));
    }
    for bad in ["//", "/./", "/../", "%2f", "%2F", "#"] {
        if path.contains(bad) {
            return Some(format!("it must not contain `{bad}`"));
        }
    }
    if path.ends_with("/..") || path.ends_with("/.") {
        return Some("it must not end with `/.` or `/..`".into());
    }
    let bytes = path.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c == b'%' {
            let hex = |j: usize| bytes.get(j).is_some_and(u8::is_ascii_hexdigit);
            if !(hex(i + 1) && hex(i + 2)) {
                return Some("`%` must start a percent-encoded byte such as `%20`".into());
            }
            i += 3;
            continue;
        }
        if !(c.is_ascii_alphanumeric() || b"-/._~!$&'()*+,;=:@".contains(&c)) {
            return Some(format!("`{}` must be percent-encoded", char::from(c)));
        }
        i += 1;
    }
    None
}

/// Whether a Gateway API `PathPrefix` of `prefix` matches `path` (whole path elements).
fn prefix_matches(prefix: &str, path: &str) -> bool {
    let prefix = prefix.trim_end_matches('/');
    prefix.is_empty() || path == prefix || path.strip_prefix(prefix).is_some_and(|rest| rest.starts_with('/'))
}

/// How a path rewrite applies to one alternative.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PathRewrite {
    /// `ReplaceFullPath`: Istio replaces the whole path of exact and regex matches.
    Full,
    /// `ReplacePrefixMatch`: Istio replaces the matched prefix.
    Prefix,
}

/// `None` when no Gateway API rewrite does what Istio does: without a path match Istio
/// replaces the leading `/` alone (`rewrite "/v2"` turns `/a` into `/v2a`), which a
/// `ReplacePrefixMatch` does only for a value ending in `/`.
pub(crate) fn path_rewrite(uri: Option<&StringMatch>, value: &str) -> Option<PathRewrite> {
    match uri {
        Some(StringMatch::Exact(_) | StringMatch::Regex(_)) => Some(PathRewrite::Full),
        Some(StringMatch::Prefix(p)) if p != "/" => Some(PathRewrite::Prefix),
        _ => value.ends_with('/').then_some(PathRewrite::Prefix),
    }
}

/// A GRPCRoute method match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum GrpcMethod {
    Any,
    Service(String),
    Method(String, String),
}

fn grpc_service_ok(s: &str) -> bool {
    let s = s.strip_prefix('.').unwrap_or(s);
    !s.is_empty()
        && s.len() <= MAX_PATH
        && s.split('.').all(|part| {
            part.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
}

fn grpc_name_ok(s: &str) -> bool {
    s.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && s.len() <= MAX_PATH
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A path condition as a gRPC method match: `exact "/pkg.Service/Method"`, `prefix
/// "/pkg.Service/"` or `prefix "/"`.
pub(crate) fn grpc_method(uri: Option<&StringMatch>) -> Result<GrpcMethod, String> {
    let usage = "on a gRPC port, match `exact \"/package.Service/Method\"` or `prefix \"/package.Service/\"`";
    match uri {
        None => Ok(GrpcMethod::Any),
        Some(StringMatch::Prefix(p)) if p == "/" => Ok(GrpcMethod::Any),
        Some(StringMatch::Prefix(p)) => match p.strip_prefix('/').and_then(|s| s.strip_suffix('/')) {
            Some(service) if grpc_service_ok(service) => Ok(GrpcMethod::Service(service.to_string())),
            _ => Err(usage.into()),
        },
        Some(StringMatch::Exact(e)) => match e.strip_prefix('/').and_then(|s| s.split_once('/')) {
            Some((service, method)) if grpc_service_ok(service) && grpc_name_ok(method) => {
                Ok(GrpcMethod::Method(service.to_string(), method.to_string()))
            }
            _ => Err(usage.into()),
        },
        Some(StringMatch::Regex(_)) => Err(format!(
            "a GRPCRoute cannot match the path by regular expression; {usage}"
        )),
    }
}

/// A redirect authority as hostname and port.
pub(crate) fn split_authority(authority: &str) -> Option<(String, Option<u16>)> {
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (h, Some(p.parse::<u16>().ok().filter(|p| *p > 0)?)),
        None => (authority, None),
    };
    let host = host.to_ascii_lowercase();
    precise_hostname_ok(&host).then_some((host, port))
}

// ------------------------------------------------------------------ precedence

/// How the Gateway API ranks a match (higher first), as Istio implements it: path type
/// (exact, then prefix, then regular expression), path length, method, number of header
/// matches, number of query matches. A match without a path is a prefix match on `/`.
type Rank = (u8, usize, bool, usize, usize);

fn rank(c: Option<&Conditions>, flavor: Flavor) -> Rank {
    let any = Conditions::default();
    let c = c.unwrap_or(&any);
    let (kind, len) = match flavor {
        Flavor::Http => match &c.uri {
            None => (2, 1),
            Some(StringMatch::Exact(e)) => (3, e.len()),
            Some(StringMatch::Prefix(p)) => (2, p.trim_end_matches('/').len().max(1)),
            Some(StringMatch::Regex(r)) => (1, r.len()),
        },
        // Service characters, then method characters (GRPCRoute precedence).
        Flavor::Grpc => match grpc_method(c.uri.as_ref()) {
            Ok(GrpcMethod::Method(s, m)) => (2, s.len() * 4096 + m.len()),
            Ok(GrpcMethod::Service(s)) => (2, s.len() * 4096),
            _ => (2, 0),
        },
    };
    (kind, len, c.method.is_some(), c.headers.len(), c.query.len())
}

/// Why `later` ranks before `earlier`, in words.
fn rank_reason(earlier: Rank, later: Rank) -> &'static str {
    if later.0 != earlier.0 {
        match (later.0, earlier.0) {
            (3, _) => "an exact path outranks any other path match",
            (2, 1) => "a path prefix (a match without a path is the prefix `/`) outranks a regular expression",
            _ => "its path match is of a stronger kind",
        }
    } else if later.1 != earlier.1 {
        "a longer path outranks a shorter one"
    } else if later.2 != earlier.2 {
        "a method match outranks no method match"
    } else if later.3 != earlier.3 {
        "more header matches outrank fewer"
    } else {
        "more query parameter matches outrank fewer"
    }
}

/// Whether one request could satisfy both conditions (`None`: any request). Errs towards
/// yes: regular expressions are taken to overlap everything.
fn may_overlap(a: Option<&Conditions>, b: Option<&Conditions>) -> bool {
    let (Some(a), Some(b)) = (a, b) else { return true };
    let paths = match (&a.uri, &b.uri) {
        (Some(StringMatch::Exact(x)), Some(StringMatch::Exact(y))) => x == y,
        (Some(StringMatch::Exact(e)), Some(StringMatch::Prefix(p)))
        | (Some(StringMatch::Prefix(p)), Some(StringMatch::Exact(e))) => prefix_matches(p, e),
        (Some(StringMatch::Prefix(p)), Some(StringMatch::Prefix(q))) => prefix_matches(p, q) || prefix_matches(q, p),
        _ => true,
    };
    let exact_clash = |x: &[(String, StringMatch)], y: &[(String, StringMatch)]| {
        x.iter().any(|(n, m)| {
            y.iter()
                .any(|(o, v)| n == o && matches!((m, v), (StringMatch::Exact(p), StringMatch::Exact(q)) if p != q))
        })
    };
    let headers = |c: &Conditions| -> Vec<(String, StringMatch)> {
        c.headers
            .iter()
            .filter_map(|(n, h)| match h {
                HeaderMatch::Is(m) => Some((n.clone(), m.clone())),
                HeaderMatch::Absent => None,
            })
            .collect()
    };
    let differ = |x: &Option<String>, y: &Option<String>| matches!((x, y), (Some(p), Some(q)) if p != q);
    paths
        && !differ(&a.method, &b.method)
        && !matches!((a.port, b.port), (Some(p), Some(q)) if p != q)
        && !exact_clash(&headers(a), &headers(b))
        && !exact_clash(&a.query, &b.query)
}

/// The requests both conditions match, as one set of conditions, when it can be told.
fn intersection(a: Option<&Conditions>, b: Option<&Conditions>) -> Option<Conditions> {
    let (a, b) = match (a, b) {
        (None, None) => return Some(Conditions::default()),
        (Some(x), None) | (None, Some(x)) => return Some(x.clone()),
        (Some(a), Some(b)) => (a, b),
    };
    let mut both = a.clone();
    both.uri = match (&a.uri, &b.uri) {
        (None, uri) | (uri, None) => uri.clone(),
        (Some(x), Some(y)) if x == y => Some(x.clone()),
        (Some(StringMatch::Prefix(p)), Some(inner @ (StringMatch::Prefix(q) | StringMatch::Exact(q))))
        | (Some(inner @ (StringMatch::Prefix(q) | StringMatch::Exact(q))), Some(StringMatch::Prefix(p)))
            if prefix_matches(p, q) =>
        {
            Some(inner.clone())
        }
        _ => return None,
    };
    both.method = match (&a.method, &b.method) {
        (Some(x), Some(y)) if x != y => return None,
        (x, y) => x.clone().or_else(|| y.clone()),
    };
    both.port = a.port.or(b.port);
    for (name, m) in &b.headers {
        match both.headers.iter().find(|(n, _)| n == name) {
            Some((_, other)) if other != m => return None,
            Some(_) => {}
            None => both.headers.push((name.clone(), m.clone())),
        }
    }
    for (name, m) in &b.query {
        match both.query.iter().find(|(n, _)| n == name) {
            Some((_, other)) if other != m => return None,
            Some(_) => {}
            None => both.query.push((name.clone(), m.clone())),
        }
    }
    Some(both)
}

/// Whether every request `inner` matches is matched by `outer`, with the Gateway API's
/// path prefixes (whole segments).
fn gateway_covered(inner: &Conditions, outer: &Conditions) -> bool {
    let uri = match (&outer.uri, &inner.uri) {
        (None, _) => true,
        (Some(StringMatch::Prefix(p)), _) if p == "/" => true,
        (Some(StringMatch::Prefix(p)), Some(StringMatch::Prefix(q) | StringMatch::Exact(q))) => prefix_matches(p, q),
        (Some(x), Some(y)) => x == y,
        (Some(_), None) => false,
    };
    let same = |x: &Option<String>, y: &Option<String>| x.is_none() || x == y;
    uri && same(&outer.method, &inner.method)
        && (outer.port.is_none() || outer.port == inner.port)
        && (outer.source.is_none() || outer.source == inner.source)
        && outer.headers.iter().all(|h| inner.headers.contains(h))
        && outer.query.iter().all(|q| inner.query.contains(q))
}

// ------------------------------------------------------------------ the checker pass

/// Reports every part of the mesh that `--routes gateway-api` cannot write.
pub(super) fn check(mesh: &Mesh, diagnostics: &mut Vec<Diagnostic>) {
    let mut pass = Pass {
        mesh,
        found: Vec::new(),
        seen: BTreeSet::new(),
    };
    for ns in &mesh.namespaces {
        for service in &ns.services {
            for route in service
                .routes
                .iter()
                .filter(|r| r.kind != RouteKind::Http && !r.synthesised)
            {
                pass.layer4(route);
            }
            for object in mesh_routes(service) {
                pass.object(&object);
            }
        }
        for external in &ns.externals {
            for route in external.routes.iter().filter(|r| !r.synthesised) {
                pass.problem(
                    route.span,
                    format!(
                        "the Gateway API cannot route traffic for external service `{}`",
                        external.name
                    ),
                    "route of an external service",
                    "an HTTPRoute's parent is a Gateway or a Kubernetes Service, not a ServiceEntry; \
                     move these settings to the routes that call it, or leave them out",
                );
            }
        }
        for gateway in &ns.gateways {
            pass.gateway(gateway);
        }
        pass.names(ns);
    }
    diagnostics.append(&mut pass.found);
}

struct Pass<'m> {
    mesh: &'m Mesh,
    found: Vec<Diagnostic>,
    /// (span, message) of every problem reported, so that a route checked for several
    /// ports or hosts is reported once.
    seen: BTreeSet<(Span, String)>,
}

impl<'m> Pass<'m> {
    fn problem(&mut self, span: Span, message: String, label: &str, help: &str) {
        if self.seen.insert((span, message.clone())) {
            self.found.push(
                Diagnostic::error(Code::NotExpressible, span, message)
                    .label(label)
                    .help(format!("{help}; {FALLBACK}")),
            );
        }
    }

    fn route_problem(&mut self, route: &Route, what: &str, help: &str) {
        self.problem(
            route.span,
            format!("the Gateway API cannot express {what}"),
            "not expressible with the Gateway API",
            help,
        );
    }

    fn layer4(&mut self, route: &Route) {
        let kind = if route.kind == RouteKind::Tcp { "TCP" } else { "TLS" };
        self.route_problem(
            route,
            &format!("this {kind} route"),
            &format!("{kind}Route is not in the standard channel that meshc writes; route {kind} traffic with Istio"),
        );
    }

    fn object(&mut self, object: &RouteObject<'m>) {
        for rule in &object.rules {
            self.rule(object, rule);
        }
        // Limits of one route object.
        let kind = object.flavor.kind();
        let mut rules = 0;
        let mut matches = 0;
        for rule in &object.rules {
            for group in rule.groups() {
                rules += 1;
                matches += group.len().max(1);
                if rules == MAX_RULES + 1 {
                    self.route_problem(
                        rule.route,
                        &format!("more than {MAX_RULES} rules in one {kind} (`{}`)", object.name),
                        &format!("a {kind} holds at most {MAX_RULES} rules; merge routes with `or`"),
                    );
                }
                if matches > MAX_ROUTE_MATCHES && matches - group.len().max(1) <= MAX_ROUTE_MATCHES {
                    self.route_problem(
                        rule.route,
                        &format!(
                            "more than {MAX_ROUTE_MATCHES} matches in one {kind} (`{}`)",
                            object.name
                        ),
                        &format!("a {kind} holds at most {MAX_ROUTE_MATCHES} matches across its rules"),
                    );
                }
            }
        }
        self.order(object);
    }

    /// A route whose requests a later route would take under the Gateway API's ranking.
    fn order(&mut self, object: &RouteObject<'m>) {
        let alternatives = |rule: &Rule<'m>| -> Vec<Option<&'m Conditions>> {
            if rule.alternatives.is_empty() {
                vec![None]
            } else {
                rule.alternatives.iter().map(|c| Some(*c)).collect()
            }
        };
        for (i, earlier) in object.rules.iter().enumerate() {
            let found = object.rules[i + 1..].iter().find_map(|later| {
                if std::ptr::eq(later.route, earlier.route) {
                    return None;
                }
                if later.route.action == earlier.route.action && later.route.options == earlier.route.options {
                    return None;
                }
                alternatives(earlier).into_iter().find_map(|a| {
                    alternatives(later).into_iter().find_map(|b| {
                        let (ra, rb) = (rank(a, object.flavor), rank(b, object.flavor));
                        let taken = rb > ra && may_overlap(a, b);
                        // Requests both match that a route before both takes, outranking
                        // them, go there either way.
                        let settled = || {
                            intersection(a, b).is_some_and(|both| {
                                object.rules[..i].iter().flat_map(alternatives).any(|c| {
                                    rank(c, object.flavor) >= rb && c.is_none_or(|c| gateway_covered(&both, c))
                                })
                            })
                        };
                        (taken && !settled()).then(|| (later.route.span, later.route.synthesised, rank_reason(ra, rb)))
                    })
                })
            });
            if let Some((later, synthesised, reason)) = found {
                let message = "the Gateway API would send some of this route's requests to a later route".to_string();
                if self.seen.insert((earlier.route.span, message.clone())) {
                    self.found.push(
                        Diagnostic::error(Code::NotExpressible, earlier.route.span, message)
                            .label("loses requests to a later route")
                            .note(
                                later,
                                if synthesised {
                                    format!("the Gateway API tries the default route meshc adds here first: {reason}")
                                } else {
                                    format!("the Gateway API tries this route first: {reason}")
                                },
                            )
                            .help(format!(
                                "Gateway API routes are tried from the most specific match to the least, not in \
                                 the order of the file; give this route a match at least as specific as the later \
                                 one's (or make their matches exclude each other); {FALLBACK}"
                            )),
                    );
                }
            }
        }
    }

    fn rule(&mut self, object: &RouteObject<'m>, rule: &Rule<'m>) {
        let route = rule.route;
        let grpc = object.flavor == Flavor::Grpc;
        let on_grpc = "a GRPCRoute (for the service's gRPC port)";
        match &route.action {
            Action::Forward(list) => {
                if list.len() > MAX_LIST {
                    self.route_problem(
                        route,
                        &format!("a split over more than {MAX_LIST} destinations"),
                        &format!("a rule has at most {MAX_LIST} backends"),
                    );
                }
                for d in list {
                    self.destination(object, route, d);
                }
            }
            Action::Redirect(r) => {
                if grpc {
                    self.route_problem(
                        route,
                        &format!("a redirect in {on_grpc}"),
                        "GRPCRoute has no redirect filter",
                    );
                }
                if r.uri.len() > MAX_PATH {
                    self.route_problem(
                        route,
                        "a redirect path this long",
                        &format!("paths are at most {MAX_PATH} characters"),
                    );
                }
                if let Some(authority) = &r.authority {
                    if split_authority(authority).is_none() {
                        self.route_problem(
                            route,
                            &format!("the redirect authority `{authority}`"),
                            "a redirect names a DNS host name (lowercase, not an IP address), optionally with `:port`",
                        );
                    }
                }
            }
            Action::Respond { .. } => self.route_problem(
                route,
                "a direct response (`respond`)",
                "an HTTPRoute forwards or redirects; serve the response from a workload",
            ),
        }
        if rule.alternatives.len() > if grpc { MAX_GRPC_MATCHES } else { MAX_MATCHES } {
            self.route_problem(
                route,
                "this many alternatives in one rule",
                &format!(
                    "a rule has at most {} matches; split the route",
                    if grpc { MAX_GRPC_MATCHES } else { MAX_MATCHES }
                ),
            );
        }
        for c in &rule.alternatives {
            self.conditions(object, route, c);
        }
        self.options(object, rule);
    }

    fn destination(&mut self, object: &RouteObject<'m>, route: &Route, d: &Destination) {
        if service_by_fqdn(self.mesh, &d.host).is_none() {
            self.route_problem(
                route,
                &format!("a route to `{}`, which is not a service of the mesh", d.host),
                "Gateway API backends are Kubernetes Services; an external service has none",
            );
        } else if backend(self.mesh, object, d).is_none() {
            self.route_problem(
                route,
                &format!("a route to `{}` without a port", d.host),
                "a Service backend needs a port; write `service:port`",
            );
        }
    }

    fn conditions(&mut self, object: &RouteObject<'m>, route: &Route, c: &Conditions) {
        let grpc = object.flavor == Flavor::Grpc;
        if c.source.is_some() {
            self.route_problem(
                route,
                "a `from` condition",
                "Gateway API routes cannot match the workload a request comes from",
            );
        }
        if c.port.is_some() && object.gateway.is_some() {
            self.route_problem(
                route,
                "a `port` condition on a gateway route",
                "attach the route to listeners instead: give the gateway one HTTP listener per set of routes",
            );
        }
        match (&c.uri, grpc) {
            (uri, true) => {
                if let Err(why) = grpc_method(uri.as_ref()) {
                    self.route_problem(route, "this path match on a gRPC port", &why);
                }
            }
            (Some(StringMatch::Exact(p) | StringMatch::Prefix(p)), false) => {
                if let Some(why) = path_problem(p) {
                    self.route_problem(route, &format!("the path `{p}`"), &format!("a Gateway API path {why}"));
                }
            }
            (Some(StringMatch::Regex(r)), false) if r.len() > MAX_PATH => {
                self.route_problem(
                    route,
                    "a path expression this long",
                    &format!("it is at most {MAX_PATH} characters"),
                );
            }
            _ => {}
        }
        if grpc && c.method.is_some() {
            self.route_problem(
                route,
                "a `method` condition on a gRPC port",
                "gRPC requests are all POST requests",
            );
        }
        if grpc && !c.query.is_empty() {
            self.route_problem(
                route,
                "a `query` condition on a gRPC port",
                "a GRPCRoute matches methods and headers only",
            );
        }
        if c.headers.len() > MAX_LIST || c.query.len() > MAX_LIST {
            self.route_problem(
                route,
                &format!("more than {MAX_LIST} header or query conditions in one alternative"),
                &format!("a match tests at most {MAX_LIST} headers and {MAX_LIST} query parameters"),
            );
        }
        for (name, header) in &c.headers {
            match header {
                HeaderMatch::Absent => self.route_problem(
                    route,
                    &format!("a test that header `{name}` is absent"),
                    "Gateway API routes match headers by value only; match the value the header has instead",
                ),
                HeaderMatch::Is(m) => self.value_match(route, "header", name, m, MAX_HEADER_VALUE),
            }
        }
        for (name, m) in &c.query {
            self.value_match(route, "query parameter", name, m, MAX_QUERY_VALUE);
        }
    }

    fn value_match(&mut self, route: &Route, what: &str, name: &str, m: &StringMatch, max: usize) {
        if !header_name_ok(name) {
            self.route_problem(
                route,
                &format!("the {what} name `{name}`"),
                "names are HTTP tokens of 1 to 256 characters",
            );
        }
        match m {
            StringMatch::Prefix(p) => self.route_problem(
                route,
                &format!("a prefix match on {what} `{name}`"),
                &format!(
                    "the Gateway API matches {what}s exactly or by regular expression; write `regex \"{}.*\"`",
                    regex_escape(p)
                ),
            ),
            StringMatch::Exact(v) | StringMatch::Regex(v) if v.is_empty() || v.len() > max => self.route_problem(
                route,
                &format!("an empty or over-long value for {what} `{name}`"),
                &format!("the value has 1 to {max} characters"),
            ),
            _ => {}
        }
    }

    fn options(&mut self, object: &RouteObject<'m>, rule: &Rule<'m>) {
        let route = rule.route;
        let o = &route.options;
        let grpc = object.flavor == Flavor::Grpc;
        let on_grpc = "on a gRPC port (a GRPCRoute)";
        if o.retries.is_some() {
            self.route_problem(
                route,
                "retries",
                "HTTPRoute retries are experimental in Gateway API v1.4 and retry on status codes only; set \
                 retries with Istio",
            );
        }
        if o.delay.is_some() || o.abort.is_some() {
            self.route_problem(route, "fault injection", "the Gateway API has no fault injection");
        }
        if let model::Action::Forward(destinations) = &route.action {
            if destinations
                .iter()
                .any(|d| !d.request_headers.is_empty() || !d.response_headers.is_empty())
            {
                self.route_problem(
                    route,
                    "header changes for one destination (`for`)",
                    "backend-level filters are implementation-specific in the Gateway API; change the headers for the whole route, or use Istio routes",
                );
            }
        }
        if o.cors.is_some() {
            self.route_problem(
                route,
                "a CORS policy",
                "the HTTPRoute CORS filter is experimental before Gateway API v1.5",
            );
        }
        if let Some(timeout) = &o.timeout {
            if grpc {
                self.route_problem(route, &format!("a timeout {on_grpc}"), "GRPCRoute has no timeouts");
            } else if duration(timeout).is_none() {
                self.route_problem(
                    route,
                    &format!("the timeout `{timeout}`"),
                    "Gateway API durations are whole numbers of h, m, s and ms",
                );
            }
        }
        if let Some(uri) = &o.rewrite_uri {
            if grpc {
                self.route_problem(
                    route,
                    &format!("a rewrite {on_grpc}"),
                    "GRPCRoute has no rewrite filter",
                );
            } else {
                let uris: Vec<Option<&StringMatch>> = if rule.alternatives.is_empty() {
                    vec![None]
                } else {
                    rule.alternatives.iter().map(|c| c.uri.as_ref()).collect()
                };
                if uris.iter().any(|u| path_rewrite(*u, uri).is_none()) {
                    self.route_problem(
                        route,
                        &format!("the rewrite to `{uri}` of a route without a path prefix"),
                        "without a path match Istio replaces only the leading `/` (`/a` becomes `/v2a` for \
                         `rewrite \"/v2\"`); end the rewrite with `/`, or match a path prefix",
                    );
                }
                if uri.len() > MAX_PATH {
                    self.route_problem(
                        route,
                        "a rewrite path this long",
                        &format!("paths are at most {MAX_PATH} characters"),
                    );
                }
            }
        }
        if let Some(authority) = &o.rewrite_authority {
            if grpc {
                self.route_problem(
                    route,
                    &format!("a rewrite {on_grpc}"),
                    "GRPCRoute has no rewrite filter",
                );
            } else if !precise_hostname_ok(authority) {
                self.route_problem(
                    route,
                    &format!("the authority rewrite `{authority}`"),
                    "a URLRewrite hostname is a lowercase DNS name without a port",
                );
            }
        }
        if let Some((d, share)) = &o.mirror {
            self.destination(object, route, d);
            if share.is_some_and(|s| mirror_share(s).is_none()) {
                self.route_problem(
                    route,
                    "this mirrored share",
                    "a mirrored share is a percentage with at most four decimals",
                );
            }
        }
        for (what, ops) in [("request", &o.request_headers), ("response", &o.response_headers)] {
            let mut names: BTreeMap<String, usize> = BTreeMap::new();
            for name in ops.set.keys().chain(ops.add.keys()).chain(&ops.remove) {
                *names.entry(name.to_ascii_lowercase()).or_default() += 1;
                if !header_name_ok(name) {
                    self.route_problem(
                        route,
                        &format!("the {what} header name `{name}`"),
                        "header names are HTTP tokens",
                    );
                }
            }
            if names.values().any(|n| *n > 1) {
                self.route_problem(
                    route,
                    &format!("two operations on one {what} header"),
                    "a header modifier acts once on each header name",
                );
            }
            if [ops.set.len(), ops.add.len(), ops.remove.len()]
                .iter()
                .any(|n| *n > MAX_LIST)
            {
                self.route_problem(
                    route,
                    &format!("more than {MAX_LIST} {what} header operations of one kind"),
                    &format!("a header modifier sets, adds or removes at most {MAX_LIST} headers"),
                );
            }
            if ops
                .set
                .values()
                .chain(ops.add.values())
                .any(|v| v.is_empty() || v.len() > MAX_HEADER_VALUE)
            {
                self.route_problem(
                    route,
                    &format!("an empty or over-long {what} header value"),
                    &format!("header values have 1 to {MAX_HEADER_VALUE} characters"),
                );
            }
        }
    }

    fn gateway(&mut self, gateway: &'m model::Gateway) {
        if !default_selector(&gateway.selector) {
            self.problem(
                gateway.span,
                format!(
                    "the Gateway API cannot select the workloads of gateway `{}`",
                    gateway.name
                ),
                "custom selector",
                "Istio deploys a gateway of its own for each Gateway of class `istio`; drop the `selector`",
            );
        }
        let plans = listeners(gateway);
        if plans.len() > MAX_LISTENERS {
            self.problem(
                gateway.span,
                format!(
                    "gateway `{}` would have more than {MAX_LISTENERS} listeners",
                    gateway.name
                ),
                "too many listeners",
                "a Gateway has one listener per port and host; list fewer hosts",
            );
        }
        for plan in &plans {
            let server = plan.server;
            if plan.protocol.is_none() {
                let mode = server.tls.as_ref().map_or("none", |t| t.mode);
                self.problem(
                    server.span,
                    format!(
                        "the Gateway API cannot express a `{}` listener with TLS mode `{}`",
                        server.protocol.word(),
                        mode.to_ascii_lowercase().replace('_', "-")
                    ),
                    "not expressible with the Gateway API",
                    "a Gateway listener terminates TLS with a certificate (`tls simple`) or passes it through \
                     (`tls passthrough`); client certificates and Istio mutual TLS are not in the standard channel",
                );
            }
            if let Some(host) = &plan.hostname {
                if !hostname_ok(host) {
                    self.problem(
                        server.span,
                        format!("the Gateway API cannot express the listener host `{host}`"),
                        "not a Gateway API hostname",
                        "a listener host is `*`, a DNS name, or `*.` and a DNS name; not an IP address",
                    );
                }
            }
        }
        let mut names: BTreeMap<&str, Span> = BTreeMap::new();
        for plan in &plans {
            if let Some(first) = names.insert(&plan.name, plan.server.span) {
                self.found.push(
                    Diagnostic::error(
                        Code::NameCollision,
                        plan.server.span,
                        format!(
                            "two listeners of gateway `{}` would be named `{}`",
                            gateway.name, plan.name
                        ),
                    )
                    .label("listener name taken")
                    .note(first, "the other listener")
                    .help("give the hosts of one listener names that differ in more than `.` and `-`"),
                );
            }
        }
        let routes = gateway
            .routes
            .iter()
            .chain(gateway.host_routes.iter().flat_map(|(_, r)| r));
        for route in routes.filter(|r| r.kind != RouteKind::Http) {
            self.layer4(route);
        }
        for (host, routes) in &gateway.host_routes {
            if host != "*" && !hostname_ok(host) {
                for route in routes {
                    self.route_problem(
                        route,
                        &format!("the host `{host}`"),
                        "a route host is a DNS name, or `*.` and a DNS name; not an IP address",
                    );
                }
            }
        }
        for object in gateway_routes(gateway) {
            if object.hostnames.len() > MAX_HOSTNAMES {
                self.problem(
                    gateway.span,
                    format!(
                        "the HTTPRoute `{}` would have more than {MAX_HOSTNAMES} hostnames",
                        object.name
                    ),
                    "too many hosts",
                    "an HTTPRoute lists at most 16 hostnames; use a wildcard host such as `*.example.com`",
                );
            }
            self.object(&object);
        }
    }

    /// Names the Gateway API objects need that are taken, or not valid.
    fn names(&mut self, ns: &'m Namespace) {
        // Names the Istio checks already own: taken, without reporting them again.
        let mut services: BTreeMap<String, (String, Span)> = BTreeMap::new();
        let mut destination_rules: BTreeMap<String, (String, Span)> = BTreeMap::new();
        let mut routes: BTreeMap<String, (String, Span)> = BTreeMap::new();
        for service in &ns.services {
            let owner = (format!("service `{}`", service.name), service.span);
            services.entry(service.host.clone()).or_insert_with(|| owner.clone());
            destination_rules
                .entry(service.destination_rule.clone())
                .or_insert_with(|| owner.clone());
            if !service.routes.is_empty() {
                routes.entry(service.virtual_service.clone()).or_insert(owner);
            }
        }
        for external in &ns.externals {
            let owner = (format!("service `{}`", external.name), external.span);
            destination_rules
                .entry(external.destination_rule.clone())
                .or_insert(owner);
        }
        for gateway in &ns.gateways {
            if !gateway.routes.is_empty() {
                let owner = (format!("gateway `{}`", gateway.name), gateway.span);
                routes.entry(gateway.virtual_service.clone()).or_insert(owner);
            }
        }
        for backend in version_backends(self.mesh)
            .into_iter()
            .filter(|b| std::ptr::eq(b.namespace, ns))
        {
            let owner = format!("version `{}` of `{}`", backend.version.name, backend.service.name);
            let span = backend.version.span;
            let name = backend.name();
            if let Err(why) = rules::dns1035_label(&name) {
                self.found.push(
                    Diagnostic::error(
                        Code::InvalidName,
                        span,
                        format!(
                            "the Service `{name}` that Gateway API routes to {owner} need is not a valid name: {why}"
                        ),
                    )
                    .label("routes send to this version by name")
                    .help("shorten the service's name or the version's name"),
                );
            }
            self.claim(&mut services, "Service", name, owner.clone(), span);
            if !backend.policy().is_empty() {
                self.claim(
                    &mut destination_rules,
                    "DestinationRule",
                    backend.destination_rule(),
                    owner,
                    span,
                );
            }
        }
        // Route names beyond the VirtualService names (which HTTPRoutes and GRPCRoutes
        // share, one kind of object per name here for simplicity).
        for service in &ns.services {
            for object in mesh_routes(service)
                .into_iter()
                .filter(|o| o.name != service.virtual_service)
            {
                let owner = format!("service `{}`", service.name);
                self.claim(&mut routes, "route", object.name, owner, service.span);
            }
        }
        for gateway in &ns.gateways {
            let owner = format!("gateway `{}`", gateway.name);
            let mut names: Vec<String> = gateway_routes(gateway)
                .into_iter()
                .map(|o| o.name)
                .filter(|n| *n != gateway.virtual_service)
                .collect();
            if gateway.servers.iter().any(|s| s.https_redirect) {
                names.push(redirect_route_name(gateway));
            }
            for name in names {
                self.claim(&mut routes, "HTTPRoute", name, owner.clone(), gateway.span);
            }
        }
    }

    fn claim(
        &mut self,
        taken: &mut BTreeMap<String, (String, Span)>,
        kind: &str,
        name: String,
        owner: String,
        span: Span,
    ) {
        match taken.get(&name) {
            Some((first, first_span)) if *first_span != span => {
                self.found.push(
                    Diagnostic::error(
                        Code::NameCollision,
                        span,
                        format!("with the Gateway API, {owner} and {first} both generate the {kind} `{name}`"),
                    )
                    .label(format!("generates {kind} `{name}`"))
                    .note(*first_span, format!("{first} generates it too"))
                    .help("rename one of them, or change the naming templates"),
                );
            }
            Some(_) => {}
            None => {
                taken.insert(name, (owner, span));
            }
        }
    }
}

/// `s` as a regular expression matching itself.
fn regex_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_fit_gep_2257() {
        assert_eq!(duration("5s").as_deref(), Some("5s"));
        assert_eq!(duration("250ms").as_deref(), Some("250ms"));
        assert_eq!(duration("1.5s").as_deref(), Some("1s500ms"));
        assert_eq!(duration("0.5m").as_deref(), Some("30s"));
        assert_eq!(duration("1.25h").as_deref(), Some("1h15m"));
        assert_eq!(duration("123456s").as_deref(), Some("34h17m36s"));
        assert!(gateway_duration_ok("1h2m3s4ms"));
        assert!(!gateway_duration_ok("1.5s"));
        assert!(!gateway_duration_ok("123456s"));
        assert!(!gateway_duration_ok(""));
    }

    #[test]
    fn mirror_shares() {
        assert_eq!(mirror_share(10.0), Some(Share::Percent(10)));
        assert_eq!(mirror_share(12.5), Some(Share::Fraction(125, 1000)));
        assert_eq!(mirror_share(0.01), Some(Share::Fraction(1, 10000)));
        assert_eq!(mirror_share(101.0), None);
    }

    #[test]
    fn paths_and_prefixes() {
        assert!(path_problem("/hello").is_none());
        assert!(path_problem("hello").is_some());
        assert!(path_problem("/a//b").is_some());
        assert!(path_problem("/a b").is_some());
        assert!(path_problem("/a%20b").is_none());
        assert!(prefix_matches("/api", "/api/v1"));
        assert!(prefix_matches("/api/", "/api"));
        assert!(!prefix_matches("/api", "/apis"));
        assert!(prefix_matches("/", "/anything"));
    }

    #[test]
    fn grpc_methods() {
        let exact = StringMatch::Exact("/shop.Cart/Add".into());
        assert_eq!(
            grpc_method(Some(&exact)),
            Ok(GrpcMethod::Method("shop.Cart".into(), "Add".into()))
        );
        let service = StringMatch::Prefix("/shop.Cart/".into());
        assert_eq!(grpc_method(Some(&service)), Ok(GrpcMethod::Service("shop.Cart".into())));
        assert!(grpc_method(Some(&StringMatch::Prefix("/shop".into()))).is_err());
        assert!(grpc_method(Some(&StringMatch::Regex("/.*".into()))).is_err());
    }

    #[test]
    fn hosts() {
        assert!(hostname_ok("*.example.com"));
        assert!(hostname_ok("shop.example.com"));
        assert!(!hostname_ok("*shop.example.com"));
        assert!(!hostname_ok("10.0.0.1"));
        assert_eq!(
            split_authority("a.example.com:8080"),
            Some(("a.example.com".into(), Some(8080)))
        );
        assert_eq!(split_authority("a.example.com"), Some(("a.example.com".into(), None)));
        assert_eq!(split_authority("a.example.com:x"), None);
    }
}
