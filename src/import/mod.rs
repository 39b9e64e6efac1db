//! `meshc import`: existing Kubernetes and Istio manifests → a `.mesh` in `fmt` layout.
//!
//! | step | input → output |
//! |---|---|
//! | read | YAML text → objects (kind, namespace, name, node), sorted so that file order does not matter |
//! | services | Services → `service` blocks; the name the `.mesh` gives each is the part of its Service name that the names of its other objects share |
//! | naming | the generated names of the objects → the `naming` templates that reproduce most of them |
//! | versions | Deployments, WorkloadEntries and WorkloadGroups → `pod` and `vm` versions of the service that selects them |
//! | traffic | DestinationRules, VirtualServices, Gateways, ServiceEntries, AuthorizationPolicies → policies, routes, gateways, externals, `calls` |
//! | write | blocks → text → [`crate::syntax::format`] |
//!
//! What meshc derives on its own (the Namespace, ServiceAccounts, the STRICT
//! PeerAuthentication, `allow-nothing`, subsets, the default route) is not written; what
//! has no `.mesh` form is a comment `# meshc import: not carried over: WHAT (FILE:LINE)`
//! where it would have gone. A WorkloadEntry whose labels no Service selects is still
//! imported as a version of the service that names its version in a subset, with the
//! labels it has, so that `meshc build` reports the mismatch (M3011).

mod gateway_api;
mod policy;
mod read;
mod routes;
mod text;
mod workload;

use std::collections::{BTreeMap, BTreeSet};

use crate::diagnostic::Diagnostic;
use crate::manifests::yaml::{self, Node, Value};
use crate::source::Source;
use read::{Obj, Places};
use text::{is_label_key, is_name, quote, Block};

/// The `.mesh` text, or why the manifests could not be read.
#[derive(Debug, Clone, Default)]
pub struct Imported {
    pub text: String,
    /// YAML errors (the text is then empty).
    pub diagnostics: Vec<Diagnostic>,
}

/// Reads the sources as YAML streams and writes the `.mesh` they describe.
pub fn import(sources: &[Source]) -> Imported {
    let mut documents = Vec::new();
    for (id, source) in sources.iter().enumerate() {
        match yaml::parse(id, &source.text) {
            Ok(docs) => documents.extend(docs),
            // The same reading as `meshc lint`, for its diagnostics at the place the text
            // stops being YAML.
            Err(_) => {
                return Imported {
                    text: String::new(),
                    diagnostics: crate::manifests::read(sources).1,
                }
            }
        }
    }
    let places = Places::new(sources);
    let (objects, nameless) = read::objects(&documents, sources);
    let mut file = Block::default();
    let mut spans: Vec<_> = nameless.iter().map(|n| n.span).collect();
    spans.sort_by_key(|s| (sources.get(s.source).map(|s| s.name.clone()), s.start));
    for span in spans {
        file.comment(places.lost("a document without `kind` or `metadata.name`", span));
    }
    let mesh = Mesh::new(&objects);
    // Every namespace's `calls` first: a caller may sit in another namespace.
    let namespaces: Vec<NsImport<'_, '_>> = mesh
        .namespaces()
        .into_iter()
        .map(|n| NsImport::new(&mesh, n, &places))
        .collect();
    let mut handled = BTreeSet::new();
    let mut calls = Calls::default();
    for ns in &namespaces {
        ns.calls(&mut handled, &mut calls);
    }
    for (position, ns) in namespaces.into_iter().enumerate() {
        file.block(ns.block(position + 1, &calls, &mut handled));
    }
    let mut text = String::new();
    file.write_lines(0, &mut text);
    let text = match crate::syntax::format(0, &text) {
        Ok(formatted) => formatted,
        Err(_) => text,
    };
    Imported {
        text,
        diagnostics: Vec::new(),
    }
}

/// One Service, as a `.mesh` service.
struct Svc<'a> {
    obj: Obj<'a>,
    name: String,
    selector: BTreeMap<&'a str, &'a str>,
}

/// Every object, and the services found in every namespace.
struct Mesh<'a> {
    objects: Vec<Obj<'a>>,
    services: Vec<Svc<'a>>,
    /// The Services of single versions that meshc writes for Gateway API backends
    /// (`hello2-svc-v1`): (namespace, name) → (the service's Service name, the version).
    version_services: BTreeMap<(&'a str, &'a str), (&'a str, &'a str)>,
    /// Indexes, so that large inputs stay fast: the objects of each namespace (they are
    /// sorted by namespace), each object's position by its node's address, the services
    /// by (namespace, Service name) and by (namespace, account), and the names of the
    /// DestinationRules and VirtualServices of each (namespace, host's Service name).
    ranges: BTreeMap<&'a str, std::ops::Range<usize>>,
    kinds: BTreeMap<(&'a str, &'a str), std::ops::Range<usize>>,
    positions: BTreeMap<usize, usize>,
    by_name: BTreeMap<(&'a str, &'a str), usize>,
    by_account: BTreeMap<(&'a str, &'a str), usize>,
    host_objects: BTreeMap<(&'a str, &'a str), Vec<&'a str>>,
    /// Each object's workload labels (empty for other kinds), and the workloads by
    /// (namespace, label key, label value).
    labels: Vec<BTreeMap<&'a str, &'a str>>,
    by_label: BTreeMap<(&'a str, &'a str, &'a str), Vec<usize>>,
}

const DEFAULT_NAMING: &[(&str, &str)] = &[
    ("service", "{service}"),
    ("workload", "{service}"),
    ("deployment", "{service}-{version}"),
    ("account", "{service}"),
    ("entry", "{service}-{version}-{address}"),
    ("destinationrule", "{service}"),
    ("virtualservice", "{service}"),
    ("gateway-routes", "{gateway}"),
];

impl<'a> Mesh<'a> {
    fn new(objects: &[Obj<'a>]) -> Self {
        let mut mesh = Mesh {
            objects: objects.to_vec(),
            services: Vec::new(),
            version_services: BTreeMap::new(),
            ranges: BTreeMap::new(),
            kinds: BTreeMap::new(),
            positions: BTreeMap::new(),
            by_name: BTreeMap::new(),
            by_account: BTreeMap::new(),
            host_objects: BTreeMap::new(),
            labels: objects.iter().map(workload_labels).collect(),
            by_label: BTreeMap::new(),
        };
        for (i, labels) in mesh.labels.iter().enumerate() {
            for (k, v) in labels {
                mesh.by_label.entry((objects[i].namespace, *k, *v)).or_default().push(i);
            }
        }
        for (i, o) in objects.iter().enumerate() {
            let range = mesh.ranges.entry(o.namespace).or_insert(i..i);
            range.end = i + 1;
            let range = mesh.kinds.entry((o.namespace, o.kind)).or_insert(i..i);
            range.end = i + 1;
            mesh.positions.insert(std::ptr::from_ref(o.node) as usize, i);
            let host = match o.kind {
                "DestinationRule" => o.str(&["host"]),
                "VirtualService" if o.spec(&["gateways"]).is_none() => o
                    .spec(&["hosts"])
                    .and_then(|h| h.items().first())
                    .and_then(Node::as_str),
                _ => None,
            };
            if let Some(name) = host.and_then(|h| short_host(h, o.namespace)) {
                mesh.host_objects.entry((o.namespace, name)).or_default().push(o.name);
            }
        }
        let services: Vec<&Obj<'a>> = objects
            .iter()
            .filter(|o| o.kind == "Service" && o.api == "v1")
            .collect();
        let selectors: BTreeMap<(&str, &str), BTreeMap<&str, &str>> = services
            .iter()
            .map(|o| ((o.namespace, o.name), labels_of(o.spec(&["selector"]))))
            .collect();
        // `NAME-VERSION` selecting NAME's labels and one more, whose value is VERSION.
        for ((namespace, name), selector) in &selectors {
            let parent = selector.iter().find_map(|(key, version)| {
                let stem = name.strip_suffix(version)?.strip_suffix('-')?;
                let parent = selectors.get(&(*namespace, stem))?;
                let agrees = !parent.is_empty()
                    && parent.len() + 1 == selector.len()
                    && !parent.contains_key(key)
                    && parent.iter().all(|(k, v)| selector.get(k) == Some(v));
                agrees.then_some((stem, *version))
            });
            if let Some(parent) = parent {
                mesh.version_services.insert((*namespace, *name), parent);
            }
        }
        for obj in services {
            if mesh.version_services.contains_key(&(obj.namespace, obj.name)) {
                continue;
            }
            let selector = labels_of(obj.spec(&["selector"]));
            let name = mesh.service_name(obj, &selector);
            let index = mesh.services.len();
            mesh.by_name.entry((obj.namespace, obj.name)).or_insert(index);
            for w in mesh.selected(obj.namespace, &selector) {
                if let Some(account) = workload_account(&w) {
                    mesh.by_account.entry((obj.namespace, account)).or_insert(index);
                }
            }
            mesh.services.push(Svc {
                obj: *obj,
                name,
                selector,
            });
        }
        mesh
    }

    fn namespaces(&self) -> BTreeSet<&'a str> {
        self.objects
            .iter()
            .filter(|o| !self.is_gateway_side(o))
            .map(|o| o.namespace)
            .collect()
    }

    /// Objects meshc writes in the gateway's namespace for a gateway's JWT rules.
    fn is_gateway_side(&self, obj: &Obj<'a>) -> bool {
        matches!(obj.kind, "RequestAuthentication" | "AuthorizationPolicy")
            && obj.namespace == "istio-system"
            && self.jwt_gateway(obj).is_some()
    }

    /// The gateway (namespace, name) whose JWT rule this object is (`NS-GW-jwt`,
    /// `NS-GW-require-jwt`).
    fn jwt_gateway(&self, obj: &Obj<'a>) -> Option<(&'a str, &'a str)> {
        let suffix = if obj.kind == "RequestAuthentication" {
            "-jwt"
        } else {
            "-require-jwt"
        };
        let stem = obj.name.strip_suffix(suffix)?;
        self.objects
            .iter()
            .filter(|g| g.kind == "Gateway" && g.is_istio())
            .find(|g| stem == format!("{}-{}", g.namespace, g.name))
            .map(|g| (g.namespace, g.name))
    }

