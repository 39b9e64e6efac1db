//! The checks of the catalogue that apply to existing manifests, with the compiler's codes.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::model::{
    DestinationRule, Gateway, HttpRoute, Labels, Manifests, Match, Service, ServiceEntry, Test, VirtualService,
    Workload,
};
use super::yaml::Value;
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::source::Span;

/// Istio's protocols, as Service port name prefixes and `appProtocol` values.
const PROTOCOLS: &[&str] = &[
    "grpc", "grpc-web", "http", "http2", "https", "mongo", "mysql", "redis", "tcp", "tls", "udp",
];

/// What a destination host names.
#[derive(Clone, Copy)]
enum Target<'a> {
    Service(&'a Service),
    Entry(&'a ServiceEntry),
}

/// Every check, in a fixed order (the caller sorts).
pub(super) fn check(m: &Manifests) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let ix = &Index::new(m);
    for vs in &m.virtual_services {
        virtual_service(ix, vs, &mut out);
    }
    for dr in &m.destination_rules {
        subsets(ix, dr, &mut out);
    }
    for w in &m.workloads {
        unselected(ix, w, &mut out);
    }
    gateways(&m.gateways, &mut out);
    repeated_hosts(ix, &mut out);
    for s in &m.services {
        protocols(s, &mut out);
    }
    out
}

/// Lookups the checks repeat, built once: Services by name and namespace, ServiceEntries
/// by host, DestinationRules by the object their host names, workloads by namespace.
struct Index<'a> {
    m: &'a Manifests,
    services: HashMap<(&'a str, &'a str), &'a Service>,
    entry_hosts: HashMap<&'a str, &'a ServiceEntry>,
    wildcard_entries: Vec<(&'a str, &'a ServiceEntry)>,
    rules: HashMap<(u8, usize), Vec<&'a DestinationRule>>,
    workloads: HashMap<&'a str, Vec<&'a Workload>>,
    /// Mesh VirtualServices that route some destination by subset, by the object of a host.
    splits: HashMap<(u8, usize), &'a VirtualService>,
}

impl<'a> Index<'a> {
    fn new(m: &'a Manifests) -> Self {
        let mut ix = Index {
            m,
            services: m
                .services
                .iter()
                .rev()
                .map(|s| ((&*s.meta.name, &*s.meta.namespace), s))
                .collect(),
            entry_hosts: HashMap::new(),
            wildcard_entries: Vec::new(),
            rules: HashMap::new(),
            workloads: HashMap::new(),
            splits: HashMap::new(),
        };
        for e in &m.service_entries {
            for h in &e.hosts {
                match h.value.strip_prefix('*') {
                    Some(suffix) => ix.wildcard_entries.push((suffix, e)),
                    None => {
                        ix.entry_hosts.entry(&h.value).or_insert(e);
                    }
                }
            }
        }
        for dr in &m.destination_rules {
            if let Some(t) = ix.resolve(&dr.host.value, &dr.meta.namespace) {
                ix.rules.entry(key(t)).or_default().push(dr);
            }
        }
        for w in &m.workloads {
            ix.workloads.entry(&w.meta.namespace).or_default().push(w);
        }
        for vs in &m.virtual_services {
            let split = all_routes(vs).flat_map(|r| &r.destinations).any(|d| d.subset.is_some());
            if vs.applies_to_mesh() && split {
                for h in &vs.hosts {
                    if let Some(t) = ix.resolve(&h.value, &vs.meta.namespace) {
                        ix.splits.entry(key(t)).or_insert(vs);
                    }
                }
            }
        }
        ix
    }

