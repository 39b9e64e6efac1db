//! Filling the engine's [`Table`] from existing manifests, as `meshc lint` reads them.
//!
//! - **Services**: every Kubernetes Service, and every ServiceEntry with a
//!   `workloadSelector` (a mesh service on VMs); a ServiceEntry without one is an outside
//!   host, where a trace stops (`external HOST`). A port carries HTTP when its name or
//!   `appProtocol` says `http`, `http2`, `grpc` or `grpc-web`, TCP when it says `tcp`,
//!   `mongo`, `mysql` or `redis`, TLS when it says `tls` or `https`; a port that says
//!   nothing carries HTTP and TCP (Istio sniffs it).
//! - **Versions**: the subsets of the DestinationRules whose host names the service, each
//!   with the workloads that the service's selector and the subset's labels select:
//!   Deployments (and other pod templates) with their `replicas`, WorkloadEntries with their
//!   IP address, and a WorkloadGroup only when the subset selects no WorkloadEntry (its VMs
//!   register themselves). A subset that selects nothing is a version without endpoints,
//!   with a note naming the workloads that carry its labels but miss the selector's. Workloads
//!   of the service that no subset selects form the version `-`; a service without subsets
//!   has a version per `version` label value of its workloads (`-` for none).
//! - **Routes**: the `http` (with `redirect`, `directResponse` and `rewrite.uri`), `tcp` and
//!   `tls` routes of the VirtualServices that apply to the
//!   mesh (no `gateways`, or `mesh` among them), for each host they name (the first
//!   VirtualService of a host wins, as in sidecars), and of those bound to a Gateway by
//!   `gateways` (`NAME` in the VirtualService's namespace, or `NAMESPACE/NAME`), per host:
//!   a request at the gateway takes the routes of its exact host, else of the longest
//!   wildcard host that admits it (`*` last), and only those.
//!   A match alternative whose own `gateways` leave out the place is dropped there. A
//!   condition the engine does not evaluate (`scheme`, `ignoreUriCase: true`, a prefix or
//!   regex `authority` or `method`, `withoutHeaders` with a value, a header that need only
//!   be present) makes its alternative never match, and the table notes it.
//! - **Hosts**: a short host resolves in the namespace of the object that writes it
//!   (Istio's rule); `NAME.NAMESPACE`, `NAME.NAMESPACE.svc` and `NAME.NAMESPACE.svc.DOMAIN`
//!   name the Service too. The cluster domain is the one the manifests write in such hosts,
//!   else `cluster.local`.
//! - **Calls**: the manifests do not say whom a workload calls, except through its
//!   environment: a container `env` value that is a service host (alone, or in a URL such as
//!   `http://HOST:PORT/path`) is a call to that service. Where no variable names one, a
//!   trace from the service (`--from`) needs the callee named (`--host`), and stops at
//!   the callee's workloads.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::{
    Action, Destination, Endpoint, Gateway, Listener, Note, Protocol, Route, Service, Table, Version, NOT_EVALUATED,
};
use crate::manifests::model::{
    self as yaml_model, Condition, HttpRoute, Labels as SpannedLabels, Manifests, Test, VirtualService, Workload,
    WorkloadKind,
};
use crate::manifests::yaml::Value;
use crate::model::{Conditions, HeaderMatch, Labels, SourceMatch, StringMatch};
use crate::source::Span;

const HTTP: &[&str] = &["http", "http2", "grpc", "grpc-web"];
const TCP: &[&str] = &["tcp", "mongo", "mysql", "redis"];
const TLS: &[&str] = &["tls", "https"];

impl Table {
    /// The routing of existing manifests (see the module's rules).
    pub fn from_manifests(m: &Manifests) -> Table {
        let domain = cluster_domain(m);
        let mut workloads: HashMap<&str, Vec<&Workload>> = HashMap::new();
        for w in &m.workloads {
            workloads.entry(&w.meta.namespace).or_default().push(w);
        }
        let mut b = Builder {
            m,
            domain,
            table: Table::default(),
            objects: Vec::new(),
            by_host: HashMap::new(),
            entry_hosts: m
                .service_entries
                .iter()
                .flat_map(|e| &e.hosts)
                .map(|h| h.value.as_str())
                .collect(),
            workloads,
            subsets: HashMap::new(),
        };
        b.services();
        b.routes();
        b.gateways();
        b.table
    }
}

