//! `--routes gateway-api`: the Kubernetes Gateway API objects of the mesh, written in place
//! of Istio VirtualServices and Gateways.
//!
//! * A service with routes gets an HTTPRoute per port that carries HTTP (a GRPCRoute for a
//!   `grpc` port) whose parent is its own Service (GAMMA, GEP-1426), with `port` when the
//!   Service has several.
//! * The Gateway API has no subsets: a version that routes send to by name gets a Service
//!   of its own, `<service>-<version>`, selecting the app and version labels, with the
//!   service's ports (and a DestinationRule with the version's traffic policy, when there is
//!   one). Backends name those Services, with a port.
//! * A gateway becomes a Gateway of class `istio` (one listener per server and host) and
//!   HTTPRoutes attached to it; `https-redirect` becomes an HTTPRoute answering with a
//!   redirect on the listeners that have it.
//! * A route sending to a Service of another namespace is allowed by a ReferenceGrant in
//!   that namespace.
//!
//! Modules: [`plan`] (which objects, rules, listeners and version Services there are, and
//! their names), [`values`] (the Gateway API's value rules and limits), [`precedence`]
//! (how it ranks matches), [`refusals`] (M3024 and friends: what it cannot say, at the
//! option or condition at fault), [`objects`] (the typed objects), and this file, which
//! writes them. [`super::emit`] writes only when the refusals found nothing, so the writer
//! does not restate them; a value it still cannot convert (a bug) ends compilation with an
//! internal error rather than a silently different route.

use std::collections::{BTreeMap, BTreeSet};

mod objects;
mod plan;
mod precedence;
mod refusals;
mod values;

use objects::*;
use plan::{Backend, RouteObject, RouteObjectKind, VersionBackend};
use values::{GrpcMethod, PathRewrite, Share};

pub(in crate::emit) use refusals::check;

use super::istio::objects::{DestinationRuleSpec, Map, ServiceSpec};
use super::istio::{service_ports, traffic_policy};
use super::{labels, Emitter, ObjectKind, Owner};
use crate::model::{self, Action, Conditions, HeaderMatch, HeaderOps, Mesh, StringMatch};

/// The kinds this target writes (with the Sidecars of `--sidecars`).
pub(super) const KINDS: &[ObjectKind] = &[
    ObjectKind::Service,
    ObjectKind::DestinationRule,
    ObjectKind::KubeGateway,
    ObjectKind::HttpRoute,
    ObjectKind::GrpcRoute,
    ObjectKind::ReferenceGrant,
    ObjectKind::Sidecar,
];