    /// The workloads (pods' templates' labels) a selector picks in a namespace.
    fn selected(&self, namespace: &str, selector: &BTreeMap<&str, &str>) -> Vec<Obj<'a>> {
        if selector.is_empty() {
            return Vec::new();
        }
        let Some((key, value)) = selector.iter().next() else {
            return Vec::new();
        };
        self.by_label
            .get(&(namespace, key, value))
            .into_iter()
            .flatten()
            .filter(|i| selector.iter().all(|(k, v)| self.labels[**i].get(k) == Some(v)))
            .map(|i| self.objects[*i])
            .collect()
    }

    /// The `.mesh` name of a Service: the run of its name's `-`-separated words that most
    /// of its related names share (the app label, the Deployments, the DestinationRule,
    /// the account, the container).
    fn service_name(&self, svc: &Obj<'a>, selector: &BTreeMap<&str, &str>) -> String {
        let mut evidence: Vec<String> = vec![svc.name.to_string()];
        evidence.extend(selector.values().map(|v| v.to_string()));
        for w in self.selected(svc.namespace, selector) {
            evidence.push(w.name.to_string());
            let spec = w.spec(&["template", "spec"]);
            if let Some(a) = spec.and_then(|s| s.get("serviceAccountName")).and_then(Node::as_str) {
                evidence.push(a.to_string());
            }
            if let Some(c) = spec
                .and_then(|s| s.get("containers"))
                .and_then(|c| c.items().first())
                .and_then(|c| c.get("name"))
                .and_then(Node::as_str)
            {
                evidence.push(c.to_string());
            }
        }
        for name in self.host_objects.get(&(svc.namespace, svc.name)).into_iter().flatten() {
            evidence.push(name.to_string());
        }
        let words: Vec<&str> = svc.name.split('-').take(12).collect();
        let mut best: Option<(usize, usize, String)> = None;
        for start in 0..words.len() {
            for end in start + 1..=words.len() {
                let candidate = words[start..end].join("-");
                if !is_name(&candidate) {
                    continue;
                }
                let score = evidence.iter().filter(|e| find_word(e, &candidate).is_some()).count();
                let key = (score, candidate.len(), candidate);
                if best.as_ref().is_none_or(|b| (key.0, key.1) > (b.0, b.1)) {
                    best = Some(key);
                }
            }
        }
        best.map_or_else(|| svc.name.to_string(), |b| b.2)
    }

    /// The service a host names, seen from a namespace: the Service's name, `NAME.NS`,
    /// `NAME.NS.svc` or `NAME.NS.svc.cluster.local`.
    fn service_by_host(&self, host: &str, from: &str) -> Option<&Svc<'a>> {
        let mut parts = host.splitn(3, '.');
        let name = parts.next()?;
        let namespace = parts.next().unwrap_or(from);
        let rest = parts.next();
        if !(rest.is_none() || rest == Some("svc") || rest.is_some_and(|r| r.starts_with("svc."))) {
            return None;
        }
        self.by_name.get(&(namespace, name)).and_then(|i| self.services.get(*i))
    }

    /// The objects of some kinds in a namespace, with their positions.
    fn of_kinds<'s>(&'s self, namespace: &str, kinds: &'s [&str]) -> impl Iterator<Item = (usize, &'s Obj<'a>)> + 's {
        let ranges: Vec<std::ops::Range<usize>> = kinds
            .iter()
            .filter_map(|k| self.kinds.get(&(namespace, *k)).cloned())
            .collect();
        ranges
            .into_iter()
            .flat_map(move |r| r.map(move |i| (i, &self.objects[i])))
    }

    /// The objects of a namespace, with their positions.
    fn in_namespace(&self, namespace: &str) -> impl Iterator<Item = (usize, &Obj<'a>)> + '_ {
        let range = self.ranges.get(namespace).cloned().unwrap_or(0..0);
        self.objects
            .get(range.clone())
            .unwrap_or_default()
            .iter()
            .enumerate()
            .map(move |(i, o)| (range.start + i, o))
    }

    fn external_by_host(&self, host: &str, namespace: &str) -> Option<Obj<'a>> {
        self.objects
            .iter()
            .filter(|o| o.kind == "ServiceEntry" && o.namespace == namespace)
            .find(|o| {
                o.spec(&["hosts"])
                    .map(Node::items)
                    .unwrap_or_default()
                    .iter()
                    .any(|h| h.as_str() == Some(host))
            })
            .copied()
    }

    /// The service whose workloads run as `account` in `namespace`.
    fn service_by_account(&self, namespace: &str, account: &str) -> Option<&Svc<'a>> {
        self.by_account
            .get(&(namespace, account))
            .and_then(|i| self.services.get(*i))
    }
}

/// The labels of a workload object: a pod template's, a WorkloadEntry's, a WorkloadGroup's
/// template's.
fn workload_labels<'a>(obj: &Obj<'a>) -> BTreeMap<&'a str, &'a str> {
    let node = match obj.kind {
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" => obj.spec(&["template", "metadata", "labels"]),
        "Pod" => obj.node.at(&["metadata", "labels"]),
        "WorkloadEntry" => obj.spec(&["labels"]),
        "WorkloadGroup" => obj.spec(&["template", "labels"]),
        _ => None,
    };
    labels_of(node)
}

fn workload_account<'a>(obj: &Obj<'a>) -> Option<&'a str> {
    match obj.kind {
        "WorkloadEntry" => obj.str(&["serviceAccount"]),
        "WorkloadGroup" => obj.str(&["template", "serviceAccount"]),
        _ => obj
            .spec(&["template", "spec", "serviceAccountName"])
            .and_then(Node::as_str),
    }
}

/// A host's Service name when it names a Service of `namespace`.
fn short_host<'h>(host: &'h str, namespace: &str) -> Option<&'h str> {
    let mut parts = host.splitn(3, '.');
    let name = parts.next()?;
    match parts.next() {
        None => Some(name),
        Some(ns) if ns == namespace => Some(name),
        _ => None,
    }
}

/// Where `word` sits in `text` as a run of whole `-`-separated words.
fn find_word(text: &str, word: &str) -> Option<usize> {
    if word.is_empty() {
        return None;
    }
    let mut from = 0;
    while let Some(i) = text.get(from..).and_then(|t| t.find(word)) {
        let at = from + i;
        let end = at + word.len();
        let before = at == 0 || text.as_bytes().get(at - 1) == Some(&b'-');
        let after = end == text.len() || text.as_bytes().get(end) == Some(&b'-');
        if before && after {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// `name` with the first whole-word occurrence of each value replaced by its placeholder.
fn template_of(name: &str, values: &[(&str, &str)]) -> String {
    let mut out = name.to_string();
    for (value, placeholder) in values {
        if let Some(at) = find_word(&out, value) {
            out.replace_range(at..at + value.len(), placeholder);
        }
    }
    out
}

/// A template with each placeholder replaced by its value (`values` are pairs of
/// placeholder and value).
fn fill(template: &str, values: &[(&str, &str)]) -> String {
    values.iter().fold(template.to_string(), |t, (placeholder, value)| {
        t.replace(placeholder, value)
    })
}

/// Whether a gateway's VirtualService holds the routes of one host only (meshc names it
/// after the gateway's and the host, `...-shop-example-com`).
fn is_host_routes<'a>(vs: &Obj<'a>) -> Option<&'a str> {
    match vs.spec(&["hosts"]).map(Node::items).unwrap_or_default() {
        [host] => {
            let host = host.as_str()?;
            let suffix = format!("-{}", host.replace('.', "-"));
            (!host.starts_with('*') && vs.name.ends_with(&suffix)).then_some(host)
        }
        _ => None,
    }
}

/// A version of a service.
#[derive(Default)]
struct Version<'a> {
    pods: Vec<Obj<'a>>,
    entries: Vec<Obj<'a>>,
    group: Option<Obj<'a>>,
    /// Labels of VM workloads that contradict the Service's selector.
    mismatched: BTreeMap<&'a str, &'a str>,
}

struct NsImport<'m, 'a> {
    mesh: &'m Mesh<'a>,
    namespace: &'a str,
    places: &'m Places<'m>,
    services: Vec<&'m Svc<'a>>,
    app_key: String,
    version_key: String,
    naming: BTreeMap<&'static str, String>,
    versions: Vec<BTreeMap<String, Version<'a>>>,
    /// Objects used (by index in `mesh.objects`).
    used: BTreeSet<usize>,
    lost: Vec<String>,
    /// Deployments written without any security context.
    unhardened: Vec<String>,
}

impl<'m, 'a> NsImport<'m, 'a> {
    fn new(mesh: &'m Mesh<'a>, namespace: &'a str, places: &'m Places<'m>) -> Self {
        let services: Vec<&Svc<'a>> = mesh.services.iter().filter(|s| s.obj.namespace == namespace).collect();
        let app_key = majority(
            services
                .iter()
                .filter_map(|s| match s.selector.keys().collect::<Vec<_>>()[..] {
                    [k] => Some(k.to_string()),
                    _ => None,
                }),
        )
        .unwrap_or_else(|| "app".to_string());
        let version_key = majority(
            mesh.objects
                .iter()
                .filter(|o| o.namespace == namespace && o.kind == "DestinationRule")
                .flat_map(|o| o.spec(&["subsets"]).map(Node::items).unwrap_or_default())
                .filter_map(|s| match s.get("labels").map(Node::entries) {
                    Some([(k, _)]) => k.as_str().map(str::to_string),
                    _ => None,
                }),
        )
        .unwrap_or_else(|| "version".to_string());
        let mut ns = NsImport {
            mesh,
            namespace,
            places,
            versions: services.iter().map(|_| BTreeMap::new()).collect(),
            services,
            app_key,
            version_key,
            naming: BTreeMap::new(),
            used: BTreeSet::new(),
            lost: Vec::new(),
            unhardened: Vec::new(),
        };
        ns.assign_workloads();
        ns.infer_naming();
        ns
    }