/// What a service of the table was read from.
enum Object<'a> {
    Service(&'a yaml_model::Service),
    Entry(&'a yaml_model::ServiceEntry),
}

struct Builder<'a> {
    m: &'a Manifests,
    domain: String,
    table: Table,
    /// Parallel to `table.services`.
    objects: Vec<Object<'a>>,
    /// `table.services` by host.
    by_host: HashMap<String, usize>,
    /// Every host a ServiceEntry names.
    entry_hosts: HashSet<&'a str>,
    /// Workloads by namespace.
    workloads: HashMap<&'a str, Vec<&'a Workload>>,
    /// DestinationRule subsets by the host they resolve to, in written order.
    subsets: HashMap<String, Vec<&'a yaml_model::Subset>>,
}

/// The domain written in `NAME.NAMESPACE.svc.DOMAIN` hosts, else `cluster.local`.
fn cluster_domain(m: &Manifests) -> String {
    let hosts = m
        .virtual_services
        .iter()
        .flat_map(|vs| {
            vs.hosts.iter().chain(
                vs.http
                    .iter()
                    .chain(&vs.tcp)
                    .chain(&vs.tls)
                    .flat_map(|r| r.destinations.iter().map(|d| &d.host)),
            )
        })
        .chain(m.destination_rules.iter().map(|d| &d.host));
    hosts
        .filter_map(|h| {
            let parts: Vec<&str> = h.value.splitn(4, '.').collect();
            match parts.as_slice() {
                [_, _, "svc", domain] if !domain.is_empty() => Some(domain.to_string()),
                _ => None,
            }
        })
        .next()
        .unwrap_or_else(|| "cluster.local".to_string())
}

/// Which of the route kinds a port carries, from its name or `appProtocol`.
fn carries(port: &yaml_model::ServicePort, protocols: &[&str]) -> bool {
    let said = port.app_protocol.as_deref().map(str::to_ascii_lowercase).or_else(|| {
        let name = port.name.as_deref()?.to_ascii_lowercase();
        let prefix = name.split('-').next().unwrap_or_default().to_string();
        // `grpc-web` is a protocol of its own, not `grpc` with a suffix.
        Some(if name.starts_with("grpc-web") {
            "grpc-web".to_string()
        } else {
            prefix
        })
    });
    let known = |p: &str| HTTP.contains(&p) || TCP.contains(&p) || TLS.contains(&p);
    match said {
        Some(p) if known(&p) => protocols.contains(&p.as_str()),
        // Istio sniffs HTTP on a port that says nothing, else proxies TCP.
        _ => protocols == HTTP || protocols == TCP,
    }
}

fn port_numbers(ports: &[yaml_model::ServicePort], protocols: &[&str]) -> Vec<u16> {
    let mut numbers: Vec<u16> = ports
        .iter()
        .filter(|p| carries(p, protocols))
        .filter_map(|p| u16::try_from(p.number).ok())
        .collect();
    numbers.sort_unstable();
    numbers.dedup();
    numbers
}

fn values(labels: &SpannedLabels) -> Labels {
    labels.iter().map(|(k, v)| (k.clone(), v.value.clone())).collect()
}

impl<'a> Builder<'a> {
    /// The host a written host stands for, fully qualified when it names a Service of the
    /// manifests (or has a Service's form); a ServiceEntry's host as written.
    fn resolve(&self, host: &str, namespace: &str) -> String {
        if self.by_host.contains_key(host) {
            return host.to_string();
        }
        let parts: Vec<&str> = host.split('.').collect();
        let (name, ns) = match parts.as_slice() {
            [name] => (*name, namespace),
            [name, ns] | [name, ns, "svc"] => (*name, *ns),
            [name, ns, "svc", ..] => (*name, *ns),
            _ => return host.to_string(),
        };
        if name.contains('*') {
            return host.to_string();
        }
        let fqdn = format!("{name}.{ns}.svc.{}", self.domain);
        if self.entry_hosts.contains(host) && !self.by_host.contains_key(&fqdn) {
            return host.to_string();
        }
        fqdn
    }

