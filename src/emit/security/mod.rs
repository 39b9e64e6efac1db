//! The mesh's security objects, in every output mode: per namespace a PeerAuthentication
//! (`default`: STRICT unless `mtls permissive`) and an AuthorizationPolicy that allows
//! nothing (`allow-nothing`), so that only what is allowed gets through; per service the
//! PeerAuthentication of its `mtls` overrides, a RequestAuthentication for its `jwt`, and
//! an ALLOW AuthorizationPolicy listing exactly its callers: the service accounts of the
//! services that `calls` it (or the addresses of their VMs without the agent), the
//! identity of every gateway that routes to it, and its `allow` lines. A gateway's `jwt`
//! becomes a RequestAuthentication and a DENY policy for requests without a valid token,
//! in the namespace of the gateway's workload.

mod objects;

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};

use super::istio::objects::Map;
use super::registry::{ObjectKind, Owner};
use super::Emitter;
use crate::model::{self, Jwt, Workload};
use crate::options::RouteApi;
use objects::{
    AuthorizationPolicySpec, Condition, From, JwtHeader, JwtRule, Mtls, Operation, PeerAuthenticationSpec,
    RequestAuthenticationSpec, Rule, Selector, Source, To,
};

/// The kinds this target writes.
pub(super) const KINDS: &[ObjectKind] = &[
    ObjectKind::PeerAuthentication,
    ObjectKind::RequestAuthentication,
    ObjectKind::AuthorizationPolicy,
];

/// The namespace's own objects take two names: a service whose objects would take one
/// of them is reported (M2006), at the service.
pub(super) fn check(mesh: &model::Mesh, diagnostics: &mut Vec<crate::diagnostic::Diagnostic>) {
    for ns in &mesh.namespaces {
        for service in &ns.services {
            let security = &service.security;
            let clash = match service.host.as_str() {
                "default" if security.mtls.is_some() || !security.port_mtls.is_empty() => "PeerAuthentication",
                "allow-nothing" => "AuthorizationPolicy",
                _ => continue,
            };
            diagnostics.push(super::registry::collision(
                clash,
                &service.host,
                Owner::Service(&service.name, service.span),
                service.span,
                Owner::Namespace,
                ns.span,
            ));
        }
    }
}

/// What the security objects of one namespace need to know of the others, found in one pass
/// over the mesh instead of one per service or namespace: who sends requests to each host,
/// and which gateways run their workloads in each namespace.
#[derive(Default)]
pub(super) struct Across<'m> {
    /// Every service that `calls` the host, each once, with its namespace's name.
    services: HashMap<&'m str, Vec<(&'m str, &'m model::Service)>>,
    /// The identity (namespace, service account) of every gateway that routes or mirrors to
    /// the host.
    gateways: HashMap<&'m str, Vec<(&'m str, Cow<'m, str>)>>,
    /// The gateways whose workloads run in a namespace (by the namespace of their identity),
    /// with the namespace each is declared in, in the mesh's order.
    workloads: HashMap<&'m str, Vec<(&'m model::Namespace, &'m model::Gateway)>>,
}

/// The ingress gateway of a default Istio installation: where an Istio Gateway's workload
/// runs, and as whom, when the gateway has no `identity` line.
const ISTIO_INGRESS: (&str, &str) = ("istio-system", "istio-ingressgateway-service-account");

/// The namespace and service account of a gateway's workload: its `identity` line, or the
/// output target's gateway: Istio's ingress gateway, or the deployment Istio makes for a
/// Gateway API Gateway (`<name>-istio`, in the gateway's namespace).
fn gateway_identity<'m>(
    routes: RouteApi,
    ns: &'m model::Namespace,
    gateway: &model::Gateway,
    security: &'m model::GatewaySecurity,
) -> (&'m str, Cow<'m, str>) {
    match (&security.identity, routes) {
        (Some((namespace, account)), _) => (namespace, Cow::Borrowed(account)),
        (None, RouteApi::Istio) => (ISTIO_INGRESS.0, Cow::Borrowed(ISTIO_INGRESS.1)),
        (None, RouteApi::GatewayApi) => (&ns.name, Cow::Owned(format!("{}-istio", gateway.name))),
    }
}