    /// `name`, `name.ns`, `name.ns.svc` and `name.ns.svc.<domain>` name Services; any
    /// host may name a ServiceEntry. `None` for hosts outside the manifests (external
    /// names, wildcards).
    fn resolve(&self, host: &str, namespace: &str) -> Option<Target<'a>> {
        if let Some(entry) = self.entry_hosts.get(host) {
            return Some(Target::Entry(entry));
        }
        if let Some((_, entry)) = self.wildcard_entries.iter().find(|(suffix, _)| host.ends_with(suffix)) {
            return Some(Target::Entry(entry));
        }
        let (name, ns) = service_name(host, namespace)?;
        self.services.get(&(name, ns)).copied().map(Target::Service)
    }

    /// The DestinationRules whose host names `target`.
    fn rules_for(&self, target: Target<'_>) -> &[&'a DestinationRule] {
        self.rules.get(&key(target)).map_or(&[], Vec::as_slice)
    }

    fn workloads_in(&self, namespace: &str) -> &[&'a Workload] {
        self.workloads.get(namespace).map_or(&[], Vec::as_slice)
    }
}

/// An object's identity, for maps.
fn key(t: Target<'_>) -> (u8, usize) {
    match t {
        Target::Service(s) => (0, std::ptr::from_ref(s) as usize),
        Target::Entry(e) => (1, std::ptr::from_ref(e) as usize),
    }
}

/// The Service name and namespace a host stands for, when it has the form of one.
fn service_name<'h>(host: &'h str, namespace: &'h str) -> Option<(&'h str, &'h str)> {
    let parts: Vec<&str> = host.split('.').collect();
    match parts.as_slice() {
        [name] => Some((name, namespace)),
        [name, ns] => Some((name, ns)),
        [name, ns, "svc", ..] => Some((name, ns)),
        _ => None,
    }
}

/// Whether a host has the form of a Service of the cluster (so that not finding it is a
/// mistake rather than an outside name).
fn is_cluster_host(host: &str) -> bool {
    !host.contains('*') && service_name(host, "").is_some()
}

fn target_ports(t: Target<'_>) -> BTreeSet<i64> {
    match t {
        Target::Service(s) => s.ports.iter().map(|p| p.number).collect(),
        Target::Entry(e) => e.ports.iter().map(|p| p.number).collect(),
    }
}

fn target_name(t: Target<'_>) -> &str {
    match t {
        Target::Service(s) => &s.meta.name,
        Target::Entry(e) => &e.meta.name,
    }
}

/// The `http`, `tcp` and `tls` routes of a VirtualService.
fn all_routes(vs: &VirtualService) -> impl Iterator<Item = &HttpRoute> {
    vs.http.iter().chain(&vs.tcp).chain(&vs.tls)
}

/// A TCP or TLS route list of a VirtualService: the word its routes are called by, and the
/// protocols of the ports it applies to.
struct Kind {
    word: &'static str,
    protocols: &'static [&'static str],
}

const TCP: Kind = Kind {
    word: "tcp ",
    protocols: &["tcp", "mongo", "mysql", "redis"],
};
const TLS: Kind = Kind {
    word: "tls ",
    protocols: &["tls", "https"],
};

fn virtual_service(ix: &Index<'_>, vs: &VirtualService, out: &mut Vec<Diagnostic>) {
    let ns = &vs.meta.namespace;
    for route in all_routes(vs) {
        destinations(ix, vs, route, out);
    }
    // Mesh routes each service's versions by subset: a gateway route to the bare host
    // sends to every version, bypassing them.
    if !vs.applies_to_mesh() {
        for d in all_routes(vs).flat_map(|r| &r.destinations) {
            if d.subset.is_some() {
                continue;
            }
            let Some(target) = ix.resolve(&d.host.value, ns) else {
                continue;
            };
            let split = ix.splits.get(&key(target));
            // With one version, every version is the one the mesh routes to: nothing is
            // bypassed (as M3018 on a .mesh, which needs several versions).
            if let Some(split) = split.filter(|split| versions(ix, target, split).len() > 1) {
                out.push(
                    Diagnostic::warning(
                        Code::IngressSplit,
                        d.host.span,
                        format!(
                            "this gateway route sends to every version of `{}`, bypassing the version routes of the VirtualService `{}`",
                            d.host.value, split.meta.name
                        ),
                    )
                    .label("no subset")
                    .note(split.meta.span, "these routes split the service by version for the mesh only")
                    .help(format!(
                        "add `mesh` to the `gateways` of `{}`, or route to subsets here",
                        split.meta.name
                    )),
                );
            }
        }
    }
    shadowed(ix, vs, &vs.http, "", out);
    shadowed(ix, vs, &vs.tcp, TCP.word, out);
    shadowed(ix, vs, &vs.tls, TLS.word, out);
    for (routes, kind) in [(&vs.tcp, &TCP), (&vs.tls, &TLS)] {
        portless(ix, vs, routes, kind, out);
    }
}

