//! The Istio target: the workloads of every mode (Namespace, ServiceAccounts, Services,
//! Deployments, WorkloadEntries), ServiceEntries, DestinationRules, Sidecars, and in the
//! default mode the Istio Gateways and VirtualServices.

pub(super) mod objects;
mod virtual_service;
mod workload;

use objects::*;
use virtual_service::{gateway_virtual_service, least_gateway_json_size, least_json_size, mesh_virtual_service};

use super::{host_routes_name, labels, Emitter, ObjectKind, Owner};
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::model::{self, RouteKind, Workload};
use crate::options::RouteApi;
use crate::route_index::Earlier;
use crate::source::Span;

/// The kinds this target writes.
pub(super) const KINDS: &[ObjectKind] = &[
    ObjectKind::Namespace,
    ObjectKind::ServiceAccount,
    ObjectKind::Service,
    ObjectKind::Deployment,
    ObjectKind::WorkloadEntry,
    ObjectKind::ServiceEntry,
    ObjectKind::DestinationRule,
    ObjectKind::IstioGateway,
    ObjectKind::VirtualService,
    ObjectKind::Sidecar,
];

/// The kinds a service's walk writes.
const SERVICE_KINDS: &[ObjectKind] = &[
    ObjectKind::Service,
    ObjectKind::Deployment,
    ObjectKind::WorkloadEntry,
    ObjectKind::DestinationRule,
    ObjectKind::VirtualService,
    ObjectKind::Sidecar,
];

/// The most the API server stores of one object: etcd's default request limit
/// (`--max-request-bytes`, 1.5 MiB). A larger object is refused ("etcdserver: request is
/// too large"), whatever its schema says.
const STORED_LIMIT: usize = 1536 * 1024;

/// The Istio target's refusals, found from the model before anything is built: a
/// VirtualService larger than the API server stores (M3026). A service's routes are written
/// once per port, so a service with many ports and a route with many destinations makes an
/// object that grows as their product (a thousand of each: over 100 MB); a gateway's routes
/// to a service carry the service's routes over, each copy with its destinations.
pub(super) fn check(mesh: &model::Mesh, diagnostics: &mut Vec<Diagnostic>) {
    for ns in &mesh.namespaces {
        for gateway in &ns.gateways {
            let shared = shared_routes(gateway);
            if !shared.is_empty() && !gateway.shared_hosts().is_empty() {
                too_large_at_gateway(&gateway.virtual_service, gateway, &shared, diagnostics);
            }
            // Each host's routes are worked out only when all the routes that could be
            // among them are too large together (that takes comparing routes with routes).
            let mut shared_http = None;
            for (host, own) in &gateway.host_routes {
                let most: Vec<&model::Route> = own
                    .iter()
                    .chain(gateway.routes.iter().filter(|r| r.kind == RouteKind::Http))
                    .chain(sni_routes(gateway, host))
                    .collect();
                if least_gateway_json_size(&most).0 <= STORED_LIMIT {
                    continue;
                }
                let shared = shared_http.get_or_insert_with(|| SharedHttp::of(gateway));
                let routes = host_routes(gateway, host, own, shared);
                too_large_at_gateway(&host_routes_name(gateway, host), gateway, &routes, diagnostics);
            }
        }
        for service in &ns.services {
            too_large(
                &service.virtual_service,
                service.span,
                &service.fqdn,
                &service.ports,
                &service.routes,
                diagnostics,
            );
        }
        for external in &ns.externals {
            if let Some(host) = external.hosts.first() {
                too_large(
                    &external.virtual_service,
                    external.span,
                    host,
                    &external.ports,
                    &external.routes,
                    diagnostics,
                );
            }
        }
    }
}