pub(super) fn across(mesh: &model::Mesh, routes: RouteApi) -> Across<'_> {
    let mut across = Across::default();
    for ns in &mesh.namespaces {
        for caller in &ns.services {
            for (_, host) in &caller.calls {
                let callers = across.services.entry(host.as_str()).or_default();
                if !callers.last().is_some_and(|&(_, last)| std::ptr::eq(last, caller)) {
                    callers.push((ns.name.as_str(), caller));
                }
            }
        }
        for (gateway, security) in ns.gateways.iter().zip(&ns.gateway_security) {
            let identity = gateway_identity(routes, ns, gateway, security);
            across.workloads.entry(identity.0).or_default().push((ns, gateway));
            for host in gateway.destinations() {
                across.gateways.entry(host).or_default().push(identity.clone());
            }
        }
    }
    across
}

/// Who calls a service: principals of callers with the agent, addresses of callers
/// without it.
#[derive(Default)]
struct Callers {
    principals: BTreeSet<String>,
    ip_blocks: BTreeSet<String>,
}

impl Callers {
    fn is_empty(&self) -> bool {
        self.principals.is_empty() && self.ip_blocks.is_empty()
    }

    /// The sources of a rule: one with the principals, one with the addresses; each also
    /// requires a token when `token` is set.
    fn sources(&self, token: bool) -> Vec<From> {
        let request_principals = if token { vec!["*".to_string()] } else { Vec::new() };
        let mut out = Vec::new();
        if !self.principals.is_empty() {
            out.push(Source {
                principals: self.principals.iter().cloned().collect(),
                request_principals: request_principals.clone(),
                ..Source::default()
            });
        }
        if !self.ip_blocks.is_empty() {
            out.push(Source {
                ip_blocks: self.ip_blocks.iter().cloned().collect(),
                request_principals,
                ..Source::default()
            });
        }
        out.into_iter().map(|source| From { source }).collect()
    }
}

/// `request.auth.claims[NAME]` conditions of a token's required claims; `negate` for a
/// DENY rule.
fn claim_conditions(jwt: &Jwt, negate: bool) -> Vec<Condition> {
    jwt.claims
        .iter()
        .map(|(claim, values)| Condition {
            key: format!("request.auth.claims[{claim}]"),
            values: if negate { Vec::new() } else { values.clone() },
            not_values: if negate { values.clone() } else { Vec::new() },
        })
        .collect()
}

fn request_authentication(selector: Map, jwt: &Jwt) -> RequestAuthenticationSpec {
    RequestAuthenticationSpec {
        selector: Selector { match_labels: selector },
        jwt_rules: vec![JwtRule {
            issuer: jwt.issuer.clone(),
            jwks_uri: jwt.jwks_uri.clone(),
            audiences: jwt.audiences.clone(),
            from_headers: jwt
                .from_headers
                .iter()
                .map(|(name, prefix)| JwtHeader {
                    name: name.clone(),
                    prefix: prefix.clone(),
                })
                .collect(),
            from_params: jwt.from_params.clone(),
            forward_original_token: jwt.forward,
        }],
    }
}