/// The versions of a service that a mesh VirtualService routes by subset: the subsets it
/// names for the service, and those its DestinationRules define.
fn versions<'a>(ix: &Index<'a>, target: Target<'a>, split: &'a VirtualService) -> BTreeSet<&'a str> {
    let named = all_routes(split)
        .flat_map(|r| &r.destinations)
        .filter(|d| {
            ix.resolve(&d.host.value, &split.meta.namespace)
                .is_some_and(|t| key(t) == key(target))
        })
        .filter_map(|d| d.subset.as_ref().map(|s| s.value.as_str()));
    let defined = ix
        .rules
        .get(&key(target))
        .into_iter()
        .flatten()
        .flat_map(|dr| &dr.subsets)
        .map(|s| s.name.value.as_str());
    named.chain(defined).collect()
}

/// The protocol a port says it carries (`appProtocol`, else its name's prefix), if one
/// Istio knows.
fn port_protocol(port: &super::model::ServicePort) -> Option<String> {
    let said = port
        .app_protocol
        .clone()
        .or_else(|| {
            port.name
                .as_deref()
                .map(|n| n.split('-').next().unwrap_or_default().to_string())
        })?
        .to_ascii_lowercase();
    PROTOCOLS.contains(&said.as_str()).then_some(said)
}

/// Mesh `tcp` or `tls` routes for a host none of whose ports carries that protocol apply to
/// nothing: Istio uses each section only on ports of its protocol.
fn portless(ix: &Index<'_>, vs: &VirtualService, routes: &[HttpRoute], kind: &Kind, out: &mut Vec<Diagnostic>) {
    let Some(first) = routes.first() else { return };
    if !vs.applies_to_mesh() {
        return;
    }
    for host in &vs.hosts {
        let Some(target) = ix.resolve(&host.value, &vs.meta.namespace) else {
            continue;
        };
        let ports: &[super::model::ServicePort] = match target {
            Target::Service(s) => &s.ports,
            Target::Entry(e) => &e.ports,
        };
        let protocols: Vec<Option<String>> = ports.iter().map(port_protocol).collect();
        // A port that names no protocol (M3004) may carry anything.
        let carried = protocols
            .iter()
            .any(|p| p.as_deref().is_none_or(|p| kind.protocols.contains(&p)));
        if ports.is_empty() || carried {
            continue;
        }
        let said: Vec<String> = ports
            .iter()
            .zip(&protocols)
            .map(|(port, p)| format!("{} ({})", port.number, p.as_deref().unwrap_or("?")))
            .collect();
        out.push(
            Diagnostic::error(
                Code::NoHttpPort,
                first.span,
                format!(
                    "these {}routes of `{}` apply to no port: `{}` has no {} port",
                    kind.word,
                    vs.meta.name,
                    target_name(target),
                    kind.protocols
                        .iter()
                        .map(|p| format!("`{p}`"))
                        .collect::<Vec<_>>()
                        .join(" or ")
                ),
            )
            .label(format!("never used for {}", host.value))
            .note(host.span, format!("its ports are {}", said.join(", ")))
            .help(format!(
                "name the port `{0}-...` or set `appProtocol: {0}` if it carries this protocol; else move the routes to the section of the port's protocol",
                kind.protocols[0]
            )),
        );
        return;
    }
}

