//! Services: ports, versions on pods and VMs, calls; and gateways.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;

use super::naming::Key;
use super::routes::Context;
use super::{rules, suggest, workload, Checker, Index, Scope};
use crate::ast::{self, PropertyKind, Runtime};
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::model::{self, Labels, Protocol};
use crate::source::Span;

pub(crate) const POD_PROPERTIES: &[&str] = &[
    "image",
    "replicas",
    "env",
    "label",
    "annotation",
    "account",
    "resources",
    "probe",
    "relax",
    "hardening",
];
pub(crate) const VM_PROPERTIES: &[&str] = &[
    "at",
    "label",
    "annotation",
    "account",
    "image",
    "env",
    "network",
    "locality",
    "weight",
    "auto-register",
    "agent",
];

/// The names a service generates.
struct ServiceNames {
    host: String,
    app: String,
    account: String,
    destination_rule: String,
    virtual_service: String,
    app_key: String,
    version_key: String,
}

/// Environment variables set to the address of a called service: (name, address).
type CallEnv = Vec<(ast::Name, String)>;

/// What a version's properties say, gathered while reading them.
struct VersionProperties<'v> {
    labels: Labels,
    /// Labels the user set, where.
    user_labels: BTreeMap<String, Span>,
    annotations: Labels,
    annotation_spans: BTreeMap<String, Span>,
    image: Option<&'v ast::Str>,
    replicas: Option<i32>,
    account: Option<&'v ast::Name>,
    /// `agent none` (false) or `agent istio`.
    agent: bool,
    /// The valid addresses, and whether the list was empty.
    addresses: Option<(Vec<&'v ast::Str>, bool)>,
    /// VMs: the network (checked), locality, weight, `auto-register`.
    network: Option<&'v ast::Str>,
    locality: Option<String>,
    weight: Option<u32>,
    auto_register: bool,
    /// Where the first `env` is written.
    env_span: Option<Span>,
    /// Written order matters (a value may use `$(EARLIER)`), so keep it.
    env: Vec<(String, String, Span)>,
    /// Where each name of `env` is set, so that repeats are found in constant time.
    env_first: HashMap<String, Span>,
    /// Properties set at most once, where.
    once: BTreeMap<&'v str, Span>,
    /// `resources`, `probe`, `relax`, `hardening`.
    workload: Vec<&'v ast::Property>,
    /// An unknown property was written (and reported): it may be the `image` or `at` the
    /// version seems to lack, misspelled, so that lack is not reported too.
    unknown: bool,
}

impl VersionProperties<'_> {
    /// Nothing read yet: the app and version labels only.
    fn new(cx: &VersionContext<'_>, version: &str) -> Self {
        // Room for the two; user labels are rare.
        let mut labels = Labels::with_capacity(2);
        labels.insert(cx.app_key.to_string(), cx.app.to_string());
        labels.insert(cx.version_key.to_string(), version.to_string());
        VersionProperties {
            labels,
            user_labels: BTreeMap::new(),
            annotations: Labels::new(),
            annotation_spans: BTreeMap::new(),
            image: None,
            replicas: None,
            account: None,
            agent: true,
            addresses: None,
            network: None,
            locality: None,
            weight: None,
            auto_register: false,
            env_span: None,
            env: Vec::new(),
            env_first: HashMap::new(),
            once: BTreeMap::new(),
            workload: Vec::new(),
            unknown: false,
        }
    }
}

