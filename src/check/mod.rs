//! Resolve and validate: AST → [`Mesh`](crate::model::Mesh). Every semantic rule lives
//! here, and every problem is collected, so one run reports all of them.

mod external;
mod gateway;
mod naming;
mod policy;
mod routes;
pub(crate) mod rules;
mod security;
mod service;
mod settings;
pub(crate) mod suggest;
pub(crate) mod vars;
mod vm;
mod workload;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Range;

use crate::ast;
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::model;
use crate::options::Options;
use crate::source::Span;

/// What may be written in a version, a `cluster` block and a listener (for completion).
pub(crate) use gateway::LISTENER_PROTOCOLS;
pub(crate) use naming::Key;
use naming::Naming;
pub(crate) use service::{POD_PROPERTIES, VM_PROPERTIES};
pub(crate) use vm::CLUSTER_SETTINGS;

/// Variable definitions from every vars source, later sources overriding earlier ones.
pub(crate) type Definitions = BTreeMap<String, vars::Definition>;

/// Reads a vars source into `definitions`, overriding earlier definitions of a name.
pub(crate) fn read_vars(source: crate::source::SourceId, text: &str, definitions: &mut Definitions) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    for (name, definition) in vars::parse(source, text, &mut diagnostics) {
        definitions.insert(name, definition);
    }
    diagnostics
}

/// What a caller of [`check`] needs of the syntax trees afterwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Trees {
    /// Nothing: each service's declaration is taken out of its file and freed as soon as its
    /// model is made (the files are left without their services).
    Free,
    /// The whole trees, variables substituted (the language server indexes them): the check
    /// works on a copy.
    Keep,
}

/// Substitutes variables, checks the parsed files together and builds the mesh. The mesh
/// is only meaningful when no error was reported.
pub(crate) fn check(
    files: &mut [ast::File],
    definitions: &Definitions,
    options: &Options,
    trees: Trees,
) -> (model::Mesh, Vec<Diagnostic>) {
    let mut checker = Checker::new(options);
    vars::substitute(files, definitions, &mut checker.diagnostics);
    let mesh = match trees {
        Trees::Free => checker.mesh(files),
        Trees::Keep => checker.mesh(&mut files.to_vec()),
    };
    (mesh, collapse_repeats(checker.diagnostics))
}

/// One report per repeated value: the repeats of one thing (a split naming `v1` 100 000
/// times, an address listed again and again) are reported at the first repeat, with the
/// count and the last one, rather than once each. Repeats are diagnostics of a
/// duplicate's code with the same message whose "first" note is the first occurrence or
/// an earlier repeat (checks point at one or the other).
fn collapse_repeats(diagnostics: Vec<Diagnostic>) -> Vec<Diagnostic> {
    if !diagnostics
        .iter()
        .any(|d| matches!(d.code, Code::Duplicate | Code::RepeatedTarget))
    {
        return diagnostics;
    }
    // (code, message, span of an occurrence) → the group it belongs to.
    let mut occurrences: HashMap<(Code, &str, Span), usize> = HashMap::new();
    // Per group: the diagnostic kept, how many more repeats, and the last one.
    let mut groups: Vec<(usize, usize, Span)> = Vec::new();
    let mut keep = vec![true; diagnostics.len()];
    for (i, d) in diagnostics.iter().enumerate() {
        let first = d.secondary.first().map(|l| l.span);
        let (true, Some(first)) = (matches!(d.code, Code::Duplicate | Code::RepeatedTarget), first) else {
            continue;
        };
        let key = |span| (d.code, d.message.as_str(), span);
        match occurrences.get(&key(first)).copied() {
            Some(group) => {
                if let Some(g) = groups.get_mut(group) {
                    g.1 += 1;
                    g.2 = d.primary.span;
                }
                if let Some(k) = keep.get_mut(i) {
                    *k = false;
                }
                occurrences.insert(key(d.primary.span), group);
            }
            None => {
                let group = groups.len();
                groups.push((i, 0, d.primary.span));
                occurrences.insert(key(first), group);
                occurrences.insert(key(d.primary.span), group);
            }
        }
    }
    let more: HashMap<usize, (usize, Span)> = groups
        .into_iter()
        .filter(|g| g.1 > 0)
        .map(|(i, n, last)| (i, (n, last)))
        .collect();
    diagnostics
        .into_iter()
        .zip(keep)
        .enumerate()
        .filter(|(_, (_, keep))| *keep)
        .map(|(i, (mut d, _))| {
            if let Some(&(n, last)) = more.get(&i) {
                d.message = format!(
                    "{}, and {n} more time{} after",
                    d.message,
                    if n == 1 { "" } else { "s" }
                );
                d = d.note(last, "repeated for the last time here");
            }
            d
        })
        .collect()
}