    /// Adds a service without versions, routes or calls (filled afterwards).
    fn add(&mut self, meta: &yaml_model::Meta, host: String, ports: &[yaml_model::ServicePort], object: Object<'a>) {
        if self.by_host.contains_key(&host) {
            return;
        }
        self.by_host.insert(host.clone(), self.table.services.len());
        self.table.services.push(Service {
            namespace: meta.namespace.clone(),
            name: meta.name.clone(),
            host,
            http_ports: port_numbers(ports, HTTP),
            versions: Vec::new(),
            routes: Vec::new(),
            calls: Vec::new(),
            tcp_ports: port_numbers(ports, TCP),
            tls_ports: port_numbers(ports, TLS),
            tcp_routes: Vec::new(),
            tls_routes: Vec::new(),
        });
        self.objects.push(object);
    }

    fn services(&mut self) {
        for s in &self.m.services {
            let host = format!("{}.{}.svc.{}", s.meta.name, s.meta.namespace, self.domain);
            self.add(&s.meta, host, &s.ports, Object::Service(s));
        }
        for e in &self.m.service_entries {
            let Some(host) = e.hosts.first() else { continue };
            if e.workload_selector.is_some() {
                self.add(&e.meta, host.value.clone(), &e.ports, Object::Entry(e));
            }
        }
        for dr in &self.m.destination_rules {
            let host = self.resolve(&dr.host.value, &dr.meta.namespace);
            self.subsets.entry(host).or_default().extend(&dr.subsets);
        }
        for i in 0..self.table.services.len() {
            let versions = self.versions(i);
            let calls = self.calls(i);
            let service = &mut self.table.services[i];
            service.versions = versions;
            service.calls = calls;
        }
    }

    /// The service's selector and whether only workloads that back Services count.
    fn selector(&self, i: usize) -> Option<(&'a SpannedLabels, bool)> {
        match self.objects[i] {
            Object::Service(s) if !s.headless => s.selector.as_ref().map(|l| (l, true)),
            Object::Service(_) => None,
            Object::Entry(e) => e.workload_selector.as_ref().map(|l| (l, false)),
        }
    }