impl Checker<'_> {
    pub(super) fn service(
        &mut self,
        scope: &Scope<'_>,
        service: &ast::Service,
        index: &Index,
    ) -> Option<model::Service> {
        let ns = scope.name.text.as_str();
        let name = service.name.text.as_str();
        let mut ok = self.name_rule(&service.name, "service name", "DNS-1123 label", rules::dns_label);
        self.quiet_names = !ok;
        let (names, names_ok) = self.service_names(scope, service);
        ok &= names_ok;

        let ports = self.ports(service);
        if service.ports.is_empty() {
            self.error(
                Diagnostic::error(
                    Code::NoPorts,
                    service.name.span,
                    format!("service `{name}` declares no port"),
                )
                .label("no `port` in this service")
                .help("add a port, such as `port http 8080`"),
            );
            ok = false;
        }

        let (calls, call_env) = self.calls(service, ns, index, &mut ok);
        let settings: Vec<&ast::Property> = service.settings.iter().collect();
        let workload = self.workload_settings(&settings, &ports).unwrap_or_else(|| {
            ok = false;
            workload::Written::default()
        });

        let mut versions: Vec<model::Version> = Vec::with_capacity(service.versions.len());
        let mut seen_versions: BTreeMap<&str, Span> = BTreeMap::new();
        let mut seen_addresses: BTreeMap<String, Span> = BTreeMap::new();
        for version in &service.versions {
            if let Some(first) = seen_versions.get(version.name.text.as_str()) {
                self.duplicate("version", &version.name.text, version.name.span, *first);
                ok = false;
                continue;
            }
            seen_versions.insert(&version.name.text, version.name.span);
            let context = VersionContext {
                scope,
                service: name,
                service_span: service.name.span,
                app_key: &names.app_key,
                app: &names.app,
                version_key: &names.version_key,
                default_account: &names.account,
                call_env: &call_env,
                workload: &workload,
                ports: &ports,
            };
            match self.version(&context, version, &mut seen_addresses) {
                Some(v) => versions.push(v),
                None => ok = false,
            }
        }
        if service.versions.is_empty() {
            self.error(
                Diagnostic::error(
                    Code::NoVersions,
                    service.name.span,
                    format!("service `{name}` has no version"),
                )
                .label("nothing runs this service")
                .help("add a version: `pod v1 image \"...\"` or `vm v1 at 10.0.0.1`"),
            );
            ok = false;
        }
        versions.sort_by(|a, b| a.name.cmp(&b.name));

        if !ports.is_empty() {
            ok &= self.route_ports(&service.routes, &ports, name);
        }
        let policy = self.policy(&service.policies);
        self.quiet_names = false;
        let cx = Context {
            ns,
            own: Some((ns, name)),
            own_facts: index.get(&(ns.to_string(), name.to_string())),
            owner: format!("service `{name}`"),
            index,
            gateway: false,
            span: service.name.span,
        };
        let routes = self.routes(&service.routes, &cx)?;
        let policy = policy?;
        let security = self.service_security(scope, &service.security, &ports, index)?;

        if !ok {
            return None;
        }
        let fqdn = self.fqdn(&names.host, ns);
        Some(model::Service {
            name: name.to_string(),
            span: service.name.span,
            host: names.host,
            fqdn,
            selector: (names.app_key, names.app),
            version_key: names.version_key,
            destination_rule: names.destination_rule,
            virtual_service: names.virtual_service,
            ports,
            versions,
            policy: model::Sparse::new(policy),
            routes,
            calls,
            security,
        })
    }

    /// The names a service generates, from the namespace's naming templates; false when
    /// one is not valid (reported).
    fn service_names(&mut self, scope: &Scope<'_>, service: &ast::Service) -> (ServiceNames, bool) {
        let ns = scope.name.text.as_str();
        let name = service.name.text.as_str();
        let vars = [("service", name), ("namespace", ns)];
        let naming = &scope.naming;
        let generate = |this: &mut Self, key: Key, rule: fn(&str) -> Result<(), String>, what: &str| {
            let template = naming.template(key);
            let value = template.expand(&vars);
            let valid = this.generated_name(&value, template, key, service.name.span, rule, what);
            (value, valid)
        };
        let (host, host_ok) = generate(self, Key::Service, rules::dns1035_label, "Kubernetes Service name");
        let (app, app_ok) = generate(self, Key::Workload, rules::label_value, "label value");
        let (account, account_ok) = generate(self, Key::Account, rules::dns_subdomain, "ServiceAccount name");
        let (destination_rule, destination_rule_ok) =
            generate(self, Key::DestinationRule, rules::dns_subdomain, "DestinationRule name");
        let (virtual_service, virtual_service_ok) =
            generate(self, Key::VirtualService, rules::dns_subdomain, "VirtualService name");
        let app_key_template = naming.template(Key::AppLabel);
        let app_key = app_key_template.expand(&[]);
        let version_key_template = naming.template(Key::VersionLabel);
        let version_key = version_key_template.expand(&[]);
        let app_key_ok = self.generated_name(
            &app_key,
            app_key_template,
            Key::AppLabel,
            service.name.span,
            rules::qualified_name,
            "label key",
        );
        let version_key_ok = self.generated_name(
            &version_key,
            version_key_template,
            Key::VersionLabel,
            service.name.span,
            rules::qualified_name,
            "label key",
        );
        let mut ok = host_ok
            && app_ok
            && account_ok
            && destination_rule_ok
            && virtual_service_ok
            && app_key_ok
            && version_key_ok;
        if app_key == version_key && app_key_ok {
            // Reported: the template makes no more reports (see `generated_name`).
            self.templates_reported
                .insert(version_key_template.span.unwrap_or(service.name.span));
            self.error(
                Diagnostic::error(
                    Code::InvalidTemplate,
                    version_key_template.span.unwrap_or(service.name.span),
                    format!("the app label and the version label are both `{app_key}`"),
                )
                .label("same key as the app label")
                .help("the Service selects on one label and subsets on the other; they must differ"),
            );
            ok = false;
        }
        let names = ServiceNames {
            host,
            app,
            account,
            destination_rule,
            virtual_service,
            app_key,
            version_key,
        };
        (names, ok)
    }

    /// The services a service calls (namespace, address), sorted, and the environment
    /// variables `calls X via env NAME` sets to X's address in every pod version.
    fn calls(
        &mut self,
        service: &ast::Service,
        ns: &str,
        index: &Index,
        ok: &mut bool,
    ) -> (Vec<(String, String)>, CallEnv) {
        let mut call_env: CallEnv = Vec::new();
        // Where each name was first set, so that repeats are found in constant time.
        let mut call_env_first: HashMap<&str, Span> = HashMap::new();
        let mut calls: Vec<(String, String)> = Vec::new();
        for call in &service.calls {
            let target = self.resolve_service(&call.service, ns, index);
            if let Some((key, facts)) = target.as_ref().and_then(|key| index.get(key).map(|f| (key, f))) {
                calls.push((key.0.clone(), facts.fqdn.clone()));
                if let Some(env) = &call.env {
                    if let Err(why) = rules::env_name(&env.text) {
                        self.error(
                            Diagnostic::error(
                                Code::InvalidValue,
                                env.span,
                                format!("`{}` is not a valid environment variable name: {why}", env.text),
                            )
                            .label("invalid name")
                            .help("use letters, digits and `_`, such as `BACKEND_URL`"),
                        );
                        *ok = false;
                    } else if let Some(first) = call_env_first.get(env.text.as_str()) {
                        self.duplicate("environment variable", &env.text, env.span, *first);
                        *ok = false;
                    } else {
                        call_env_first.insert(&env.text, env.span);
                        call_env.push((env.clone(), facts.fqdn.clone()));
                    }
                }
            }
        }
        calls.sort();
        calls.dedup();
        (calls, call_env)
    }

    /// Each kind of route needs a port it can apply to.
    pub(super) fn route_ports(&mut self, routes: &[ast::Route], ports: &[model::Port], owner: &str) -> bool {
        let mut ok = true;
        let mut reported = BTreeSet::new();
        for route in routes {
            let (fits, words): (fn(Protocol) -> bool, &str) = match route.kind {
                ast::RouteKind::Http => (Protocol::is_http, "`http`, `http2`, `grpc` or `grpc-web`"),
                ast::RouteKind::Tcp => (
                    |p| matches!(p, Protocol::Tcp | Protocol::Mongo | Protocol::Mysql | Protocol::Redis),
                    "`tcp`, `mongo`, `mysql` or `redis`",
                ),
                ast::RouteKind::Tls => (|p| matches!(p, Protocol::Tls | Protocol::Https), "`tls` or `https`"),
            };
            if ports.iter().any(|p| fits(p.protocol)) || !reported.insert(format!("{:?}", route.kind)) {
                continue;
            }
            let kind = match route.kind {
                ast::RouteKind::Http => "HTTP",
                ast::RouteKind::Tcp => "TCP",
                ast::RouteKind::Tls => "TLS",
            };
            self.error(
                Diagnostic::error(
                    Code::NoHttpPort,
                    route.keyword,
                    format!("`{owner}` has no port that this {kind} route could apply to"),
                )
                .label(format!("{kind} route"))
                .help(format!("{kind} routes apply to ports declared as {words}")),
            );
            ok = false;
        }
        ok
    }

    fn ports(&mut self, service: &ast::Service) -> Vec<model::Port> {
        let mut ports: Vec<model::Port> = Vec::new();
        // Kubernetes keys Service ports by number and transport: `tcp 53` and `udp 53` coexist.
        let mut seen: BTreeMap<(u16, bool), Span> = BTreeMap::new();
        for port in &service.ports {
            let protocol = self.protocol(&port.protocol, Protocol::ALL, "port");
            let number = self.port_number(&port.number);
            let target = match &port.target {
                Some(t) => self.port_number(t),
                None => number,
            };
            if let Some(target) = target {
                let at = port.target.as_ref().unwrap_or(&port.number).span;
                self.reserved_port(target, at);
            }
            let (Some(protocol), Some(number), Some(target)) = (protocol, number, target) else {
                continue;
            };
            if let Some(first) = seen.insert((number, protocol == Protocol::Udp), port.number.span) {
                self.duplicate("port", &number.to_string(), port.number.span, first);
                continue;
            }
            ports.push(model::Port {
                name: String::new(),
                protocol,
                number,
                target,
            });
        }
        ports.sort_by_key(|p| (p.number, p.protocol));
        let mut per_protocol: BTreeMap<Protocol, usize> = BTreeMap::new();
        for p in &ports {
            *per_protocol.entry(p.protocol).or_default() += 1;
        }
        for p in &mut ports {
            p.name = if per_protocol[&p.protocol] > 1 {
                format!("{}-{}", p.protocol.word(), p.number)
            } else {
                p.protocol.word().to_string()
            };
        }
        ports
    }

    pub(super) fn protocol(&mut self, word: &ast::Name, allowed: &[Protocol], what: &str) -> Option<Protocol> {
        let lower = word.text.to_ascii_lowercase();
        match Protocol::from_word(&lower) {
            Some(p) if allowed.contains(&p) => Some(p),
            Some(p) => {
                let list: Vec<String> = allowed.iter().map(|a| format!("`{}`", a.word())).collect();
                self.error(
                    Diagnostic::error(
                        Code::UnknownProtocol,
                        word.span,
                        format!("a {what} cannot use protocol `{}` yet", p.word()),
                    )
                    .label("not supported here")
                    .help(format!("a {what} takes {}", list.join(", "))),
                );
                None
            }
            None => {
                let words: Vec<&str> = allowed.iter().map(|p| p.word()).collect();
                let mut d = Diagnostic::error(
                    Code::UnknownProtocol,
                    word.span,
                    format!("unknown protocol `{}`", word.text),
                )
                .label("not a protocol Istio knows");
                d = d.help(match suggest::closest(&lower, words.iter().copied()) {
                    Some(best) => format!("did you mean `{best}`?"),
                    None => {
                        let list: Vec<String> = words.iter().map(|w| format!("`{w}`")).collect();
                        format!("the protocols are {}", list.join(", "))
                    }
                });
                self.error(d);
                None
            }
        }
    }

    pub(super) fn port_number(&mut self, number: &ast::Number) -> Option<u16> {
        if number.too_large() {
            return None;
        }
        match number.whole() {
            Some(n) if !number.percent && (1..=65535).contains(&n) => u16::try_from(n).ok(),
            _ => {
                let shown = if number.percent {
                    format!("{}%", number.text)
                } else {
                    number.text.clone()
                };
                let shown = if number.negative { format!("-{shown}") } else { shown };
                self.error(
                    Diagnostic::error(
                        Code::PortRange,
                        number.span,
                        format!("port `{shown}` is not a port number"),
                    )
                    .label("not in 1..65535")
                    .help("a port is a whole number from 1 to 65535"),
                );
                None
            }
        }
    }

    fn reserved_port(&mut self, port: u16, at: Span) {
        if rules::PROXY_PORTS.contains(&port) {
            self.error(
                Diagnostic::error(
                    Code::ReservedPort,
                    at,
                    format!("port {port} is used by the Istio sidecar inside every workload"),
                )
                .label("taken by the sidecar")
                .help("the application must listen elsewhere; Istio reserves 15000, 15001, 15004, 15006, 15008, 15009, 15020, 15021, 15053 and 15090"),
            );
        }
    }

    fn version(
        &mut self,
        cx: &VersionContext<'_>,
        version: &ast::Version,
        seen_addresses: &mut BTreeMap<String, Span>,
    ) -> Option<model::Version> {
        let ok = self.name_rule(&version.name, "version name", "DNS-1123 label", rules::dns_label);
        let quiet_before = self.quiet_names;
        self.quiet_names |= !ok;
        let result = self.version_body(cx, version, seen_addresses, ok);
        self.quiet_names = quiet_before;
        result
    }

    fn version_body(
        &mut self,
        cx: &VersionContext<'_>,
        version: &ast::Version,
        seen_addresses: &mut BTreeMap<String, Span>,
        name_ok: bool,
    ) -> Option<model::Version> {
        let mut ok = name_ok;
        let vname = version.name.text.as_str();
        let mut found = VersionProperties::new(cx, vname);
        for property in &version.properties {
            ok &= self.version_property(cx, version, property, &mut found, seen_addresses);
        }
        let env = self.version_env(cx, std::mem::take(&mut found.env), &mut ok);
        let account = found
            .account
            .map(|a| a.text.clone())
            .unwrap_or_else(|| cx.default_account.to_string());
        let workload = match version.runtime {
            Runtime::Pod => self.pod(cx, version, &found, env, &mut ok)?,
            Runtime::Vm => self.vm(cx, version, &mut found, env, &mut ok)?,
        };
        let policy = self.policy(&version.policies);
        let policy = policy.filter(|_| ok)?;
        Some(model::Version {
            name: vname.to_string(),
            span: version.name.span,
            labels: found.labels,
            annotations: found.annotations,
            account,
            policy: model::Sparse::new(policy),
            workload,
            agent: found.agent,
        })
    }

    /// Reads one property of a version into `found`; false when it is wrong (reported).
    fn version_property<'v>(
        &mut self,
        cx: &VersionContext<'_>,
        version: &'v ast::Version,
        property: &'v ast::Property,
        found: &mut VersionProperties<'v>,
        seen_addresses: &mut BTreeMap<String, Span>,
    ) -> bool {
        let runtime = version.runtime;
        let allowed = match runtime {
            Runtime::Pod => POD_PROPERTIES,
            Runtime::Vm => VM_PROPERTIES,
        };
        let key = property.key.text.as_str();
        if let PropertyKind::Other(_) = property.kind {
            let mut d = Diagnostic::error(
                Code::UnknownKeyword,
                property.key.span,
                format!("unknown property `{key}` on a {} version", runtime.keyword()),
            )
            .label("unknown property");
            if let Some(suggestion) = suggest::did_you_mean(key, allowed, "properties") {
                d = suggestion.on(d, property.key.span);
            }
            if let Some(best) = suggest::closest(key, allowed.iter().copied()) {
                d = d.fix(property.key.span, best);
            }
            self.error(d);
            found.unknown = true;
            return false;
        }
        if !allowed.contains(&key) {
            let why = match key {
                "replicas" => "a VM version has one machine per address: list them with `at`, or let them join with `auto-register`",
                "network" | "locality" | "weight" | "auto-register" => {
                    "a pod's network, locality and registration come from its cluster and node"
                }
                "resources" | "probe" | "relax" | "hardening" => {
                    "resources, probes and hardening are pod settings; a VM's own limits and checks are set on the VM"
                }
                "at" => "a pod gets its address from Kubernetes; use `vm` for a machine with a fixed address",
                "agent" => "Istio injects the agent into every pod; `agent` says whether a VM runs it",
                _ => "it does not apply here",
            };
            self.error(
                Diagnostic::error(
                    Code::MisplacedProperty,
                    property.key.span,
                    format!("`{key}` does not apply to a {} version", runtime.keyword()),
                )
                .label(format!("not for `{}`", runtime.keyword()))
                .note(
                    version.runtime_span,
                    format!("this version runs on a {}", runtime.keyword()),
                )
                .help(why),
            );
            return false;
        }
        if matches!(
            key,
            "image" | "replicas" | "account" | "at" | "network" | "locality" | "weight" | "auto-register" | "agent"
        ) {
            if let Some(first) = found.once.insert(key, property.key.span) {
                self.error(
                    Diagnostic::error(Code::Duplicate, property.key.span, format!("`{key}` is set twice"))
                        .label("set again here")
                        .note(first, "first set here")
                        .help("keep one of them"),
                );
                return false;
            }
        }
        let mut ok = true;
        match &property.kind {
            PropertyKind::Image(s) => {
                if s.value.trim().is_empty() {
                    self.error(
                        Diagnostic::error(Code::MissingImage, s.span, "the image is empty")
                            .label("empty image")
                            .help("give the container image, such as \"registry.example.com/app:1.0\""),
                    );
                    ok = false;
                }
                found.image = Some(s);
            }
            PropertyKind::Replicas(n) if n.too_large() => ok = false,
            PropertyKind::Replicas(n) => match n.whole() {
                Some(r) if !n.percent && (0..=i64::from(i32::MAX)).contains(&r) => {
                    found.replicas = i32::try_from(r).ok();
                }
                _ => {
                    self.error(
                        Diagnostic::error(Code::InvalidValue, n.span, "replicas must be a whole number, 0 or more")
                            .label("not a replica count")
                            .help("write the number of pods, such as `replicas 2`"),
                    );
                    ok = false;
                }
            },
            PropertyKind::Env { name, value } => {
                if let Err(why) = rules::env_name(&name.text) {
                    self.error(
                        Diagnostic::error(
                            Code::InvalidValue,
                            name.span,
                            format!("`{}` is not a valid environment variable name: {why}", name.text),
                        )
                        .label("invalid name")
                        .help("use letters, digits and `_`, such as `BACKEND_URL`"),
                    );
                    ok = false;
                } else if let Some(first) = found.env_first.get(&name.text) {
                    self.duplicate("environment variable", &name.text, name.span, *first);
                    ok = false;
                } else {
                    found.env_first.insert(name.text.clone(), name.span);
                    found.env_span.get_or_insert(property.key.span);
                    found.env.push((name.text.clone(), value.value.clone(), name.span));
                }
            }
            PropertyKind::Label { key, value } => {
                ok &= self.label(cx, version, key, value, &mut found.labels, &mut found.user_labels);
            }
            PropertyKind::Annotation { key, value } => {
                if let Err(why) = rules::qualified_name(&key.text) {
                    self.invalid_key(key, "annotation key", &why);
                    ok = false;
                } else if let Some(first) = found.annotation_spans.insert(key.text.clone(), key.span) {
                    self.duplicate("annotation", &key.text, key.span, first);
                    ok = false;
                } else {
                    found.annotations.insert(key.text.clone(), value.value.clone());
                }
            }
            PropertyKind::Account(name) => {
                ok &= self.name_rule(name, "service account name", "DNS-1123 subdomain", rules::dns_subdomain);
                found.account = Some(name);
            }
            PropertyKind::At(list) => {
                let mut valid = Vec::new();
                for address in list {
                    if self.address(address, cx.service, seen_addresses) {
                        valid.push(address);
                    } else {
                        ok = false;
                    }
                }
                // A list whose every address was wrong is reported as wrong, not missing.
                found.addresses = Some((valid, list.is_empty()));
            }
            PropertyKind::Agent(word) => match word.text.as_str() {
                "istio" => found.agent = true,
                "none" => found.agent = false,
                _ => {
                    self.error(
                        Diagnostic::error(Code::InvalidValue, word.span, "`agent` takes `istio` or `none`")
                            .label("not an agent")
                            .help("write `agent none` for a VM without the Istio agent; `agent istio` is the default"),
                    );
                    ok = false;
                }
            },
            PropertyKind::Network(value) => {
                if value.vars.is_empty() && self.network_value(value) {
                    found.network = Some(value);
                } else {
                    ok = false;
                }
            }
            PropertyKind::Locality(value) => {
                if value.vars.is_empty() && self.locality_value(value) {
                    found.locality = Some(value.value.clone());
                } else {
                    ok = false;
                }
            }
            PropertyKind::Weight(n) => match self.weight_value(n) {
                Some(w) => found.weight = Some(w),
                None => ok = false,
            },
            PropertyKind::AutoRegister => found.auto_register = true,
            PropertyKind::Resources(_)
            | PropertyKind::Probe(_)
            | PropertyKind::Relax(_)
            | PropertyKind::Hardening(_) => {
                found.workload.push(property);
            }
            PropertyKind::Other(_) => {}
        }
        ok
    }

    /// A version's environment, on a pod or a VM that says its image: addresses of called
    /// services first, sorted by name (`calls` lines are declarations, in any order), then
    /// the version's own `env`, as written.
    fn version_env(
        &mut self,
        cx: &VersionContext<'_>,
        mut env: Vec<(String, String, Span)>,
        ok: &mut bool,
    ) -> Vec<(String, String, Span)> {
        let mut from_calls: Vec<(String, String, Span)> = Vec::new();
        // Where each name of `env` is set (each once), so that repeats are found in constant time.
        let env_first: HashMap<&str, Span> = env.iter().map(|(n, _, span)| (n.as_str(), *span)).collect();
        for (name, fqdn) in cx.call_env {
            if let Some(first) = env_first.get(name.text.as_str()) {
                let (again, first) = if *first > name.span {
                    (*first, name.span)
                } else {
                    (name.span, *first)
                };
                self.duplicate("environment variable", &name.text, again, first);
                *ok = false;
            } else {
                from_calls.push((name.text.clone(), fqdn.clone(), name.span));
            }
        }
        from_calls.sort();
        from_calls.append(&mut env);
        from_calls
    }

    /// The Deployment of a pod version; `None` without an image (reported).
    fn pod(
        &mut self,
        cx: &VersionContext<'_>,
        version: &ast::Version,
        found: &VersionProperties<'_>,
        env: Vec<(String, String, Span)>,
        ok: &mut bool,
    ) -> Option<model::Workload> {
        let vname = version.name.text.as_str();
        let Some(image) = found.image else {
            if found.unknown {
                return None;
            }
            self.error(
                Diagnostic::error(
                    Code::MissingImage,
                    version.name.span,
                    format!("pod version `{vname}` has no image"),
                )
                .label("no `image`")
                .help(format!(
                    "add the container image: `pod {vname} image \"registry.example.com/app:1.0\"`"
                )),
            );
            return None;
        };
        let deployment = self.workload_name(cx, version, "Deployment name", ok);
        let own = self.workload_settings(&found.workload, cx.ports).unwrap_or_else(|| {
            *ok = false;
            workload::Written::default()
        });
        let container = self.container_settings(cx.workload, &own, cx.ports);
        Some(model::Workload::Pod(model::Pod {
            deployment,
            image: image.value.clone(),
            replicas: found.replicas.unwrap_or(1),
            env: env.into_iter().map(|(k, v, _)| (k, v)).collect(),
            container,
        }))
    }

    /// The VMs of a version: a WorkloadEntry per address and the WorkloadGroup; `None`
    /// with neither a valid address nor `auto-register` (reported).
    fn vm(
        &mut self,
        cx: &VersionContext<'_>,
        version: &ast::Version,
        found: &mut VersionProperties<'_>,
        env: Vec<(String, String, Span)>,
        ok: &mut bool,
    ) -> Option<model::Workload> {
        let vname = version.name.text.as_str();
        let addresses = match found.addresses.take() {
            Some((valid, _)) if !valid.is_empty() => valid,
            Some((_, false)) => return None,
            _ => Vec::new(),
        };
        if found.auto_register && !found.agent {
            // The agent is what registers a VM: one without it cannot join on its own.
            let span = found.once.get("auto-register").copied().unwrap_or(version.name.span);
            self.error(
                Diagnostic::error(
                    Code::MisplacedProperty,
                    span,
                    format!("VM version `{vname}` runs no Istio agent, which is what auto-registers a VM"),
                )
                .label("needs the agent")
                .help("give the VMs' addresses with `at`, or run the agent (remove `agent none`)"),
            );
            *ok = false;
        }
        if addresses.is_empty() && !found.auto_register {
            if found.unknown {
                return None;
            }
            self.error(
                Diagnostic::error(
                    Code::MissingAddress,
                    version.name.span,
                    format!("VM version `{vname}` has no address and does not auto-register"),
                )
                .label("no `at`, no `auto-register`")
                .help(format!(
                    "give the VM's IP address: `vm {vname} at 10.0.0.10`, or let its VMs join on their own: `vm {vname} auto-register`"
                )),
            );
            return None;
        }
        if let (None, Some(span)) = (found.image, found.env_span) {
            self.error(
                Diagnostic::error(
                    Code::MisplacedProperty,
                    span,
                    format!("VM version `{vname}` sets `env` but says no `image` to pass it to"),
                )
                .label("nothing to set it on")
                .note(version.runtime_span, "this version runs on a vm")
                .help("add the container the VM runs, `image \"registry.example.com/app:1.0\"`, or set the variable on the VM itself"),
            );
            *ok = false;
        }
        if let Some(network) = found.network {
            self.eastwest(&cx.scope.cluster, network, version);
            if cx.scope.cluster.network.as_deref() != Some(network.value.as_str())
                && cx.scope.cluster.eastwest.is_none()
            {
                *ok = false;
            }
        }
        let group = self.workload_name(cx, version, "WorkloadGroup name", ok);
        let ns = cx.scope.name.text.as_str();
        let template = cx.scope.naming.template(Key::Entry);
        let mut entries = Vec::new();
        for (i, address) in addresses.iter().enumerate() {
            if !address.vars.is_empty() {
                *ok = false;
                continue;
            }
            let dashed: String = address
                .value
                .chars()
                .map(|c| if c == '.' || c == ':' { '-' } else { c })
                .collect();
            let index = (i + 1).to_string();
            let name = template.expand(&[
                ("service", cx.service),
                ("version", vname),
                ("namespace", ns),
                ("address", dashed.trim_matches('-')),
                ("index", &index),
            ]);
            *ok &= self.generated_name(
                &name,
                template,
                Key::Entry,
                address.span,
                rules::dns_subdomain,
                "WorkloadEntry name",
            );
            entries.push(model::VmEntry {
                name,
                address: address.value.clone(),
            });
        }
        let mut names = BTreeSet::new();
        for e in &entries {
            if !names.insert(e.name.as_str()) {
                let span = template.span.unwrap_or(version.name.span);
                self.error(
                    Diagnostic::error(
                        Code::NameCollision,
                        span,
                        format!(
                            "the `entry` template gives two addresses of `{vname}` the same name `{}`",
                            e.name
                        ),
                    )
                    .label("same name for several addresses")
                    .help("include `{address}` or `{index}` in the `entry` template"),
                );
                *ok = false;
                break;
            }
        }
        let image = found.image.map(|i| i.value.clone());
        Some(model::Workload::Vm(model::Vm {
            entries,
            group,
            auto_register: found.auto_register,
            env: if image.is_some() {
                env.into_iter().map(|(k, v, _)| (k, v)).collect()
            } else {
                Vec::new()
            },
            image,
            // A VM that names no network is on the cluster's.
            network: found
                .network
                .map(|n| n.value.clone())
                .or_else(|| cx.scope.cluster.network.clone()),
            locality: found.locality.take(),
            weight: found.weight,
        }))
    }

    /// The Deployment of a pod version or the WorkloadGroup of a VM version: one naming
    /// template, `deployment`.
    fn workload_name(&mut self, cx: &VersionContext<'_>, version: &ast::Version, what: &str, ok: &mut bool) -> String {
        let ns = cx.scope.name.text.as_str();
        let template = cx.scope.naming.template(Key::Deployment);
        let vname = version.name.text.as_str();
        let group = template.expand(&[("service", cx.service), ("version", vname), ("namespace", ns)]);
        *ok &= self.generated_name(
            &group,
            template,
            Key::Deployment,
            version.name.span,
            rules::dns_subdomain,
            what,
        );
        group
    }

    fn invalid_key(&mut self, key: &ast::Name, what: &str, why: &str) {
        self.error(
            Diagnostic::error(
                Code::InvalidValue,
                key.span,
                format!("`{}` is not a valid {what}: {why}", key.text),
            )
            .label(format!("invalid {what}"))
            .help("keys are an optional DNS prefix and `/`, then up to 63 letters, digits, `-`, `_` or `.`"),
        );
    }

    /// A label override: valid, and never breaking what the Service and subsets select.
    fn label(
        &mut self,
        cx: &VersionContext<'_>,
        version: &ast::Version,
        key: &ast::Name,
        value: &ast::Str,
        labels: &mut Labels,
        user_labels: &mut BTreeMap<String, Span>,
    ) -> bool {
        if let Err(why) = rules::qualified_name(&key.text) {
            self.invalid_key(key, "label key", &why);
            return false;
        }
        if !value.vars.is_empty() {
            return false;
        }
        if let Err(why) = rules::label_value(&value.value) {
            self.error(
                Diagnostic::error(Code::InvalidValue, value.span, format!("`{}` is not a valid label value: {why}", value.value))
                    .label("invalid label value")
                    .help("label values are up to 63 letters, digits, `-`, `_` or `.`, starting and ending with a letter or digit"),
            );
            return false;
        }
        if let Some(first) = user_labels.insert(key.text.clone(), key.span) {
            self.duplicate("label", &key.text, key.span, first);
            return false;
        }
        if key.text == cx.app_key && value.value != cx.app {
            let template = cx.scope.naming.template(Key::Workload);
            let origin = template.span.unwrap_or(cx.service_span);
            let what = if version.runtime == Runtime::Vm {
                "WorkloadEntry"
            } else {
                "pod"
            };
            self.error(
                Diagnostic::error(
                    Code::LabelMismatch,
                    value.span,
                    format!(
                        "this {what} would carry `{}: {}`, but service `{}` selects `{}: {}`",
                        cx.app_key, value.value, cx.service, cx.app_key, cx.app
                    ),
                )
                .label(format!("`{}` differs from `{}`", value.value, cx.app))
                .note(origin, format!("the Service selects `{}: {}` because of this", cx.app_key, cx.app))
                .help(format!(
                    "remove the label override; meshc already sets `{}: {}` on every version of `{}` (otherwise the {} never gets traffic)",
                    cx.app_key,
                    cx.app,
                    cx.service,
                    if version.runtime == Runtime::Vm { "VM" } else { "pod" }
                )),
            );
            return false;
        }
        if key.text == cx.version_key && value.value != version.name.text {
            self.error(
                Diagnostic::error(
                    Code::LabelMismatch,
                    value.span,
                    format!(
                        "this version would carry `{}: {}`, but its subset `{}` selects `{}: {}`",
                        cx.version_key, value.value, version.name.text, cx.version_key, version.name.text
                    ),
                )
                .label(format!("`{}` differs from `{}`", value.value, version.name.text))
                .note(version.name.span, "the version's name is its subset and label value")
                .help(format!(
                    "remove the label override, or rename the version to `{}`",
                    value.value
                )),
            );
            return false;
        }
        labels.insert(key.text.clone(), value.value.clone());
        true
    }

    fn address(&mut self, address: &ast::Str, service: &str, seen: &mut BTreeMap<String, Span>) -> bool {
        if !address.vars.is_empty() {
            return false;
        }
        let text = address.value.as_str();
        let parsed = text.parse::<IpAddr>();
        let Ok(ip) = parsed else {
            let hint = if text.chars().all(|c| c.is_ascii_digit() || c == '.') {
                "an IPv4 address has four numbers from 0 to 255, such as `192.168.0.171`"
            } else {
                "write the VM's IP address; a Kubernetes Service only sends traffic to WorkloadEntries with an IP address, never a hostname"
            };
            self.error(
                Diagnostic::error(
                    Code::InvalidAddress,
                    address.span,
                    format!("`{text}` is not an IP address"),
                )
                .label("not an IP address")
                .help(hint),
            );
            return false;
        };
        if let Err(why) = rules::vm_address(ip) {
            self.error(
                Diagnostic::error(
                    Code::InvalidAddress,
                    address.span,
                    format!("Istio cannot route to `{text}`: {why}"),
                )
                .label("not a VM's address")
                .help("write the address other workloads reach the VM at, such as its private network address"),
            );
            return false;
        }
        let canonical = ip.to_string();
        if let Some(first) = seen.insert(canonical.clone(), address.span) {
            self.error(
                Diagnostic::error(
                    Code::Duplicate,
                    address.span,
                    format!("address `{canonical}` is listed twice in service `{service}`"),
                )
                .label("listed again here")
                .note(first, "first listed here")
                .help("one VM serves one version of a service; remove one of them"),
            );
            return false;
        }
        true
    }
}

/// What a version needs from its service.
struct VersionContext<'a> {
    scope: &'a Scope<'a>,
    service: &'a str,
    /// Where the service is declared.
    service_span: Span,
    app_key: &'a str,
    app: &'a str,
    version_key: &'a str,
    default_account: &'a str,
    call_env: &'a [(ast::Name, String)],
    /// The service's workload settings, the default of its pod versions.
    workload: &'a workload::Written,
    ports: &'a [model::Port],
}