fn too_large_at_gateway(
    name: &str,
    gateway: &model::Gateway,
    routes: &[&model::Route],
    diagnostics: &mut Vec<Diagnostic>,
) {
    let (size, destinations) = least_gateway_json_size(routes);
    if size <= STORED_LIMIT {
        return;
    }
    diagnostics.push(
        Diagnostic::error(Code::ObjectTooLarge, gateway.span, too_large_message(name, size))
            .label(format!(
                "its VirtualService `{name}` has {} routes and {destinations} destinations",
                routes.len()
            ))
            .help(
                "spread the hosts, listeners or routes over several gateways; a route to a service with no \
                 condition but `host` or `port` also carries the service's routes over, each copy with its \
                 destinations: send it to a version (`-> SERVICE/VERSION`) to carry nothing over",
            ),
    );
}

fn too_large_message(name: &str, size: usize) -> String {
    format!(
        "the VirtualService `{name}` would take at least {:.2} MiB, more than the 1.5 MiB the API server stores",
        size as f64 / (1024.0 * 1024.0)
    )
}

fn too_large(
    name: &str,
    declared: Span,
    host: &str,
    ports: &[model::Port],
    routes: &[model::Route],
    diagnostics: &mut Vec<Diagnostic>,
) {
    let least = least_json_size(host, ports, routes);
    let Some(largest) = least.largest.filter(|_| least.bytes > STORED_LIMIT) else {
        return;
    };
    let plural = |n: usize, one: &str| {
        if n == 1 {
            format!("1 {one}")
        } else {
            format!("{n} {one}s")
        }
    };
    let message = too_large_message(name, least.bytes);
    let diagnostic = if largest.size.saturating_mul(2) >= least.bytes {
        // One route makes most of it: it is what to change.
        let label = if largest.copies > 1 {
            format!(
                "written once for each of {} ports, each time with {}",
                largest.copies,
                plural(largest.destinations, "destination")
            )
        } else {
            format!("written with {}", plural(largest.destinations, "destination"))
        };
        let help = if largest.copies > 1 {
            "give the route a `port` condition for the ports it serves, or move ports it does not serve to a service of their own"
        } else {
            "send the route to fewer destinations"
        };
        Diagnostic::error(Code::ObjectTooLarge, largest.route.span, message)
            .label(label)
            .help(help)
    } else {
        // Many routes together: the service is what to change.
        let per_port = if least.routes > routes.len() {
            " (routes written once per port they can match on)"
        } else {
            ""
        };
        Diagnostic::error(Code::ObjectTooLarge, declared, message)
            .label(format!(
                "its VirtualService `{name}` has {} routes and {} destinations{per_port}",
                least.routes, least.destinations
            ))
            .help(
                "routes that send to the same destinations can be one route with `or` between their conditions; \
                 or spread the routes over services of their own",
            )
    };
    diagnostics.push(diagnostic);
}

/// The host of the gateway's own routes (`route host`) that a TLS route's SNI names: the
/// route belongs with that host's VirtualService.
fn tls_host<'m>(gateway: &'m model::Gateway, route: &model::Route) -> Option<&'m str> {
    route.alternatives.iter().flat_map(|a| &a.sni).find_map(|h| {
        gateway
            .host_routes
            .iter()
            .map(|(own, _)| own.as_str())
            .find(|own| *own == h.as_str())
    })
}

/// The routes of the gateway's VirtualService for the hosts without routes of their own:
/// its routes for every host, but the TLS routes that belong with a host's.
fn shared_routes(gateway: &model::Gateway) -> Vec<&model::Route> {
    gateway
        .routes
        .iter()
        .filter(|r| tls_host(gateway, r).is_none())
        .collect()
}

/// What each host's VirtualService at a gateway needs of the gateway's HTTP routes for every
/// host, worked out once per gateway rather than once per host: the routes, and for each of
/// their alternatives the earlier ones that take all it matches.
struct SharedHttp<'m> {
    routes: Vec<&'m model::Route>,
    /// For each route, for each alternative (one that matches everything, when it has none),
    /// the earlier routes that take all its requests.
    covers: Vec<Vec<Vec<usize>>>,
}