fn destinations(ix: &Index<'_>, vs: &VirtualService, route: &HttpRoute, out: &mut Vec<Diagnostic>) {
    let ns = &vs.meta.namespace;
    for d in &route.destinations {
        let Some(target) = ix.resolve(&d.host.value, ns) else {
            if is_cluster_host(&d.host.value) {
                out.push(
                    Diagnostic::error(
                        Code::UnknownService,
                        d.host.span,
                        format!("no Service or ServiceEntry `{}` in the manifests", d.host.value),
                    )
                    .label("unknown host")
                    .help(format!(
                        "a short host is a Service in the VirtualService's namespace `{ns}`; write `NAME.NAMESPACE` for another namespace, or lint the files that declare it too"
                    )),
                );
            }
            continue;
        };
        if let Some(subset) = &d.subset {
            let rules = ix.rules_for(target);
            if !rules
                .iter()
                .any(|dr| dr.subsets.iter().any(|s| s.name.value == subset.value))
            {
                let known: Vec<String> = rules
                    .iter()
                    .flat_map(|dr| &dr.subsets)
                    .map(|s| format!("`{}`", s.name.value))
                    .collect();
                let mut diagnostic = Diagnostic::error(
                    Code::UnknownVersion,
                    subset.span,
                    format!("`{}` has no subset `{}`", d.host.value, subset.value),
                )
                .label("unknown subset");
                diagnostic = match rules.first() {
                    None => diagnostic.help(format!(
                        "no DestinationRule in the manifests has the host `{}`: declare the subset in one",
                        d.host.value
                    )),
                    Some(dr) => diagnostic
                        .note(dr.host.span, "the subsets of this host are declared here")
                        .help(format!("its subsets are {}", known.join(", "))),
                };
                out.push(diagnostic);
            }
        }
        let ports = target_ports(target);
        match &d.port {
            Some(port) if !ports.is_empty() && !ports.contains(&port.value) => out.push(
                Diagnostic::error(
                    Code::UnknownPort,
                    port.span,
                    format!("`{}` has no port {}", target_name(target), port.value),
                )
                .label("unknown port")
                .help(format!("its ports are {}", join(&ports))),
            ),
            None if ports.len() > 1 => out.push(
                Diagnostic::error(
                    Code::PortRequired,
                    d.host.span,
                    format!(
                        "`{}` has several ports; this destination names none",
                        target_name(target)
                    ),
                )
                .label("which port?")
                .help(format!("add `port: {{number: N}}`, one of {}", join(&ports))),
            ),
            _ => {}
        }
    }
    weights(route, out);
}

fn join(ports: &BTreeSet<i64>) -> String {
    ports.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
}

fn weights(route: &HttpRoute, out: &mut Vec<Diagnostic>) {
    for w in route.destinations.iter().filter_map(|d| d.weight.as_ref()) {
        if !(0..=100).contains(&w.value) {
            out.push(
                Diagnostic::error(
                    Code::BadWeight,
                    w.span,
                    format!("the weight {} is not from 0 to 100", w.value),
                )
                .label("bad weight")
                .help("a weight is a whole percentage from 0 to 100"),
            );
        }
    }
    if route.destinations.len() > 1 {
        let sum: i64 = route
            .destinations
            .iter()
            .filter_map(|d| d.weight.as_ref())
            .map(|w| w.value)
            .sum();
        if sum != 100 {
            let (Some(first), Some(last)) = (route.destinations.first(), route.destinations.last()) else {
                return;
            };
            out.push(
                Diagnostic::error(
                    Code::WeightSum,
                    first.span.to(last.span),
                    format!("the weights of this split add up to {sum}, not 100"),
                )
                .label(format!("{sum}%"))
                .help("give each destination a `weight`, together 100"),
            );
        }
    }
}

