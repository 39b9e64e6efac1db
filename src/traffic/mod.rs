//! Where requests go: Istio's first-match HTTP routing, followed hop by hop through the
//! services' `calls`, with the share of requests each version and endpoint receives.
//!
//! The engine reads a small [`Table`], not the `.mesh` model, so that anything that knows a
//! mesh's routes can fill it: [`Table::from_mesh`] fills it from [`crate::model::Mesh`] (the
//! routes exactly as the emitted VirtualServices hold them: the default route meshc adds, a
//! gateway route carrying its service's routes), and [`Table::from_manifests`] fills it
//! from existing manifests as `meshc lint` reads them (VirtualServices, DestinationRules,
//! Services, ServiceEntries, workloads, Gateways; see `from_manifests.rs` for its rules).
//!
//! Semantics (those of the emitted Istio objects):
//! - a request addressed to a service follows that service's HTTP routes, the first whose
//!   conditions hold (any one alternative) wins; none matching means Envoy answers 404;
//! - a request entering a gateway follows the routes of its host (a listener host named by
//!   `route host`), then the gateway's routes for every host;
//! - a destination naming a version goes to that version's endpoints; one naming no version
//!   goes to every endpoint of the service alike (Kubernetes balancing: a Deployment counts
//!   once per replica, a VM once per address), without that service's own routes (a sidecar
//!   applies only the VirtualService of the host the request was addressed to);
//! - a version on several VM addresses splits its share evenly among them;
//! - a route's `rewrite` changes the path its destinations receive (the prefix the
//!   alternative matched, `/` without a path condition, or the whole path after an exact or
//!   regex match), and so the path their calls carry onwards;
//! - a workload that receives a request calls every service it `calls`, with the same method,
//!   path, query and headers, on the called service's first HTTP port; the call is matched
//!   as coming from that workload (`from SERVICE VERSION`); a call back to a service already
//!   on the chain is a cycle and is not followed; a version without endpoints (a subset
//!   that selects nothing) answers nothing and calls nobody;
//! - TCP and TLS requests ([`Protocol`]) follow the service's `tcp` or `tls` routes (by
//!   port, caller, destination subnet; by SNI host and port); one no route takes goes to
//!   every endpoint of the service alike, as a sidecar forwards it to the service itself; at
//!   a gateway they take a listener of their protocol (TLS passed through, by SNI), and
//!   one no route takes is closed.

pub mod expect;
mod from_manifests;
mod table;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::{Conditions, HeaderMatch, Labels, StringMatch};
use crate::source::Span;

pub use table::describe_conditions;

/// The mesh as the traffic engine sees it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Table {
    pub services: Vec<Service>,
    pub gateways: Vec<Gateway>,
    /// What the table could not say exactly (conditions the engine does not evaluate, ...),
    /// each about one service or gateway; a trace repeats those of the places it reaches.
    pub notes: Vec<Note>,
}

/// A remark about a place of the table, and where it comes from.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Note {
    /// The hop it concerns: a service name or `gateway NAME`.
    pub place: String,
    pub message: String,
    pub span: Option<Span>,
}

/// What a request speaks, and so which routes of a VirtualService take it.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub enum Protocol {
    /// `http` routes, by path, headers, method, port, caller.
    #[default]
    Http,
    /// `tcp` routes, by port, caller and destination subnet.
    Tcp,
    /// `tls` routes, by SNI host and port, without decrypting.
    Tls,
}

/// A service: its HTTP routes in first-match order, its versions with their endpoints, and
/// the hosts its workloads call.
#[derive(Debug, Clone, Serialize)]
pub struct Service {
    pub namespace: String,
    /// The name users give it (the `.mesh` name, or the Service's name).
    pub name: String,
    /// The fully qualified host routes name in destinations.
    pub host: String,
    /// The ports that carry HTTP, ascending.
    pub http_ports: Vec<u16>,
    pub versions: Vec<Version>,
    /// HTTP routes in the order Istio tries them; empty when the service has no
    /// VirtualService (every request goes to every endpoint alike).
    pub routes: Vec<Route>,
    /// The hosts this service's workloads call (fully qualified).
    pub calls: Vec<String>,
    /// The ports that carry plain TCP (TCP, Mongo, MySQL, Redis), ascending.
    pub tcp_ports: Vec<u16>,
    /// The ports that carry TLS the sidecar does not terminate (TLS, HTTPS), ascending.
    pub tls_ports: Vec<u16>,
    /// `tcp` routes in the order Istio tries them.
    pub tcp_routes: Vec<Route>,
    /// `tls` routes in the order Istio tries them.
    pub tls_routes: Vec<Route>,
}