    fn objects(&self) -> impl Iterator<Item = (usize, &Obj<'a>)> + '_ {
        self.mesh.in_namespace(self.namespace)
    }

    fn of<'s>(&'s self, kinds: &'s [&str]) -> impl Iterator<Item = (usize, &'s Obj<'a>)> + 's {
        self.mesh.of_kinds(self.namespace, kinds)
    }

    fn index_of(&self, obj: &Obj<'a>) -> Option<usize> {
        self.mesh
            .positions
            .get(&(std::ptr::from_ref(obj.node) as usize))
            .copied()
    }

    fn service_of_host(&self, host: &str) -> Option<usize> {
        let svc = self.mesh.service_by_host(host, self.namespace)?;
        self.services.iter().position(|s| std::ptr::eq(*s, svc))
    }

    /// Puts every workload under the service that selects it; a VM whose labels no
    /// Service selects goes to the service with a subset of its version and no workload.
    fn assign_workloads(&mut self) {
        let workloads: Vec<(usize, Obj<'a>)> = self
            .objects()
            .filter(|(_, o)| matches!(o.kind, "Deployment" | "WorkloadEntry" | "WorkloadGroup"))
            .map(|(i, o)| (i, *o))
            .collect();
        let mut orphans = Vec::new();
        for (index, obj) in workloads {
            let labels = workload_labels(&obj);
            let owner = self
                .services
                .iter()
                .position(|s| !s.selector.is_empty() && s.selector.iter().all(|(k, v)| labels.get(k) == Some(v)));
            match owner {
                Some(s) => self.add_version(s, index, obj, BTreeMap::new()),
                None => orphans.push((index, obj)),
            }
        }
        for (index, obj) in orphans {
            let labels = workload_labels(&obj);
            let version = labels.get(self.version_key.as_str()).copied();
            let owner = (obj.kind != "Deployment")
                .then(|| {
                    self.subset_owner(version).or_else(|| {
                        self.services
                            .iter()
                            .position(|s| find_word(obj.name, &s.name).is_some())
                    })
                })
                .flatten();
            match owner {
                Some(s) => {
                    let mismatched = self.services[s]
                        .selector
                        .iter()
                        .filter(|(k, v)| labels.get(*k) != Some(*v))
                        .map(|(k, _)| (*k, labels.get(k).copied().unwrap_or_default()))
                        .collect();
                    self.add_version(s, index, obj, mismatched);
                }
                None => {
                    self.used.insert(index);
                    self.lost.push(self.places.lost(
                        &format!("{} `{}`: no Service selects its labels", obj.kind, obj.name),
                        name_span(&obj),
                    ));
                }
            }
        }
    }

    /// The service whose DestinationRule has a subset for `version` with no workload.
    fn subset_owner(&self, version: Option<&str>) -> Option<usize> {
        let version = version?;
        self.objects()
            .filter(|(_, o)| o.kind == "DestinationRule")
            .find_map(|(_, o)| {
                let s = self.service_of_host(o.str(&["host"])?)?;
                let has = o
                    .spec(&["subsets"])
                    .map(Node::items)
                    .unwrap_or_default()
                    .iter()
                    .any(|sub| sub.at(&["labels", self.version_key.as_str()]).and_then(Node::as_str) == Some(version));
                (has && !self.versions[s].contains_key(version)).then_some(s)
            })
    }

    fn add_version(&mut self, service: usize, index: usize, obj: Obj<'a>, mismatched: BTreeMap<&'a str, &'a str>) {
        self.used.insert(index);
        let labels = workload_labels(&obj);
        let Some(version) = labels.get(self.version_key.as_str()).filter(|v| is_name(v)) else {
            self.lost.push(self.places.lost(
                &format!(
                    "{} `{}`: no `{}` label naming a version",
                    obj.kind, obj.name, self.version_key
                ),
                name_span(&obj),
            ));
            return;
        };
        let entry = self.versions[service].entry(version.to_string()).or_default();
        entry.mismatched.extend(mismatched);
        match obj.kind {
            "WorkloadEntry" => entry.entries.push(obj),
            "WorkloadGroup" => entry.group = Some(obj),
            _ => entry.pods.push(obj),
        }
    }

    /// The naming templates that reproduce most generated names.
    fn infer_naming(&mut self) {
        let ns = self.namespace;
        let mut seen: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
        for (s, svc) in self.services.iter().enumerate() {
            let name = svc.name.as_str();
            let base = [(name, "{service}"), (ns, "{namespace}")];
            seen.entry("service")
                .or_default()
                .push(template_of(svc.obj.name, &base));
            if let Some(app) = svc.selector.get(self.app_key.as_str()) {
                seen.entry("workload").or_default().push(template_of(app, &base));
            }
            for (version, v) in &self.versions[s] {
                let with = [
                    (name, "{service}"),
                    (version.as_str(), "{version}"),
                    (ns, "{namespace}"),
                ];
                for obj in v.pods.iter().chain(v.group.iter()) {
                    seen.entry("deployment").or_default().push(template_of(obj.name, &with));
                }
                for obj in v.pods.iter().chain(&v.entries).chain(v.group.iter()) {
                    if let Some(account) = workload_account(obj) {
                        seen.entry("account").or_default().push(template_of(account, &base));
                    }
                }
                for (i, obj) in v.entries.iter().enumerate() {
                    let address = obj.str(&["address"]).unwrap_or_default().replace(['.', ':'], "-");
                    let index = (i + 1).to_string();
                    let with = [
                        (name, "{service}"),
                        (version.as_str(), "{version}"),
                        (address.as_str(), "{address}"),
                        (ns, "{namespace}"),
                    ];
                    let mut template = template_of(obj.name, &with);
                    if !template.contains("{address}") {
                        template = template_of(&template, &[(index.as_str(), "{index}")]);
                    }
                    seen.entry("entry").or_default().push(template);
                }
            }
        }
        for (_, obj) in self.objects() {
            let key = match obj.kind {
                "DestinationRule" => "destinationrule",
                "VirtualService" if obj.spec(&["gateways"]).is_none() => "virtualservice",
                _ => continue,
            };
            let host = match key {
                "destinationrule" => obj.str(&["host"]),
                _ => obj
                    .spec(&["hosts"])
                    .and_then(|h| h.items().first())
                    .and_then(Node::as_str),
            };
            if let Some(s) = host.and_then(|h| self.service_of_host(h)) {
                let base = [(self.services[s].name.as_str(), "{service}"), (ns, "{namespace}")];
                seen.entry(key).or_default().push(template_of(obj.name, &base));
            }
        }
        for (gw_ns, gw) in self.gateway_routes_names() {
            seen.entry("gateway-routes")
                .or_default()
                .push(template_of(gw, &[(gw_ns, "{gateway}"), (ns, "{namespace}")]));
        }
        for (key, default) in DEFAULT_NAMING {
            // A template is taken when it fits more than one object, or the only one.
            let chosen = seen
                .get(key)
                .and_then(|names| {
                    let best = majority(names.iter().cloned())?;
                    let count = names.iter().filter(|n| **n == best).count();
                    (count > 1 || names.len() == 1).then_some(best)
                })
                .unwrap_or_else(|| default.to_string());
            let valid = chosen.contains('{') || *key == "account";
            self.naming
                .insert(key, if valid { chosen } else { default.to_string() });
        }
        self.naming.insert("app-label", self.app_key.clone());
        self.naming.insert("version-label", self.version_key.clone());
    }

    /// (gateway name, its main VirtualService's name) for every gateway of the namespace.
    fn gateway_routes_names(&self) -> Vec<(&'a str, &'a str)> {
        let mut out = Vec::new();
        for (_, gw) in self.objects().filter(|(_, o)| o.kind == "Gateway" && o.is_istio()) {
            if let Some((_, vs)) = self.objects().find(|(_, o)| {
                o.kind == "VirtualService" && gateway_names(o).contains(&gw.name) && is_host_routes(o).is_none()
            }) {
                out.push((gw.name, vs.name));
            }
        }
        out
    }

    fn name(&self, key: &str, values: &[(&str, &str)]) -> String {
        let template = self.naming.get(key).map_or("", String::as_str);
        fill(template, values)
    }

    /// The namespace's block; a namespace whose name cannot stand in a `.mesh` is named
    /// `imported-POSITION`, with a comment naming it.
    fn block(self, position: usize, calls: &Calls<'a>, handled: &mut BTreeSet<usize>) -> Block {
        let namespace = self.namespace;
        let header = if is_name(namespace) {
            format!("namespace {namespace}")
        } else {
            format!("namespace imported-{position}")
        };
        let mut block = Block::new(header);
        if !is_name(namespace) {
            let span = self.objects().next().map_or_else(Default::default, |(_, o)| {
                o.node
                    .at(&["metadata", "namespace"])
                    .map_or_else(|| name_span(o), |n| n.span)
            });
            block.comment(self.places.lost(
                &format!("the namespace name {}, which is not a .mesh name", quote(namespace)),
                span,
            ));
        }
        self.write(&mut block, calls, handled);
        block
    }

    fn write(mut self, block: &mut Block, calls: &Calls<'a>, handled: &mut BTreeSet<usize>) {
        let mut naming = Block::new("naming");
        for (key, default) in DEFAULT_NAMING {
            if self.naming.get(key).map(String::as_str) != Some(default) {
                if let Some(value) = self.naming.get(key) {
                    naming.decl(format!("{key} {}", quote(value)));
                }
            }
        }
        for (key, default) in [("app-label", "app"), ("version-label", "version")] {
            let value = self.naming.get(key).cloned().unwrap_or_default();
            if value != default {
                naming.decl(format!("{key} {}", quote(&value)));
            }
        }
        if !naming.is_empty() {
            block.block(naming);
        }
        if let Some(mode) = self.namespace_mtls(handled) {
            block.decl(format!("mtls {mode}"));
        }
        for s in 0..self.services.len() {
            let svc = self.services[s];
            if !is_name(&svc.name) {
                // A Service named after a word of the language (`route`, `service`, ...).
                self.used.extend(self.index_of(&svc.obj));
                self.lost.push(self.places.lost(
                    &format!("Service `{}`: its name is a word of the .mesh language", svc.obj.name),
                    name_span(&svc.obj),
                ));
                continue;
            }
            let svc = self.service_block(s, calls, handled);
            block.block(svc);
        }
        for external in self.externals(handled) {
            block.block(external);
        }
        for gateway in self.gateways(handled, calls) {
            block.block(gateway);
        }
        handled.extend(self.used.iter().copied());
        let leftovers: Vec<(usize, Obj<'a>)> = self.objects().map(|(i, o)| (i, *o)).collect();
        for (index, obj) in leftovers {
            if handled.contains(&index) || self.derived(&obj) {
                continue;
            }
            self.lost.push(
                self.places
                    .lost(&format!("{} `{}`", obj.kind, obj.name), name_span(&obj)),
            );
        }
        if self.of(&["Sidecar"]).any(|(_, o)| self.derived(o)) {
            block.comment("meshc import: the Sidecars follow from `calls`: build with `meshc build --sidecars`");
        }
        if !self.unhardened.is_empty() {
            block.comment(format!(
                "meshc import: {} had no security context; meshc writes them hardened (non-root user, \
                 read-only root, resources, probes): `relax` or `hardening off` where an image needs it",
                self.unhardened.join(", ")
            ));
        }
        for lost in &self.lost {
            block.comment(lost.clone());
        }
    }

    /// The namespace's mutual TLS mode, when its PeerAuthentication is not meshc's default.
    fn namespace_mtls(&self, handled: &mut BTreeSet<usize>) -> Option<&'static str> {
        let (index, pa) = self
            .of(&["PeerAuthentication"])
            .find(|(_, o)| o.name == "default" && o.spec(&["selector"]).is_none())?;
        let mode = mtls_word(pa.str(&["mtls", "mode"])?)?;
        if pa.node.get("spec").map_or(0, |s| s.entries().len()) != 1 {
            return None;
        }
        handled.insert(index);
        (mode != "strict").then_some(mode)
    }

    /// A service's `mtls` lines, from the PeerAuthentication that selects its workloads.
    fn service_mtls(&self, svc: &Svc<'a>, handled: &mut BTreeSet<usize>) -> Vec<String> {
        let Some((index, pa)) = self
            .of(&["PeerAuthentication"])
            .find(|(_, o)| labels_of(o.spec(&["selector", "matchLabels"])) == svc.selector)
        else {
            return Vec::new();
        };
        let namespace_mode = self
            .of(&["PeerAuthentication"])
            .find(|(_, o)| o.name == "default" && o.spec(&["selector"]).is_none())
            .and_then(|(_, o)| o.str(&["mtls", "mode"]))
            .and_then(mtls_word)
            .unwrap_or("strict");
        let Some(mode) = pa.str(&["mtls", "mode"]).and_then(mtls_word) else {
            return Vec::new();
        };
        let mut by_mode: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
        let ports = svc.obj.spec(&["ports"]).map(Node::items).unwrap_or_default();
        for (target, level) in pa.spec(&["portLevelMtls"]).map(Node::entries).unwrap_or_default() {
            let target: Option<i64> = target.as_str().and_then(|t| t.parse().ok());
            let port = ports.iter().find_map(|p| {
                let number = p.get("port")?.as_int()?;
                let t = p.get("targetPort").map_or(Some(number), Node::as_int)?;
                (Some(t) == target).then_some(number)
            });
            match (port, level.at(&["mode"]).and_then(Node::as_str).and_then(mtls_word)) {
                (Some(port), Some(m)) => by_mode.entry(m).or_default().push(port),
                _ => return Vec::new(),
            }
        }
        handled.insert(index);
        let mut out = Vec::new();
        if by_mode.is_empty() || mode != namespace_mode {
            out.push(format!("mtls {mode}"));
        }
        for (m, ports) in by_mode {
            let list: Vec<String> = ports.iter().map(i64::to_string).collect();
            out.push(format!("mtls {m} ports {}", list.join(" ")));
        }
        out
    }

    /// A service's `jwt` lines, from the RequestAuthentication that selects its workloads.
    fn service_jwt(&self, svc: &Svc<'a>, calls: &Calls<'a>, handled: &mut BTreeSet<usize>, lines: &mut Block) {
        for (index, ra) in self
            .of(&["RequestAuthentication"])
            .filter(|(_, o)| labels_of(o.spec(&["selector", "matchLabels"])) == svc.selector)
        {
            handled.insert(index);
            let claims = calls
                .claims
                .get(&(self.namespace, svc.obj.name))
                .map_or("", String::as_str);
            for rule in ra.spec(&["jwtRules"]).map(Node::items).unwrap_or_default() {
                match jwt(rule) {
                    Some(text) => lines.decl(format!("{text}{claims}")),
                    None => lines.comment(self.places.lost("a JWT rule", rule.span)),
                }
            }
        }
    }

    /// Whether `account` in `namespace` is the one Istio gives a Gateway API gateway's pods
    /// (`NAME-istio`).
    fn is_api_gateway_account(&self, namespace: &str, account: &str) -> bool {
        self.mesh.of_kinds(namespace, &["Gateway"]).any(|(_, o)| {
            o.api.starts_with("gateway.networking.k8s.io/") && account.strip_suffix("-istio") == Some(o.name)
        })
    }

    /// Objects meshc writes on its own from the rest of the `.mesh`.
    fn derived(&self, obj: &Obj<'a>) -> bool {
        match obj.kind {
            "Service" => self.mesh.version_services.contains_key(&(obj.namespace, obj.name)),
            "Namespace" => true,
            // Written by `meshc build --sidecars`, from `calls` (noted once per namespace).
            "Sidecar" => self
                .services
                .iter()
                .any(|s| labels_of(obj.spec(&["workloadSelector", "labels"])) == s.selector),
            "ServiceAccount" => self.mesh.by_account.contains_key(&(obj.namespace, obj.name)),
            "PeerAuthentication" => {
                obj.name == "default"
                    && obj.str(&["mtls", "mode"]) == Some("STRICT")
                    && obj.spec(&["selector"]).is_none()
            }
            "AuthorizationPolicy"
                if obj
                    .spec(&["selector", "matchLabels", "gateway.networking.k8s.io/gateway-name"])
                    .and_then(Node::as_str)
                    .is_some_and(|g| obj.name == format!("{}-{g}-ingress", obj.namespace)) =>
            {
                true
            }
            "AuthorizationPolicy" => {
                obj.name == "allow-nothing" && obj.node.get("spec").is_none_or(|s| s.entries().is_empty())
            }
            _ => false,
        }
    }

    /// `calls` per caller service (index) as (callee text, env var), and `allow` lines per
    /// callee, from the AuthorizationPolicies and the callers' environment.
    fn calls(&self, handled: &mut BTreeSet<usize>, calls: &mut Calls<'a>) {
        let policies: Vec<(usize, Obj<'a>)> = self
            .objects()
            .filter(|(_, o)| o.kind == "AuthorizationPolicy" && o.is_istio())
            .map(|(i, o)| (i, *o))
            .collect();
        let gateways = self
            .objects()
            .filter(|(_, o)| o.kind == "Gateway" && o.is_istio())
            .count();
        let mut by_selector = BTreeMap::new();
        for (i, svc) in self.services.iter().enumerate().rev() {
            if !svc.selector.is_empty() {
                by_selector.insert(svc.selector.clone(), i);
            }
        }
        for (index, policy) in policies {
            let selector = labels_of(policy.spec(&["selector", "matchLabels"]));
            let Some(callee) = by_selector.get(&selector).copied() else {
                continue;
            };
            if policy.str(&["action"]).is_some_and(|a| a != "ALLOW") {
                continue;
            }
            let mut all = true;
            for rule in policy.spec(&["rules"]).map(Node::items).unwrap_or_default() {
                let principals: Vec<&str> = rule
                    .get("from")
                    .map(Node::items)
                    .unwrap_or_default()
                    .iter()
                    .flat_map(|f| f.at(&["source", "principals"]).map(Node::items).unwrap_or_default())
                    .filter_map(Node::as_str)
                    .collect();
                let operation = rule
                    .get("to")
                    .and_then(|t| t.items().first())
                    .and_then(|t| t.get("operation"));
                let methods: Vec<&str> = operation
                    .and_then(|o| o.get("methods"))
                    .map(Node::items)
                    .unwrap_or_default()
                    .iter()
                    .filter_map(Node::as_str)
                    .collect();
                let paths: Vec<&str> = operation
                    .and_then(|o| o.get("paths"))
                    .map(Node::items)
                    .unwrap_or_default()
                    .iter()
                    .filter_map(Node::as_str)
                    .collect();
                let mut claims = String::new();
                for condition in rule.get("when").map(Node::items).unwrap_or_default() {
                    let key = condition.get("key").and_then(Node::as_str).unwrap_or_default();
                    let name = key
                        .strip_prefix("request.auth.claims[")
                        .and_then(|k| k.strip_suffix(']'))
                        .filter(|n| is_name(n));
                    let values: Option<Vec<String>> = condition
                        .get("values")
                        .map(Node::items)
                        .unwrap_or_default()
                        .iter()
                        .map(|v| v.as_str().map(quote))
                        .collect();
                    match (name, values) {
                        (Some(name), Some(values)) if condition.entries().len() == 2 => {
                            claims.push_str(&format!(" claim {name} {}", values.join(" ")));
                        }
                        _ => all = false,
                    }
                }
                if !claims.is_empty() {
                    calls
                        .claims
                        .insert((self.namespace, self.services[callee].obj.name), claims);
                }
                for principal in principals {
                    let parts: Vec<&str> = principal.split('/').collect();
                    let caller = match parts[..] {
                        [_, "ns", ns, "sa", account] => self.mesh.service_by_account(ns, account).map(|s| (s, ns)),
                        _ => None,
                    };
                    let Some((caller, caller_ns)) = caller else {
                        match parts[..] {
                            // A Gateway API gateway's own pods: its routes say who it calls.
                            [_, "ns", ns, "sa", account] if self.is_api_gateway_account(ns, account) => {}
                            // Istio's ingress gateway: the gateways' routes say where it goes.
                            _ if principal == DEFAULT_GATEWAY_PRINCIPAL => {}
                            [_, "ns", ns, "sa", account] if gateways == 1 => {
                                calls
                                    .gateway_callers
                                    .entry(self.namespace)
                                    .or_default()
                                    .insert(format!("{ns}/{account}"));
                            }
                            _ => all = false,
                        }
                        continue;
                    };
                    let callee_svc = self.services[callee];
                    let callee_text = if caller_ns == self.namespace {
                        callee_svc.name.clone()
                    } else {
                        format!("{}.{}", callee_svc.name, self.namespace)
                    };
                    let caller_text = if caller_ns == self.namespace {
                        caller.name.clone()
                    } else {
                        format!("{}.{caller_ns}", caller.name)
                    };
                    if methods.is_empty() && paths.is_empty() {
                        calls
                            .by_caller
                            .entry((caller.obj.namespace, caller.obj.name))
                            .or_default()
                            .insert(callee_text);
                    } else {
                        let mut line = format!("allow from {caller_text}");
                        if !methods.is_empty() {
                            line.push_str(&format!(" methods {}", methods.join(" ")));
                        }
                        if !paths.is_empty() {
                            let quoted: Vec<String> = paths.iter().map(|p| quote(p)).collect();
                            line.push_str(&format!(" paths {}", quoted.join(" ")));
                        }
                        calls
                            .allow
                            .entry((self.namespace, self.services[callee].obj.name))
                            .or_default()
                            .push(line);
                    }
                }
            }
            if all {
                handled.insert(index);
            }
        }
    }

    fn service_block(&mut self, s: usize, calls: &Calls<'a>, handled: &mut BTreeSet<usize>) -> Block {
        let svc = self.services[s];
        let places = self.places;
        let mut lines = Block::new(format!("service {}", svc.name));
        self.used.extend(self.index_of(&svc.obj));
        let expected = self.name("service", &[("{service}", &svc.name), ("{namespace}", self.namespace)]);
        if expected != svc.obj.name {
            lines.comment(places.lost(
                &format!("the Service name `{}` (the naming gives `{expected}`)", svc.obj.name),
                name_span(&svc.obj),
            ));
        }
        for k in svc.selector.keys() {
            if *k != self.app_key {
                lines.comment(places.lost(&format!("selector label `{k}`"), name_span(&svc.obj)));
            }
        }
        // meshc labels a Service with the app label it selects, and writes no annotations.
        if let Some(labels) = svc.obj.node.at(&["metadata", "labels"]) {
            if labels_of(Some(labels)) != svc.selector {
                lines.comment(places.lost("the Service's labels", labels.span));
            }
        }
        if let Some(annotations) = svc.obj.node.at(&["metadata", "annotations"]) {
            lines.comment(places.lost("the Service's annotations", annotations.span));
        }
        self.unknown_fields(&svc.obj, &["selector", "ports"], &mut lines);
        // Ports.
        let mut tcp_target = None;
        for port in svc.obj.spec(&["ports"]).map(Node::items).unwrap_or_default() {
            match port_decl(port) {
                Some((decl, target)) => {
                    if tcp_target.is_none() && !decl.starts_with("port udp") {
                        tcp_target = Some(target);
                    }
                    lines.decl(decl);
                }
                None => lines.comment(places.lost("a port", port.span)),
            }
        }
        // Calls: from the policies, and environment variables that hold a service's address.
        let mut callees = calls
            .by_caller
            .get(&(svc.obj.namespace, svc.obj.name))
            .cloned()
            .unwrap_or_default();
        let versions = std::mem::take(&mut self.versions[s]);
        let mut via_env: BTreeMap<String, String> = BTreeMap::new();
        let mut pods = BTreeMap::new();
        for (version, v) in &versions {
            for pod in &v.pods {
                let mut imported = workload::pod(pod, &[&self.app_key, &self.version_key], tcp_target, places);
                let mut env_props = Vec::new();
                for (name, value, span) in std::mem::take(&mut imported.env) {
                    match self.callee_by_address(&value) {
                        Some(callee) if via_env.get(&callee).is_none_or(|n| *n == name) => {
                            via_env.insert(callee.clone(), name);
                            callees.insert(callee);
                        }
                        _ => {
                            let _ = span;
                            env_props.push(format!("env {name} {}", quote(&value)));
                        }
                    }
                }
                imported.props.extend(env_props);
                pods.insert(version.clone(), imported);
            }
        }
        for callee in &callees {
            match via_env.get(callee) {
                Some(var) => lines.decl(format!("calls {callee} via env {var}")),
                None => lines.decl(format!("calls {callee}")),
            }
        }
        // Versions, in the order of the DestinationRule's subsets, then by name.
        let dr = self
            .of(&["DestinationRule"])
            .find(|(_, o)| o.str(&["host"]).and_then(|h| self.service_of_host(h)) == Some(s));
        let dr = dr.map(|(i, o)| (i, *o));
        let mut subset_policies: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut order: Vec<String> = Vec::new();
        if let Some((index, dr)) = dr {
            handled.insert(index);
            let expected = self.name(
                "destinationrule",
                &[("{service}", &svc.name), ("{namespace}", self.namespace)],
            );
            if expected != dr.name {
                lines.comment(places.lost(&format!("the DestinationRule name `{}`", dr.name), name_span(&dr)));
            }
            if let Some(policy) = dr.spec(&["trafficPolicy"]) {
                let (settings, lost) = policy::policy(policy, places);
                if !settings.is_empty() {
                    let mut p = Block::new("policy");
                    settings.into_iter().for_each(|s| p.decl(s));
                    lines.block(p);
                }
                lost.into_iter().for_each(|l| lines.comment(l));
            }
            for subset in dr.spec(&["subsets"]).map(Node::items).unwrap_or_default() {
                let name = subset.get("name").and_then(Node::as_str).unwrap_or_default();
                order.push(name.to_string());
                if !versions.contains_key(name) {
                    lines.comment(places.lost(&format!("subset `{name}`: no workload"), subset.span));
                }
                let label = subset.at(&["labels", self.version_key.as_str()]).and_then(Node::as_str);
                if label != Some(name) || subset.get("labels").map_or(0, |l| l.entries().len()) != 1 {
                    lines.comment(places.lost(&format!("subset `{name}`'s labels"), subset.span));
                }
                if let Some(policy) = subset.get("trafficPolicy") {
                    let (settings, lost) = policy::policy(policy, places);
                    subset_policies.insert(name.to_string(), settings);
                    lost.into_iter().for_each(|l| lines.comment(l));
                }
            }
            self.unknown_fields(&dr, &["host", "trafficPolicy", "subsets"], &mut lines);
        }
        let mut names: Vec<&String> = versions.keys().collect();
        names.sort_by_key(|n| (order.iter().position(|o| o == *n).unwrap_or(usize::MAX), (*n).clone()));
        for version in names {
            let v = &versions[version];
            let mut props = Vec::new();
            let mut comments = Vec::new();
            let runtime;
            if let Some(pod) = pods.remove(version) {
                runtime = "pod";
                if pod.unhardened {
                    self.unhardened.extend(v.pods.first().map(|p| p.name.to_string()));
                }
                props.extend(pod.props);
                comments.extend(pod.lost);
                if let Some(account) = pod.account {
                    let expected = self.name("account", &[("{service}", &svc.name), ("{namespace}", self.namespace)]);
                    if account != expected && is_name(&account) {
                        props.push(format!("account {account}"));
                    }
                }
                for extra in v.pods.iter().skip(1) {
                    comments.push(places.lost(
                        &format!("a second workload `{}` of version `{version}`", extra.name),
                        name_span(extra),
                    ));
                }
                let expected = self.name(
                    "deployment",
                    &[
                        ("{service}", &svc.name),
                        ("{version}", version),
                        ("{namespace}", self.namespace),
                    ],
                );
                if let Some(pod) = v.pods.first() {
                    if pod.name != expected {
                        comments.push(places.lost(
                            &format!("the Deployment name `{}` (the naming gives `{expected}`)", pod.name),
                            name_span(pod),
                        ));
                    }
                }
                for e in v.entries.iter().chain(v.group.iter()) {
                    comments.push(places.lost(
                        &format!("{} `{}`: version `{version}` also runs on pods", e.kind, e.name),
                        name_span(e),
                    ));
                }
            } else {
                runtime = "vm";
                self.vm_props(&svc.name, version, v, &mut props, &mut comments);
            }
            for (k, value) in &v.mismatched {
                props.push(format!("label {k} {}", quote(value)));
            }
            for c in comments {
                lines.comment(c);
            }
            match subset_policies.remove(version) {
                Some(settings) if !settings.is_empty() => {
                    let mut b = Block::new(format!("{runtime} {version}"));
                    props.into_iter().for_each(|p| b.decl(p));
                    let mut p = Block::new("policy");
                    settings.into_iter().for_each(|s| p.decl(s));
                    b.block(p);
                    lines.block(b);
                }
                _ => lines.decl(
                    format!("{runtime} {version} {}", props.join(" "))
                        .trim_end()
                        .to_string(),
                ),
            }
        }
        for allow in calls.allow.get(&(self.namespace, svc.obj.name)).into_iter().flatten() {
            lines.decl(allow.clone());
        }
        for mtls in self.service_mtls(svc, handled) {
            lines.decl(mtls);
        }
        self.service_jwt(svc, calls, handled, &mut lines);
        // Routes.
        self.service_routes(s, &mut lines, handled);
        lines
    }

    fn vm_props(
        &self,
        service: &str,
        version: &str,
        v: &Version<'a>,
        props: &mut Vec<String>,
        comments: &mut Vec<String>,
    ) {
        let places = self.places;
        let addresses: Vec<&str> = v.entries.iter().filter_map(|e| e.str(&["address"])).collect();
        if addresses.is_empty() {
            props.push("auto-register".to_string());
        } else {
            let list: Vec<String> = addresses
                .iter()
                .map(|a| {
                    if a.chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | ':' | '-' | '_'))
                    {
                        a.to_string()
                    } else {
                        quote(a)
                    }
                })
                .collect();
            props.push(format!("at {}", list.join(", ")));
        }
        let without_agent = !v.entries.is_empty()
            && v.group.is_none()
            && v.entries.iter().all(|e| {
                e.spec(&["serviceAccount"]).is_some() && e.spec(&["labels", "security.istio.io/tlsMode"]).is_none()
            });
        if without_agent {
            props.push("agent none".to_string());
        }
        let first = v.entries.first().copied().or(v.group);
        let field = |o: &Obj<'a>, k: &str| match o.kind {
            "WorkloadGroup" => o.spec(&["template", k]),
            _ => o.spec(&[k]),
        };
        if let Some(first) = first {
            for (key, word) in [("network", "network"), ("locality", "locality"), ("weight", "weight")] {
                if let Some(node) = field(&first, key) {
                    match (key, node.as_str()) {
                        ("weight", _) => match node.as_int() {
                            Some(n) => props.push(format!("weight {n}")),
                            None => comments.push(places.lost("weight", node.span)),
                        },
                        ("network", Some(n)) if is_name(n) => {
                            props.push(format!("network {n}"));
                            // Only the VM files say which network the cluster is on, and
                            // its east-west gateway.
                            comments.push(places.lost(
                                &format!(
                                    "the cluster's network and east-west gateway, which a VM on network `{n}` \
                                     needs: declare `cluster {{ network NAME eastwest ADDRESS }}`"
                                ),
                                node.span,
                            ));
                        }
                        (_, Some(text)) => props.push(format!("{word} {}", quote(text))),
                        _ => comments.push(places.lost(key, node.span)),
                    }
                }
            }
            if let Some(account) = workload_account(&first) {
                let expected = self.name("account", &[("{service}", service), ("{namespace}", self.namespace)]);
                if account != expected && is_name(account) {
                    props.push(format!("account {account}"));
                }
            }
            for (k, value) in first
                .node
                .at(&["metadata", "annotations"])
                .map(Node::entries)
                .unwrap_or_default()
            {
                match (k.as_str(), value.as_str()) {
                    (Some(k), Some(value)) if is_label_key(k) => props.push(format!("annotation {k} {}", quote(value))),
                    _ => comments.push(places.lost("an annotation", k.span)),
                }
            }
            let labels = workload_labels(&first);
            for (k, value) in labels {
                if k == self.app_key || k == self.version_key || k == "security.istio.io/tlsMode" {
                    continue;
                }
                if is_label_key(k) {
                    props.push(format!("label {k} {}", quote(value)));
                } else {
                    comments.push(places.lost(&format!("label `{k}`"), name_span(&first)));
                }
            }
        }
        for (i, entry) in v.entries.iter().enumerate() {
            let address = entry.str(&["address"]).unwrap_or_default().replace(['.', ':'], "-");
            let index = (i + 1).to_string();
            let expected = self.name(
                "entry",
                &[
                    ("{service}", service),
                    ("{version}", version),
                    ("{address}", &address),
                    ("{index}", &index),
                    ("{namespace}", self.namespace),
                ],
            );
            if entry.name != expected {
                comments.push(places.lost(
                    &format!(
                        "the WorkloadEntry name `{}` (the naming gives `{expected}`)",
                        entry.name
                    ),
                    name_span(entry),
                ));
            }
        }
    }

