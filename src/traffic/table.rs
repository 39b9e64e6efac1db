//! Filling the engine's [`Table`] from the `.mesh` model.

use super::{Action, Destination, Endpoint, Gateway, Listener, Protocol, Route, Service, Table, Version};
use crate::model::{self, Conditions, HeaderMatch, RouteKind, StringMatch, Workload};

impl Table {
    /// The routes as the emitted Istio objects hold them: every service's HTTP routes
    /// (ending with the default route meshc adds) and TCP and TLS routes, every gateway's
    /// (with the routes a gateway route carries over from its service).
    pub fn from_mesh(mesh: &model::Mesh) -> Table {
        let mut table = Table::default();
        for ns in &mesh.namespaces {
            for s in &ns.services {
                let calls = s
                    .calls
                    .iter()
                    .map(|(namespace, host)| {
                        mesh.namespaces
                            .iter()
                            .filter(|n| &n.name == namespace)
                            .flat_map(|n| &n.services)
                            .find(|t| &t.host == host)
                            .map(|t| t.fqdn.clone())
                            .unwrap_or_else(|| host.clone())
                    })
                    .collect();
                table.services.push(Service {
                    namespace: ns.name.clone(),
                    name: s.name.clone(),
                    host: s.fqdn.clone(),
                    http_ports: s.http_ports().map(|p| p.number).collect(),
                    versions: s.versions.iter().map(version).collect(),
                    routes: routes(&s.routes, RouteKind::Http),
                    calls,
                    tcp_ports: ports(&s.ports, RouteKind::Tcp),
                    tls_ports: ports(&s.ports, RouteKind::Tls),
                    tcp_routes: routes(&s.routes, RouteKind::Tcp),
                    tls_routes: routes(&s.routes, RouteKind::Tls),
                });
            }
            for g in &ns.gateways {
                let listeners = g
                    .servers
                    .iter()
                    .filter_map(|s| {
                        let terminated = s
                            .tls
                            .as_ref()
                            .is_some_and(|t| matches!(t.mode, "SIMPLE" | "MUTUAL" | "ISTIO_MUTUAL"));
                        let protocol = match s.protocol {
                            p if p.is_http() => Protocol::Http,
                            // Terminated there: HTTPS carries HTTP, TLS carries TCP.
                            model::Protocol::Https if terminated => Protocol::Http,
                            model::Protocol::Tls if terminated => Protocol::Tcp,
                            model::Protocol::Https | model::Protocol::Tls => Protocol::Tls,
                            p if RouteKind::Tcp.carries(p) => Protocol::Tcp,
                            _ => return None,
                        };
                        Some(Listener {
                            port: s.number,
                            hosts: s.hosts.clone(),
                            https_redirect: s.https_redirect,
                            protocol,
                        })
                    })
                    .collect();
                table.gateways.push(Gateway {
                    namespace: ns.name.clone(),
                    name: g.name.clone(),
                    listeners,
                    host_routes: g
                        .host_routes
                        .iter()
                        .map(|(h, list)| (h.clone(), routes(list, RouteKind::Http)))
                        .collect(),
                    routes: routes(&g.routes, RouteKind::Http),
                    tcp_routes: routes(&g.routes, RouteKind::Tcp),
                    tls_routes: routes(&g.routes, RouteKind::Tls),
                });
            }
        }
        table
    }
}

fn version(v: &model::Version) -> Version {
    Version {
        name: v.name.clone(),
        labels: v.labels.clone(),
        endpoints: match &v.workload {
            Workload::Pod(p) => vec![Endpoint::Pod {
                deployment: p.deployment.clone(),
                replicas: u32::try_from(p.replicas).unwrap_or(0),
            }],
            Workload::Vm(vm) => vm
                .entries
                .iter()
                .map(|e| Endpoint::Vm {
                    address: e.address.clone(),
                })
                .chain(vm.auto_register.then(|| Endpoint::VmGroup {
                    group: vm.group.clone(),
                }))
                .collect(),
        },
        notes: Vec::new(),
    }
}

/// The numbers of the ports that routes of `kind` apply to, ascending.
fn ports(ports: &[model::Port], kind: RouteKind) -> Vec<u16> {
    let mut numbers: Vec<u16> = ports
        .iter()
        .filter(|p| kind.carries(p.protocol))
        .map(|p| p.number)
        .collect();
    numbers.sort_unstable();
    numbers
}

/// The routes of one kind, in order.
fn routes(routes: &[model::Route], kind: RouteKind) -> Vec<Route> {
    routes
        .iter()
        .filter(|r| r.kind == kind)
        .map(|r| Route {
            destination_subnets: Vec::new(),
            rewrite: r.options.rewrite_uri.clone(),
            span: (!r.synthesised).then_some(r.span),
            synthesised: r.synthesised,
            alternatives: r.alternatives.clone(),
            action: match &r.action {
                model::Action::Forward(list) => Action::Forward(
                    list.iter()
                        .map(|d| Destination {
                            host: d.host.clone(),
                            subset: d.subset.clone(),
                            weight: d.weight.unwrap_or(100),
                        })
                        .collect(),
                ),
                model::Action::Redirect(r) => Action::Redirect(r.uri.clone()),
                model::Action::Respond { status, .. } => Action::Respond(*status),
            },
        })
        .collect()
}

fn string_match(m: &StringMatch) -> String {
    match m {
        StringMatch::Exact(v) => format!("exact {v:?}"),
        StringMatch::Prefix(v) => format!("prefix {v:?}"),
        StringMatch::Regex(v) => format!("regex {v:?}"),
    }
}

/// The conditions in `.mesh` words: `prefix "/hello" header end-user "jason"`.
pub fn describe_conditions(c: &Conditions) -> String {
    let mut words = Vec::new();
    if let Some(h) = &c.host {
        words.push(format!("host {h:?}"));
    }
    if let Some(p) = c.port {
        words.push(format!("port {p}"));
    }
    if let Some(m) = &c.method {
        words.push(format!("method {m}"));
    }
    if let Some(u) = &c.uri {
        words.push(string_match(u));
    }
    for (name, m) in &c.headers {
        words.push(match m {
            HeaderMatch::Absent => format!("header {name} absent"),
            HeaderMatch::Is(StringMatch::Exact(v)) => format!("header {name} {v:?}"),
            HeaderMatch::Is(m) => format!("header {name} {}", string_match(m)),
        });
    }
    for (name, m) in &c.query {
        words.push(match m {
            StringMatch::Exact(v) => format!("query {name} {v:?}"),
            m => format!("query {name} {}", string_match(m)),
        });
    }
    if !c.sni.is_empty() {
        let names: Vec<String> = c.sni.iter().map(|n| format!("{n:?}")).collect();
        words.push(format!("sni {}", names.join(", ")));
    }
    if let Some(s) = &c.source {
        let labels: Vec<String> = s.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
        words.push(format!("from {}", labels.join(",")));
    }
    if words.is_empty() {
        "every request".to_string()
    } else {
        words.join(" ")
    }
}