pub(crate) struct Checker<'a> {
    pub(crate) options: &'a Options,
    pub(crate) diagnostics: Vec<Diagnostic>,
    /// Set while the declaration at hand has an invalid name (already reported): names
    /// generated from it are then invalid too, and saying so again would only be noise.
    pub(crate) quiet_names: bool,
    /// The services of each namespace, indexed for "did you mean" once, when a reference
    /// to an unknown service is first met there.
    pub(crate) service_names: BTreeMap<String, suggest::Index>,
    /// The versions of each service, indexed for "did you mean" once, when an unknown
    /// version of it is first met: a service may have thousands, and as many typos.
    pub(crate) version_names: HashMap<(String, String), suggest::Index>,
    /// What a route target may name in a namespace (its services, and the versions of the
    /// service whose routes they are, if any), indexed once, when an unknown target is first
    /// met there.
    pub(crate) target_names: HashMap<(String, Option<(String, String)>), suggest::Index>,
    /// The spans of templates reported by [`Checker::generated_name`] (each once).
    pub(crate) templates_reported: HashSet<Span>,
}

/// A namespace's declarations gathered from every block and file that opens it.
pub(crate) struct Scope<'f> {
    pub(crate) name: &'f ast::Name,
    pub(crate) naming: Naming,
    /// The namespace's services in name order (the first declaration of a name), as places
    /// in the checker's [`Pool`].
    pub(crate) services: Vec<usize>,
    pub(crate) externals: BTreeMap<&'f str, &'f ast::External>,
    pub(crate) gateways: BTreeMap<&'f str, &'f ast::Gateway>,
    /// The namespace's `mtls` (and misplaced security) settings, from every block.
    pub(crate) security: Vec<&'f ast::Setting>,
    pub(crate) cluster: model::Cluster,
}

/// Every service declaration, taken out of the syntax trees so that each can be freed as
/// soon as its model is made: a large mesh then never holds its whole syntax tree and its
/// whole model at once.
pub(crate) struct Pool {
    services: Vec<Option<ast::Service>>,
    /// The places of each namespace block's services, blocks in the order of the files.
    blocks: Vec<Range<usize>>,
}

impl Pool {
    /// Takes the services out of every namespace block of `files`.
    fn take(files: &mut [ast::File]) -> Pool {
        let mut pool = Pool {
            services: Vec::new(),
            blocks: Vec::new(),
        };
        for block in files.iter_mut().flat_map(|f| &mut f.namespaces) {
            let start = pool.services.len();
            pool.services
                .extend(std::mem::take(&mut block.services).into_iter().map(Some));
            pool.blocks.push(start..pool.services.len());
        }
        pool
    }

    /// The declaration at place `i`, unless it was taken.
    fn get(&self, i: usize) -> Option<&ast::Service> {
        self.services.get(i).and_then(Option::as_ref)
    }

    /// Takes the declaration at place `i` out, for its model to be made.
    fn take_one(&mut self, i: usize) -> Option<ast::Service> {
        self.services.get_mut(i).and_then(Option::take)
    }
}

