//! The typed view of Kubernetes and Istio manifests that the checks (and anything else
//! that reasons about an existing mesh) read: Services, workloads (Deployment pod
//! templates, Pods, WorkloadEntries), ServiceEntries, DestinationRules, VirtualServices and
//! Gateways, each field with the [`Span`] of the YAML node it came from.
//!
//! Only what routing depends on is kept; other kinds and fields are ignored. A field of the
//! wrong shape reads as absent (the API server's schema is not meshc's to repeat).

use std::collections::BTreeMap;

use super::yaml::{Node, Value};
use crate::source::Span;

/// A value and where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Span,
}

/// Labels, each value with its span.
pub type Labels = BTreeMap<String, Spanned<String>>;

/// Every object read from a set of manifests, in the order read.
#[derive(Debug, Clone, Default)]
pub struct Manifests {
    pub services: Vec<Service>,
    pub workloads: Vec<Workload>,
    pub service_entries: Vec<ServiceEntry>,
    pub destination_rules: Vec<DestinationRule>,
    pub virtual_services: Vec<VirtualService>,
    pub gateways: Vec<Gateway>,
}

/// Name and namespace of an object, and the span of its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meta {
    pub name: String,
    pub namespace: String,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Service {
    pub meta: Meta,
    /// Absent for a Service without a selector (its endpoints are managed by hand).
    pub selector: Option<Labels>,
    pub selector_span: Span,
    pub ports: Vec<ServicePort>,
    /// `clusterIP: None`: WorkloadEntries never back it.
    pub headless: bool,
}

#[derive(Debug, Clone)]
pub struct ServicePort {
    pub number: i64,
    pub name: Option<String>,
    pub app_protocol: Option<String>,
    pub span: Span,
}

/// Where a workload runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkloadKind {
    /// The pods of a Deployment, StatefulSet, DaemonSet or ReplicaSet template, or a Pod.
    Pod,
    /// A WorkloadEntry (a VM).
    Vm,
    /// A WorkloadGroup: VMs that register themselves, as WorkloadEntries with its labels.
    VmGroup,
}

#[derive(Debug, Clone)]
pub struct Workload {
    pub meta: Meta,
    /// The manifest kind (`Deployment`, `WorkloadEntry`, ...).
    pub kind_name: String,
    pub kind: WorkloadKind,
    /// Pod template labels; a WorkloadEntry's `spec.labels` with `metadata.labels` over them.
    pub labels: Labels,
    pub labels_span: Span,
    /// A WorkloadEntry's address.
    pub address: Option<Spanned<String>>,
    /// A Deployment's, StatefulSet's or ReplicaSet's `replicas` (absent: one).
    pub replicas: Option<Spanned<i64>>,
    /// The environment of the pod template's containers (`env` entries with a literal
    /// `value`), in written order.
    pub env: Vec<EnvVar>,
    /// A WorkloadEntry's (or a WorkloadGroup template's) load-balancing `weight`.
    pub weight: Option<Spanned<i64>>,
}

/// One `env` entry of a container: `name` and literal `value`.
#[derive(Debug, Clone)]
pub struct EnvVar {
    pub container: String,
    pub name: String,
    pub value: Spanned<String>,
}

impl Workload {
    /// Whether Kubernetes Services can select it: pods always; WorkloadEntries when they
    /// have labels and an IP address (a hostname address backs only DNS ServiceEntries).
    pub fn backs_services(&self) -> bool {
        match self.kind {
            WorkloadKind::Pod => true,
            WorkloadKind::VmGroup => !self.labels.is_empty(),
            WorkloadKind::Vm => {
                !self.labels.is_empty()
                    && self
                        .address
                        .as_ref()
                        .is_some_and(|a| a.value.parse::<std::net::IpAddr>().is_ok())
            }
        }
    }

    /// Whether every label of `selector` is among its labels.
    pub fn selected_by<'a>(&self, selector: impl IntoIterator<Item = (&'a String, &'a String)>) -> bool {
        selector
            .into_iter()
            .all(|(k, v)| self.labels.get(k).is_some_and(|l| &l.value == v))
    }
}

#[derive(Debug, Clone)]
pub struct ServiceEntry {
    pub meta: Meta,
    pub hosts: Vec<Spanned<String>>,
    pub ports: Vec<ServicePort>,
    pub workload_selector: Option<Labels>,
}

#[derive(Debug, Clone)]
pub struct DestinationRule {
    pub meta: Meta,
    pub host: Spanned<String>,
    pub subsets: Vec<Subset>,
}

#[derive(Debug, Clone)]
pub struct Subset {
    pub name: Spanned<String>,
    pub labels: Labels,
}