impl<'m> SharedHttp<'m> {
    fn of(gateway: &'m model::Gateway) -> Self {
        let routes: Vec<&model::Route> = gateway.routes.iter().filter(|r| r.kind == RouteKind::Http).collect();
        let everything = [model::Conditions::default()];
        // The earlier routes, indexed: each alternative looks up those that may take it.
        let mut earlier = Earlier::default();
        let mut covers = Vec::with_capacity(routes.len());
        for route in &routes {
            let covered: Vec<Vec<usize>> = alternatives_of(route, &everything)
                .iter()
                .map(|a| {
                    let mut by = earlier.candidates(a);
                    by.retain(|&j| takes(routes[j], a));
                    by
                })
                .collect();
            covers.push(covered);
            earlier.push(&route.alternatives);
        }
        SharedHttp { routes, covers }
    }
}

/// A route's alternatives; `everything` for a route without any, which matches every request.
fn alternatives_of<'a>(route: &'a model::Route, everything: &'a [model::Conditions]) -> &'a [model::Conditions] {
    if route.alternatives.is_empty() {
        everything
    } else {
        &route.alternatives
    }
}

/// Whether `earlier` takes every request the alternative `a` matches.
fn takes(earlier: &model::Route, a: &model::Conditions) -> bool {
    earlier.alternatives.is_empty() || earlier.alternatives.iter().any(|b| a.covered_by(b))
}

/// The routes of the VirtualService of a host with routes of its own (`own`): those, then
/// the gateway's HTTP routes for every host except those the routes before them already
/// take, then the TLS routes for its SNI. (A route is taken when each of its alternatives is
/// taken by one of the host's own routes of its kind, or by an earlier route kept.)
fn host_routes<'m>(
    gateway: &'m model::Gateway,
    host: &str,
    own: &'m [model::Route],
    shared: &SharedHttp<'m>,
) -> Vec<&'m model::Route> {
    let everything = [model::Conditions::default()];
    let mut routes: Vec<&model::Route> = own.iter().collect();
    let mut kept = vec![false; shared.routes.len()];
    for (k, route) in shared.routes.iter().enumerate() {
        let taken = alternatives_of(route, &everything)
            .iter()
            .zip(&shared.covers[k])
            .all(|(a, earlier)| {
                own.iter().filter(|o| o.kind == route.kind).any(|o| takes(o, a)) || earlier.iter().any(|&j| kept[j])
            });
        if !taken {
            kept[k] = true;
            routes.push(route);
        }
    }
    routes.extend(sni_routes(gateway, host));
    routes
}

/// The gateway's TLS routes that belong with `host`'s VirtualService (see [`tls_host`]).
fn sni_routes<'m>(gateway: &'m model::Gateway, host: &str) -> Vec<&'m model::Route> {
    gateway
        .routes
        .iter()
        .filter(|r| tls_host(gateway, r) == Some(host))
        .collect()
}

