//! Model → manifests: typed Kubernetes and Istio objects, then YAML text.
//!
//! Canonical order: namespaces by name; within one, the Namespace, then ServiceAccounts,
//! Services, Deployments, WorkloadEntries, ServiceEntries, DestinationRules, Gateways,
//! VirtualServices (with `--routes gateway-api`: Gateway API Gateways, HTTPRoutes,
//! GRPCRoutes and ReferenceGrants instead of the two) and Sidecars, each kind sorted by
//! name. Routes keep the order of the `.mesh` file.

mod gateway_api;
mod objects;
mod tree;
pub mod yaml;

use objects::*;

use crate::model::{self, Action, Conditions, HeaderMatch, RouteKind, Workload};
use crate::{ApiVersion, Document, Options, RouteApi};

/// The kinds meshc writes, in canonical document order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Namespace,
    ServiceAccount,
    Service,
    Deployment,
    WorkloadEntry,
    ServiceEntry,
    DestinationRule,
    Gateway,
    VirtualService,
    /// `--routes gateway-api` (not in `ALL`, which lists the Istio mode's kinds).
    KubeGateway,
    HttpRoute,
    GrpcRoute,
    ReferenceGrant,
    Sidecar,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Namespace => "Namespace",
            Kind::ServiceAccount => "ServiceAccount",
            Kind::Service => "Service",
            Kind::Deployment => "Deployment",
            Kind::WorkloadEntry => "WorkloadEntry",
            Kind::ServiceEntry => "ServiceEntry",
            Kind::DestinationRule => "DestinationRule",
            Kind::Gateway => "Gateway",
            Kind::VirtualService => "VirtualService",
            Kind::KubeGateway => "Gateway",
            Kind::HttpRoute => "HTTPRoute",
            Kind::GrpcRoute => "GRPCRoute",
            Kind::ReferenceGrant => "ReferenceGrant",
            Kind::Sidecar => "Sidecar",
        }
    }

    fn api_version(self, api: ApiVersion) -> &'static str {
        match self {
            Kind::Namespace | Kind::ServiceAccount | Kind::Service => "v1",
            Kind::Deployment => "apps/v1",
            Kind::KubeGateway | Kind::HttpRoute | Kind::GrpcRoute => "gateway.networking.k8s.io/v1",
            Kind::ReferenceGrant => "gateway.networking.k8s.io/v1beta1",
            _ => api.networking(),
        }
    }
}

struct Emitter<'a> {
    options: &'a Options,
    documents: Vec<(Kind, String, Document)>,
    error: Option<String>,
}