/// What other declarations need to know about a service (or external service) before
/// it is built: enough to resolve a route target or a `from` condition.
pub(crate) struct ServiceFacts {
    pub(crate) fqdn: String,
    /// Declared version names.
    pub(crate) versions: Versions,
    /// Declared port numbers with their protocol, when valid.
    pub(crate) ports: Vec<(u16, Option<model::Protocol>)>,
    /// The label the Service selects, and the key that tells versions apart.
    pub(crate) selector: (String, String),
    pub(crate) version_key: String,
    pub(crate) external: bool,
}

/// A service's declared version names, in the order declared (for listings), and found by
/// name in a logarithmic number of steps: a service may declare thousands, and each route
/// target and `from` condition looks one up.
pub(crate) struct Versions {
    declared: Vec<String>,
    /// Positions in `declared`, in the order of their names.
    by_name: Vec<usize>,
}

impl Versions {
    fn new(declared: Vec<String>) -> Versions {
        let mut by_name: Vec<usize> = (0..declared.len()).collect();
        by_name.sort_by(|&a, &b| declared[a].cmp(&declared[b]));
        Versions { declared, by_name }
    }

    pub(crate) fn contains(&self, name: &str) -> bool {
        self.by_name
            .binary_search_by(|&i| self.declared[i].as_str().cmp(name))
            .is_ok()
    }

    pub(crate) fn declared(&self) -> &[String] {
        &self.declared
    }
}

fn declared_ports(ports: &[ast::Port]) -> Vec<(u16, Option<model::Protocol>)> {
    ports
        .iter()
        .filter_map(|p| {
            let n = u16::try_from(p.number.whole()?).ok().filter(|n| *n > 0)?;
            Some((n, model::Protocol::from_word(&p.protocol.text.to_ascii_lowercase())))
        })
        .collect()
}

pub(crate) type Index = BTreeMap<(String, String), ServiceFacts>;

impl<'a> Checker<'a> {
    fn new(options: &'a Options) -> Self {
        Checker {
            options,
            diagnostics: Vec::new(),
            quiet_names: false,
            service_names: BTreeMap::new(),
            version_names: HashMap::new(),
            target_names: HashMap::new(),
            templates_reported: HashSet::new(),
        }
    }