#[derive(Debug, Clone)]
pub struct VirtualService {
    pub meta: Meta,
    pub hosts: Vec<Spanned<String>>,
    /// `gateways`; empty means the mesh only.
    pub gateways: Vec<Spanned<String>>,
    pub http: Vec<HttpRoute>,
    /// `tcp` routes: their matches read like HTTP ones (`port`, `sourceLabels`,
    /// `destinationSubnets`, `sourceNamespace`, `gateways`, each a [`Condition`]).
    pub tcp: Vec<HttpRoute>,
    /// `tls` routes: as `tcp`, with `sniHosts`.
    pub tls: Vec<HttpRoute>,
}

impl VirtualService {
    /// Whether it applies to the sidecars of the mesh (no `gateways`, or `mesh` among them).
    pub fn applies_to_mesh(&self) -> bool {
        self.gateways.is_empty() || self.gateways.iter().any(|g| g.value == "mesh")
    }
}

#[derive(Debug, Clone)]
pub struct HttpRoute {
    pub name: Option<Spanned<String>>,
    /// The whole route entry.
    pub span: Span,
    /// The alternatives of `match` (ORed); empty when the route has no `match`: it takes
    /// every request.
    pub matches: Vec<Match>,
    pub destinations: Vec<Destination>,
    /// `redirect.uri`; for a redirect that keeps the path, its `authority` or, without one,
    /// `(same path)`.
    pub redirect: Option<Spanned<String>>,
    /// `directResponse.status`.
    pub direct_response: Option<Spanned<i64>>,
    /// `rewrite.uri`: the path the destinations receive.
    pub rewrite: Option<Spanned<String>>,
}

/// One alternative of a `match`: its conditions, ANDed.
#[derive(Debug, Clone)]
pub struct Match {
    pub span: Span,
    pub conditions: Vec<Condition>,
}

/// One field of a match alternative.
#[derive(Debug, Clone)]
pub struct Condition {
    /// `uri`, `port`, `method`, `headers.NAME`, `queryParams.NAME`, or any other field.
    pub field: String,
    pub test: Test,
    pub span: Span,
}

/// What a condition asks of its field.
#[derive(Debug, Clone, PartialEq)]
pub enum Test {
    Exact(String),
    Prefix(String),
    Regex(String),
    Port(i64),
    /// Any other shape, compared as written.
    Other(Value),
}