impl<'m> Emitter<'_, 'm> {
    /// Every Gateway API object of one namespace, and what they need besides.
    pub(super) fn gateway_api(&mut self, mesh: &'m Mesh, ns: &'m model::Namespace) {
        let name = ns.name.as_str();
        let backends: Vec<VersionBackend<'_>> = plan::version_backends(mesh);
        for backend in backends.iter().filter(|b| std::ptr::eq(b.namespace, ns)) {
            self.version_service(name, backend);
        }
        let routes = self.decides(ObjectKind::HttpRoute) || self.decides(ObjectKind::GrpcRoute);
        for service in &ns.services {
            for object in plan::mesh_routes(service).into_iter().filter(|_| routes) {
                self.route_object(mesh, name, &object);
            }
            if self.options.sidecars && self.decides(ObjectKind::Sidecar) {
                // Routes send to the version Services of the services it calls.
                let extra: Vec<(&str, String)> = backends.iter().map(|b| (b.service.fqdn.as_str(), b.fqdn())).collect();
                self.sidecar(name, service, &extra);
            }
        }
        for gateway in &ns.gateways {
            self.kube_gateway(mesh, name, gateway);
        }
        if self.decides(ObjectKind::ReferenceGrant) {
            self.reference_grant(mesh, ns);
        }
    }

    fn fail(&mut self, what: String) {
        self.error.get_or_insert(format!(
            "the Gateway API checks let through {what} (please report this bug in meshc)"
        ));
    }

    fn version_service(&mut self, ns: &str, backend: &VersionBackend<'m>) {
        let service = backend.service;
        let owner = Owner::Version(&backend.version.name, &service.name, backend.version.span);
        let (app_key, app) = (&service.selector.0, &service.selector.1);
        let name = backend.name();
        if self.object(ObjectKind::Service, Some(ns), &name, owner) {
            let selector = labels(&[(app_key, app), (&service.version_key, &backend.version.name)]);
            let spec = ServiceSpec {
                selector: selector.clone(),
                ports: service_ports(service),
            };
            let metadata = self.meta(&name, ns, selector);
            self.write(metadata, Some(spec));
        }
        if !self.decides(ObjectKind::DestinationRule) {
            return;
        }
        let policy = backend.policy();
        if !policy.is_empty()
            && self.object(
                ObjectKind::DestinationRule,
                Some(ns),
                &backend.destination_rule(),
                owner,
            )
        {
            let spec = DestinationRuleSpec {
                host: backend.fqdn(),
                traffic_policy: traffic_policy(&policy),
                subsets: Vec::new(),
            };
            let metadata = self.meta(&backend.destination_rule(), ns, Map::new());
            self.write(metadata, Some(spec));
        }
    }

    fn route_object(&mut self, mesh: &Mesh, ns: &str, object: &RouteObject<'m>) {
        let owner = match (object.service, object.gateway) {
            (Some(service), _) => Owner::Service(&service.name, service.span),
            (None, Some(gateway)) => Owner::Gateway(&gateway.name, gateway.span),
            (None, None) => Owner::Namespace,
        };
        let parent_refs = match (object.service, object.gateway) {
            (Some(service), _) => vec![ParentRef {
                group: Some(""),
                kind: Some("Service"),
                name: service.host.clone(),
                port: object.parent_port,
                ..ParentRef::default()
            }],
            (None, Some(gateway)) => gateway_parents(gateway, false),
            (None, None) => Vec::new(),
        };
        let kind = match object.kind {
            RouteObjectKind::Http => ObjectKind::HttpRoute,
            RouteObjectKind::Grpc => ObjectKind::GrpcRoute,
        };
        if parent_refs.is_empty() || !self.object(kind, Some(ns), &object.name, owner) {
            return;
        }
        let metadata = self.meta(&object.name, ns, Map::new());
        match object.kind {
            RouteObjectKind::Http => {
                let spec = HttpRouteSpec {
                    parent_refs,
                    hostnames: object.hostnames.clone(),
                    rules: self.http_rules(mesh, ns, object),
                };
                self.write(metadata, Some(spec));
            }
            RouteObjectKind::Grpc => {
                let spec = GrpcRouteSpec {
                    parent_refs,
                    rules: self.grpc_rules(mesh, ns, object),
                };
                self.write(metadata, Some(spec));
            }
        }
    }

    fn backend_ref(&mut self, mesh: &Mesh, ns: &str, object: &RouteObject<'_>, d: &model::Destination) -> BackendRef {
        let Backend { name, namespace, port } = match plan::backend(mesh, object, d) {
            Some(b) => b,
            None => {
                self.fail(format!("a route to `{}` in `{}`", d.host, object.name));
                Backend {
                    name: String::new(),
                    namespace: ns.to_string(),
                    port: 0,
                }
            }
        };
        BackendRef {
            name,
            namespace: (namespace != ns).then_some(namespace),
            port,
            weight: None,
        }
    }

    fn backend_refs(
        &mut self,
        mesh: &Mesh,
        ns: &str,
        object: &RouteObject<'_>,
        route: &model::Route,
    ) -> Vec<BackendRef> {
        let Action::Forward(list) = &route.action else {
            return Vec::new();
        };
        list.iter()
            .map(|d| BackendRef {
                weight: if list.len() > 1 { d.weight } else { None },
                ..self.backend_ref(mesh, ns, object, d)
            })
            .collect()
    }

    /// Header modifiers and the mirror: the filters HTTPRoutes and GRPCRoutes share.
    fn common_filters(&mut self, mesh: &Mesh, ns: &str, object: &RouteObject<'_>, route: &model::Route) -> Vec<Filter> {
        let o = &route.options;
        let mut filters = Vec::new();
        if let Some(modifier) = header_modifier(&o.request_headers) {
            filters.push(Filter {
                request_header_modifier: Some(modifier),
                ..Filter::of("RequestHeaderModifier")
            });
        }
        if let Some(modifier) = header_modifier(&o.response_headers) {
            filters.push(Filter {
                response_header_modifier: Some(modifier),
                ..Filter::of("ResponseHeaderModifier")
            });
        }
        if let Some((d, share)) = &o.mirror {
            let backend_ref = self.backend_ref(mesh, ns, object, d);
            let share = match share {
                None => None,
                Some(p) => match values::mirror_share(*p) {
                    Some(s) => Some(s),
                    None => {
                        self.fail(format!("the mirrored share {p}%"));
                        None
                    }
                },
            };
            filters.push(Filter {
                request_mirror: Some(Mirror {
                    backend_ref,
                    percent: match share {
                        Some(Share::Percent(p)) => Some(p),
                        _ => None,
                    },
                    fraction: match share {
                        Some(Share::Fraction(numerator, denominator)) => Some(Fraction { numerator, denominator }),
                        _ => None,
                    },
                }),
                ..Filter::of("RequestMirror")
            });
        }
        filters
    }

    fn http_rules(&mut self, mesh: &Mesh, ns: &str, object: &RouteObject<'_>) -> Vec<HttpRule> {
        let mut rules = Vec::new();
        for rule in &object.rules {
            let route = rule.route;
            let o = &route.options;
            for group in rule.groups() {
                // The one path rewrite of this group (groups with a rewrite hold one
                // alternative, or none).
                let rewrite = match &o.rewrite_uri {
                    None => None,
                    Some(value) => {
                        let uri = group.first().and_then(|c| c.uri.as_ref());
                        match values::path_rewrite(uri, value) {
                            Some(kind) => Some((kind, value.clone())),
                            None => {
                                self.fail(format!("the rewrite to `{value}` in `{}`", object.name));
                                None
                            }
                        }
                    }
                };
                let prefix_rewrite = matches!(rewrite, Some((PathRewrite::Prefix, _)));
                let mut matches: Vec<HttpMatch> = group.iter().map(|c| http_match(c, prefix_rewrite)).collect();
                if matches.is_empty() && prefix_rewrite {
                    matches.push(http_match(&Conditions::default(), true));
                }
                let mut filters = self.common_filters(mesh, ns, object, route);
                if let Action::Redirect(r) = &route.action {
                    let (hostname, port) = match &r.authority {
                        None => (None, None),
                        Some(authority) => match values::split_authority(authority) {
                            Some((host, port)) => (Some(host), port),
                            None => {
                                self.fail(format!("the redirect authority `{authority}`"));
                                (None, None)
                            }
                        },
                    };
                    filters.push(Filter {
                        request_redirect: Some(Redirect {
                            scheme: r.scheme.clone(),
                            hostname,
                            path: Some(PathModifier {
                                kind: "ReplaceFullPath",
                                replace_full_path: Some(r.uri.clone()),
                                replace_prefix_match: None,
                            }),
                            port,
                            status_code: r.code.unwrap_or(REDIRECT_CODE),
                        }),
                        ..Filter::of("RequestRedirect")
                    });
                }
                if rewrite.is_some() || o.rewrite_authority.is_some() {
                    filters.push(Filter {
                        url_rewrite: Some(Rewrite {
                            hostname: o.rewrite_authority.clone(),
                            path: rewrite.map(|(kind, value)| match kind {
                                PathRewrite::Full => PathModifier {
                                    kind: "ReplaceFullPath",
                                    replace_full_path: Some(value),
                                    replace_prefix_match: None,
                                },
                                PathRewrite::Prefix => PathModifier {
                                    kind: "ReplacePrefixMatch",
                                    replace_full_path: None,
                                    replace_prefix_match: Some(value),
                                },
                            }),
                        }),
                        ..Filter::of("URLRewrite")
                    });
                }
                let timeouts = match &o.timeout {
                    None => None,
                    Some(t) => match values::duration(t) {
                        Some(request) => Some(Timeouts { request }),
                        None => {
                            self.fail(format!("the timeout `{t}`"));
                            None
                        }
                    },
                };
                rules.push(HttpRule {
                    matches,
                    filters,
                    backend_refs: self.backend_refs(mesh, ns, object, route),
                    timeouts,
                });
            }
        }
        rules
    }

    fn grpc_rules(&mut self, mesh: &Mesh, ns: &str, object: &RouteObject<'_>) -> Vec<GrpcRule> {
        let mut rules = Vec::new();
        for rule in &object.rules {
            let route = rule.route;
            let mut matches = Vec::new();
            for c in &rule.alternatives {
                let method = match values::grpc_method(c.uri.as_ref()) {
                    Ok(GrpcMethod::Any) => None,
                    Ok(GrpcMethod::Service(service)) => Some(MethodMatch {
                        kind: "Exact",
                        service: Some(service),
                        method: None,
                    }),
                    Ok(GrpcMethod::Method(service, method)) => Some(MethodMatch {
                        kind: "Exact",
                        service: Some(service),
                        method: Some(method),
                    }),
                    Err(_) => {
                        self.fail(format!("a gRPC path match in `{}`", object.name));
                        None
                    }
                };
                matches.push(GrpcMatch {
                    method,
                    headers: header_matches(c),
                });
            }
            let filters = self.common_filters(mesh, ns, object, route);
            rules.push(GrpcRule {
                matches,
                filters,
                backend_refs: self.backend_refs(mesh, ns, object, route),
            });
        }
        rules
    }

    fn kube_gateway(&mut self, mesh: &Mesh, ns: &str, gateway: &'m model::Gateway) {
        let owner = Owner::Gateway(&gateway.name, gateway.span);
        if self.object(ObjectKind::KubeGateway, Some(ns), &gateway.name, owner) {
            self.listeners(ns, gateway);
        }
        if !self.decides(ObjectKind::HttpRoute) && !self.decides(ObjectKind::GrpcRoute) {
            return;
        }
        for object in plan::gateway_routes(gateway) {
            self.route_object(mesh, ns, &object);
        }
        let parent_refs = gateway_parents(gateway, true);
        let redirect = plan::redirect_route_name(gateway);
        if !parent_refs.is_empty() && self.object(ObjectKind::HttpRoute, Some(ns), &redirect, owner) {
            let spec = HttpRouteSpec {
                parent_refs,
                hostnames: Vec::new(),
                rules: vec![HttpRule {
                    filters: vec![Filter {
                        request_redirect: Some(Redirect {
                            scheme: Some("https".to_string()),
                            hostname: None,
                            path: None,
                            port: None,
                            status_code: REDIRECT_CODE,
                        }),
                        ..Filter::of("RequestRedirect")
                    }],
                    ..HttpRule::default()
                }],
            };
            let metadata = self.meta(&redirect, ns, Map::new());
            self.write(metadata, Some(spec));
        }
    }

    /// The Gateway API Gateway: a listener per server and host.
    fn listeners(&mut self, ns: &str, gateway: &model::Gateway) {
        let mut listeners = Vec::new();
        for listener in plan::listeners(gateway) {
            let Some(protocol) = listener.protocol else {
                self.fail(format!(
                    "a listener of gateway `{}` on port {}",
                    gateway.name, listener.port
                ));
                continue;
            };
            listeners.push(Listener {
                name: listener.name,
                hostname: listener.hostname,
                port: listener.port,
                protocol,
                tls: listener.tls.map(|(mode, credential)| ListenerTls {
                    mode,
                    certificate_refs: credential
                        .map(|name| SecretRef { kind: "Secret", name })
                        .into_iter()
                        .collect(),
                }),
            });
        }
        let spec = GatewaySpec {
            gateway_class_name: "istio",
            listeners,
        };
        let metadata = self.meta(&gateway.name, ns, Map::new());
        self.write(metadata, Some(spec));
    }

    /// The ReferenceGrant a namespace needs: routes of other namespaces send to its
    /// Services.
    fn reference_grant(&mut self, mesh: &Mesh, ns: &model::Namespace) {
        let mut from: BTreeMap<&str, BTreeSet<&'static str>> = BTreeMap::new();
        for (route_ns, object) in plan::all_routes(mesh) {
            if std::ptr::eq(route_ns, ns) {
                continue;
            }
            let reaches = object
                .rules
                .iter()
                .flat_map(|r| plan::destinations(r.route))
                .filter_map(|d| plan::backend(mesh, &object, d))
                .any(|b| b.namespace == ns.name);
            if reaches {
                from.entry(route_ns.name.as_str())
                    .or_default()
                    .insert(object.kind.name());
            }
        }
        for (source, kinds) in from {
            let name = format!("routes-from-{source}");
            if !self.object(ObjectKind::ReferenceGrant, Some(&ns.name), &name, Owner::Namespace) {
                continue;
            }
            let spec = ReferenceGrantSpec {
                from: kinds
                    .into_iter()
                    .map(|kind| GrantFrom {
                        group: GROUP,
                        kind,
                        namespace: source.to_string(),
                    })
                    .collect(),
                to: vec![GrantTo {
                    group: "",
                    kind: "Service",
                }],
            };
            let metadata = self.meta(&name, &ns.name, Map::new());
            self.write(metadata, Some(spec));
        }
    }
}