impl<'m> Emitter<'_, 'm> {
    /// Every object of one namespace that the Istio target writes.
    pub(super) fn istio(&mut self, ns: &'m model::Namespace) {
        let name = ns.name.as_str();
        if self.object(ObjectKind::Namespace, None, name, Owner::Namespace) {
            let metadata = Metadata {
                name: name.to_string(),
                labels: labels(&[("istio-injection", "enabled")]),
                ..Metadata::default()
            };
            self.write::<NoSpec>(metadata, None);
        }
        let accounts = self.decides(ObjectKind::ServiceAccount);
        for account in ns.accounts.iter().filter(|_| accounts) {
            if self.object(ObjectKind::ServiceAccount, Some(name), account, Owner::Namespace) {
                let metadata = self.meta(account, name, Map::new());
                self.write::<NoSpec>(metadata, None);
            }
        }
        if self.decides_any(SERVICE_KINDS) {
            for service in &ns.services {
                self.service(name, service);
            }
        }
        if self.decides_any(&[
            ObjectKind::ServiceEntry,
            ObjectKind::DestinationRule,
            ObjectKind::VirtualService,
        ]) {
            for external in &ns.externals {
                self.external(name, external);
            }
        }
        if self.options.routes == RouteApi::Istio
            && self.decides_any(&[ObjectKind::IstioGateway, ObjectKind::VirtualService])
        {
            for gateway in &ns.gateways {
                self.gateway(name, gateway);
            }
        }
    }

    fn service(&mut self, ns: &str, service: &'m model::Service) {
        let owner = Owner::Service(&service.name, service.span);
        let (app_key, app) = (&service.selector.0, &service.selector.1);
        if self.object(ObjectKind::Service, Some(ns), &service.host, owner) {
            let selector = labels(&[(app_key, app)]);
            let spec = ServiceSpec {
                selector: selector.clone(),
                ports: service_ports(service),
            };
            let metadata = self.meta(&service.host, ns, selector);
            self.write(metadata, Some(spec));
        }

        let target_ports = || {
            let mut ports: Vec<(u16, &'static str)> = service
                .ports
                .iter()
                .map(|p| (p.target, p.protocol.transport()))
                .collect();
            ports.sort();
            ports.dedup();
            ports
        };
        let workloads = self.decides_any(&[ObjectKind::Deployment, ObjectKind::WorkloadEntry]);
        for version in service.versions.iter().filter(|_| workloads) {
            let owner = Owner::Version(&version.name, &service.name, version.span);
            match &version.workload {
                Workload::Pod(pod) => {
                    if !self.object(ObjectKind::Deployment, Some(ns), &pod.deployment, owner) {
                        continue;
                    }
                    let match_labels = labels(&[(app_key, app), (&service.version_key, &version.name)]);
                    let spec = DeploymentSpec {
                        replicas: pod.replicas,
                        selector: LabelSelector {
                            match_labels: match_labels.clone(),
                        },
                        template: PodTemplate {
                            metadata: TemplateMetadata {
                                labels: version.labels.clone(),
                                annotations: version.annotations.clone(),
                            },
                            spec: workload::pod_spec(service, version, pod, &target_ports()),
                        },
                    };
                    let metadata = self.meta(&pod.deployment, ns, version.labels.clone());
                    self.write(metadata, Some(spec));
                }
                Workload::Vm(vm) => {
                    for entry in &vm.entries {
                        if !self.object(ObjectKind::WorkloadEntry, Some(ns), &entry.name, owner) {
                            continue;
                        }
                        let mut labels = version.labels.clone();
                        if version.agent {
                            // Clients send mutual TLS only to endpoints with this label
                            // (auto mTLS); the sidecar injector sets it on pods.
                            labels.insert("security.istio.io/tlsMode".to_string(), "istio".to_string());
                        }
                        let spec = WorkloadEntrySpec {
                            address: entry.address.clone(),
                            labels,
                            ports: service.ports.iter().map(|p| (p.name.clone(), p.target)).collect(),
                            network: vm.network.clone(),
                            locality: vm.locality.clone(),
                            weight: vm.weight,
                            service_account: version.account.clone(),
                        };
                        // Labels go in the spec only: Istio merges metadata labels over
                        // spec labels, so one place avoids any disagreement.
                        let mut metadata = self.meta(&entry.name, ns, Map::new());
                        metadata.annotations = version.annotations.clone();
                        self.write(metadata, Some(spec));
                    }
                }
            }
        }

        if self.object(ObjectKind::DestinationRule, Some(ns), &service.destination_rule, owner) {
            self.destination_rule(ns, service);
        }
        if !service.routes.is_empty()
            && self.options.routes == RouteApi::Istio
            && self.object(ObjectKind::VirtualService, Some(ns), &service.virtual_service, owner)
        {
            let spec = mesh_virtual_service(&service.fqdn, &service.ports, &service.routes);
            let metadata = self.meta(&service.virtual_service, ns, Map::new());
            self.write(metadata, Some(spec));
        }
        if self.options.sidecars && self.options.routes == RouteApi::Istio {
            self.sidecar(ns, service, &[]);
        }
    }

    /// A service's DestinationRule: its host, traffic policy and a subset per version.
    fn destination_rule(&mut self, ns: &str, service: &model::Service) {
        let spec = DestinationRuleSpec {
            host: service.fqdn.clone(),
            traffic_policy: traffic_policy(&service.policy),
            subsets: service
                .versions
                .iter()
                .map(|v| Subset {
                    name: v.name.clone(),
                    labels: labels(&[(&service.version_key, &v.name)]),
                    traffic_policy: traffic_policy(&v.policy),
                })
                .collect(),
        };
        let metadata = self.meta(&service.destination_rule, ns, Map::new());
        self.write(metadata, Some(spec));
    }

    /// The Sidecar of a service, with `--sidecars`: its proxy's outbound configuration
    /// limited to the control plane's namespace and the services it `calls`, and of those
    /// the `extra` hosts (service address, further host) that a target sends to as well.
    pub(in crate::emit) fn sidecar(&mut self, ns: &str, service: &'m model::Service, extra: &[(&str, String)]) {
        let owner = Owner::Service(&service.name, service.span);
        if !self.object(ObjectKind::Sidecar, Some(ns), &service.host, owner) {
            return;
        }
        let mut hosts = vec!["istio-system/*".to_string()];
        for (n, h) in &service.calls {
            hosts.push(format!("{n}/{h}"));
            for (_, host) in extra.iter().filter(|(called, _)| called == h) {
                hosts.push(format!("{n}/{host}"));
            }
        }
        let spec = SidecarSpec {
            workload_selector: WorkloadSelector {
                labels: labels(&[(&service.selector.0, &service.selector.1)]),
            },
            egress: vec![EgressListener { hosts }],
        };
        let metadata = self.meta(&service.host, ns, Map::new());
        self.write(metadata, Some(spec));
    }

    fn external(&mut self, ns: &str, external: &'m model::External) {
        let owner = Owner::Service(&external.name, external.span);
        if self.object(ObjectKind::ServiceEntry, Some(ns), &external.name, owner) {
            self.service_entry(ns, external);
        }
        let Some(host) = external.hosts.first() else { return };
        if !external.policy.is_empty()
            && self.object(ObjectKind::DestinationRule, Some(ns), &external.destination_rule, owner)
        {
            let spec = DestinationRuleSpec {
                host: host.clone(),
                traffic_policy: traffic_policy(&external.policy),
                subsets: Vec::new(),
            };
            let metadata = self.meta(&external.destination_rule, ns, Map::new());
            self.write(metadata, Some(spec));
        }
        if !external.routes.is_empty()
            && self.options.routes == RouteApi::Istio
            && self.object(ObjectKind::VirtualService, Some(ns), &external.virtual_service, owner)
        {
            let spec = mesh_virtual_service(host, &external.ports, &external.routes);
            let metadata = self.meta(&external.virtual_service, ns, Map::new());
            self.write(metadata, Some(spec));
        }
    }

    fn service_entry(&mut self, ns: &str, external: &model::External) {
        let spec = ServiceEntrySpec {
            hosts: external.hosts.clone(),
            addresses: external.addresses.clone(),
            ports: external
                .ports
                .iter()
                .map(|p| ServiceEntryPort {
                    number: p.number,
                    protocol: p.protocol.istio_name(),
                    name: p.name.clone(),
                })
                .collect(),
            location: external.location,
            resolution: external.resolution,
        };
        let metadata = self.meta(&external.name, ns, Map::new());
        self.write(metadata, Some(spec));
    }

    fn gateway(&mut self, ns: &str, gateway: &'m model::Gateway) {
        let owner = Owner::Gateway(&gateway.name, gateway.span);
        if self.object(ObjectKind::IstioGateway, Some(ns), &gateway.name, owner) {
            self.istio_gateway(ns, gateway);
        }
        if !self.decides(ObjectKind::VirtualService) {
            return;
        }
        // Hosts with routes of their own get a VirtualService each: their own routes first,
        // then the gateway's routes for every host.
        let shared = shared_routes(gateway);
        let shared_hosts = gateway.shared_hosts();
        if !shared.is_empty()
            && !shared_hosts.is_empty()
            && self.object(ObjectKind::VirtualService, Some(ns), &gateway.virtual_service, owner)
        {
            let spec = gateway_virtual_service(shared_hosts, &gateway.name, shared.into_iter());
            let metadata = self.meta(&gateway.virtual_service, ns, Map::new());
            self.write(metadata, Some(spec));
        }
        let mut shared_http = None;
        for (host, routes) in &gateway.host_routes {
            let name = host_routes_name(gateway, host);
            if !self.object(ObjectKind::VirtualService, Some(ns), &name, owner) {
                continue;
            }
            let shared = shared_http.get_or_insert_with(|| SharedHttp::of(gateway));
            let routes = host_routes(gateway, host, routes, shared);
            let spec = gateway_virtual_service(vec![host.clone()], &gateway.name, routes.into_iter());
            let metadata = self.meta(&name, ns, Map::new());
            self.write(metadata, Some(spec));
        }
    }

    /// The Istio Gateway: a server per port, with its hosts and TLS.
    fn istio_gateway(&mut self, ns: &str, gateway: &model::Gateway) {
        let spec = GatewaySpec {
            selector: gateway.selector.clone(),
            servers: gateway
                .servers
                .iter()
                .map(|s| GatewayServer {
                    port: GatewayPort {
                        number: s.number,
                        name: s.name.clone(),
                        protocol: s.protocol.istio_name(),
                    },
                    hosts: s.hosts.clone(),
                    tls: match (&s.tls, s.https_redirect) {
                        (Some(tls), _) => Some(ServerTls {
                            mode: Some(tls.mode),
                            credential_name: tls.credential.clone(),
                            ..ServerTls::default()
                        }),
                        (None, true) => Some(ServerTls {
                            https_redirect: Some(true),
                            ..ServerTls::default()
                        }),
                        (None, false) => None,
                    },
                })
                .collect(),
        };
        let metadata = self.meta(&gateway.name, ns, Map::new());
        self.write(metadata, Some(spec));
    }
}