/// Writes every object of the mesh, in canonical order.
pub fn emit(mesh: &model::Mesh, options: &Options) -> Result<Vec<Document>, String> {
    let mut emitter = Emitter {
        options,
        documents: Vec::new(),
        error: None,
    };
    let mut out = Vec::new();
    for ns in &mesh.namespaces {
        emitter.namespace(ns);
        if options.routes == RouteApi::GatewayApi {
            emitter.gateway_api(mesh, ns);
        }
        let mut docs = std::mem::take(&mut emitter.documents);
        docs.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        out.extend(docs.into_iter().map(|(_, _, d)| d));
    }
    match emitter.error {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

fn labels(pairs: &[(&str, &str)]) -> Map {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

impl Emitter<'_> {
    fn push<S: serde::Serialize>(&mut self, kind: Kind, namespace: Option<&str>, metadata: Metadata, spec: Option<S>) {
        let name = metadata.name.clone();
        let object = Object {
            api_version: kind.api_version(self.options.api),
            kind: kind.name(),
            metadata,
            spec,
        };
        match yaml::document(&object) {
            Ok(text) => self.documents.push((
                kind,
                name.clone(),
                Document {
                    api_version: object.api_version.to_string(),
                    kind: kind.name().to_string(),
                    namespace: namespace.map(str::to_string),
                    name,
                    yaml: text,
                },
            )),
            Err(e) => {
                self.error.get_or_insert(e);
            }
        }
    }

    fn meta(&self, name: &str, ns: &str, labels: Map) -> Metadata {
        Metadata {
            name: name.to_string(),
            namespace: Some(ns.to_string()),
            labels,
            annotations: Map::new(),
        }
    }

    fn namespace(&mut self, ns: &model::Namespace) {
        let name = ns.name.as_str();
        let metadata = Metadata {
            name: name.to_string(),
            labels: labels(&[("istio-injection", "enabled")]),
            ..Metadata::default()
        };
        self.push::<NoSpec>(Kind::Namespace, None, metadata, None);
        for account in &ns.accounts {
            let metadata = self.meta(account, name, Map::new());
            self.push::<NoSpec>(Kind::ServiceAccount, Some(name), metadata, None);
        }
        for service in &ns.services {
            self.service(name, service);
        }
        for external in &ns.externals {
            self.external(name, external);
        }
        for gateway in ns.gateways.iter().filter(|_| self.options.routes == RouteApi::Istio) {
            self.gateway(name, gateway);
        }
    }

    fn service(&mut self, ns: &str, service: &model::Service) {
        let (app_key, app) = (&service.selector.0, &service.selector.1);
        let selector = labels(&[(app_key, app)]);
        let spec = ServiceSpec {
            selector: selector.clone(),
            ports: service_ports(service),
        };
        let metadata = self.meta(&service.host, ns, selector.clone());
        self.push(Kind::Service, Some(ns), metadata, Some(spec));

        let mut target_ports: Vec<(u16, &'static str)> = service
            .ports
            .iter()
            .map(|p| (p.target, p.protocol.transport()))
            .collect();
        target_ports.sort();
        target_ports.dedup();
        for version in &service.versions {
            match &version.workload {
                Workload::Pod(pod) => {
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
                            spec: PodSpec {
                                service_account_name: version.account.clone(),
                                containers: vec![Container {
                                    name: service.name.clone(),
                                    image: pod.image.clone(),
                                    ports: target_ports
                                        .iter()
                                        .map(|&(container_port, protocol)| ContainerPort {
                                            container_port,
                                            protocol,
                                        })
                                        .collect(),
                                    env: pod
                                        .env
                                        .iter()
                                        .map(|(name, value)| EnvVar {
                                            name: name.clone(),
                                            value: value.clone(),
                                        })
                                        .collect(),
                                }],
                            },
                        },
                    };
                    let metadata = self.meta(&pod.deployment, ns, version.labels.clone());
                    self.push(Kind::Deployment, Some(ns), metadata, Some(spec));
                }
                Workload::Vm(entries) => {
                    for entry in entries {
                        let spec = WorkloadEntrySpec {
                            address: entry.address.clone(),
                            labels: version.labels.clone(),
                            ports: service.ports.iter().map(|p| (p.name.clone(), p.target)).collect(),
                            service_account: version.account.clone(),
                        };
                        // Labels go in the spec only: Istio merges metadata labels over
                        // spec labels, so one place avoids any disagreement.
                        let mut metadata = self.meta(&entry.name, ns, Map::new());
                        metadata.annotations = version.annotations.clone();
                        self.push(Kind::WorkloadEntry, Some(ns), metadata, Some(spec));
                    }
                }
            }
        }

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
        self.push(Kind::DestinationRule, Some(ns), metadata, Some(spec));

        if !service.routes.is_empty() && self.options.routes == RouteApi::Istio {
            let spec = mesh_virtual_service(&service.fqdn, &service.ports, &service.routes);
            let metadata = self.meta(&service.virtual_service, ns, Map::new());
            self.push(Kind::VirtualService, Some(ns), metadata, Some(spec));
        }
        if self.options.sidecars && self.options.routes == RouteApi::Istio {
            let mut hosts = vec!["istio-system/*".to_string()];
            hosts.extend(service.calls.iter().map(|(n, h)| format!("{n}/{h}")));
            let spec = SidecarSpec {
                workload_selector: WorkloadSelector { labels: selector },
                egress: vec![EgressListener { hosts }],
            };
            let metadata = self.meta(&service.host, ns, Map::new());
            self.push(Kind::Sidecar, Some(ns), metadata, Some(spec));
        }
    }

    fn external(&mut self, ns: &str, external: &model::External) {
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
        self.push(Kind::ServiceEntry, Some(ns), metadata, Some(spec));
        let Some(host) = external.hosts.first() else { return };
        if !external.policy.is_empty() {
            let spec = DestinationRuleSpec {
                host: host.clone(),
                traffic_policy: traffic_policy(&external.policy),
                subsets: Vec::new(),
            };
            let metadata = self.meta(&external.destination_rule, ns, Map::new());
            self.push(Kind::DestinationRule, Some(ns), metadata, Some(spec));
        }
        if !external.routes.is_empty() && self.options.routes == RouteApi::Istio {
            let spec = mesh_virtual_service(host, &external.ports, &external.routes);
            let metadata = self.meta(&external.virtual_service, ns, Map::new());
            self.push(Kind::VirtualService, Some(ns), metadata, Some(spec));
        }
    }

    fn gateway(&mut self, ns: &str, gateway: &model::Gateway) {
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
        self.push(Kind::Gateway, Some(ns), metadata, Some(spec));

        // Hosts with routes of their own get a VirtualService each: their own routes first,
        // then the gateway's routes for every host.
        let own: Vec<&str> = gateway.host_routes.iter().map(|(h, _)| h.as_str()).collect();
        let shared_hosts = gateway.shared_hosts();
        // A TLS route belongs with the VirtualService that lists its SNI host.
        let tls_host = |r: &model::Route| -> Option<String> {
            r.alternatives
                .iter()
                .flat_map(|a| &a.sni)
                .find(|h| own.contains(&h.as_str()))
                .cloned()
        };
        let shared: Vec<&model::Route> = gateway.routes.iter().filter(|r| tls_host(r).is_none()).collect();
        if !shared.is_empty() && !shared_hosts.is_empty() {
            let spec = gateway_virtual_service(shared_hosts, &gateway.name, shared.into_iter());
            let metadata = self.meta(&gateway.virtual_service, ns, Map::new());
            self.push(Kind::VirtualService, Some(ns), metadata, Some(spec));
        }
        for (host, routes) in &gateway.host_routes {
            // The shared HTTP routes apply to this host too, after its own, except those the
            // routes before them already take.
            let mut before: Vec<model::Route> = routes.clone();
            let mut shared_http: Vec<&model::Route> = Vec::new();
            for r in gateway.routes.iter().filter(|r| r.kind == RouteKind::Http) {
                if !r.taken_by(&before) {
                    before.push(r.clone());
                    shared_http.push(r);
                }
            }
            let tls = gateway
                .routes
                .iter()
                .filter(|r| tls_host(r).as_deref() == Some(host.as_str()));
            let spec = gateway_virtual_service(
                vec![host.clone()],
                &gateway.name,
                routes.iter().chain(shared_http).chain(tls),
            );
            let suffix: String = host
                .chars()
                .map(|c| {
                    if c == '.' {
                        '-'
                    } else if c == '*' {
                        'x'
                    } else {
                        c
                    }
                })
                .collect();
            let name = format!("{}-{}", gateway.virtual_service, suffix.trim_matches('-'));
            let metadata = self.meta(&name, ns, Map::new());
            self.push(Kind::VirtualService, Some(ns), metadata, Some(spec));
        }
    }
}

fn gateway_virtual_service<'r>(
    hosts: Vec<String>,
    gateway: &str,
    routes: impl Iterator<Item = &'r model::Route>,
) -> VirtualServiceSpec {
    let mut spec = VirtualServiceSpec {
        hosts,
        gateways: vec![gateway.to_string()],
        http: Vec::new(),
        tls: Vec::new(),
        tcp: Vec::new(),
    };
    for route in routes {
        add_route(&mut spec, route, None, None);
    }
    spec
}