/// The parents of a gateway's HTTPRoutes: the whole Gateway, or, when some listeners
/// redirect to HTTPS, the HTTP listeners that do not (`redirects: false`) or that do
/// (`redirects: true`).
fn gateway_parents(gateway: &model::Gateway, redirects: bool) -> Vec<ParentRef> {
    let any_redirect = gateway.servers.iter().any(|s| s.https_redirect);
    if !any_redirect {
        return if redirects {
            Vec::new()
        } else {
            vec![ParentRef {
                name: gateway.name.clone(),
                ..ParentRef::default()
            }]
        };
    }
    plan::listeners(gateway)
        .into_iter()
        .filter(|l| l.carries_http() && l.server.https_redirect == redirects)
        .map(|l| ParentRef {
            name: gateway.name.clone(),
            section_name: Some(l.name),
            ..ParentRef::default()
        })
        .collect()
}

fn header_modifier(ops: &HeaderOps) -> Option<HeaderModifier> {
    let headers = |map: &Map| -> Vec<Header> {
        map.iter()
            .map(|(name, value)| Header {
                name: name.clone(),
                value: value.clone(),
            })
            .collect()
    };
    (!ops.is_empty()).then(|| HeaderModifier {
        set: headers(&ops.set),
        add: headers(&ops.add),
        remove: ops.remove.clone(),
    })
}