impl<'m> Emitter<'_, 'm> {
    pub(super) fn security(&mut self, mesh: &'m model::Mesh, ns: &'m model::Namespace) {
        let name = ns.name.as_str();
        if self.object(ObjectKind::PeerAuthentication, Some(name), "default", Owner::Namespace) {
            let spec = PeerAuthenticationSpec {
                selector: None,
                mtls: Mtls {
                    mode: ns.mtls.istio_name(),
                },
                port_level_mtls: Default::default(),
            };
            let metadata = self.meta("default", name, Map::new());
            self.write(metadata, Some(spec));
        }
        if self.object(
            ObjectKind::AuthorizationPolicy,
            Some(name),
            "allow-nothing",
            Owner::Namespace,
        ) {
            let metadata = self.meta("allow-nothing", name, Map::new());
            self.write(metadata, Some(AuthorizationPolicySpec::default()));
        }

        for service in &ns.services {
            self.service_security(mesh, ns, service);
        }
        for gateway in &ns.gateways {
            if let Some(security) = ns.security_of(&gateway.name) {
                self.gateway_security(ns, gateway, security);
            }
        }
        // Gateways whose workloads run in this namespace: the namespace allows nothing, so
        // their own traffic (from outside the mesh) needs a policy of its own.
        if !self.decides(ObjectKind::AuthorizationPolicy) {
            return;
        }
        let across = self.across;
        for &(other, gateway) in across.workloads.get(name).into_iter().flatten() {
            let owner = Owner::Gateway(&gateway.name, gateway.span);
            let object = format!("{}-{}-ingress", other.name, gateway.name);
            if !self.object(ObjectKind::AuthorizationPolicy, Some(name), &object, owner) {
                continue;
            }
            let spec = AuthorizationPolicySpec {
                selector: Some(Selector {
                    match_labels: self.gateway_selector(gateway),
                }),
                action: None,
                rules: vec![Rule::default()],
            };
            let metadata = self.meta(&object, name, Map::new());
            self.write(metadata, Some(spec));
        }
    }

    /// The labels of a gateway's workload: its `selector` for Istio gateways, the label
    /// Istio puts on the deployment of a Gateway API gateway.
    fn gateway_selector(&self, gateway: &model::Gateway) -> Map {
        match self.options.routes {
            RouteApi::Istio => gateway.selector.clone(),
            RouteApi::GatewayApi => super::labels(&[("gateway.networking.k8s.io/gateway-name", &gateway.name)]),
        }
    }

    fn principal(&self, namespace: &str, account: &str) -> String {
        format!("{}/ns/{namespace}/sa/{account}", self.options.trust_domain)
    }

    /// The identities of one calling service's versions.
    fn add_caller(&self, callers: &mut Callers, namespace: &str, caller: &model::Service) {
        for version in &caller.versions {
            match &version.workload {
                Workload::Vm(vm) if !version.agent => {
                    callers.ip_blocks.extend(vm.entries.iter().map(|e| e.address.clone()));
                }
                _ => {
                    callers.principals.insert(self.principal(namespace, &version.account));
                }
            }
        }
    }

    fn service_security(&mut self, mesh: &'m model::Mesh, ns: &'m model::Namespace, service: &'m model::Service) {
        let name = ns.name.as_str();
        let owner = Owner::Service(&service.name, service.span);
        let selector = || {
            Some(Selector {
                match_labels: super::labels(&[(&service.selector.0, &service.selector.1)]),
            })
        };
        let security = &service.security;
        if (security.mtls.is_some() || !security.port_mtls.is_empty())
            && self.object(ObjectKind::PeerAuthentication, Some(name), &service.host, owner)
        {
            let spec = PeerAuthenticationSpec {
                selector: selector(),
                mtls: Mtls {
                    mode: security.mtls.unwrap_or(ns.mtls).istio_name(),
                },
                port_level_mtls: security
                    .port_mtls
                    .iter()
                    .map(|(port, mode)| {
                        let mode = mode.istio_name();
                        (port.to_string(), Mtls { mode })
                    })
                    .collect(),
            };
            let metadata = self.meta(&service.host, name, Map::new());
            self.write(metadata, Some(spec));
        }
        let token = security.jwt.as_ref().filter(|j| !j.optional);
        if let Some(jwt) = &security.jwt {
            if self.object(ObjectKind::RequestAuthentication, Some(name), &service.host, owner) {
                let spec = request_authentication(super::labels(&[(&service.selector.0, &service.selector.1)]), jwt);
                let metadata = self.meta(&service.host, name, Map::new());
                self.write(metadata, Some(spec));
            }
        }
        if !self.decides(ObjectKind::AuthorizationPolicy) {
            return;
        }
        // Callers named by an `allow` line get what their lines allow; other callers
        // (`calls`, gateways) get the whole service.
        let narrowed: BTreeSet<(&str, &str)> = security
            .allow
            .iter()
            .map(|a| (a.from.0.as_str(), a.from.1.as_str()))
            .collect();
        let calling = self
            .across
            .services
            .get(service.fqdn.as_str())
            .map(Vec::as_slice)
            .unwrap_or_default();
        let whole: Vec<(&str, &model::Service)> = calling
            .iter()
            .copied()
            .filter(|&(namespace, caller)| !narrowed.contains(&(namespace, caller.name.as_str())))
            .collect();
        let gateways = self
            .across
            .gateways
            .get(service.fqdn.as_str())
            .map(Vec::as_slice)
            .unwrap_or_default();
        let allowed: Vec<(&model::Allow, &model::Service)> = security
            .allow
            .iter()
            .filter_map(|allow| Some((allow, mesh.service(&allow.from.0, &allow.from.1)?)))
            .collect();
        // A rule for the whole service when it has a caller with an identity; one for each
        // `allow` line with its caller. Nobody calls it: the namespace's `allow-nothing`
        // covers it.
        let identified = |caller: &model::Service| {
            caller.versions.iter().any(|version| match &version.workload {
                Workload::Vm(vm) if !version.agent => !vm.entries.is_empty(),
                _ => true,
            })
        };
        let whole_rule = !gateways.is_empty() || whole.iter().any(|&(_, caller)| identified(caller));
        if !whole_rule && allowed.is_empty() {
            return;
        }
        if !self.object(ObjectKind::AuthorizationPolicy, Some(name), &service.host, owner) {
            return;
        }
        let mut callers = Callers::default();
        for &(namespace, caller) in &whole {
            self.add_caller(&mut callers, namespace, caller);
        }
        for (namespace, account) in gateways {
            callers.principals.insert(self.principal(namespace, account));
        }
        let ports: Vec<String> = service
            .ports
            .iter()
            .map(|p| p.target.to_string())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let when = token.map(|j| claim_conditions(j, false)).unwrap_or_default();
        let mut rules = Vec::new();
        let operation = |methods: &[String], paths: &[String]| {
            vec![To {
                operation: Operation {
                    hosts: Vec::new(),
                    ports: ports.clone(),
                    methods: methods.to_vec(),
                    paths: paths.to_vec(),
                },
            }]
        };
        if !callers.is_empty() {
            rules.push(Rule {
                from: callers.sources(token.is_some()),
                to: operation(&[], &[]),
                when: when.clone(),
            });
        }
        for &(allow, caller) in &allowed {
            let mut one = Callers::default();
            self.add_caller(&mut one, &allow.from.0, caller);
            rules.push(Rule {
                from: one.sources(token.is_some()),
                to: operation(&allow.methods, &allow.paths),
                when: when.clone(),
            });
        }
        let spec = AuthorizationPolicySpec {
            selector: selector(),
            action: None,
            rules,
        };
        let metadata = self.meta(&service.host, name, Map::new());
        self.write(metadata, Some(spec));
    }

    /// A gateway's token: checked by a RequestAuthentication and required by a DENY
    /// policy on the gateway's workload, for the gateway's hosts.
    fn gateway_security(
        &mut self,
        ns: &'m model::Namespace,
        gateway: &'m model::Gateway,
        security: &'m model::GatewaySecurity,
    ) {
        let Some(jwt) = &security.jwt else { return };
        let owner = Owner::Gateway(&gateway.name, gateway.span);
        let (workload_ns, _) = gateway_identity(self.options.routes, ns, gateway, security);
        let selector = self.gateway_selector(gateway);
        let base = format!("{}-{}", ns.name, gateway.name);
        let jwt_name = format!("{base}-jwt");
        if self.object(ObjectKind::RequestAuthentication, Some(workload_ns), &jwt_name, owner) {
            let spec = request_authentication(selector.clone(), jwt);
            let metadata = self.meta(&jwt_name, workload_ns, Map::new());
            self.write(metadata, Some(spec));
        }
        let policy = format!("{base}-require-jwt");
        if jwt.optional || !self.object(ObjectKind::AuthorizationPolicy, Some(workload_ns), &policy, owner) {
            return;
        }
        // Requests for this gateway's hosts, with or without a port in the Host header.
        let hosts: Vec<String> = if gateway.hosts.iter().any(|h| h == "*") {
            Vec::new()
        } else {
            gateway
                .hosts
                .iter()
                .flat_map(|h| [h.clone(), format!("{h}:*")])
                .collect()
        };
        let to = || {
            if hosts.is_empty() {
                Vec::new()
            } else {
                vec![To {
                    operation: Operation {
                        hosts: hosts.clone(),
                        ..Operation::default()
                    },
                }]
            }
        };
        let mut rules = vec![Rule {
            from: vec![From {
                source: Source {
                    not_request_principals: vec!["*".to_string()],
                    ..Source::default()
                },
            }],
            to: to(),
            when: Vec::new(),
        }];
        for condition in claim_conditions(jwt, true) {
            rules.push(Rule {
                from: Vec::new(),
                to: to(),
                when: vec![condition],
            });
        }
        let spec = AuthorizationPolicySpec {
            selector: Some(Selector { match_labels: selector }),
            action: Some("DENY"),
            rules,
        };
        let metadata = self.meta(&policy, workload_ns, Map::new());
        self.write(metadata, Some(spec));
    }
}