/// The VirtualService of a service or external host for mesh traffic. When the host has
/// several ports a route can apply to, each route is written once per port, matching that
/// port, so that every destination names its port (istioctl IST0112).
fn mesh_virtual_service(host: &str, ports: &[model::Port], routes: &[model::Route]) -> VirtualServiceSpec {
    let mut spec = VirtualServiceSpec {
        hosts: vec![host.to_string()],
        gateways: Vec::new(),
        http: Vec::new(),
        tls: Vec::new(),
        tcp: Vec::new(),
    };
    for kind in [RouteKind::Http, RouteKind::Tls, RouteKind::Tcp] {
        let fits = |p: &&model::Port| kind.carries(p.protocol);
        let kind_ports: Vec<u16> = ports.iter().filter(fits).map(|p| p.number).collect();
        let routes = routes.iter().filter(|r| r.kind == kind);
        match kind_ports.as_slice() {
            _ if ports.len() <= 1 => routes.for_each(|r| add_route(&mut spec, r, None, None)),
            [one] => routes.for_each(|r| add_route(&mut spec, r, Some((host, *one)), None)),
            many => {
                let routes: Vec<&model::Route> = routes.collect();
                for &port in many {
                    for r in &routes {
                        add_route(&mut spec, r, Some((host, port)), Some(port));
                    }
                }
            }
        }
    }
    spec
}