pub(in crate::emit) fn traffic_policy(p: &model::Policy) -> Option<TrafficPolicy> {
    if p.is_empty() {
        return None;
    }
    let load_balancer = p.lb.as_ref().map(|lb| match lb {
        model::LoadBalancer::Simple(mode) => LoadBalancer {
            simple: Some(mode),
            ..LoadBalancer::default()
        },
        hash => LoadBalancer {
            consistent_hash: Some(match hash {
                model::LoadBalancer::HashHeader(h) => ConsistentHash {
                    http_header_name: Some(h.clone()),
                    ..ConsistentHash::default()
                },
                model::LoadBalancer::HashCookie { name, ttl } => ConsistentHash {
                    http_cookie: Some(HttpCookie {
                        name: name.clone(),
                        ttl: ttl.clone(),
                    }),
                    ..ConsistentHash::default()
                },
                model::LoadBalancer::HashQuery(q) => ConsistentHash {
                    http_query_parameter_name: Some(q.clone()),
                    ..ConsistentHash::default()
                },
                _ => ConsistentHash {
                    use_source_ip: Some(true),
                    ..ConsistentHash::default()
                },
            }),
            ..LoadBalancer::default()
        },
    });
    let connection_pool = (p.tcp.is_some() || p.http.is_some()).then(|| ConnectionPool {
        tcp: p.tcp.as_ref().map(|t| TcpSettings {
            max_connections: t.max_connections,
            connect_timeout: t.connect_timeout.clone(),
        }),
        http: p.http.as_ref().map(|h| HttpSettings {
            http1_max_pending_requests: h.max_pending,
            http2_max_requests: h.max_requests,
            max_requests_per_connection: h.per_connection,
            max_retries: h.max_retries,
            idle_timeout: h.idle_timeout.clone(),
        }),
    });
    Some(TrafficPolicy {
        load_balancer,
        connection_pool,
        outlier_detection: p.outlier.as_ref().map(|o| OutlierDetection {
            consecutive_5xx_errors: o.consecutive_errors,
            consecutive_gateway_errors: o.gateway_errors,
            interval: o.interval.clone(),
            base_ejection_time: o.base_ejection.clone(),
            max_ejection_percent: o.max_ejection,
            min_health_percent: o.min_health,
        }),
        tls: p.tls.as_ref().map(|t| ClientTls {
            mode: t.mode,
            credential_name: t.credential.clone(),
            sni: t.sni.clone(),
        }),
    })
}