    /// The workloads the service selects.
    fn workloads(&self, i: usize) -> Vec<&'a Workload> {
        let namespace = &self.table.services[i].namespace;
        let Some((selector, services_only)) = self.selector(i) else {
            return Vec::new();
        };
        self.workloads
            .get(namespace.as_str())
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .copied()
            .filter(|w| !services_only || w.backs_services())
            .filter(|w| w.selected_by(selector.iter().map(|(k, v)| (k, &v.value))))
            .collect()
    }

    fn versions(&self, i: usize) -> Vec<Version> {
        let service = &self.table.services[i];
        let selected = self.workloads(i);
        let subsets: &[&yaml_model::Subset] = self.subsets.get(&service.host).map_or(&[], Vec::as_slice);
        let mut versions: Vec<Version> = Vec::new();
        let mut placed = vec![false; selected.len()];
        if subsets.is_empty() {
            let mut by_label: BTreeMap<String, Vec<&Workload>> = BTreeMap::new();
            for w in &selected {
                let name = w.labels.get("version").map_or("-", |l| l.value.as_str());
                by_label.entry(name.to_string()).or_default().push(w);
            }
            for (name, workloads) in by_label {
                versions.push(version(&name, &workloads, Labels::new(), Vec::new()));
            }
            return versions;
        }
        for subset in subsets {
            if versions.iter().any(|v| v.name == subset.name.value) {
                continue;
            }
            let mut members = Vec::new();
            for (k, w) in selected.iter().enumerate() {
                if w.selected_by(subset.labels.iter().map(|(k, v)| (k, &v.value))) {
                    members.push(*w);
                    placed[k] = true;
                }
            }
            let notes = if members.is_empty() {
                self.why_empty(i, subset)
            } else {
                Vec::new()
            };
            let mut wanted = self.selector(i).map(|(s, _)| values(s)).unwrap_or_default();
            wanted.extend(values(&subset.labels));
            versions.push(version(&subset.name.value, &members, wanted, notes));
        }
        let rest: Vec<&Workload> = selected
            .iter()
            .zip(&placed)
            .filter(|(_, placed)| !**placed)
            .map(|(w, _)| *w)
            .collect();
        if !rest.is_empty() {
            versions.push(version("-", &rest, Labels::new(), Vec::new()));
        }
        versions
    }

    /// Why a subset selects nothing: the workloads that carry its labels but miss some of
    /// the service's selector, or that no workload carries them.
    fn why_empty(&self, i: usize, subset: &yaml_model::Subset) -> Vec<Note> {
        let service = &self.table.services[i];
        let place = service.name.clone();
        let selector = self.selector(i).map(|(s, _)| s);
        let mut notes: Vec<Note> = self
            .workloads
            .get(service.namespace.as_str())
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .filter(|w| w.kind != WorkloadKind::VmGroup)
            .filter(|w| !subset.labels.is_empty() && w.selected_by(subset.labels.iter().map(|(k, v)| (k, &v.value))))
            .filter_map(|w| {
                let selector = selector?;
                let (key, want) = selector
                    .iter()
                    .find(|(k, v)| w.labels.get(*k).is_none_or(|l| l.value != v.value))?;
                let (span, has) = match w.labels.get(key) {
                    Some(l) => (l.span, format!("`{key}: {}`", l.value)),
                    None => (w.labels_span, format!("no `{key}` label")),
                };
                Some(Note {
                    place: place.clone(),
                    message: format!(
                        "the {} `{}` carries the labels of subset `{}` but {has}, and the Service `{}` selects `{key}: {}`: it gets none of this traffic",
                        w.kind_name, w.meta.name, subset.name.value, service.name, want.value
                    ),
                    span: Some(span),
                })
            })
            .collect();
        if notes.is_empty() {
            notes.push(Note {
                place,
                message: format!(
                    "subset `{}` of `{}` selects no workload: no endpoint receives its traffic",
                    subset.name.value, service.name
                ),
                span: Some(subset.name.span),
            });
        }
        notes
    }

    /// The hosts the service's workloads name in their environment.
    fn calls(&self, i: usize) -> Vec<String> {
        let mut calls: Vec<String> = Vec::new();
        let own = self.table.services[i].host.clone();
        for w in self.workloads(i) {
            for var in &w.env {
                let Some(host) = env_host(&var.value.value) else {
                    continue;
                };
                let host = self.resolve(host, &w.meta.namespace);
                let known = self.by_host.contains_key(&host) || self.entry_hosts.contains(host.as_str());
                if known && host != own && !calls.contains(&host) {
                    calls.push(host);
                }
            }
        }
        calls
    }

    fn routes(&mut self) {
        let mut routed = vec![false; self.table.services.len()];
        for vs in self.m.virtual_services.iter().filter(|vs| vs.applies_to_mesh()) {
            for host in &vs.hosts {
                let host = self.resolve(&host.value, &vs.meta.namespace);
                let Some(&i) = self.by_host.get(&host) else {
                    continue;
                };
                if std::mem::replace(&mut routed[i], true) {
                    continue;
                }
                let place = self.table.services[i].name.clone();
                let http = self.convert(vs, &vs.http, None, &place);
                let tcp = self.convert(vs, &vs.tcp, None, &place);
                let tls = self.convert(vs, &vs.tls, None, &place);
                let service = &mut self.table.services[i];
                service.routes = http;
                service.tcp_routes = tcp;
                service.tls_routes = tls;
            }
        }
    }

    fn gateways(&mut self) {
        for g in &self.m.gateways {
            let place = format!("gateway {}", g.meta.name);
            let listeners = g
                .servers
                .iter()
                .filter_map(|s| {
                    let protocol = s
                        .protocol
                        .as_ref()
                        .map_or("HTTP".to_string(), |p| p.value.to_ascii_uppercase());
                    let mode = s.tls_mode.as_ref().map(|m| m.value.to_ascii_uppercase());
                    let terminated = matches!(mode.as_deref(), Some("SIMPLE" | "MUTUAL" | "ISTIO_MUTUAL"));
                    let protocol = match protocol.as_str() {
                        "HTTP" | "HTTP2" | "GRPC" => Protocol::Http,
                        // Terminated there: HTTPS carries HTTP, TLS carries TCP.
                        "HTTPS" if terminated => Protocol::Http,
                        "TLS" if terminated => Protocol::Tcp,
                        "HTTPS" | "TLS" => Protocol::Tls,
                        "TCP" | "MONGO" => Protocol::Tcp,
                        _ => return None,
                    };
                    Some(Listener {
                        port: u16::try_from(s.port.value).ok()?,
                        hosts: s
                            .hosts
                            .iter()
                            .map(|h| h.value.rsplit('/').next().unwrap_or_default().to_string())
                            .collect(),
                        https_redirect: s.https_redirect,
                        protocol,
                    })
                })
                .collect();
            let mut gateway = Gateway {
                namespace: g.meta.namespace.clone(),
                name: g.meta.name.clone(),
                listeners,
                host_routes: Vec::new(),
                routes: Vec::new(),
                tcp_routes: Vec::new(),
                tls_routes: Vec::new(),
            };
            let bound = |vs: &VirtualService| {
                vs.gateways.iter().any(|n| {
                    let (ns, name) = n.value.split_once('/').unwrap_or((&vs.meta.namespace, &n.value));
                    name == g.meta.name && ns == g.meta.namespace
                })
            };
            for vs in self.m.virtual_services.iter().filter(|vs| bound(vs)) {
                let at = Some((g.meta.namespace.as_str(), g.meta.name.as_str()));
                let written: Vec<&str> = vs.hosts.iter().map(|h| h.value.as_str()).collect();
                let http = self.convert(vs, &vs.http, at, &place);
                // Envoy picks one virtual host per request (the exact host, else the longest
                // wildcard, `*` last) and tries only its routes: every host, `*` too, keeps
                // its own list, and no routes are shared.
                for host in written {
                    match gateway.host_routes.iter_mut().find(|(h, _)| h == host) {
                        Some((_, list)) => list.extend(http.iter().cloned()),
                        None => gateway.host_routes.push((host.to_string(), http.clone())),
                    }
                }
                gateway.tcp_routes.extend(self.convert(vs, &vs.tcp, at, &place));
                gateway.tls_routes.extend(self.convert(vs, &vs.tls, at, &place));
            }
            self.table.gateways.push(gateway);
        }
    }

    /// The engine's routes for the place `at` (the mesh, or a gateway's namespace and
    /// name): alternatives whose own `gateways` leave the place out are dropped, and a route
    /// left without any is left out.
    fn convert(
        &mut self,
        vs: &VirtualService,
        routes: &[HttpRoute],
        at: Option<(&str, &str)>,
        place: &str,
    ) -> Vec<Route> {
        let ns = &vs.meta.namespace;
        let mut out = Vec::new();
        for route in routes {
            let mut alternatives = Vec::new();
            let mut subnets = Vec::new();
            for m in &route.matches {
                let gateways = m.conditions.iter().find(|c| c.field == "gateways");
                if let Some(c) = gateways {
                    let names = list(&c.test);
                    let here = names.iter().any(|n| match at {
                        None => n == "mesh",
                        Some((g_ns, g_name)) => {
                            let (n_ns, n_name) = n.split_once('/').unwrap_or((ns, n));
                            n_ns == g_ns && n_name == g_name
                        }
                    });
                    if !here {
                        continue;
                    }
                }
                match conditions(m) {
                    Ok((c, s)) => {
                        alternatives.push(c);
                        subnets.push(s);
                    }
                    Err((field, span)) => {
                        let note = Note {
                            place: place.to_string(),
                            message: format!(
                                "meshc does not evaluate the match condition `{field}` of the VirtualService `{}`: this alternative is taken never to match",
                                vs.meta.name
                            ),
                            span: Some(span),
                        };
                        if !self.table.notes.contains(&note) {
                            self.table.notes.push(note);
                        }
                        // Kept as an alternative nothing matches, so that indices stay.
                        alternatives.push(Conditions::default());
                        subnets.push(vec![NOT_EVALUATED.to_string()]);
                    }
                }
            }
            if !route.matches.is_empty() && alternatives.is_empty() {
                continue;
            }
            if route.destinations.is_empty() && route.redirect.is_none() && route.direct_response.is_none() {
                let note = Note {
                    place: place.to_string(),
                    message: format!(
                        "a route of the VirtualService `{}` has no destination, redirect or direct response (a `delegate` is not followed): its requests get no answer here",
                        vs.meta.name
                    ),
                    span: Some(route.span),
                };
                if !self.table.notes.contains(&note) {
                    self.table.notes.push(note);
                }
            }
            let action = if let Some(to) = &route.redirect {
                Action::Redirect(to.value.clone())
            } else if let Some(status) = &route.direct_response {
                Action::Respond(u16::try_from(status.value).unwrap_or(0))
            } else {
                let single = route.destinations.len() == 1;
                Action::Forward(
                    route
                        .destinations
                        .iter()
                        .map(|d| Destination {
                            host: self.resolve(&d.host.value, ns),
                            subset: d.subset.as_ref().map(|s| s.value.clone()),
                            weight: d
                                .weight
                                .as_ref()
                                .and_then(|w| u32::try_from(w.value).ok())
                                .unwrap_or(if single { 100 } else { 0 }),
                        })
                        .collect(),
                )
            };
            out.push(Route {
                span: Some(route.name.as_ref().map_or(route.span, |n| n.span)),
                synthesised: false,
                alternatives,
                action,
                destination_subnets: subnets,
                rewrite: route.rewrite.as_ref().map(|r| r.value.clone()),
            });
        }
        out
    }
}