    pub(crate) fn error(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    /// A Kubernetes Service's address: `<host>.<namespace>.svc.<cluster domain>`.
    pub(crate) fn fqdn(&self, host: &str, namespace: &str) -> String {
        format!("{host}.{namespace}.svc.{}", self.options.cluster_domain)
    }

    /// Reports a name that breaks a rule, saying which rule.
    pub(crate) fn name_rule(
        &mut self,
        name: &ast::Name,
        what: &str,
        rule_name: &str,
        rule: fn(&str) -> Result<(), String>,
    ) -> bool {
        match rule(&name.text) {
            Ok(()) => true,
            Err(why) => {
                let mut d = Diagnostic::error(
                    Code::InvalidName,
                    name.span,
                    format!("`{}` is not a valid {what}: {why}", name.text),
                )
                .label(format!("not a {rule_name}"));
                let fixed = repair_name(&name.text);
                if fixed != name.text && rule(&fixed).is_ok() {
                    d = d.help(format!("{what}s are {rule_name}s; try `{fixed}`"));
                } else {
                    d = d.help(format!(
                        "{what}s are {rule_name}s: lowercase letters, digits and `-`, at most 63 characters"
                    ));
                }
                self.error(d);
                false
            }
        }
    }

    /// Reports a second declaration of the same thing.
    pub(crate) fn duplicate(&mut self, what: &str, name: &str, again: Span, first: Span) {
        self.error(
            Diagnostic::error(Code::Duplicate, again, format!("{what} `{name}` is declared twice"))
                .label("declared again here")
                .note(first, "first declared here")
                .help(format!("remove one of them, or give this {what} another name")),
        );
    }

    /// Checks a generated name; reports the template that produced it (or the declaration,
    /// for a default template) at most once per template.
    pub(crate) fn generated_name(
        &mut self,
        name: &str,
        template: &naming::Template,
        key: Key,
        at: Span,
        rule: fn(&str) -> Result<(), String>,
        what: &str,
    ) -> bool {
        let Err(why) = rule(name) else { return true };
        if self.quiet_names {
            return false;
        }
        let span = template.span.unwrap_or(at);
        if self.templates_reported.insert(span) {
            let origin = if template.span.is_some() {
                format!("the `{}` template `{}`", key.word(), template.text)
            } else {
                format!("the default `{}` template `{}`", key.word(), template.text)
            };
            self.error(
                Diagnostic::error(
                    Code::InvalidTemplate,
                    span,
                    format!("{origin} makes the {what} `{name}`, which is not valid: {why}"),
                )
                .label(format!("makes `{name}`"))
                .help(format!(
                    "change the name here or set `{}` in the namespace's `naming` block",
                    key.word()
                )),
            );
        }
        false
    }

    fn mesh(&mut self, files: &mut [ast::File]) -> model::Mesh {
        let mut pool = Pool::take(files);
        let files: &[ast::File] = files;
        // Gather every namespace block by name: a namespace may be opened more than once.
        let mut groups: BTreeMap<&str, Vec<(&ast::Namespace, Range<usize>)>> = BTreeMap::new();
        for (ns, services) in files.iter().flat_map(|f| &f.namespaces).zip(&pool.blocks) {
            groups
                .entry(ns.name.text.as_str())
                .or_default()
                .push((ns, services.clone()));
        }

        let mut scopes = Vec::new();
        for blocks in groups.values() {
            scopes.push(self.scope(blocks, &pool));
        }

        // What references need to know about every service, across namespaces.
        let mut index = Index::new();
        for scope in &scopes {
            let ns = scope.name.text.as_str();
            for service in scope.services.iter().filter_map(|&i| pool.get(i)) {
                let name = service.name.text.as_str();
                let vars = [("service", name), ("namespace", ns)];
                let host = scope.naming.template(Key::Service).expand(&vars);
                let app = scope.naming.template(Key::Workload).expand(&vars);
                let app_key = scope.naming.template(Key::AppLabel).expand(&[]);
                let version_key = scope.naming.template(Key::VersionLabel).expand(&[]);
                let fqdn = self.fqdn(&host, ns);
                let facts = ServiceFacts {
                    fqdn,
                    versions: Versions::new(service.versions.iter().map(|v| v.name.text.clone()).collect()),
                    ports: declared_ports(&service.ports),
                    selector: (app_key, app),
                    version_key,
                    external: false,
                };
                index.insert((ns.to_string(), name.to_string()), facts);
            }
            for (name, external) in &scope.externals {
                let fqdn = external::first_host(external).unwrap_or_else(|| name.to_string());
                let facts = ServiceFacts {
                    fqdn,
                    versions: Versions::new(Vec::new()),
                    ports: declared_ports(&external.ports),
                    selector: (String::new(), String::new()),
                    version_key: String::new(),
                    external: true,
                };
                index.insert((ns.to_string(), name.to_string()), facts);
            }
        }

        let mut namespaces = Vec::new();
        for scope in &scopes {
            // At its size: the model keeps it to the end, and a service is large. Each
            // service's declaration is freed as soon as its model is made.
            let mut services = Vec::with_capacity(scope.services.len());
            for &i in &scope.services {
                if let Some(model) = pool.take_one(i).and_then(|s| self.service(scope, &s, &index)) {
                    services.push(model);
                }
            }
            let externals: Vec<model::External> = scope
                .externals
                .values()
                .filter_map(|e| self.external(scope, e, &index))
                .collect();
            let mtls = self.namespace_mtls(&scope.security);
            let gateway_security = scope.gateways.values().map(|g| self.gateway_security(g)).collect();
            namespaces.push(model::Namespace {
                name: scope.name.text.clone(),
                span: scope.name.span,
                services,
                externals,
                gateways: Vec::new(),
                accounts: Vec::new(),
                mtls,
                gateway_security,
                cluster: scope.cluster.clone(),
            });
        }
        // Gateways route to services, possibly in other namespaces: build them last.
        let mut services: HashMap<&str, &model::Service> = HashMap::new();
        for service in namespaces.iter().flat_map(|n| &n.services) {
            services.entry(service.fqdn.as_str()).or_insert(service);
        }
        let gateways: Vec<Vec<model::Gateway>> = scopes
            .iter()
            .map(|scope| {
                scope
                    .gateways
                    .values()
                    .filter_map(|g| self.gateway(scope, g, &index, &services))
                    .collect()
            })
            .collect();
        for (ns, gateways) in namespaces.iter_mut().zip(gateways) {
            ns.gateways = gateways;
        }
        for ns in &mut namespaces {
            let mut accounts: Vec<String> = ns
                .services
                .iter()
                .flat_map(|s| s.versions.iter().map(|v| v.account.clone()))
                .collect();
            accounts.sort();
            accounts.dedup();
            ns.accounts = accounts;
        }
        let mesh = model::Mesh { namespaces };
        self.collisions(&mesh);
        self.duplicate_hosts(&mesh);
        self.conflicting_listeners(&mesh);
        self.bypassed_routes(&mesh);
        self.plaintext_callers(&mesh);
        mesh
    }

    fn scope<'f>(&mut self, declared: &[(&'f ast::Namespace, Range<usize>)], pool: &Pool) -> Scope<'f> {
        let blocks: Vec<&ast::Namespace> = declared.iter().map(|(block, _)| *block).collect();
        let first = blocks[0];
        self.name_rule(&first.name, "namespace name", "DNS-1123 label", rules::dns_label);
        let naming_blocks: Vec<&ast::NamingBlock> = blocks.iter().flat_map(|b| &b.naming).collect();
        let naming = Naming::resolve(&naming_blocks, &mut self.diagnostics);
        let mut services: BTreeMap<&str, (usize, &ast::Service)> = BTreeMap::new();
        let mut externals: BTreeMap<&str, &ast::External> = BTreeMap::new();
        let mut gateways: BTreeMap<&str, &ast::Gateway> = BTreeMap::new();
        for (block, in_pool) in declared {
            for i in in_pool.clone() {
                let Some(service) = pool.get(i) else { continue };
                if let Some((_, existing)) = services.get(service.name.text.as_str()) {
                    self.duplicate("service", &service.name.text, service.name.span, existing.name.span);
                } else {
                    services.insert(&service.name.text, (i, service));
                }
            }
            for external in &block.externals {
                let first = services
                    .get(external.name.text.as_str())
                    .map(|(_, s)| s.name.span)
                    .or_else(|| externals.get(external.name.text.as_str()).map(|e| e.name.span));
                if let Some(first) = first {
                    self.duplicate("service", &external.name.text, external.name.span, first);
                } else {
                    externals.insert(&external.name.text, external);
                }
            }
            for gateway in &block.gateways {
                if let Some(existing) = gateways.get(gateway.name.text.as_str()) {
                    self.duplicate("gateway", &gateway.name.text, gateway.name.span, existing.name.span);
                } else {
                    gateways.insert(&gateway.name.text, gateway);
                }
            }
        }
        // A service declared after an external service of the same name.
        for (name, external) in &externals {
            if let Some((_, service)) = services.get(name) {
                if service.name.span > external.name.span {
                    self.duplicate("service", name, service.name.span, external.name.span);
                }
            }
        }
        let cluster = self.cluster(&blocks);
        Scope {
            name: &first.name,
            naming,
            services: services.into_values().map(|(i, _)| i).collect(),
            externals,
            gateways,
            security: blocks.iter().flat_map(|b| &b.security).collect(),
            cluster,
        }
    }

    /// Resolves `name` or `name.namespace` to a service key, reporting unknown names.
    pub(crate) fn resolve_service(
        &mut self,
        reference: &ast::Name,
        from_namespace: &str,
        index: &Index,
    ) -> Option<(String, String)> {
        let key = service_key(&reference.text, from_namespace);
        if index.contains_key(&key) {
            return Some(key);
        }
        let (namespace, service) = (key.0.as_str(), key.1.as_str());
        let where_ = if namespace == from_namespace {
            "this namespace".to_string()
        } else {
            format!("namespace `{namespace}`")
        };
        let mut d = Diagnostic::error(
            Code::UnknownService,
            reference.span,
            format!("there is no service `{service}` in {where_}"),
        )
        .label("unknown service");
        let names = self.service_names.entry(namespace.to_string()).or_insert_with(|| {
            suggest::Index::new(
                index
                    .range((namespace.to_string(), String::new())..)
                    .take_while(|((n, _), _)| n == namespace)
                    .map(|((_, s), _)| s.as_str()),
            )
        });
        if let Some(suggestion) = names.did_you_mean(service, "services") {
            // `name.namespace`: the fix rewrites the name only.
            let name = Span::new(
                reference.span.source,
                reference.span.start,
                reference.span.start + service.len().min(reference.span.end - reference.span.start),
            );
            d = suggestion.on(d, name);
        } else if names.is_empty() && namespace != from_namespace {
            d = d.help(format!(
                "no namespace `{namespace}` declares services; check the namespace's name"
            ));
        }
        self.error(d);
        None
    }

    /// Services whose selectors would pick each other's workloads. (Objects that share a
    /// kind, namespace and name are reported by the output target's registry.)
    fn collisions(&mut self, mesh: &model::Mesh) {
        for ns in &mesh.namespaces {
            let mut seen: BTreeMap<&str, (&str, Span)> = BTreeMap::new();
            for service in &ns.services {
                let (name, span) = (service.selector.1.as_str(), service.span);
                let Some(&(first, first_span)) = seen.get(name) else {
                    seen.insert(name, (&service.name, span));
                    continue;
                };
                let kind = "app label value";
                self.error(
                    Diagnostic::error(
                        Code::NameCollision,
                        span,
                        format!(
                            "service `{}` and service `{first}` both generate the {kind} `{name}`",
                            service.name
                        ),
                    )
                    .label(format!("generates {kind} `{name}`"))
                    .note(first_span, format!("service `{first}` generates it too"))
                    .help("include `{service}` (and `{version}`) in the naming templates, or rename one"),
                );
            }
        }
    }
}