impl Service {
    /// The routes and ports for requests of a protocol.
    fn routes_for(&self, protocol: Protocol) -> (&[Route], &[u16]) {
        match protocol {
            Protocol::Http => (&self.routes, &self.http_ports),
            Protocol::Tcp => (&self.tcp_routes, &self.tcp_ports),
            Protocol::Tls => (&self.tls_routes, &self.tls_ports),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Version {
    pub name: String,
    /// The labels of its workloads (what `from` conditions match).
    pub labels: Labels,
    pub endpoints: Vec<Endpoint>,
    /// Why it has no endpoint, when the manifests say (a subset selecting nothing, a
    /// WorkloadEntry whose labels miss the Service's selector).
    pub notes: Vec<Note>,
}

/// Where a version runs.
#[derive(Debug, Clone, Serialize)]
pub enum Endpoint {
    /// A Deployment, `replicas` endpoints.
    Pod { deployment: String, replicas: u32 },
    /// One VM address (a WorkloadEntry).
    Vm { address: String },
    /// The VMs that join a WorkloadGroup on their own (`auto-register`): their addresses are
    /// known only at run time, so they are one endpoint, named by the group.
    VmGroup { group: String },
}

impl Endpoint {
    pub fn name(&self) -> &str {
        match self {
            Endpoint::Pod { deployment, .. } => deployment,
            Endpoint::Vm { address } => address,
            Endpoint::VmGroup { group } => group,
        }
    }

    fn count(&self) -> u32 {
        match self {
            Endpoint::Pod { replicas, .. } => (*replicas).max(1),
            Endpoint::Vm { .. } | Endpoint::VmGroup { .. } => 1,
        }
    }
}

/// One HTTP route.
#[derive(Debug, Clone, Serialize)]
pub struct Route {
    /// Where it is written, if anywhere.
    pub span: Option<Span>,
    /// True for the default route meshc adds.
    pub synthesised: bool,
    /// Any may hold; none means the route takes every request.
    pub alternatives: Vec<Conditions>,
    pub action: Action,
    /// TCP routes: the `destinationSubnets` of each alternative (by index; missing or
    /// empty: any destination address; [`NOT_EVALUATED`] alone: the alternative never holds).
    pub destination_subnets: Vec<Vec<String>>,
    /// The path the destinations receive instead: it replaces the prefix the alternative
    /// matched (`/` without a path condition), or the whole path after an exact or regex
    /// match; the workloads call onwards with it.
    pub rewrite: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub enum Action {
    Forward(Vec<Destination>),
    Redirect(String),
    Respond(u16),
}

#[derive(Debug, Clone, Serialize)]
pub struct Destination {
    /// Fully qualified host.
    pub host: String,
    /// A version, or every endpoint of the host.
    pub subset: Option<String>,
    /// Percent of the route's requests (100 when alone).
    pub weight: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct Gateway {
    pub namespace: String,
    pub name: String,
    /// Listeners that carry HTTP (plain, or HTTPS terminated at the gateway).
    pub listeners: Vec<Listener>,
    /// Routes for one host, tried before `routes`.
    pub host_routes: Vec<(String, Vec<Route>)>,
    pub routes: Vec<Route>,
    /// `tcp` routes, for every host.
    pub tcp_routes: Vec<Route>,
    /// `tls` routes (passthrough listeners), by SNI host.
    pub tls_routes: Vec<Route>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Listener {
    pub port: u16,
    pub hosts: Vec<String>,
    /// Answers every request with a redirect to HTTPS before any route.
    pub https_redirect: bool,
    /// What it hands to routes: HTTP (plain, or HTTPS it terminates), TCP, or TLS it
    /// passes through.
    pub protocol: Protocol,
}

/// One request.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Request {
    pub method: String,
    pub path: String,
    /// The Host header (gateways); defaults to the addressed service's host.
    pub host: Option<String>,
    /// The port addressed at the first hop; defaults to the first HTTP port or listener.
    pub port: Option<u16>,
    /// Lower-case names.
    pub headers: BTreeMap<String, String>,
    pub query: BTreeMap<String, String>,
    /// Which routes take it (default HTTP).
    pub protocol: Protocol,
    /// The SNI host of a TLS connection.
    pub sni: Option<String>,
    /// The destination IP address, for `destinationSubnets`.
    pub address: Option<String>,
}

/// Where a request starts.
#[derive(Debug, Clone, Serialize)]
pub enum Start {
    /// Enters the gateway of this name.
    Gateway(String),
    /// Sent by a service's workloads (every version alike, or one), to `to` (a service name
    /// or host) or to every service it calls.
    Service {
        name: String,
        version: Option<String>,
        to: Option<String>,
    },
}

/// Where a request went.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Trace {
    /// Every place a request was addressed to, in the order first reached.
    pub hops: Vec<Hop>,
    /// The table's notes about the places reached.
    pub notes: Vec<Note>,
}

/// The requests addressed to one gateway or service host.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Hop {
    /// `gateway NAME`, a service name, or a host the table does not know.
    pub place: String,
    pub namespace: String,
    /// Percent of the starting requests addressed here (calls fan out, so the sum over hops
    /// may exceed 100).
    pub share: f64,
    /// Which route took them, per caller.
    pub decisions: Vec<Decision>,
    /// The versions that received them (of this or another service).
    pub versions: Vec<VersionShare>,
    /// Requests answered without reaching a workload: `redirect`, `respond 503`, `404 (no
    /// route)`, `external HOST`.
    pub answered: Vec<(String, f64)>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Decision {
    /// The calling workload (`hello1/v1`), if any.
    pub caller: Option<String>,
    /// The route's index in its list and what it matches; `None` when none matched.
    pub route: Option<usize>,
    pub matched: String,
    pub span: Option<Span>,
    pub share: f64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct VersionShare {
    pub service: String,
    pub version: String,
    pub share: f64,
    pub endpoints: Vec<EndpointShare>,
    /// Why the version has no endpoint, when known.
    pub notes: Vec<Note>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct EndpointShare {
    pub endpoint: String,
    pub vm: bool,
    pub share: f64,
}

/// Why a request cannot be traced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TraceError {
    UnknownGateway(String),
    UnknownService(String),
    UnknownVersion(String, String),
    NothingCalled(String),
}

impl std::fmt::Display for TraceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TraceError::UnknownGateway(g) => write!(f, "no gateway `{g}` in the mesh"),
            TraceError::UnknownService(s) => write!(f, "no service `{s}` in the mesh"),
            TraceError::UnknownVersion(s, v) => write!(f, "service `{s}` has no version `{v}`"),
            TraceError::NothingCalled(s) => write!(f, "service `{s}` calls no service: name one with --host"),
        }
    }
}

/// The most arrivals one trace follows: services that all call one another have as many
/// chains of calls as orderings of them, so past this the calls are reported, not followed.
pub const MAX_ARRIVALS: usize = 10_000;

/// Where the request reaches the first-hop route table.
struct Arrival {
    hop: usize,
    host: String,
    /// The port addressed; `None` for the service's first HTTP port.
    port: Option<u16>,
    share: f64,
    caller: Option<(usize, usize)>,
    /// The services whose workloads handled the request before, on this chain of calls: a
    /// call back to one of them is a cycle, not followed.
    chain: Vec<usize>,
    /// The request's path here (a route's rewrite changes it for the next hops).
    path: String,
}

impl Table {
    pub fn service(&self, name: &str) -> Option<usize> {
        self.services
            .iter()
            .position(|s| s.name == name)
            .or_else(|| self.services.iter().position(|s| s.host == name))
            .or_else(|| {
                self.services
                    .iter()
                    .position(|s| s.host.split('.').next() == Some(name))
            })
            .or_else(|| {
                // `NAME.NAMESPACE` and `NAME.NAMESPACE.svc`, as Kubernetes DNS reads them.
                let prefix = format!("{}.", name.strip_suffix(".svc").unwrap_or(name));
                let dots = prefix.matches('.').count();
                (dots == 2)
                    .then(|| {
                        self.services
                            .iter()
                            .position(|s| s.host.starts_with(&prefix) && s.host[prefix.len()..].starts_with("svc."))
                    })
                    .flatten()
            })
    }

    fn service_by_host(&self, host: &str) -> Option<usize> {
        self.services.iter().position(|s| s.host == host)
    }

    /// Follows a request from `start` through every hop.
    pub fn trace(&self, start: &Start, request: &Request) -> Result<Trace, TraceError> {
        let mut trace = Trace::default();
        let mut queue: Vec<Arrival> = Vec::new();
        match start {
            Start::Gateway(name) => {
                let gateway = self
                    .gateways
                    .iter()
                    .find(|g| &g.name == name)
                    .ok_or_else(|| TraceError::UnknownGateway(name.clone()))?;
                trace.hops.push(Hop {
                    place: format!("gateway {}", gateway.name),
                    namespace: gateway.namespace.clone(),
                    share: 100.0,
                    ..Hop::default()
                });
                let next = self.gateway_hop(gateway, request, &mut trace.hops[0]);
                self.deliver(&mut trace, 0, next, &[], &mut queue);
            }
            Start::Service { name, version, to } => {
                let from = self
                    .service(name)
                    .ok_or_else(|| TraceError::UnknownService(name.clone()))?;
                let service = &self.services[from];
                let versions: Vec<usize> = match version {
                    Some(v) => vec![service
                        .versions
                        .iter()
                        .position(|x| &x.name == v)
                        .ok_or_else(|| TraceError::UnknownVersion(name.clone(), v.clone()))?],
                    None => (0..service.versions.len()).collect(),
                };
                let targets: Vec<String> = match to {
                    Some(to) => vec![self
                        .service(to)
                        .map(|i| self.services[i].host.clone())
                        .unwrap_or_else(|| to.clone())],
                    None if service.calls.is_empty() => return Err(TraceError::NothingCalled(name.clone())),
                    None => service.calls.clone(),
                };
                let each = 100.0 / versions.len().max(1) as f64;
                // A service without workloads in the table still sends: as nobody in particular.
                let callers: Vec<Option<(usize, usize)>> = if versions.is_empty() {
                    vec![None]
                } else {
                    versions.iter().map(|&v| Some((from, v))).collect()
                };
                for caller in callers {
                    for host in &targets {
                        let hop = hop_for(&mut trace, self, host);
                        queue.push(Arrival {
                            hop,
                            host: host.clone(),
                            port: request.port,
                            share: each,
                            caller,
                            chain: vec![from],
                            path: request.path.clone(),
                        });
                    }
                }
            }
        }
        let mut i = 0;
        while i < queue.len() {
            let Arrival {
                hop,
                ref host,
                port,
                share,
                caller,
                ref chain,
                ref path,
            } = queue[i];
            let host = host.clone();
            let chain = chain.clone();
            let path = path.clone();
            i += 1;
            trace.hops[hop].share += share;
            let Some(s) = self.service_by_host(&host) else {
                add_answer(&mut trace.hops[hop].answered, format!("external {host}"), share);
                continue;
            };
            let service = &self.services[s];
            let (routes, ports) = service.routes_for(request.protocol);
            let mut req = request.clone();
            req.host = Some(host.clone());
            req.port = port.or_else(|| ports.first().copied());
            req.path = path;
            let source = caller.map(|(cs, cv)| (&self.services[cs], &self.services[cs].versions[cv]));
            let caller_name = source.map(|(s, v)| format!("{}/{}", s.name, v.name));
            let sender = source.map(|(s, v)| Sender {
                labels: &v.labels,
                namespace: Some(&s.namespace),
            });
            let whole = |matched: &str, caller: Option<String>| {
                let decision = Decision {
                    caller,
                    route: None,
                    matched: matched.to_string(),
                    span: None,
                    share,
                };
                let destination = Destination {
                    host: host.clone(),
                    subset: None,
                    weight: 100,
                };
                (Some(Outcome::Forward(vec![destination], req.path.clone())), decision)
            };
            let (outcome, decision) = if routes.is_empty() {
                whole("no routes: every endpoint alike", caller_name)
            } else {
                match first_match(routes, &req, sender) {
                    // A sidecar sends TCP and TLS that no route takes to the service itself.
                    (None, _) if request.protocol != Protocol::Http => {
                        whole("no route matches: every endpoint alike", caller_name)
                    }
                    (index, outcome) => (outcome, decision(routes, index, caller_name, share)),
                }
            };
            merge_decision(&mut trace.hops[hop].decisions, decision);
            let next = outcome
                .map(|o| scaled(o, share))
                .unwrap_or_else(|| vec![Next::Answer("404 (no route)".into(), share)]);
            self.deliver(&mut trace, hop, next, &chain, &mut queue);
        }
        for hop in &mut trace.hops {
            hop.versions
                .sort_by(|a, b| (&a.service, &a.version).cmp(&(&b.service, &b.version)));
        }
        trace.notes = self
            .notes
            .iter()
            .filter(|n| trace.hops.iter().any(|h| h.place == n.place))
            .cloned()
            .collect();
        Ok(trace)
    }

    /// The gateway's decision for the request.
    fn gateway_hop(&self, gateway: &Gateway, request: &Request, hop: &mut Hop) -> Vec<Next> {
        // TLS is told apart by its SNI host, HTTP by its Host header.
        let host = match request.protocol {
            Protocol::Tls => request.sni.clone().or_else(|| request.host.clone()),
            _ => request.host.clone(),
        }
        .unwrap_or_default();
        let mut listeners = gateway.listeners.iter().filter(|l| l.protocol == request.protocol);
        let listener = match request.port {
            Some(port) => listeners.find(|l| l.port == port),
            None => {
                let all: Vec<&Listener> = listeners.collect();
                all.iter()
                    .find(|l| l.hosts.iter().any(|h| host_admits(h, &host)))
                    .or_else(|| all.first())
                    .copied()
            }
        };
        if request.protocol != Protocol::Http {
            let mut req = request.clone();
            req.port = listener.map(|l| l.port).or(request.port);
            req.sni = Some(host).filter(|h| !h.is_empty());
            let routes = match request.protocol {
                Protocol::Tls => &gateway.tls_routes,
                _ => &gateway.tcp_routes,
            };
            let (index, outcome) = first_match(routes, &req, None);
            hop.decisions.push(decision(routes, index, None, 100.0));
            return outcome
                .map(|o| scaled(o, 100.0))
                .unwrap_or_else(|| vec![Next::Answer("connection closed (no route)".into(), 100.0)]);
        }
        if listener.is_some_and(|l| l.https_redirect) {
            hop.decisions.push(Decision {
                caller: None,
                route: None,
                matched: "the listener redirects to HTTPS".to_string(),
                span: None,
                share: 100.0,
            });
            return vec![Next::Answer("redirect to https".into(), 100.0)];
        }
        let mut req = request.clone();
        req.port = listener.map(|l| l.port).or(request.port);
        let routes = gateway_routes(gateway, &host);
        let (index, outcome) = first_match(&routes, &req, None);
        hop.decisions.push(decision(&routes, index, None, 100.0));
        outcome
            .map(|o| scaled(o, 100.0))
            .unwrap_or_else(|| vec![Next::Answer("404 (no route)".into(), 100.0)])
    }

    /// Sends the route's outcome to workloads, then their calls onwards.
    fn deliver(&self, trace: &mut Trace, hop: usize, next: Vec<Next>, chain: &[usize], queue: &mut Vec<Arrival>) {
        for n in next {
            match n {
                Next::Answer(what, share) => add_answer(&mut trace.hops[hop].answered, what, share),
                Next::To(dest, share, path) => {
                    let Some(s) = self.service_by_host(&dest.host) else {
                        add_answer(&mut trace.hops[hop].answered, format!("external {}", dest.host), share);
                        continue;
                    };
                    let service = &self.services[s];
                    for (v, version_share) in split(service, dest.subset.as_deref(), share) {
                        let version = &service.versions[v];
                        add_version(&mut trace.hops[hop].versions, service, version, version_share);
                        // Requests to a version without endpoints fail there.
                        if version.endpoints.is_empty() {
                            continue;
                        }
                        let mut onwards = chain.to_vec();
                        onwards.push(s);
                        for host in &service.calls {
                            if self.service_by_host(host).is_some_and(|t| onwards.contains(&t)) {
                                let what = format!("{} calls {host} back: a cycle, not followed", service.name);
                                add_answer(&mut trace.hops[hop].answered, what, version_share);
                                continue;
                            }
                            if queue.len() >= MAX_ARRIVALS {
                                let what =
                                    format!("{} calls {host}: not followed, the trace is too large", service.name);
                                add_answer(&mut trace.hops[hop].answered, what, version_share);
                                continue;
                            }
                            let target = hop_for(trace, self, host);
                            queue.push(Arrival {
                                hop: target,
                                host: host.clone(),
                                port: None,
                                share: version_share,
                                caller: Some((s, v)),
                                chain: onwards.clone(),
                                path: path.clone(),
                            });
                        }
                    }
                }
            }
        }
    }
}

/// The routes a gateway tries for a request to `host`: that host's own, then the shared ones.
fn gateway_routes(gateway: &Gateway, host: &str) -> Vec<Route> {
    let own = gateway.host_routes.iter().find(|(h, _)| h == host).or_else(|| {
        gateway
            .host_routes
            .iter()
            .filter(|(h, _)| h.starts_with('*') && host_admits(h, host))
            .max_by_key(|(h, _)| h.len())
    });
    own.map(|(_, r)| r.clone())
        .unwrap_or_default()
        .into_iter()
        .chain(gateway.routes.iter().cloned())
        .collect()
}

/// Who sends a request, as `from` conditions see it.
#[derive(Debug, Clone, Copy)]
pub struct Sender<'a> {
    pub labels: &'a Labels,
    pub namespace: Option<&'a str>,
}

impl Table {
    /// The route a request addressed to the service `host` takes, if any: one hop, for
    /// comparing the engine with other evaluators.
    pub fn decide(&self, host: &str, request: &Request, sender: Option<Sender<'_>>) -> Option<&Route> {
        let service = &self.services[self.service_by_host(host)?];
        let (routes, _) = service.routes_for(request.protocol);
        routes.iter().find(|r| route_holds(r, request, sender))
    }