/// Whether alternative `a` takes every request alternative `b` takes. `ports` are the only
/// ports requests can arrive on, when known.
fn covers(a: &Match, b: &Match, ports: Option<&BTreeSet<i64>>) -> bool {
    let case = |m: &Match| m.conditions.iter().any(|c| c.field == "ignoreUriCase");
    let has_uri = a.conditions.iter().any(|c| c.field == "uri");
    if has_uri && case(a) != case(b) {
        return false;
    }
    a.conditions.iter().all(|c| {
        let trivial = match (&*c.field, &c.test) {
            ("uri", Test::Prefix(p)) => p == "/",
            ("port", Test::Port(p)) => ports.is_some_and(|ports| ports.len() == 1 && ports.contains(p)),
            ("ignoreUriCase", _) => true,
            _ => false,
        };
        trivial
            || b.conditions
                .iter()
                .any(|d| d.field == c.field && implies(&d.test, &c.test, c.field.starts_with("withoutHeaders.")))
    })
}

/// Whether every value that passes `b` passes `a`.
fn implies(b: &Test, a: &Test, negative: bool) -> bool {
    match (b, a) {
        (Test::Exact(x), Test::Exact(y)) | (Test::Prefix(x), Test::Prefix(y)) | (Test::Regex(x), Test::Regex(y)) => {
            x == y || (!negative && matches!(a, Test::Prefix(_)) && x.starts_with(y.as_str()))
        }
        (Test::Exact(x), Test::Prefix(p)) => !negative && x.starts_with(p.as_str()),
        (Test::Port(x), Test::Port(y)) => x == y,
        (Test::Other(x), Test::Other(y)) => same(x, y),
        _ => false,
    }
}

/// Structural equality, spans aside.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::Scalar { text: x, .. }, Value::Scalar { text: y, .. }) => x == y,
        (Value::Seq(x), Value::Seq(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(&p.value, &q.value)),
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((k1, v1), (k2, v2))| same(&k1.value, &k2.value) && same(&v1.value, &v2.value))
        }
        _ => false,
    }
}

/// The ports requests to a VirtualService can arrive on, when the manifests say.
fn arrival_ports(ix: &Index<'_>, vs: &VirtualService) -> Option<BTreeSet<i64>> {
    let mut ports = BTreeSet::new();
    if vs.applies_to_mesh() {
        for host in &vs.hosts {
            ports.extend(target_ports(ix.resolve(&host.value, &vs.meta.namespace)?));
        }
    }
    for name in vs.gateways.iter().filter(|g| g.value != "mesh") {
        let (ns, name) = name.value.split_once('/').unwrap_or((&vs.meta.namespace, &name.value));
        let gateway: &Gateway =
            ix.m.gateways
                .iter()
                .find(|g| g.meta.name == name && g.meta.namespace == ns)?;
        ports.extend(gateway.servers.iter().map(|s| s.port.value));
    }
    (!ports.is_empty()).then_some(ports)
}