impl Checker<'_> {
    /// A host is one entry in the mesh's registry: two external services (or an external
    /// service and a service) claiming one host make duplicate ServiceEntries and competing
    /// VirtualServices (istioctl IST0109, Kiali KIA1211).
    fn duplicate_hosts(&mut self, mesh: &model::Mesh) {
        // Services' hosts are distinct by construction (M2006 reports otherwise); external
        // hosts are checked against them and against each other, in file order.
        let mut seen: BTreeMap<&str, (String, Span)> = BTreeMap::new();
        for s in mesh.namespaces.iter().flat_map(|n| &n.services) {
            seen.entry(s.fqdn.as_str())
                .or_insert_with(|| (format!("service `{}`", s.name), s.span));
        }
        let mut externals: Vec<(&str, String, Span)> = mesh
            .namespaces
            .iter()
            .flat_map(|n| &n.externals)
            .flat_map(|e| {
                e.hosts
                    .iter()
                    .map(move |h| (h.as_str(), format!("external service `{}`", e.name), e.span))
            })
            .collect();
        externals.sort_by_key(|(_, _, span)| *span);
        {
            for (host, owner, span) in externals {
                match seen.get(host) {
                    Some((first, first_span)) => {
                        let (first, first_span) = (first.clone(), *first_span);
                        self.error(
                            Diagnostic::error(Code::Duplicate, span, format!("host `{host}` is claimed twice"))
                                .label(format!("{owner} claims it"))
                                .note(first_span, format!("{first} claims it first"))
                                .help("a host is registered once; merge the two, or remove one"),
                        );
                    }
                    None => {
                        seen.insert(host, (owner, span));
                    }
                }
            }
        }
    }

    /// Two gateways selecting the same workloads, listening on one port, for hosts that
    /// overlap: Istio keeps one of them (istioctl IST0145, Kiali KIA0301).
    fn conflicting_listeners(&mut self, mesh: &model::Mesh) {
        // The listeners so far, by workloads and port: each with its gateway, the places of
        // those with a named host by the host, and of those with a wildcard host. A
        // listener with named hosts only can clash only with listeners that share one of
        // them or have a wildcard: thousands of gateways on distinct hosts cost lookups.
        #[derive(Default)]
        struct Seen<'m> {
            listeners: Vec<(&'m str, &'m model::Server)>,
            named: HashMap<&'m str, Vec<usize>>,
            wildcard: Vec<usize>,
        }
        let mut seen: HashMap<(&model::Labels, u16), Seen<'_>> = HashMap::new();
        for gateway in mesh.namespaces.iter().flat_map(|n| &n.gateways) {
            for server in &gateway.servers {
                let group = seen.entry((&gateway.selector, server.number)).or_default();
                let named_only = server.hosts.iter().all(|h| !h.contains('*'));
                let candidates: Vec<usize> = if named_only {
                    let mut found: Vec<usize> = server
                        .hosts
                        .iter()
                        .filter_map(|h| group.named.get(h.as_str()))
                        .flatten()
                        .chain(&group.wildcard)
                        .copied()
                        .collect();
                    found.sort_unstable();
                    found.dedup();
                    found
                } else {
                    (0..group.listeners.len()).collect()
                };
                let clash = candidates
                    .into_iter()
                    .map(|i| group.listeners[i])
                    .find(|(other, s)| *other != gateway.name && gateway::hosts_overlap(&s.hosts, &server.hosts));
                let place = group.listeners.len();
                group.listeners.push((&gateway.name, server));
                for host in &server.hosts {
                    if host.contains('*') {
                        if group.wildcard.last() != Some(&place) {
                            group.wildcard.push(place);
                        }
                    } else {
                        group.named.entry(host).or_default().push(place);
                    }
                }
                if let Some((other, first)) = clash {
                    self.error(
                        Diagnostic::error(
                            Code::ConflictingListeners,
                            server.span,
                            format!(
                                "gateways `{}` and `{other}` both listen on port {} for overlapping hosts on the same workloads",
                                gateway.name, server.number
                            ),
                        )
                        .label("conflicting listener")
                        .note(first.span, format!("`{other}` listens here"))
                        .help("merge the listeners into one gateway, or give them hosts that do not overlap"),
                    );
                }
            }
        }
    }
}