/// Adds one route to the VirtualService. `own` gives the port for destinations to the
/// route's own host that name none; `match_port` adds a port condition.
fn add_route(spec: &mut VirtualServiceSpec, route: &model::Route, own: Option<(&str, u16)>, match_port: Option<u16>) {
    // Written once per port: keep the alternatives that can match on this port, and leave
    // the route out of this port's list when none can.
    let narrowed;
    let route = match match_port {
        Some(port) if route.alternatives.iter().any(|a| a.port.is_some_and(|p| p != port)) => {
            let mut r = route.clone();
            r.alternatives.retain(|a| a.port.is_none_or(|p| p == port));
            if r.alternatives.is_empty() {
                return;
            }
            narrowed = r;
            &narrowed
        }
        _ => route,
    };
    let destinations = match &route.action {
        Action::Forward(list) => list
            .iter()
            .map(|d| {
                let port = d.port.or_else(|| own.filter(|(h, _)| *h == d.host).map(|(_, p)| p));
                RouteDestination {
                    destination: destination(d, port),
                    weight: if list.len() > 1 { d.weight } else { None },
                    headers: headers(&d.request_headers, &d.response_headers),
                }
            })
            .collect(),
        _ => Vec::new(),
    };
    match route.kind {
        RouteKind::Http => {
            let mut http = http_route(route, destinations, match_port);
            if let (Some((d, _)), Some(mirror)) = (&route.options.mirror, http.mirror.as_mut()) {
                if mirror.port.is_none() {
                    mirror.port = own
                        .filter(|(h, _)| *h == d.host)
                        .map(|(_, number)| PortSelector { number });
                }
            }
            spec.http.push(http);
        }
        RouteKind::Tcp | RouteKind::Tls => {
            let mut matches: Vec<L4Match> = route
                .alternatives
                .iter()
                .map(|c| L4Match {
                    sni_hosts: c.sni.clone(),
                    port: c.port.or(match_port),
                    source_labels: c.source.as_ref().map(|s| s.labels.clone()).unwrap_or_default(),
                    source_namespace: c.source.as_ref().and_then(|s| s.namespace.clone()),
                })
                .collect();
            if matches.is_empty() && match_port.is_some() {
                matches.push(L4Match {
                    port: match_port,
                    ..L4Match::default()
                });
            }
            if route.kind == RouteKind::Tcp {
                spec.tcp.push(TcpRoute {
                    matches,
                    route: destinations,
                });
            } else {
                spec.tls.push(TlsRoute {
                    matches,
                    route: destinations,
                });
            }
        }
    }
}

fn destination(d: &model::Destination, port: Option<u16>) -> Destination {
    Destination {
        host: d.host.clone(),
        subset: d.subset.clone(),
        port: port.map(|number| PortSelector { number }),
    }
}

fn string_match(m: &model::StringMatch) -> StringMatch {
    match m {
        model::StringMatch::Exact(v) => StringMatch {
            exact: Some(v.clone()),
            ..StringMatch::default()
        },
        model::StringMatch::Prefix(v) => StringMatch {
            prefix: Some(v.clone()),
            ..StringMatch::default()
        },
        model::StringMatch::Regex(v) => StringMatch {
            regex: Some(v.clone()),
            ..StringMatch::default()
        },
    }
}