/// Istio takes the first route that matches: a route whose every alternative an earlier
/// route already takes is unreachable (M3012); one such alternative alone is ineffective
/// (M3020).
fn shadowed(ix: &Index<'_>, vs: &VirtualService, routes: &[HttpRoute], kind: &str, out: &mut Vec<Diagnostic>) {
    let ports = arrival_ports(ix, vs);
    let everything = |r: &HttpRoute| {
        if r.matches.is_empty() {
            vec![Match {
                span: r.span,
                conditions: Vec::new(),
            }]
        } else {
            r.matches.clone()
        }
    };
    let all: Vec<Vec<Match>> = routes.iter().map(everything).collect();
    for (i, route) in routes.iter().enumerate() {
        let alternatives = &all[i];
        let covering: Vec<Option<(usize, &Match)>> = alternatives
            .iter()
            .map(|b| {
                all[..i]
                    .iter()
                    .enumerate()
                    .find_map(|(j, earlier)| earlier.iter().find(|a| covers(a, b, ports.as_ref())).map(|a| (j, a)))
            })
            .collect();
        let name = |r: &HttpRoute, k: usize| {
            r.name.as_ref().map_or_else(
                || format!("{kind}route {}", k + 1),
                |n| format!("{kind}route `{}`", n.value),
            )
        };
        if covering.iter().all(Option::is_some) {
            let Some(Some((j, a))) = covering.first() else { continue };
            let span = route.name.as_ref().map_or(alternatives[0].span, |n| n.span);
            let what = if a.conditions.is_empty() {
                "it matches every request".to_string()
            } else {
                "it matches every request this one matches".to_string()
            };
            out.push(
                Diagnostic::error(
                    Code::UnreachableRoute,
                    span,
                    format!("{} can never match: {} takes its requests first", name(route, i), name(&routes[*j], *j)),
                )
                .label("unreachable")
                .note(a.span, what)
                .help("Istio uses the first route that matches: put the more specific route first, or narrow the earlier match"),
            );
        } else {
            for (b, c) in alternatives.iter().zip(&covering) {
                if let Some((j, a)) = c {
                    out.push(
                        Diagnostic::warning(
                            Code::IneffectiveMatch,
                            b.span,
                            format!(
                                "this match of {} can never be used: {} takes its requests first",
                                name(route, i),
                                name(&routes[*j], *j)
                            ),
                        )
                        .label("ineffective")
                        .note(a.span, "this earlier match takes them")
                        .help("remove this alternative, or move the route above the earlier one"),
                    );
                }
            }
        }
    }
}

/// The workloads a selector picks in a namespace.
fn selected<'a>(
    ix: &Index<'a>,
    namespace: &str,
    selector: &[(&String, &String)],
    services_only: bool,
) -> Vec<&'a Workload> {
    ix.workloads_in(namespace)
        .iter()
        .copied()
        .filter(|w| !services_only || w.backs_services())
        .filter(|w| w.selected_by(selector.iter().copied()))
        .collect()
}

fn pairs(labels: &Labels) -> impl Iterator<Item = (&String, &String)> {
    labels.iter().map(|(k, v)| (k, &v.value))
}

/// A subset selects the workloads of its host that carry its labels too.
fn subsets(ix: &Index<'_>, dr: &DestinationRule, out: &mut Vec<Diagnostic>) {
    let Some(target) = ix.resolve(&dr.host.value, &dr.meta.namespace) else {
        return;
    };
    let (namespace, base, services_only): (&str, &Labels, bool) = match target {
        Target::Service(s) => match &s.selector {
            Some(selector) if !s.headless => (&s.meta.namespace, selector, true),
            _ => return,
        },
        Target::Entry(e) => match &e.workload_selector {
            Some(selector) => (&e.meta.namespace, selector, false),
            None => return,
        },
    };
    // Workloads kept elsewhere: nothing to compare with.
    if ix.workloads_in(namespace).is_empty() {
        return;
    }
    for subset in &dr.subsets {
        let selector: Vec<(&String, &String)> = pairs(base).chain(pairs(&subset.labels)).collect();
        if selected(ix, namespace, &selector, services_only).is_empty() {
            let wanted = selector
                .iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect::<Vec<_>>()
                .join(", ");
            out.push(
                Diagnostic::error(
                    Code::EmptySubset,
                    subset.name.span,
                    format!(
                        "subset `{}` of `{}` selects no workload",
                        subset.name.value, dr.host.value
                    ),
                )
                .label("no workload")
                .note(
                    match target {
                        Target::Service(s) => s.selector_span,
                        Target::Entry(e) => e.meta.span,
                    },
                    format!("a workload of `{}` needs the labels {wanted}", target_name(target)),
                )
                .help("give a Deployment's pod template or a WorkloadEntry these labels, or fix the subset's labels"),
            );
        }
    }
}

