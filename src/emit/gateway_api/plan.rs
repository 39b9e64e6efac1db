//! What `--routes gateway-api` writes, planned from the model: the route objects (which
//! HTTPRoutes and GRPCRoutes there are, their rules and names), the listeners of each
//! Gateway, and the per-version Services that stand in for subsets. The refusals
//! ([`super::refusals`]) and the writer ([`super`]) both read these plans, so the two cannot
//! disagree.
use std::collections::BTreeSet;

use crate::emit::{host_routes_name, host_suffix};
use crate::model::{
    self, Action, Conditions, Destination, Mesh, Namespace, Policy, Protocol, Route, RouteKind, Service, StringMatch,
};

/// Which route kind a set of rules becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RouteObjectKind {
    /// HTTPRoute.
    Http,
    /// GRPCRoute: for services' gRPC ports.
    Grpc,
}

impl RouteObjectKind {
    pub(super) fn name(self) -> &'static str {
        match self {
            RouteObjectKind::Http => "HTTPRoute",
            RouteObjectKind::Grpc => "GRPCRoute",
        }
    }
}

/// One rule as written: a route and those of its alternatives that apply where it is
/// written (empty: the route matches every request).
#[derive(Debug, Clone)]
pub(super) struct Rule<'m> {
    pub(super) route: &'m Route,
    pub(super) alternatives: Vec<&'m Conditions>,
}

impl<'m> Rule<'m> {
    /// The match groups this rule is written as: one rule, or, when it rewrites the path,
    /// one rule per alternative (a `ReplacePrefixMatch` rewrite allows exactly one
    /// `PathPrefix` match in its rule, and alternatives may need different rewrites).
    pub(super) fn groups(&self) -> Vec<Vec<&'m Conditions>> {
        if self.route.options.rewrite_uri.is_some() && self.alternatives.len() > 1 {
            self.alternatives.iter().map(|a| vec![*a]).collect()
        } else {
            vec![self.alternatives.clone()]
        }
    }
}

/// One HTTPRoute or GRPCRoute meshc writes.
#[derive(Debug, Clone)]
pub(super) struct RouteObject<'m> {
    pub(super) name: String,
    pub(super) kind: RouteObjectKind,
    /// Mesh routes: the service they are for.
    pub(super) service: Option<&'m Service>,
    /// Mesh routes: the Service port the route attaches to; `None` attaches it to the whole
    /// Service (it has one port).
    pub(super) parent_port: Option<u16>,
    /// Mesh routes: the port that backends of the service itself use.
    pub(super) own_port: Option<u16>,
    /// Ingress routes: the gateway.
    pub(super) gateway: Option<&'m model::Gateway>,
    /// Ingress routes: the request hosts (empty: any host the listeners accept).
    pub(super) hostnames: Vec<String>,
    pub(super) rules: Vec<Rule<'m>>,
}

/// The HTTPRoutes and GRPCRoutes of a service: one per port that carries HTTP (a GRPCRoute
/// for a `grpc` port), each with the routes that apply to that port.
pub(super) fn mesh_routes(service: &Service) -> Vec<RouteObject<'_>> {
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
                kind: if port.protocol == Protocol::Grpc {
                    RouteObjectKind::Grpc
                } else {
                    RouteObjectKind::Http
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

/// The HTTPRoutes of a gateway: one for the hosts without routes of their own, and one per
/// host with routes of its own (its routes first, then the gateway's), as the Istio
/// emitter writes VirtualServices. TCP and TLS routes are left out (they are reported).
pub(super) fn gateway_routes(gateway: &model::Gateway) -> Vec<RouteObject<'_>> {
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
            kind: RouteObjectKind::Http,
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
        let name = host_routes_name(gateway, host);
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
pub(super) fn redirect_route_name(gateway: &model::Gateway) -> String {
    format!("{}-https-redirect", gateway.name)
}

/// Every route object of the mesh, with the namespace it is written in.
pub(super) fn all_routes(mesh: &Mesh) -> Vec<(&Namespace, RouteObject<'_>)> {
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
pub(super) fn destinations(route: &Route) -> impl Iterator<Item = &Destination> {
    let forward: &[Destination] = match &route.action {
        Action::Forward(list) => list,
        _ => &[],
    };
    forward.iter().chain(route.options.mirror.as_ref().map(|(d, _)| d))
}

/// The service of the mesh with this FQDN, and its namespace.
pub(super) fn service_by_fqdn<'m>(mesh: &'m Mesh, fqdn: &str) -> Option<(&'m Namespace, &'m Service)> {
    mesh.namespaces
        .iter()
        .find_map(|ns| ns.services.iter().find(|s| s.fqdn == fqdn).map(|s| (ns, s)))
}

/// A version that routes send to by name: the Gateway API has no subsets, so it gets a
/// Service of its own selecting the version's workloads.
#[derive(Debug, Clone, Copy)]
pub(super) struct VersionBackend<'m> {
    pub(super) namespace: &'m Namespace,
    pub(super) service: &'m Service,
    pub(super) version: &'m model::Version,
}

impl VersionBackend<'_> {
    /// `<service host>-<version>`
    pub(super) fn name(&self) -> String {
        version_service_name(self.service, &self.version.name)
    }

    /// The version Service's address: `<name>.<namespace>.svc.<domain>`.
    pub(super) fn fqdn(&self) -> String {
        let rest = self.service.fqdn.split_once('.').map_or("", |(_, rest)| rest);
        format!("{}.{rest}", self.name())
    }

    /// The DestinationRule carrying the version's traffic policy to its Service.
    pub(super) fn destination_rule(&self) -> String {
        format!("{}-{}", self.service.destination_rule, self.version.name)
    }

    /// The traffic policy of the version's Service: the service's, with the version's
    /// settings in its place where it has them (as a DestinationRule subset overrides).
    pub(super) fn policy(&self) -> Policy {
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

pub(super) fn version_service_name(service: &Service, version: &str) -> String {
    format!("{}-{version}", service.host)
}

/// Every version some route sends to or mirrors to by name, sorted by namespace, service
/// and version, each once.
pub(super) fn version_backends(mesh: &Mesh) -> Vec<VersionBackend<'_>> {
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
pub(super) struct Backend {
    pub(super) name: String,
    pub(super) namespace: String,
    pub(super) port: u16,
}

/// The Service a destination becomes. `None` for a host that is no service of the mesh, or
/// whose port cannot be told (both reported by the checker).
pub(super) fn backend(mesh: &Mesh, object: &RouteObject<'_>, d: &Destination) -> Option<Backend> {
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
pub(super) type ListenerTls = (&'static str, Option<String>);

/// One Gateway listener: a server of the Istio model, for one of its hosts.
#[derive(Debug, Clone)]
pub(super) struct ListenerPlan<'m> {
    pub(super) name: String,
    /// `None`: any host.
    pub(super) hostname: Option<String>,
    pub(super) port: u16,
    /// `HTTP`, `HTTPS`, `TLS` or `TCP`; `None` when the server cannot be expressed.
    pub(super) protocol: Option<&'static str>,
    pub(super) tls: Option<ListenerTls>,
    pub(super) server: &'m model::Server,
}

impl ListenerPlan<'_> {
    /// Whether HTTPRoutes attach to it (HTTP, or HTTPS terminated here).
    pub(super) fn carries_http(&self) -> bool {
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
pub(super) fn listeners(gateway: &model::Gateway) -> Vec<ListenerPlan<'_>> {
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
pub(super) fn default_selector(selector: &model::Labels) -> bool {
    selector.len() == 1 && selector.get("istio").is_some_and(|v| v == "ingressgateway")
}