fn value_match(name: &str, m: &StringMatch) -> ValueMatch {
    let (kind, value) = match m {
        StringMatch::Regex(v) => ("RegularExpression", v),
        StringMatch::Exact(v) | StringMatch::Prefix(v) => ("Exact", v),
    };
    ValueMatch {
        kind,
        name: name.to_string(),
        value: value.clone(),
    }
}

fn header_matches(c: &Conditions) -> Vec<ValueMatch> {
    c.headers
        .iter()
        .filter_map(|(name, h)| match h {
            HeaderMatch::Is(m) => Some(value_match(name, m)),
            HeaderMatch::Absent => None,
        })
        .collect()
}

/// One alternative as an HTTPRoute match; `explicit_path` writes the `/` prefix that a
/// match without a path has by default (a `ReplacePrefixMatch` rewrite needs it written).
fn http_match(c: &Conditions, explicit_path: bool) -> HttpMatch {
    let path = match &c.uri {
        Some(StringMatch::Exact(v)) => Some(("Exact", v.clone())),
        Some(StringMatch::Prefix(v)) => Some(("PathPrefix", v.clone())),
        Some(StringMatch::Regex(v)) => Some(("RegularExpression", v.clone())),
        None => explicit_path.then(|| ("PathPrefix", "/".to_string())),
    };
    HttpMatch {
        path: path.map(|(kind, value)| PathMatch { kind, value }),
        headers: header_matches(c),
        query_params: c.query.iter().map(|(name, m)| value_match(name, m)).collect(),
        method: c.method.clone(),
    }
}