fn http_match(c: &Conditions, match_port: Option<u16>) -> HttpMatch {
    let mut m = HttpMatch {
        uri: c.uri.as_ref().map(string_match),
        method: c
            .method
            .as_ref()
            .map(|v| string_match(&model::StringMatch::Exact(v.clone()))),
        port: c.port.or(match_port),
        source_labels: c.source.as_ref().map(|s| s.labels.clone()).unwrap_or_default(),
        source_namespace: c.source.as_ref().and_then(|s| s.namespace.clone()),
        query_params: c.query.iter().map(|(k, v)| (k.clone(), string_match(v))).collect(),
        ..HttpMatch::default()
    };
    for (name, header) in &c.headers {
        match header {
            HeaderMatch::Is(v) => {
                m.headers.insert(name.clone(), string_match(v));
            }
            HeaderMatch::Absent => {
                m.without_headers.insert(name.clone(), StringMatch::default());
            }
        }
    }
    m
}

fn http_route(route: &model::Route, destinations: Vec<RouteDestination>, match_port: Option<u16>) -> HttpRoute {
    let mut matches: Vec<HttpMatch> = route.alternatives.iter().map(|c| http_match(c, match_port)).collect();
    if matches.is_empty() && match_port.is_some() {
        matches.push(HttpMatch {
            port: match_port,
            ..HttpMatch::default()
        });
    }
    let o = &route.options;
    let fault = (o.delay.is_some() || o.abort.is_some()).then(|| Fault {
        delay: o.delay.as_ref().map(|(d, p)| Delay {
            fixed_delay: d.clone(),
            percentage: Percent { value: *p },
        }),
        abort: o.abort.as_ref().map(|(s, p)| Abort {
            http_status: *s,
            percentage: Percent { value: *p },
        }),
    });
    HttpRoute {
        name: route.name.clone(),
        matches,
        route: destinations,
        redirect: match &route.action {
            Action::Redirect(r) => Some(HttpRedirect {
                uri: r.uri.clone(),
                authority: r.authority.clone(),
                scheme: r.scheme.clone(),
                redirect_code: r.code,
            }),
            _ => None,
        },
        direct_response: match &route.action {
            Action::Respond { status, body } => Some(DirectResponse {
                status: *status,
                body: body.as_ref().map(|b| Body { string: b.clone() }),
            }),
            _ => None,
        },
        rewrite: (o.rewrite_uri.is_some() || o.rewrite_authority.is_some()).then(|| Rewrite {
            uri: o.rewrite_uri.clone(),
            authority: o.rewrite_authority.clone(),
        }),
        timeout: o.timeout.clone(),
        retries: o.retries.as_ref().map(|r| Retries {
            attempts: r.attempts,
            per_try_timeout: r.per_try_timeout.clone(),
            retry_on: r.retry_on.clone(),
        }),
        fault,
        mirror: o.mirror.as_ref().map(|(d, _)| destination(d, d.port)),
        mirror_percentage: o.mirror.as_ref().and_then(|(_, p)| p.map(|value| Percent { value })),
        cors_policy: o.cors.as_ref().map(|c| CorsPolicy {
            allow_origins: c.origins.iter().map(string_match).collect(),
            allow_methods: c.methods.clone(),
            allow_headers: c.headers.clone(),
            expose_headers: c.expose.clone(),
            max_age: c.max_age.clone(),
            allow_credentials: c.credentials.then_some(true),
        }),
        headers: headers(&o.request_headers, &o.response_headers),
    }
}

fn headers(request: &model::HeaderOps, response: &model::HeaderOps) -> Option<Headers> {
    let ops = |h: &model::HeaderOps| {
        (!h.is_empty()).then(|| HeaderOperations {
            set: h.set.clone(),
            add: h.add.clone(),
            remove: h.remove.clone(),
        })
    };
    let (request, response) = (ops(request), ops(response));
    (request.is_some() || response.is_some()).then_some(Headers { request, response })
}

fn traffic_policy(p: &model::Policy) -> Option<TrafficPolicy> {
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
pub(crate) fn service_ports(service: &model::Service) -> Vec<ServicePort> {
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