    /// The service (as a `calls` operand) whose address `value` is.
    fn callee_by_address(&self, value: &str) -> Option<String> {
        let svc = self.mesh.service_by_host(value, self.namespace)?;
        (value.contains('.')).then_some(())?;
        Some(if svc.obj.namespace == self.namespace {
            svc.name.clone()
        } else {
            format!("{}.{}", svc.name, svc.obj.namespace)
        })
    }

    fn service_routes(&mut self, s: usize, lines: &mut Block, handled: &mut BTreeSet<usize>) {
        let vss: Vec<(usize, Obj<'a>)> = self
            .of(&["VirtualService"])
            .filter(|(_, o)| {
                gateway_names(o).is_empty()
                    && o.spec(&["hosts"])
                        .map(Node::items)
                        .unwrap_or_default()
                        .first()
                        .and_then(Node::as_str)
                        .and_then(|h| self.service_of_host(h))
                        == Some(s)
            })
            .map(|(i, o)| (i, *o))
            .collect();
        for (index, vs) in vss {
            handled.insert(index);
            let svc = self.services[s];
            let expected = self.name(
                "virtualservice",
                &[("{service}", &svc.name), ("{namespace}", self.namespace)],
            );
            if vs.name != expected {
                lines.comment(
                    self.places
                        .lost(&format!("the VirtualService name `{}`", vs.name), name_span(&vs)),
                );
            }
            let names = RouteNames { ns: self, own: Some(s) };
            self.write_routes(&vs, &names, None, lines, Some(svc));
        }
        let svc = self.services[s];
        let routes = self.attached_routes(|p| {
            p.get("kind").and_then(Node::as_str) == Some("Service")
                && p.get("name").and_then(Node::as_str) == Some(svc.obj.name)
        });
        for (index, route) in routes {
            handled.insert(index);
            let names = RouteNames { ns: self, own: Some(s) };
            self.write_rules(&route, &names, None, lines, Some(svc));
        }
    }

    /// The rules of an HTTPRoute or GRPCRoute, without the default rule meshc adds.
    fn write_rules(
        &self,
        route: &Obj<'a>,
        names: &RouteNames<'_, 'm, 'a>,
        host: Option<&str>,
        lines: &mut Block,
        own: Option<&Svc<'a>>,
    ) {
        let mut rules: Vec<&Node> = route
            .spec(&["rules"])
            .map(Node::items)
            .unwrap_or_default()
            .iter()
            .collect();
        if let (true, Some(last), Some(own)) = (rules.len() > 1, rules.last(), own) {
            let refs = last.get("backendRefs").map(Node::items).unwrap_or_default();
            let plain = last.entries().len() == 1
                && refs.len() == 1
                && refs[0].get("name").and_then(Node::as_str) == Some(own.obj.name)
                && refs[0].get("weight").is_none();
            if plain {
                rules.pop();
            }
        }
        let condition = host.map(|h| format!("host {}", quote(h)));
        self.decls(lines, rules, |rule| {
            gateway_api::rule(rule, names, condition.as_deref())
        });
        self.unknown_fields(route, &["parentRefs", "rules", "hostnames"], lines);
    }

    /// The HTTPRoutes and GRPCRoutes with a parent reference that `parent` accepts.
    fn attached_routes(&self, parent: impl Fn(&Node) -> bool) -> Vec<(usize, Obj<'a>)> {
        self.of(&["HTTPRoute", "GRPCRoute"])
            .filter(|(_, o)| {
                o.spec(&["parentRefs"])
                    .map(Node::items)
                    .unwrap_or_default()
                    .iter()
                    .any(&parent)
            })
            .map(|(i, o)| (i, *o))
            .collect()
    }

    /// The routes at the end of a gateway's list that meshc carried over from a service's
    /// own routes (a gateway route `-> SERVICE`): routes whose destinations name no port,
    /// found in that order among the service's routes. The position where they start and
    /// the service. A service that is not itself their destination is preferred.
    fn carried(&self, http: &[&Node]) -> Option<(usize, String)> {
        let without_port = |route: &&Node| {
            let destinations = route.get("route").map(Node::items).unwrap_or_default();
            !destinations.is_empty() && destinations.iter().all(|d| d.at(&["destination", "port"]).is_none())
        };
        let start = http.len() - http.iter().rev().take_while(|r| without_port(r)).count();
        let run = &http[start..];
        if run.is_empty() {
            return None;
        }
        let hosts: BTreeSet<&str> = run
            .iter()
            .flat_map(|r| r.get("route").map(Node::items).unwrap_or_default())
            .filter_map(|d| d.at(&["destination", "host"]).and_then(Node::as_str))
            .collect();
        let mut candidates = Vec::new();
        for (_, vs) in self
            .of(&["VirtualService"])
            .filter(|(_, o)| gateway_names(o).is_empty())
        {
            let Some(host) = vs
                .spec(&["hosts"])
                .and_then(|h| h.items().first())
                .and_then(Node::as_str)
            else {
                continue;
            };
            let Some(svc) = self.mesh.service_by_host(host, self.namespace) else {
                continue;
            };
            let own = vs.spec(&["http"]).map(Node::items).unwrap_or_default();
            let mut rest = own.iter();
            if run.iter().all(|r| rest.any(|o| same(o, r))) {
                candidates.push((hosts.contains(host), svc.name.clone()));
            }
        }
        candidates.sort();
        candidates.into_iter().next().map(|(_, name)| (start, name))
    }

    /// Each item as a declaration, or a comment naming what could not be carried over.
    fn decls<'n>(
        &self,
        lines: &mut Block,
        items: impl IntoIterator<Item = &'n Node>,
        convert: impl Fn(&Node) -> Result<String, String>,
    ) {
        for item in items {
            match convert(item) {
                Ok(text) => lines.decl(text),
                Err(what) => lines.comment(self.places.lost(&what, item.span)),
            }
        }
    }