#[derive(Debug, Clone)]
pub struct Destination {
    pub host: Spanned<String>,
    pub subset: Option<Spanned<String>>,
    pub port: Option<Spanned<i64>>,
    pub weight: Option<Spanned<i64>>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Gateway {
    pub meta: Meta,
    pub selector: Labels,
    pub servers: Vec<Server>,
}

#[derive(Debug, Clone)]
pub struct Server {
    pub port: Spanned<i64>,
    pub protocol: Option<Spanned<String>>,
    pub hosts: Vec<Spanned<String>>,
    /// `tls.httpsRedirect`: every request is answered with a redirect to HTTPS.
    pub https_redirect: bool,
    /// `tls.mode` (`SIMPLE`, `MUTUAL`, `PASSTHROUGH`, ...).
    pub tls_mode: Option<Spanned<String>>,
}

impl Manifests {
    /// Adds the objects of one document; other kinds are ignored.
    pub fn read(&mut self, doc: &Node) {
        let kind = doc.get("kind").and_then(Node::as_str).unwrap_or_default();
        if kind == "List" {
            for item in doc.get("items").map(Node::items).unwrap_or_default() {
                self.read(item);
            }
            return;
        }
        let Some(meta) = meta(doc) else { return };
        let spec = doc.get("spec");
        let at = |path: &[&str]| spec.and_then(|s| s.at(path));
        match kind {
            "Service" => self.services.push(Service {
                selector_span: at(&["selector"]).map_or(meta.span, |n| n.span),
                selector: at(&["selector"]).map(labels).filter(|l| !l.is_empty()),
                ports: at(&["ports"]).map(ports).unwrap_or_default(),
                headless: at(&["clusterIP"]).and_then(Node::as_str) == Some("None"),
                meta,
            }),
            "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" | "Pod" => {
                let labels_node = if kind == "Pod" {
                    doc.at(&["metadata", "labels"])
                } else {
                    at(&["template", "metadata", "labels"])
                };
                if let Some(node) = labels_node {
                    let pod_spec = if kind == "Pod" { spec } else { at(&["template", "spec"]) };
                    self.workloads.push(Workload {
                        meta,
                        kind_name: kind.to_string(),
                        kind: WorkloadKind::Pod,
                        labels: labels(node),
                        labels_span: node.span,
                        address: None,
                        replicas: at(&["replicas"]).and_then(spanned_int),
                        env: pod_spec.map(env).unwrap_or_default(),
                        weight: None,
                    });
                }
            }
            "WorkloadEntry" => {
                let mut all = at(&["labels"]).map(labels).unwrap_or_default();
                all.extend(doc.at(&["metadata", "labels"]).map(labels).unwrap_or_default());
                self.workloads.push(Workload {
                    labels_span: at(&["labels"]).map_or(meta.span, |n| n.span),
                    labels: all,
                    address: at(&["address"]).and_then(spanned_str),
                    meta,
                    kind_name: kind.to_string(),
                    kind: WorkloadKind::Vm,
                    replicas: None,
                    env: Vec::new(),
                    weight: at(&["weight"]).and_then(spanned_int),
                });
            }
            "WorkloadGroup" => {
                // Auto-registered entries take the template's labels, and `metadata.labels`
                // over them.
                let mut all = at(&["template", "labels"]).map(labels).unwrap_or_default();
                all.extend(at(&["metadata", "labels"]).map(labels).unwrap_or_default());
                self.workloads.push(Workload {
                    labels_span: at(&["template", "labels"])
                        .or_else(|| at(&["metadata", "labels"]))
                        .map_or(meta.span, |n| n.span),
                    labels: all,
                    address: None,
                    meta,
                    kind_name: kind.to_string(),
                    kind: WorkloadKind::VmGroup,
                    replicas: None,
                    env: Vec::new(),
                    weight: at(&["template", "weight"]).and_then(spanned_int),
                });
            }
            "ServiceEntry" => self.service_entries.push(ServiceEntry {
                hosts: strings(at(&["hosts"])),
                ports: at(&["ports"]).map(ports).unwrap_or_default(),
                workload_selector: at(&["workloadSelector", "labels"]).map(labels),
                meta,
            }),
            "DestinationRule" => {
                let Some(host) = at(&["host"]).and_then(spanned_str) else {
                    return;
                };
                let subsets = at(&["subsets"])
                    .map(Node::items)
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|s| {
                        Some(Subset {
                            name: s.get("name").and_then(spanned_str)?,
                            labels: s.get("labels").map(labels).unwrap_or_default(),
                        })
                    })
                    .collect();
                self.destination_rules.push(DestinationRule { meta, host, subsets });
            }
            "VirtualService" => self.virtual_services.push(VirtualService {
                hosts: strings(at(&["hosts"])),
                gateways: strings(at(&["gateways"])),
                http: at(&["http"])
                    .map(Node::items)
                    .unwrap_or_default()
                    .iter()
                    .map(http_route)
                    .collect(),
                tcp: at(&["tcp"])
                    .map(Node::items)
                    .unwrap_or_default()
                    .iter()
                    .map(http_route)
                    .collect(),
                tls: at(&["tls"])
                    .map(Node::items)
                    .unwrap_or_default()
                    .iter()
                    .map(http_route)
                    .collect(),
                meta,
            }),
            "Gateway"
                if doc
                    .get("apiVersion")
                    .and_then(Node::as_str)
                    .is_some_and(|v| v.starts_with("networking.istio.io/")) =>
            {
                self.gateways.push(Gateway {
                    selector: at(&["selector"]).map(labels).unwrap_or_default(),
                    servers: at(&["servers"])
                        .map(Node::items)
                        .unwrap_or_default()
                        .iter()
                        .filter_map(|s| {
                            Some(Server {
                                port: s.at(&["port", "number"]).and_then(spanned_int)?,
                                protocol: s.at(&["port", "protocol"]).and_then(spanned_str),
                                hosts: strings(s.get("hosts")),
                                https_redirect: s
                                    .at(&["tls", "httpsRedirect"])
                                    .and_then(Node::as_str)
                                    .is_some_and(|v| v == "true"),
                                tls_mode: s.at(&["tls", "mode"]).and_then(spanned_str),
                            })
                        })
                        .collect(),
                    meta,
                });
            }
            _ => {}
        }
    }
}

fn meta(doc: &Node) -> Option<Meta> {
    let name = doc.at(&["metadata", "name"])?;
    Some(Meta {
        name: name.as_str()?.to_string(),
        namespace: doc
            .at(&["metadata", "namespace"])
            .and_then(Node::as_str)
            .unwrap_or("default")
            .to_string(),
        span: name.span,
    })
}

fn spanned_str(node: &Node) -> Option<Spanned<String>> {
    Some(Spanned {
        value: node.as_str()?.to_string(),
        span: node.span,
    })
}