/// A workload that carries a subset's labels but is not selected by the subset's Service
/// (and no other Service or ServiceEntry) receives none of its traffic.
fn unselected(ix: &Index<'_>, w: &Workload, out: &mut Vec<Diagnostic>) {
    let ns = &w.meta.namespace;
    let by_service = ix.m.services.iter().any(|s| {
        s.meta.namespace == *ns
            && s.selector
                .as_ref()
                .is_some_and(|sel| !s.headless && w.backs_services() && w.selected_by(pairs(sel)))
    });
    let by_entry = ix.m.service_entries.iter().any(|e| {
        e.meta.namespace == *ns
            && e.workload_selector
                .as_ref()
                .is_some_and(|sel| w.selected_by(pairs(sel)))
    });
    if by_service || by_entry || !w.backs_services() {
        return;
    }
    // The Service the workload is meant for: one whose subset labels it carries, else, for
    // a VM, the only Service in its namespace whose selector keys it has.
    let meant = ix.m.destination_rules.iter().find_map(|dr| {
        let Some(Target::Service(s)) = ix.resolve(&dr.host.value, &dr.meta.namespace) else {
            return None;
        };
        let subset = dr
            .subsets
            .iter()
            .find(|sub| !sub.labels.is_empty() && w.selected_by(pairs(&sub.labels)))?;
        (s.meta.namespace == *ns && s.selector.is_some()).then_some((s, Some(subset)))
    });
    let meant = meant.or_else(|| {
        if w.kind != super::model::WorkloadKind::Vm {
            return None;
        }
        let candidates: Vec<&Service> =
            ix.m.services
                .iter()
                .filter(|s| {
                    s.meta.namespace == *ns
                        && s.selector
                            .as_ref()
                            .is_some_and(|sel| sel.keys().all(|k| w.labels.contains_key(k)))
                })
                .collect();
        match candidates.as_slice() {
            [only] => Some((*only, None)),
            _ => None,
        }
    });
    let Some((service, subset)) = meant else { return };
    let Some(selector) = &service.selector else { return };
    let differing: Vec<(&String, &String)> = pairs(selector)
        .filter(|(k, v)| w.labels.get(*k).is_none_or(|l| &l.value != *v))
        .collect();
    let Some((key, _)) = differing.first() else { return };
    let (span, label) = match w.labels.get(*key) {
        Some(l) => (l.span, format!("`{key}: {}` here", l.value)),
        None => (w.labels_span, format!("no `{key}` label")),
    };
    let wants = differing
        .iter()
        .map(|(k, v)| format!("`{k}: {v}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let why = match subset {
        Some(sub) => format!(" although it carries the labels of its subset `{}`", sub.name.value),
        None => String::new(),
    };
    out.push(
        Diagnostic::error(
            Code::LabelMismatch,
            span,
            format!(
                "the {} `{}` is not selected by the Service `{}`{why}: it receives none of its traffic",
                w.kind_name, w.meta.name, service.meta.name
            ),
        )
        .label(label)
        .note(service.selector_span, format!("the Service selects {}", wants))
        .help(format!("set {wants} on the {}", w.kind_name)),
    );
}

/// Sidecars take one VirtualService per host: a second one for the same Service in the
/// mesh is ignored or merged unpredictably (istioctl IST0109).
fn repeated_hosts(ix: &Index<'_>, out: &mut Vec<Diagnostic>) {
    let mut first: HashMap<(u8, usize), (&VirtualService, Span)> = HashMap::new();
    for vs in ix.m.virtual_services.iter().filter(|v| v.applies_to_mesh()) {
        for host in &vs.hosts {
            let Some(target) = ix.resolve(&host.value, &vs.meta.namespace) else {
                continue;
            };
            match first.get(&key(target)) {
                Some((earlier, span)) if !std::ptr::eq(*earlier, vs) => out.push(
                    Diagnostic::error(
                        Code::Duplicate,
                        host.span,
                        format!(
                            "the VirtualServices `{}` and `{}` both route `{}` in the mesh",
                            earlier.meta.name,
                            vs.meta.name,
                            target_name(target)
                        ),
                    )
                    .label("second VirtualService for this host")
                    .note(*span, "the first")
                    .help("put the routes of one host in one VirtualService"),
                ),
                Some(_) => {}
                None => {
                    first.insert(key(target), (vs, host.span));
                }
            }
        }
    }
}

/// Hosts two gateway servers could both claim.
fn overlap(a: &str, b: &str) -> bool {
    let strip = |h: &'_ str| -> String { h.rsplit('/').next().unwrap_or(h).to_string() };
    let (a, b) = (strip(a), strip(b));
    let wild = |w: &str, h: &str| w == "*" || w.strip_prefix('*').is_some_and(|s| h.ends_with(s));
    a == b || wild(&a, &b) || wild(&b, &a)
}

fn gateways(gateways: &[Gateway], out: &mut Vec<Diagnostic>) {
    let values =
        |l: &Labels| -> BTreeMap<String, String> { l.iter().map(|(k, v)| (k.clone(), v.value.clone())).collect() };
    for (i, g) in gateways.iter().enumerate() {
        for server in &g.servers {
            if let Some(p) = &server.protocol {
                let known = ["HTTP", "HTTPS", "GRPC", "HTTP2", "MONGO", "TCP", "TLS"];
                if !known.contains(&p.value.to_ascii_uppercase().as_str()) {
                    out.push(
                        Diagnostic::error(
                            Code::UnknownProtocol,
                            p.span,
                            format!("`{}` is not a gateway protocol", p.value),
                        )
                        .label("unknown protocol")
                        .help("a gateway server's protocol is one of HTTP, HTTPS, GRPC, HTTP2, MONGO, TCP, TLS"),
                    );
                }
            }
            let clash = gateways[..i]
                .iter()
                .filter(|e| values(&e.selector) == values(&g.selector))
                .find_map(|e| {
                    e.servers
                        .iter()
                        .find(|s| {
                            s.port.value == server.port.value
                                && s.hosts
                                    .iter()
                                    .any(|h| server.hosts.iter().any(|k| overlap(&h.value, &k.value)))
                        })
                        .map(|s| (e, s))
                });
            if let Some((earlier, s)) = clash {
                out.push(
                    Diagnostic::error(
                        Code::ConflictingListeners,
                        server.port.span,
                        format!(
                            "the gateways `{}` and `{}` both listen on port {} of the same workloads for the same hosts",
                            earlier.meta.name, g.meta.name, server.port.value
                        ),
                    )
                    .label("conflicting listener")
                    .note(s.port.span, "the other listener")
                    .help("merge the servers into one Gateway, or give them hosts that do not overlap"),
                );
            }
        }
    }
}

/// Istio reads a Service port's protocol from `appProtocol` or the port name's prefix.
fn protocols(s: &Service, out: &mut Vec<Diagnostic>) {
    for port in &s.ports {
        if port
            .app_protocol
            .as_deref()
            .is_some_and(|p| PROTOCOLS.contains(&p.to_ascii_lowercase().as_str()))
        {
            continue;
        }
        let named = port.name.as_deref().is_some_and(|n| {
            PROTOCOLS
                .iter()
                .any(|p| n == *p || n.strip_prefix(p).is_some_and(|rest| rest.starts_with('-')))
        });
        if !named {
            out.push(
                Diagnostic::warning(
                    Code::UnknownProtocol,
                    port.span,
                    format!(
                        "Istio cannot tell the protocol of port {} of `{}`",
                        port.number, s.meta.name
                    ),
                )
                .label(match &port.name {
                    Some(n) => format!("`{n}` names no protocol"),
                    None => "no name".to_string(),
                })
                .help("name the port `<protocol>[-<suffix>]` (e.g. `http-web`) or set `appProtocol`"),
            );
        }
    }
}