fn version(name: &str, workloads: &[&Workload], wanted: Labels, notes: Vec<Note>) -> Version {
    let has_entry = workloads.iter().any(|w| w.kind == WorkloadKind::Vm);
    let endpoints = workloads
        .iter()
        .filter_map(|w| match w.kind {
            WorkloadKind::Pod => Some(Endpoint::Pod {
                deployment: w.meta.name.clone(),
                replicas: w.replicas.as_ref().map_or(1, |r| u32::try_from(r.value).unwrap_or(0)),
            }),
            WorkloadKind::Vm => Some(Endpoint::Vm {
                address: w.address.as_ref().map(|a| a.value.clone()).unwrap_or_default(),
            }),
            WorkloadKind::VmGroup if !has_entry => Some(Endpoint::VmGroup {
                group: w.meta.name.clone(),
            }),
            WorkloadKind::VmGroup => None,
        })
        .collect();
    // The labels every workload of the version carries (what `sourceLabels` can match).
    let labels = match workloads.split_first() {
        None => wanted,
        Some((first, rest)) => values(&first.labels)
            .into_iter()
            .filter(|(k, v)| rest.iter().all(|w| w.labels.get(k).is_some_and(|l| &l.value == v)))
            .collect(),
    };
    Version {
        name: name.to_string(),
        labels,
        endpoints,
        notes,
    }
}