    /// A comment for each field of an object's `spec` that the import does not read.
    fn unknown_fields(&self, obj: &Obj<'a>, known: &[&str], lines: &mut Block) {
        for (key, _) in obj.node.get("spec").map(Node::entries).unwrap_or_default() {
            let field = key.as_str().unwrap_or("?");
            if !known.contains(&field) {
                lines.comment(self.places.lost(&format!("{} field `{field}`", obj.kind), key.span));
            }
        }
    }

    fn write_routes(
        &self,
        vs: &Obj<'a>,
        names: &RouteNames<'_, 'm, 'a>,
        host: Option<&str>,
        lines: &mut Block,
        own: Option<&Svc<'a>>,
    ) {
        let http = vs.spec(&["http"]).map(Node::items).unwrap_or_default();
        let mut http: Vec<&Node> = http.iter().collect();
        // The route meshc adds after routes without a default: to the service as a whole.
        if http.len() > 1 {
            if let (Some(last), Some(own)) = (http.last(), own) {
                let dest = last.get("route").map(Node::items).unwrap_or_default();
                let plain = last.entries().len() == 1
                    && dest.len() == 1
                    && dest[0].entries().len() == 1
                    && dest[0].at(&["destination", "subset"]).is_none()
                    && dest[0].at(&["destination", "port"]).is_none()
                    && dest[0]
                        .at(&["destination", "host"])
                        .and_then(Node::as_str)
                        .and_then(|h| self.mesh.service_by_host(h, self.namespace))
                        .is_some_and(|t| std::ptr::eq(t, own));
                if plain {
                    http.pop();
                }
            }
        }
        let carried = if own.is_none() && host.is_none() && !gateway_names(vs).is_empty() {
            self.carried(&http)
        } else {
            None
        };
        if let Some((start, _)) = &carried {
            http.truncate(*start);
        }
        let condition = host.map(|h| format!("host {}", quote(h)));
        self.decls(lines, http, |route| routes::http(route, names, condition.as_deref()));
        if let Some((_, service)) = carried {
            lines.decl(format!("route -> {service}"));
        }
        for kind in ["tcp", "tls"] {
            let l4 = vs.spec(&[kind]).map(Node::items).unwrap_or_default();
            self.decls(lines, l4, |route| routes::l4(route, names, kind));
        }
        self.unknown_fields(vs, &["hosts", "gateways", "http", "tcp", "tls"], lines);
    }