    /// The route a request entering the gateway takes, for the request's host and port.
    pub fn decide_at_gateway(&self, gateway: &str, request: &Request) -> Option<Route> {
        let gateway = self.gateways.iter().find(|g| g.name == gateway)?;
        let routes = match request.protocol {
            Protocol::Http => gateway_routes(gateway, request.host.as_deref().unwrap_or_default()),
            Protocol::Tcp => gateway.tcp_routes.clone(),
            Protocol::Tls => gateway.tls_routes.clone(),
        };
        routes.into_iter().find(|r| route_holds(r, request, None))
    }
}

enum Next {
    /// A destination, its share, and the path its workloads receive.
    To(Destination, f64, String),
    Answer(String, f64),
}

fn scaled(outcome: Outcome, share: f64) -> Vec<Next> {
    match outcome {
        Outcome::Forward(list, _) if list.is_empty() => vec![Next::Answer("no destination".into(), share)],
        Outcome::Forward(list, path) => {
            let total: u32 = list.iter().map(|d| d.weight).sum();
            let total = f64::from(total.max(1));
            list.into_iter()
                .map(|d| {
                    let s = share * f64::from(d.weight) / total;
                    Next::To(d, s, path.clone())
                })
                .collect()
        }
        Outcome::Answer(what) => vec![Next::Answer(what, share)],
    }
}

enum Outcome {
    /// The destinations, and the path they receive.
    Forward(Vec<Destination>, String),
    Answer(String),
}

/// The index of the route that takes the request, and what it does.
fn first_match(routes: &[Route], request: &Request, source: Option<Sender<'_>>) -> (Option<usize>, Option<Outcome>) {
    let Some(index) = routes.iter().position(|r| route_holds(r, request, source)) else {
        return (None, None);
    };
    let outcome = match &routes[index].action {
        Action::Forward(list) => Outcome::Forward(list.clone(), rewritten(&routes[index], request, source)),
        Action::Redirect(to) => Outcome::Answer(format!("redirect to {to}")),
        Action::Respond(status) => Outcome::Answer(format!("respond {status}")),
    };
    (Some(index), Some(outcome))
}

/// The path the route's destinations receive: the request's, or its rewrite (Istio
/// replaces the prefix the first holding alternative matched, `/` when it names no path,
/// and the whole path after an exact or regex match).
fn rewritten(route: &Route, request: &Request, source: Option<Sender<'_>>) -> String {
    let Some(to) = &route.rewrite else {
        return request.path.clone();
    };
    let matched = route
        .alternatives
        .iter()
        .enumerate()
        .find(|(i, c)| alternative_holds(route, *i, c, request, source))
        .and_then(|(_, c)| c.uri.as_ref());
    let prefix = match matched {
        None => "/",
        Some(StringMatch::Prefix(p)) => p.as_str(),
        Some(StringMatch::Exact(_) | StringMatch::Regex(_)) => return to.clone(),
    };
    match request.path.strip_prefix(prefix) {
        Some(rest) => format!("{to}{rest}"),
        None => to.clone(),
    }
}

fn alternative_holds(route: &Route, i: usize, c: &Conditions, request: &Request, source: Option<Sender<'_>>) -> bool {
    conditions_hold(c, request, source)
        && route
            .destination_subnets
            .get(i)
            .is_none_or(|subnets| subnets.is_empty() || subnets.iter().any(|n| in_subnet(n, request)))
}

/// Whether the route takes the request (Istio: no match entry, or any entry whose every
/// field holds).
pub fn route_holds(route: &Route, request: &Request, source: Option<Sender<'_>>) -> bool {
    route.alternatives.is_empty()
        || route
            .alternatives
            .iter()
            .enumerate()
            .any(|(i, c)| alternative_holds(route, i, c, request, source))
}

/// Whether the request's destination address is inside `subnet` (`10.0.0.0/8`, or one
/// address); a request without an address is in none.
fn in_subnet(subnet: &str, request: &Request) -> bool {
    use std::net::IpAddr;
    let Some(address) = request.address.as_deref().and_then(|a| a.parse::<IpAddr>().ok()) else {
        return false;
    };
    let (net, bits) = subnet.split_once('/').unwrap_or((subnet, ""));
    let Ok(net) = net.parse::<IpAddr>() else { return false };
    let (a, n, width) = match (address, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => (u128::from(u32::from(a)), u128::from(u32::from(n)), 32),
        (IpAddr::V6(a), IpAddr::V6(n)) => (u128::from(a), u128::from(n), 128),
        _ => return false,
    };
    let bits: u32 = if bits.is_empty() {
        width
    } else {
        bits.parse().unwrap_or(u32::MAX)
    };
    if bits > width {
        return false;
    }
    let shift = width - bits;
    shift >= 128 || (a >> shift) == (n >> shift)
}

fn conditions_hold(c: &Conditions, r: &Request, source: Option<Sender<'_>>) -> bool {
    let uri = c.uri.as_ref().is_none_or(|m| string_holds(m, &r.path));
    let method = c.method.as_ref().is_none_or(|m| *m == r.method);
    let port = c.port.is_none_or(|p| Some(p) == r.port);
    let headers = c.headers.iter().all(|(name, m)| {
        let value = r.headers.get(&name.to_ascii_lowercase());
        match m {
            HeaderMatch::Absent => value.is_none(),
            HeaderMatch::Is(m) => value.is_some_and(|v| string_holds(m, v)),
        }
    });
    let query = c
        .query
        .iter()
        .all(|(name, m)| r.query.get(name).is_some_and(|v| string_holds(m, v)));
    let from = c.source.as_ref().is_none_or(|want| {
        source.is_some_and(|s| {
            want.labels.iter().all(|(k, val)| s.labels.get(k) == Some(val))
                && want
                    .namespace
                    .as_ref()
                    .is_none_or(|ns| Some(ns.as_str()) == s.namespace)
        })
    });
    let host = c
        .host
        .as_ref()
        .is_none_or(|h| r.host.as_deref().is_some_and(|rh| host_admits(h, rh)));
    let sni = c.sni.is_empty()
        || r.sni
            .as_deref()
            .is_some_and(|name| c.sni.iter().any(|pattern| host_admits(pattern, name)));
    uri && method && port && headers && query && from && host && sni
}

/// Envoy matches regexes against the whole value (RE2 syntax; the `regex` crate's is the
/// same for what Istio accepts).
fn string_holds(m: &StringMatch, value: &str) -> bool {
    match m {
        StringMatch::Exact(v) => value == v,
        StringMatch::Prefix(p) => value.starts_with(p.as_str()),
        StringMatch::Regex(pattern) => {
            regex::Regex::new(&format!("^(?:{pattern})$")).is_ok_and(|re| re.is_match(value))
        }
    }
}

/// Whether a host pattern (`*`, `*.example.com`, `shop.example.com`) admits `host`.
fn host_admits(pattern: &str, host: &str) -> bool {
    pattern == "*" || pattern == host || pattern.strip_prefix('*').is_some_and(|s| host.ends_with(s))
}

/// Which versions a destination reaches, with their shares.
fn split(service: &Service, subset: Option<&str>, share: f64) -> Vec<(usize, f64)> {
    match subset {
        Some(name) => service
            .versions
            .iter()
            .position(|v| v.name == name)
            .map(|v| vec![(v, share)])
            .unwrap_or_default(),
        None => {
            let count = |v: &Version| v.endpoints.iter().map(Endpoint::count).sum::<u32>();
            let total: u32 = service.versions.iter().map(count).sum();
            if total == 0 {
                return Vec::new();
            }
            service
                .versions
                .iter()
                .enumerate()
                .filter(|(_, v)| count(v) > 0)
                .map(|(i, v)| (i, share * f64::from(count(v)) / f64::from(total)))
                .collect()
        }
    }
}

fn add_version(list: &mut Vec<VersionShare>, service: &Service, version: &Version, share: f64) {
    let total: u32 = version.endpoints.iter().map(Endpoint::count).sum();
    let endpoints = version.endpoints.iter().map(|e| EndpointShare {
        endpoint: e.name().to_string(),
        vm: matches!(e, Endpoint::Vm { .. } | Endpoint::VmGroup { .. }),
        share: share * f64::from(e.count()) / f64::from(total.max(1)),
    });
    match list
        .iter_mut()
        .find(|x| x.service == service.name && x.version == version.name)
    {
        Some(found) => {
            found.share += share;
            for (have, add) in found.endpoints.iter_mut().zip(endpoints) {
                have.share += add.share;
            }
        }
        None => list.push(VersionShare {
            service: service.name.clone(),
            version: version.name.clone(),
            share,
            endpoints: endpoints.collect(),
            notes: version.notes.clone(),
        }),
    }
}

fn add_answer(list: &mut Vec<(String, f64)>, what: String, share: f64) {
    match list.iter_mut().find(|(w, _)| *w == what) {
        Some((_, s)) => *s += share,
        None => list.push((what, share)),
    }
}

fn decision(routes: &[Route], index: Option<usize>, caller: Option<String>, share: f64) -> Decision {
    let route = index.and_then(|i| routes.get(i));
    Decision {
        caller,
        route: index,
        matched: match route {
            None => "no route matches".to_string(),
            Some(r) if r.synthesised => "default route (added by meshc)".to_string(),
            Some(r) => match &r.rewrite {
                Some(to) => format!("{}, path rewritten to {to:?}", describe_route(r)),
                None => describe_route(r),
            },
        },
        span: route.and_then(|r| r.span),
        share,
    }
}

fn merge_decision(list: &mut Vec<Decision>, d: Decision) {
    match list
        .iter_mut()
        .find(|x| x.caller == d.caller && x.route == d.route && x.matched == d.matched)
    {
        Some(found) => found.share += d.share,
        None => list.push(d),
    }
}

/// A route's alternatives in words, with their destination subnets.
fn describe_route(route: &Route) -> String {
    if route.alternatives.is_empty() {
        return "every request".to_string();
    }
    route
        .alternatives
        .iter()
        .enumerate()
        .map(|(i, c)| match route.destination_subnets.get(i).map(Vec::as_slice) {
            Some([never]) if never == NOT_EVALUATED => "a match meshc does not evaluate".to_string(),
            Some(subnets) if !subnets.is_empty() => {
                let words = describe_conditions(c);
                let subnets = format!("to {}", subnets.join(", "));
                if words == "every request" {
                    subnets
                } else {
                    format!("{words} {subnets}")
                }
            }
            _ => describe_conditions(c),
        })
        .collect::<Vec<_>>()
        .join(" or ")
}

/// The destination subnets of an alternative that never holds: one whose conditions the
/// table's reader could not evaluate (no address is in it).
pub const NOT_EVALUATED: &str = "(not evaluated)";

/// `prefix "/a" or header x "1"`, or `every request`.
pub fn describe_alternatives(alternatives: &[Conditions]) -> String {
    if alternatives.is_empty() {
        return "every request".to_string();
    }
    alternatives
        .iter()
        .map(describe_conditions)
        .collect::<Vec<_>>()
        .join(" or ")
}

fn hop_for(trace: &mut Trace, table: &Table, host: &str) -> usize {
    let (place, namespace) = match table.service_by_host(host) {
        Some(s) => (table.services[s].name.clone(), table.services[s].namespace.clone()),
        None => (host.to_string(), String::new()),
    };
    if let Some(i) = trace
        .hops
        .iter()
        .position(|h| h.place == place && h.namespace == namespace)
    {
        return i;
    }
    trace.hops.push(Hop {
        place,
        namespace,
        ..Hop::default()
    });
    trace.hops.len() - 1
}