/// The host in an environment value: `HOST`, `HOST:PORT`, `SCHEME://HOST[:PORT][/PATH]`.
fn env_host(value: &str) -> Option<&str> {
    let rest = value.split_once("://").map_or(value, |(_, r)| r);
    let host = rest.split(['/', '?']).next()?;
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    let host = match host.rsplit_once(':') {
        Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) => h,
        _ => host,
    };
    let valid = !host.is_empty()
        && host.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        && host.chars().next().is_some_and(|c| c.is_ascii_alphabetic());
    valid.then_some(host)
}

/// The strings of a list value.
fn list(test: &Test) -> Vec<String> {
    match test {
        Test::Other(Value::Seq(items)) => items.iter().filter_map(|n| n.as_str().map(str::to_string)).collect(),
        Test::Exact(s) | Test::Prefix(s) | Test::Regex(s) => vec![s.clone()],
        _ => Vec::new(),
    }
}

/// A plain value (`sourceNamespace: shop`, `ignoreUriCase: true`).
fn scalar(test: &Test) -> Option<&str> {
    match test {
        Test::Other(Value::Scalar { text, .. }) => Some(text),
        _ => None,
    }
}

fn string_match(test: &Test) -> Option<StringMatch> {
    match test {
        Test::Exact(v) => Some(StringMatch::Exact(v.clone())),
        Test::Prefix(v) => Some(StringMatch::Prefix(v.clone())),
        Test::Regex(v) => Some(StringMatch::Regex(v.clone())),
        _ => None,
    }
}

