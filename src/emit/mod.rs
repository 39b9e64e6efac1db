//! Model → manifests: typed Kubernetes and Istio objects, then YAML text.
//!
//! Canonical order: namespaces by name; within one, the Namespace, then ServiceAccounts,
//! Services, Deployments, WorkloadEntries, DestinationRules, Gateways and VirtualServices,
//! each kind sorted by name. Routes keep the order of the `.mesh` file.

mod objects;
pub mod yaml;

use std::collections::BTreeMap;

use objects::*;

use crate::model::{self, Conditions, UriMatch, Workload};
use crate::{ApiVersion, Document, Options};

/// The kinds meshc writes, in canonical document order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Namespace,
    ServiceAccount,
    Service,
    Deployment,
    WorkloadEntry,
    DestinationRule,
    Gateway,
    VirtualService,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Namespace => "Namespace",
            Kind::ServiceAccount => "ServiceAccount",
            Kind::Service => "Service",
            Kind::Deployment => "Deployment",
            Kind::WorkloadEntry => "WorkloadEntry",
            Kind::DestinationRule => "DestinationRule",
            Kind::Gateway => "Gateway",
            Kind::VirtualService => "VirtualService",
        }
    }

    fn api_version(self, api: ApiVersion) -> &'static str {
        match self {
            Kind::Namespace | Kind::ServiceAccount | Kind::Service => "v1",
            Kind::Deployment => "apps/v1",
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
        for gateway in &ns.gateways {
            self.gateway(name, gateway);
        }
    }

    fn service(&mut self, ns: &str, service: &model::Service) {
        let (app_key, app) = (&service.selector.0, &service.selector.1);
        let selector = labels(&[(app_key, app)]);
        let spec = ServiceSpec {
            selector: selector.clone(),
            ports: service
                .ports
                .iter()
                .map(|p| ServicePort {
                    name: p.name.clone(),
                    port: p.number,
                    target_port: p.target,
                    protocol: if p.protocol == model::Protocol::Udp {
                        "UDP"
                    } else {
                        "TCP"
                    },
                })
                .collect(),
        };
        let metadata = self.meta(&service.host, ns, selector.clone());
        self.push(Kind::Service, Some(ns), metadata, Some(spec));

        let mut target_ports: Vec<(u16, &'static str)> = service
            .ports
            .iter()
            .map(|p| {
                (
                    p.target,
                    if p.protocol == model::Protocol::Udp {
                        "UDP"
                    } else {
                        "TCP"
                    },
                )
            })
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
            subsets: service
                .versions
                .iter()
                .map(|v| Subset {
                    name: v.name.clone(),
                    labels: labels(&[(&service.version_key, &v.name)]),
                })
                .collect(),
        };
        let metadata = self.meta(&service.destination_rule, ns, Map::new());
        self.push(Kind::DestinationRule, Some(ns), metadata, Some(spec));

        if !service.routes.is_empty() {
            let http = mesh_routes(service);
            let spec = VirtualServiceSpec {
                hosts: vec![service.fqdn.clone()],
                gateways: Vec::new(),
                http,
            };
            let metadata = self.meta(&service.virtual_service, ns, Map::new());
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
                })
                .collect(),
        };
        let metadata = self.meta(&gateway.name, ns, Map::new());
        self.push(Kind::Gateway, Some(ns), metadata, Some(spec));
        if gateway.routes.is_empty() {
            return;
        }
        let http = gateway
            .routes
            .iter()
            .map(|r| HttpRoute {
                matches: matches(&r.alternatives, None),
                route: destinations(&r.host, &r.destinations, Some(r.port)),
            })
            .collect();
        let spec = VirtualServiceSpec {
            hosts: gateway.hosts.clone(),
            gateways: vec![gateway.name.clone()],
            http,
        };
        let metadata = self.meta(&gateway.virtual_service, ns, Map::new());
        self.push(Kind::VirtualService, Some(ns), metadata, Some(spec));
    }
}

/// A service's routes for mesh traffic. With several HTTP ports, each route is written once
/// per port, matching that port, so every destination names its port (istioctl IST0112).
fn mesh_routes(service: &model::Service) -> Vec<HttpRoute> {
    let http_ports: Vec<u16> = service.http_ports().map(|p| p.number).collect();
    let mut out = Vec::new();
    if http_ports.len() > 1 {
        for &port in &http_ports {
            for route in &service.routes {
                let mut m = matches(&route.alternatives, Some(port));
                if m.is_empty() {
                    m.push(HttpMatch {
                        uri: None,
                        port: Some(port),
                    });
                }
                out.push(HttpRoute {
                    matches: m,
                    route: destinations(&service.fqdn, &route.destinations, Some(port)),
                });
            }
        }
    } else {
        let port = (service.ports.len() > 1).then(|| http_ports.first().copied()).flatten();
        for route in &service.routes {
            out.push(HttpRoute {
                matches: matches(&route.alternatives, None),
                route: destinations(&service.fqdn, &route.destinations, port),
            });
        }
    }
    out
}

fn matches(alternatives: &[Conditions], port: Option<u16>) -> Vec<HttpMatch> {
    alternatives
        .iter()
        .map(|c| HttpMatch {
            uri: c.uri.as_ref().map(|u| match u {
                UriMatch::Prefix(p) => StringMatch {
                    prefix: Some(p.clone()),
                    ..StringMatch::default()
                },
                UriMatch::Exact(e) => StringMatch {
                    exact: Some(e.clone()),
                    ..StringMatch::default()
                },
                UriMatch::Regex(r) => StringMatch {
                    regex: Some(r.clone()),
                    ..StringMatch::default()
                },
            }),
            port,
        })
        .collect()
}

fn destinations(host: &str, destinations: &[model::Destination], port: Option<u16>) -> Vec<RouteDestination> {
    let weighted = destinations.len() > 1;
    destinations
        .iter()
        .map(|d| RouteDestination {
            destination: Destination {
                host: host.to_string(),
                subset: d.subset.clone(),
                port: port.map(|number| PortSelector { number }),
            },
            weight: if weighted { d.weight } else { None },
        })
        .collect()
}

/// Kinds and the groups they belong to, for documentation and tests.
pub fn kinds(api: ApiVersion) -> BTreeMap<&'static str, &'static str> {
    [
        Kind::Namespace,
        Kind::ServiceAccount,
        Kind::Service,
        Kind::Deployment,
        Kind::WorkloadEntry,
        Kind::DestinationRule,
        Kind::Gateway,
        Kind::VirtualService,
    ]
    .into_iter()
    .map(|k| (k.name(), k.api_version(api)))
    .collect()
}