    fn externals(&self, handled: &mut BTreeSet<usize>) -> Vec<Block> {
        let mut out = Vec::new();
        let entries: Vec<(usize, Obj<'a>)> = self
            .objects()
            .filter(|(_, o)| o.kind == "ServiceEntry")
            .map(|(i, o)| (i, *o))
            .collect();
        for (index, se) in entries {
            if !is_name(se.name) {
                continue;
            }
            handled.insert(index);
            let mut b = Block::new(format!("external {}", se.name));
            let hosts: Vec<&str> = se
                .spec(&["hosts"])
                .map(Node::items)
                .unwrap_or_default()
                .iter()
                .filter_map(Node::as_str)
                .collect();
            let quoted: Vec<String> = hosts.iter().map(|h| quote(h)).collect();
            b.decl(format!("hosts {}", quoted.join(", ")));
            for port in se.spec(&["ports"]).map(Node::items).unwrap_or_default() {
                let number = port.get("number").and_then(Node::as_int);
                let protocol = port.get("protocol").and_then(Node::as_str).map(str::to_ascii_lowercase);
                match (number, protocol) {
                    (Some(n), Some(p)) if is_name(&p) || p == "http" => b.decl(format!("port {p} {n}")),
                    _ => b.comment(self.places.lost("a port", port.span)),
                }
            }
            let wildcard = hosts.iter().any(|h| h.starts_with('*'));
            match se.str(&["resolution"]) {
                Some("DNS") if !wildcard => {}
                Some("NONE") if wildcard => {}
                Some("DNS") => b.decl("resolution dns"),
                Some("NONE") => b.decl("resolution none"),
                Some("DNS_ROUND_ROBIN") => b.decl("resolution dns-round-robin"),
                None => {}
                Some(other) => b.comment(self.places.lost(&format!("resolution `{other}`"), name_span(&se))),
            }
            let addresses: Vec<String> = se
                .spec(&["addresses"])
                .map(Node::items)
                .unwrap_or_default()
                .iter()
                .filter_map(|a| a.as_str().map(quote))
                .collect();
            if !addresses.is_empty() {
                b.decl(format!("addresses {}", addresses.join(", ")));
            }
            if se.str(&["location"]) == Some("MESH_INTERNAL") {
                b.decl("location internal");
            }
            self.unknown_fields(&se, &["hosts", "ports", "resolution", "location", "addresses"], &mut b);
            let related: Vec<(usize, Obj<'a>)> = self
                .objects()
                .filter(|(_, o)| {
                    let host = match o.kind {
                        "DestinationRule" => o.str(&["host"]),
                        "VirtualService" if gateway_names(o).is_empty() => o
                            .spec(&["hosts"])
                            .and_then(|h| h.items().first())
                            .and_then(Node::as_str),
                        _ => None,
                    };
                    host.is_some_and(|h| hosts.contains(&h))
                })
                .map(|(i, o)| (i, *o))
                .collect();
            for (i, o) in related {
                handled.insert(i);
                if o.kind == "DestinationRule" {
                    if let Some(policy) = o.spec(&["trafficPolicy"]) {
                        let (settings, lost) = policy::policy(policy, self.places);
                        let mut p = Block::new("policy");
                        settings.into_iter().for_each(|s| p.decl(s));
                        if !p.is_empty() {
                            b.block(p);
                        }
                        lost.into_iter().for_each(|l| b.comment(l));
                    }
                } else {
                    let names = RouteNames { ns: self, own: None };
                    self.write_routes(&o, &names, None, &mut b, None);
                }
            }
            out.push(b);
        }
        out
    }

    fn gateways(&self, handled: &mut BTreeSet<usize>, calls: &Calls<'a>) -> Vec<Block> {
        let mut out = Vec::new();
        let gateways: Vec<(usize, Obj<'a>)> = self
            .objects()
            .filter(|(_, o)| o.kind == "Gateway" && (o.is_istio() || o.api.starts_with("gateway.networking.k8s.io/")))
            .map(|(i, o)| (i, *o))
            .collect();
        for (index, gw) in gateways {
            if !gw.is_istio() {
                if let Some(block) = self.api_gateway(&gw, handled) {
                    handled.insert(index);
                    out.push(block);
                }
                continue;
            }
            if !is_name(gw.name) {
                continue;
            }
            handled.insert(index);
            let mut b = Block::new(format!("gateway {}", gw.name));
            let selector = gw.spec(&["selector"]).map(Node::entries).unwrap_or_default();
            let default =
                matches!(selector, [(k, v)] if k.as_str() == Some("istio") && v.as_str() == Some("ingressgateway"));
            if !default {
                for (k, v) in selector {
                    match (k.as_str(), v.as_str()) {
                        (Some(k), Some(v)) if is_label_key(k) => b.decl(format!("selector {k} {}", quote(v))),
                        _ => b.comment(self.places.lost("a selector label", k.span)),
                    }
                }
            }
            if let Some(callers) = calls.gateway_callers.get(self.namespace) {
                match callers.iter().collect::<Vec<_>>()[..] {
                    [identity] => b.decl(format!("identity {identity}")),
                    _ => b.comment(format!(
                        "meshc import: callers with no service of their own: {}",
                        callers.iter().cloned().collect::<Vec<_>>().join(", ")
                    )),
                }
            }
            for server in gw.spec(&["servers"]).map(Node::items).unwrap_or_default() {
                match listen(server) {
                    Some(text) => b.decl(text),
                    None => b.comment(self.places.lost("a server", server.span)),
                }
            }
            // JWT rules meshc writes in istio-system for this gateway.
            for (i, o) in self.mesh.objects.iter().enumerate() {
                if self.mesh.jwt_gateway(o) != Some((gw.namespace, gw.name)) {
                    continue;
                }
                if o.kind == "RequestAuthentication" {
                    for rule in o.spec(&["jwtRules"]).map(Node::items).unwrap_or_default() {
                        match jwt(rule) {
                            Some(text) => b.decl(text),
                            None => b.comment(self.places.lost("a JWT rule", rule.span)),
                        }
                    }
                }
                handled.insert(i);
            }
            // Routes: host-specific VirtualServices first.
            let vss: Vec<(usize, Obj<'a>)> = self
                .objects()
                .filter(|(_, o)| o.kind == "VirtualService" && gateway_names(o).contains(&gw.name))
                .map(|(i, o)| (i, *o))
                .collect();
            let mut ordered: Vec<&(usize, Obj<'a>)> = vss.iter().filter(|(_, o)| is_host_routes(o).is_some()).collect();
            ordered.extend(vss.iter().filter(|(_, o)| is_host_routes(o).is_none()));
            for (i, vs) in ordered {
                handled.insert(*i);
                let host = is_host_routes(vs);
                let names = RouteNames { ns: self, own: None };
                let mut routes = Block::default();
                self.write_routes(vs, &names, host, &mut routes, None);
                b.lines.extend(routes.lines);
            }
            out.push(b);
        }
        out
    }
}

impl<'m, 'a> NsImport<'m, 'a> {
    /// A Gateway API Gateway (class `istio`) and the HTTPRoutes attached to it.
    fn api_gateway(&self, gw: &Obj<'a>, handled: &mut BTreeSet<usize>) -> Option<Block> {
        if !is_name(gw.name) {
            return None;
        }
        let mut b = Block::new(format!("gateway {}", gw.name));
        for (key, value) in gw.node.get("spec").map(Node::entries).unwrap_or_default() {
            match key.as_str() {
                Some("gatewayClassName") if value.as_str() == Some("istio") => {}
                Some("listeners") => {
                    for listener in value.items() {
                        match gateway_api::listener(listener) {
                            Some(text) => b.decl(text),
                            None => b.comment(self.places.lost("a listener", listener.span)),
                        }
                    }
                }
                other => b.comment(
                    self.places
                        .lost(&format!("Gateway field `{}`", other.unwrap_or("?")), key.span),
                ),
            }
        }
        let routes = self.attached_routes(|p| {
            p.get("name").and_then(Node::as_str) == Some(gw.name)
                && p.get("kind").and_then(Node::as_str).is_none_or(|k| k == "Gateway")
        });
        for (index, route) in routes {
            handled.insert(index);
            let names = RouteNames { ns: self, own: None };
            self.write_rules(&route, &names, None, &mut b, None);
        }
        Some(b)
    }
}

#[derive(Default)]
struct Calls<'a> {
    by_caller: BTreeMap<(&'a str, &'a str), BTreeSet<String>>,
    allow: BTreeMap<(&'a str, &'a str), Vec<String>>,
    /// Per namespace, the `NS/ACCOUNT` of callers that are no service: its gateway's identity.
    gateway_callers: BTreeMap<&'a str, BTreeSet<String>>,
    /// Per service, the claims its callers' tokens must carry (` claim NAME "v"...`).
    claims: BTreeMap<(&'a str, &'a str), String>,
}

struct RouteNames<'n, 'm, 'a> {
    ns: &'n NsImport<'m, 'a>,
    own: Option<usize>,
}

impl gateway_api::Backends for RouteNames<'_, '_, '_> {
    fn backend(&self, reference: &Node) -> Option<String> {
        let ns = self.ns;
        let name = reference.get("name")?.as_str()?;
        let namespace = reference
            .get("namespace")
            .and_then(Node::as_str)
            .unwrap_or(ns.namespace);
        if reference
            .get("kind")
            .and_then(Node::as_str)
            .is_some_and(|k| k != "Service")
        {
            return None;
        }
        let (service, version) = match ns.mesh.version_services.get(&(namespace, name)) {
            Some((service, version)) => (*service, Some(*version)),
            None => (name, None),
        };
        let svc = ns
            .mesh
            .services
            .iter()
            .find(|s| s.obj.namespace == namespace && s.obj.name == service)?;
        let ports = svc.obj.spec(&["ports"]).map_or(0, |p| p.items().len());
        let port = match reference.get("port").and_then(Node::as_int) {
            Some(p) if ports > 1 => format!(":{p}"),
            _ => String::new(),
        };
        let own = self.own.is_some_and(|o| std::ptr::eq(ns.services[o], svc));
        let base = if namespace == ns.namespace {
            svc.name.clone()
        } else {
            format!("{}.{namespace}", svc.name)
        };
        Some(match version {
            Some(v) if own && port.is_empty() => v.to_string(),
            Some(v) => format!("{base}/{v}{port}"),
            None => format!("{base}{port}"),
        })
    }
}

impl routes::Names for RouteNames<'_, '_, '_> {
    fn target(&self, destination: &Node) -> Option<String> {
        let ns = self.ns;
        let host = destination.get("host")?.as_str()?;
        let subset = destination.get("subset").and_then(Node::as_str);
        let port = destination.at(&["port", "number"]).and_then(Node::as_int);
        for (key, _) in destination.entries() {
            if !matches!(key.as_str(), Some("host" | "subset" | "port")) {
                return None;
            }
        }
        if let Some(svc) = ns.mesh.service_by_host(host, ns.namespace) {
            let ports = svc.obj.spec(&["ports"]).map_or(0, |p| p.items().len());
            let port_suffix = match port {
                Some(p) if ports > 1 => format!(":{p}"),
                _ => String::new(),
            };
            let same_ns = svc.obj.namespace == ns.namespace;
            let own = self.own.is_some_and(|o| std::ptr::eq(ns.services[o], svc));
            let base = if same_ns {
                svc.name.clone()
            } else {
                format!("{}.{}", svc.name, svc.obj.namespace)
            };
            return Some(match (own, subset) {
                (true, Some(v)) if port_suffix.is_empty() => v.to_string(),
                (_, Some(v)) => format!("{base}/{v}{port_suffix}"),
                (_, None) => format!("{base}{port_suffix}"),
            });
        }
        let external = ns.mesh.external_by_host(host, ns.namespace)?;
        subset.is_none().then_some(())?;
        let ports = external.spec(&["ports"]).map_or(0, |p| p.items().len());
        Some(match port {
            Some(p) if ports > 1 => format!("{}:{p}", external.name),
            _ => external.name.to_string(),
        })
    }

    fn source(&self, labels: &Node, namespace: Option<&Node>) -> Option<String> {
        let ns = self.ns;
        let namespace = namespace.and_then(Node::as_str).unwrap_or(ns.namespace);
        let app = labels.get(&ns.app_key)?.as_str()?;
        let version = labels.get(&ns.version_key).and_then(Node::as_str);
        if labels.entries().len() != 1 + usize::from(version.is_some()) {
            return None;
        }
        let svc = ns
            .mesh
            .services
            .iter()
            .find(|s| s.obj.namespace == namespace && s.selector.get(ns.app_key.as_str()) == Some(&app))?;
        let base = if namespace == ns.namespace {
            svc.name.clone()
        } else {
            format!("{}.{namespace}", svc.name)
        };
        Some(match version {
            Some(v) => format!("{base} {v}"),
            None => base,
        })
    }
}

/// The identity of Istio's default ingress gateway, which meshc gives a gateway unless
/// `identity` says otherwise.
const DEFAULT_GATEWAY_PRINCIPAL: &str = "cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account";

const PROTOCOLS: &[&str] = &[
    "grpc-web", "http2", "https", "http", "grpc", "tcp", "tls", "mongo", "mysql", "redis", "udp",
];

/// `port PROTOCOL NUMBER [-> TARGET]` and the target, from a Service port.
fn port_decl(port: &Node) -> Option<(String, i64)> {
    let number = port.get("port")?.as_int()?;
    let target = match port.get("targetPort") {
        None => number,
        Some(t) => t.as_int()?,
    };
    let name = port.get("name").and_then(Node::as_str).unwrap_or_default();
    let protocol = if port.get("protocol").and_then(Node::as_str) == Some("UDP") {
        "udp"
    } else {
        PROTOCOLS
            .iter()
            .find(|p| name == **p || name.strip_prefix(**p).is_some_and(|r| r.starts_with('-')))
            .copied()
            .or_else(|| {
                let app = port.get("appProtocol").and_then(Node::as_str)?;
                PROTOCOLS.iter().find(|p| **p == app).copied()
            })?
    };
    let decl = if target == number {
        format!("port {protocol} {number}")
    } else {
        format!("port {protocol} {number} -> {target}")
    };
    Some((decl, target))
}

/// `listen PROTOCOL PORT hosts ... [tls ...]`, from a Gateway server.
fn listen(server: &Node) -> Option<String> {
    let number = server.at(&["port", "number"])?.as_int()?;
    let protocol = server.at(&["port", "protocol"])?.as_str()?.to_ascii_lowercase();
    if !is_name(&protocol) && protocol != "http" {
        return None;
    }
    let mut out = format!("listen {protocol} {number}");
    let hosts: Vec<String> = server
        .get("hosts")
        .map(Node::items)
        .unwrap_or_default()
        .iter()
        .map(|h| h.as_str().map(quote))
        .collect::<Option<_>>()?;
    if !hosts.is_empty() {
        out.push_str(&format!(" hosts {}", hosts.join(", ")));
    }
    if let Some(tls) = server.get("tls") {
        for (key, value) in tls.entries() {
            match (key.as_str()?, value.as_str()?) {
                ("httpsRedirect", "true") => out.push_str(" https-redirect"),
                ("mode", mode) => {
                    let word = match mode {
                        "SIMPLE" => "simple",
                        "MUTUAL" => "mutual",
                        "PASSTHROUGH" => "passthrough",
                        "ISTIO_MUTUAL" => "istio-mutual",
                        _ => return None,
                    };
                    out.push_str(&format!(" tls {word}"));
                }
                ("credentialName", name) => out.push_str(&format!(" credential {}", quote(name))),
                _ => return None,
            }
        }
    }
    for (key, _) in server.entries() {
        if !matches!(key.as_str(), Some("port" | "hosts" | "tls")) {
            return None;
        }
    }
    Some(out)
}

/// `jwt issuer ... jwks ... audiences ... header NAME prefix P`, from a jwtRule.
fn jwt(rule: &Node) -> Option<String> {
    let mut out = format!("jwt issuer {}", quote(rule.get("issuer")?.as_str()?));
    for (key, value) in rule.entries() {
        match key.as_str()? {
            "issuer" => {}
            "jwksUri" => out.push_str(&format!(" jwks {}", quote(value.as_str()?))),
            "audiences" => {
                let list: Vec<String> = value
                    .items()
                    .iter()
                    .map(|a| a.as_str().map(quote))
                    .collect::<Option<_>>()?;
                out.push_str(&format!(" audiences {}", list.join(" ")));
            }
            "fromParams" => {
                for param in value.items() {
                    out.push_str(&format!(" param {}", param.as_str().filter(|p| is_name(p))?));
                }
            }
            "forwardOriginalToken" if value.as_str() == Some("true") => out.push_str(" forward"),
            "fromHeaders" => {
                let [header] = value.items() else { return None };
                let name = header.get("name")?.as_str().filter(|n| is_name(n))?;
                out.push_str(&format!(" header {name}"));
                if let Some(prefix) = header.get("prefix") {
                    out.push_str(&format!(" prefix {}", quote(prefix.as_str()?)));
                }
            }
            _ => return None,
        }
    }
    Some(out)
}

fn mtls_word(mode: &str) -> Option<&'static str> {
    match mode {
        "STRICT" => Some("strict"),
        "PERMISSIVE" => Some("permissive"),
        _ => None,
    }
}