/// The index key of a reference: `service` in the referring namespace, or
/// `service.namespace`.
pub(crate) fn service_key(reference: &str, from_namespace: &str) -> (String, String) {
    match reference.split_once('.') {
        Some((service, namespace)) => (namespace.to_string(), service.to_string()),
        None => (from_namespace.to_string(), reference.to_string()),
    }
}

/// A best guess at the valid name the user meant: lowercase, `_` and `.` as `-`.
fn repair_name(name: &str) -> String {
    let lowered: String = name
        .chars()
        .map(|c| match c {
            'A'..='Z' => c.to_ascii_lowercase(),
            '_' | '.' | ' ' => '-',
            c => c,
        })
        .collect();
    lowered.trim_matches('-').chars().take(63).collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

    use super::*;

    /// Every example and test case, with its vars file when it has one.
    fn inputs() -> Vec<(String, String, Option<String>)> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut meshes: Vec<std::path::PathBuf> = Vec::new();
        let mut folders = vec![root.join("examples")];
        for kind in ["ok", "warn", "err"] {
            let cases = std::fs::read_dir(root.join("tests/cases").join(kind)).unwrap();
            folders.extend(cases.map(|case| case.unwrap().path()));
        }
        for folder in folders {
            for entry in std::fs::read_dir(folder).unwrap() {
                let path = entry.unwrap().path();
                if path.extension().is_some_and(|e| e == "mesh") {
                    meshes.push(path);
                }
            }
        }
        meshes.sort();
        meshes
            .into_iter()
            .map(|path| {
                let vars = std::fs::read_to_string(path.with_extension("vars")).ok();
                (
                    path.display().to_string(),
                    std::fs::read_to_string(&path).unwrap(),
                    vars,
                )
            })
            .collect()
    }

    #[test]
    fn freeing_the_services_trees_while_checking_changes_nothing_the_check_finds() {
        let options = Options::default();
        let mut freed_any = false;
        let inputs = inputs();
        assert!(inputs.len() > 100, "only {} inputs found", inputs.len());
        for (name, text, vars) in inputs {
            let Some(parsed) = crate::syntax::parse(0, &text).0 else {
                continue;
            };
            let mut definitions = Definitions::new();
            if let Some(vars) = &vars {
                let _ = read_vars(1, vars, &mut definitions);
            }
            let mut kept = vec![parsed.clone()];
            let (mesh, diagnostics) = check(&mut kept, &definitions, &options, Trees::Keep);
            let mut freed = vec![parsed.clone()];
            let (mesh_freed, diagnostics_freed) = check(&mut freed, &definitions, &options, Trees::Free);
            assert_eq!(mesh, mesh_freed, "{name}: the mesh differs");
            assert_eq!(diagnostics, diagnostics_freed, "{name}: the diagnostics differ");

            // Kept: the whole tree, variables substituted. Freed: no service is left.
            let mut substituted = vec![parsed.clone()];
            vars::substitute(&mut substituted, &definitions, &mut Vec::new());
            assert_eq!(kept, substituted, "{name}: the kept trees are not the substituted ones");
            let declared = parsed.namespaces.iter().map(|ns| ns.services.len()).sum::<usize>();
            let left = freed[0].namespaces.iter().map(|ns| ns.services.len()).sum::<usize>();
            assert_eq!(left, 0, "{name}: {left} of {declared} services were not taken");
            freed_any |= declared > 0;
        }
        assert!(freed_any, "no input declares a service");
    }

    /// A service of `versions` versions whose routes name each of them wrong twice: as a
    /// version of the service (`s/x7`) and as a bare name (`x7`, neither a version nor a
    /// service).
    fn typos(versions: usize) -> String {
        let mut text = String::from("namespace a {\n  service s {\n    port http 80\n");
        for i in 0..versions {
            text.push_str(&format!("    vm v{i} at 10.0.{}.{}\n", i / 256, i % 256));
        }
        for prefix in ["s/", ""] {
            text.push_str("    route { ");
            for i in 0..versions {
                text.push_str(&format!("{prefix}x{i} {}% ", if i == 0 { 100 } else { 0 }));
            }
            text.push_str("}\n");
        }
        text.push_str("  }\n}\n");
        text
    }

    #[test]
    fn unknown_versions_and_targets_are_looked_up_not_compared_with_every_name() {
        let options = Options::default();
        for versions in [20, 2_000] {
            let mut files = vec![crate::syntax::parse(0, &typos(versions)).0.unwrap()];
            let mut checker = Checker::new(&options);
            checker.mesh(&mut files);
            let count = |code| checker.diagnostics.iter().filter(|d| d.code == code).count();
            assert_eq!(count(Code::UnknownVersion), 2 * versions, "{versions} versions");
            // One index of the service's versions and one of what its targets may name, each
            // built once; each unknown name costs a few lookups in it, not a comparison with
            // each of the thousands of names.
            assert_eq!(checker.version_names.len(), 1);
            assert_eq!(checker.target_names.len(), 1);
            let work: u64 = checker
                .version_names
                .values()
                .chain(checker.target_names.values())
                .map(|index| index.work)
                .sum();
            let per_name = work / versions as u64;
            assert!(per_name < 100, "{versions} versions: {per_name} steps per unknown name");
            // Every typo is one edit from a version, which is suggested.
            let suggested = checker
                .diagnostics
                .iter()
                .filter(|d| d.help.as_deref().is_some_and(|h| h.starts_with("did you mean `v")))
                .count();
            assert_eq!(suggested, 2 * versions);
        }
    }
}