/// A Service's ports, named after their protocol.
pub(in crate::emit) fn service_ports(service: &model::Service) -> Vec<ServicePort> {
    service
        .ports
        .iter()
        .map(|p| ServicePort {
            name: p.name.clone(),
            port: p.number,
            target_port: p.target,
            protocol: p.protocol.transport(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::Options;
    use crate::source::{Source, Span};

    /// The routes of a host's VirtualService as `Route::taken_by` says, route by route: what
    /// [`host_routes`] must give.
    fn host_routes_one_by_one<'m>(
        gateway: &'m model::Gateway,
        host: &str,
        own: &'m [model::Route],
    ) -> Vec<&'m model::Route> {
        let mut before: Vec<model::Route> = own.to_vec();
        let mut routes: Vec<&model::Route> = own.iter().collect();
        for r in gateway.routes.iter().filter(|r| r.kind == RouteKind::Http) {
            if !r.taken_by(&before) {
                before.push(r.clone());
                routes.push(r);
            }
        }
        routes.extend(gateway.routes.iter().filter(|r| tls_host(gateway, r) == Some(host)));
        routes
    }

    #[test]
    fn each_hosts_routes_are_those_that_comparing_route_by_route_gives() {
        const CONDITIONS: &[&str] = &[
            "",
            "prefix \"/\"",
            "prefix \"/a\"",
            "prefix \"/a/b\"",
            "exact \"/a\"",
            "header x \"1\"",
            "method GET",
            "prefix \"/a\" header x \"1\"",
            "exact \"/b\" or prefix \"/a\"",
        ];
        let mut state: u64 = 7;
        let mut next = |n: usize| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as usize % n
        };
        let (mut meshes, mut hosts_with_shared, mut hosts_dropping) = (0, 0, 0);
        for _ in 0..2000 {
            let mut text = String::from(
                "namespace a {\n  service s { port http 80  pod v1 image \"x\"  pod v2 image \"x\" }\n  gateway g {\n    listen http 80 hosts \"*.example.com\"\n",
            );
            for h in 0..1 + next(3) {
                for _ in 0..1 + next(3) {
                    let c = CONDITIONS[1 + next(CONDITIONS.len() - 1)];
                    text += &format!("    route host \"h{h}.example.com\" {c} -> s/v{}\n", 1 + next(2));
                }
            }
            for _ in 0..next(6) {
                let c = CONDITIONS[next(CONDITIONS.len())];
                text += &format!("    route {c} -> s/v{}\n", 1 + next(2));
            }
            text += "  }\n}\n";
            let (mesh, diagnostics) =
                crate::check_sources(&[Source::new("t.mesh", text.as_str())], &Options::default());
            let Some(mesh) = mesh.filter(|_| !diagnostics.iter().any(|d| d.is_error())) else {
                continue;
            };
            meshes += 1;
            let gateway = &mesh.namespaces[0].gateways[0];
            let shared = SharedHttp::of(gateway);
            for (host, own) in &gateway.host_routes {
                let fast: Vec<Span> = host_routes(gateway, host, own, &shared)
                    .iter()
                    .map(|r| r.span)
                    .collect();
                let slow: Vec<Span> = host_routes_one_by_one(gateway, host, own)
                    .iter()
                    .map(|r| r.span)
                    .collect();
                assert_eq!(fast, slow, "{host} in\n{text}");
                hosts_with_shared += usize::from(slow.len() > own.len());
                hosts_dropping += usize::from(slow.len() < own.len() + shared.routes.len());
            }
        }
        // Both outcomes are common: shared routes kept, and shared routes a host's own take.
        assert!(
            meshes > 300 && hosts_with_shared > 300 && hosts_dropping > 100,
            "{meshes} meshes, {hosts_with_shared} hosts with shared routes, {hosts_dropping} dropping some"
        );
    }
}