/// Whether two nodes hold the same value, wherever they are.
fn same(a: &Node, b: &Node) -> bool {
    match (&a.value, &b.value) {
        (Value::Seq(x), Value::Seq(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q)),
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|((k1, v1), (k2, v2))| same(k1, k2) && same(v1, v2))
        }
        (x, y) => x == y,
    }
}

/// A mapping of strings (labels, a selector); other entries are left out.
fn labels_of(node: Option<&Node>) -> BTreeMap<&str, &str> {
    node.map(Node::entries)
        .unwrap_or_default()
        .iter()
        .filter_map(|(k, v)| Some((k.as_str()?, v.as_str()?)))
        .collect()
}

fn gateway_names<'a>(vs: &Obj<'a>) -> Vec<&'a str> {
    vs.spec(&["gateways"])
        .map(Node::items)
        .unwrap_or_default()
        .iter()
        .filter_map(Node::as_str)
        .filter(|g| *g != "mesh")
        .collect()
}

fn name_span(obj: &Obj<'_>) -> crate::source::Span {
    obj.node.at(&["metadata", "name"]).map_or(obj.node.span, |n| n.span)
}

/// The most frequent value; ties go to the smallest.
fn majority(values: impl Iterator<Item = String>) -> Option<String> {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for v in values {
        *counts.entry(v).or_default() += 1;
    }
    let best = counts.values().copied().max()?;
    counts.into_iter().find(|(_, c)| *c == best).map(|(v, _)| v)
}