fn spanned_int(node: &Node) -> Option<Spanned<i64>> {
    Some(Spanned {
        value: node.as_int()?,
        span: node.span,
    })
}

fn strings(node: Option<&Node>) -> Vec<Spanned<String>> {
    node.map(Node::items)
        .unwrap_or_default()
        .iter()
        .filter_map(spanned_str)
        .collect()
}

fn labels(node: &Node) -> Labels {
    node.entries()
        .iter()
        .filter_map(|(k, v)| {
            let value = match &v.value {
                Value::Null => String::new(),
                _ => v.as_str()?.to_string(),
            };
            Some((k.as_str()?.to_string(), Spanned { value, span: v.span }))
        })
        .collect()
}

fn ports(node: &Node) -> Vec<ServicePort> {
    node.items()
        .iter()
        .filter_map(|p| {
            let number = p.get("port").or_else(|| p.get("number"))?;
            Some(ServicePort {
                number: number.as_int()?,
                name: p.get("name").and_then(Node::as_str).map(str::to_string),
                app_protocol: p
                    .get("appProtocol")
                    .or_else(|| p.get("protocol").filter(|_| p.get("number").is_some()))
                    .and_then(Node::as_str)
                    .map(str::to_string),
                span: p.get("name").map_or(p.span, |n| n.span),
            })
        })
        .collect()
}

fn http_route(node: &Node) -> HttpRoute {
    HttpRoute {
        name: node.get("name").and_then(spanned_str),
        span: node.span,
        matches: node
            .get("match")
            .map(Node::items)
            .unwrap_or_default()
            .iter()
            .map(alternative)
            .collect(),
        destinations: node
            .get("route")
            .map(Node::items)
            .unwrap_or_default()
            .iter()
            .filter_map(|d| {
                let dest = d.get("destination")?;
                Some(Destination {
                    host: dest.get("host").and_then(spanned_str)?,
                    subset: dest.get("subset").and_then(spanned_str),
                    port: dest.at(&["port", "number"]).and_then(spanned_int),
                    weight: d.get("weight").and_then(spanned_int),
                    span: d.span,
                })
            })
            .collect(),
        redirect: node.get("redirect").map(|r| {
            r.get("uri")
                .or_else(|| r.get("authority"))
                .and_then(spanned_str)
                .unwrap_or_else(|| Spanned {
                    value: "(same path)".to_string(),
                    span: r.span,
                })
        }),
        direct_response: node.at(&["directResponse", "status"]).and_then(spanned_int),
        rewrite: node.at(&["rewrite", "uri"]).and_then(spanned_str),
    }
}

/// The literal `env` values of a pod spec's containers.
fn env(pod_spec: &Node) -> Vec<EnvVar> {
    let mut out = Vec::new();
    for container in pod_spec.get("containers").map(Node::items).unwrap_or_default() {
        let name = container.get("name").and_then(Node::as_str).unwrap_or_default();
        for var in container.get("env").map(Node::items).unwrap_or_default() {
            let (Some(var_name), Some(value)) = (
                var.get("name").and_then(Node::as_str),
                var.get("value").and_then(spanned_str),
            ) else {
                continue;
            };
            out.push(EnvVar {
                container: name.to_string(),
                name: var_name.to_string(),
                value,
            });
        }
    }
    out
}

fn alternative(node: &Node) -> Match {
    let mut conditions = Vec::new();
    for (key, value) in node.entries() {
        let Some(field) = key.as_str() else { continue };
        match field {
            // Only names the alternative.
            "name" => {}
            "port" => conditions.push(Condition {
                field: field.to_string(),
                test: value
                    .as_int()
                    .map_or_else(|| Test::Other(value.value.clone()), Test::Port),
                span: key.span.to(value.span),
            }),
            "headers" | "queryParams" | "withoutHeaders" => {
                for (name, test) in value.entries() {
                    conditions.push(Condition {
                        field: format!("{field}.{}", name.as_str().unwrap_or_default()),
                        test: string_test(test),
                        span: name.span.to(test.span),
                    });
                }
            }
            _ => conditions.push(Condition {
                field: field.to_string(),
                test: string_test(value),
                span: key.span.to(value.span),
            }),
        }
    }
    Match {
        span: node.span,
        conditions,
    }
}

fn string_test(node: &Node) -> Test {
    if let [(kind, value)] = node.entries() {
        if let (Some(kind), Some(value)) = (kind.as_str(), value.as_str()) {
            match kind {
                "exact" => return Test::Exact(value.to_string()),
                "prefix" => return Test::Prefix(value.to_string()),
                "regex" => return Test::Regex(value.to_string()),
                _ => {}
            }
        }
    }
    Test::Other(node.value.clone())
}