/// One match alternative in the engine's terms, with its destination subnets; the field
/// and span of the first condition it cannot evaluate.
fn conditions(m: &yaml_model::Match) -> Result<(Conditions, Vec<String>), (String, Span)> {
    let mut c = Conditions::default();
    let mut subnets = Vec::new();
    let mut source: Option<SourceMatch> = None;
    for Condition { field, test, span } in &m.conditions {
        let unsupported = || Err((field.clone(), *span));
        let (kind, name) = field.split_once('.').unwrap_or((field, ""));
        match (kind, test) {
            ("uri", t) => match string_match(t) {
                Some(s) => c.uri = Some(s),
                None => return unsupported(),
            },
            ("method", Test::Exact(v)) => c.method = Some(v.to_ascii_uppercase()),
            ("port", Test::Port(p)) => match u16::try_from(*p) {
                Ok(p) => c.port = Some(p),
                Err(_) => return unsupported(),
            },
            ("authority", Test::Exact(v)) => c.host = Some(v.clone()),
            ("headers", t) => match string_match(t) {
                Some(s) => c.headers.push((name.to_string(), HeaderMatch::Is(s))),
                None => return unsupported(),
            },
            ("withoutHeaders", Test::Other(Value::Map(entries))) if entries.is_empty() => {
                c.headers.push((name.to_string(), HeaderMatch::Absent));
            }
            ("queryParams", t) => match string_match(t) {
                Some(s) => c.query.push((name.to_string(), s)),
                None => return unsupported(),
            },
            ("sourceLabels", Test::Other(Value::Map(entries))) => {
                let labels = entries
                    .iter()
                    .filter_map(|(k, v)| Some((k.as_str()?.to_string(), v.as_str()?.to_string())))
                    .collect();
                source.get_or_insert_with(|| SourceMatch {
                    labels: Labels::new(),
                    namespace: None,
                });
                if let Some(s) = source.as_mut() {
                    s.labels = labels;
                }
            }
            ("sourceNamespace", t) => match scalar(t) {
                Some(v) => {
                    let s = source.get_or_insert_with(|| SourceMatch {
                        labels: Labels::new(),
                        namespace: None,
                    });
                    s.namespace = Some(v.to_string());
                }
                None => return unsupported(),
            },
            ("sniHosts", t) => c.sni = list(t),
            ("destinationSubnets", t) => subnets = list(t),
            ("ignoreUriCase", t) if scalar(t) == Some("false") => {}
            ("gateways", _) => {}
            _ => return unsupported(),
        }
    }
    c.source = source;
    c.headers.sort_by(|a, b| a.0.cmp(&b.0));
    c.query.sort_by(|a, b| a.0.cmp(&b.0));
    c.sni.sort();
    Ok((c, subnets))
}
