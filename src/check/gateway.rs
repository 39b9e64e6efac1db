//! Gateways: listeners (with TLS), the selector, and routes into the mesh.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::naming::Key;
use super::routes::{slot, Context, Reach};
use super::settings::{Arg, ValueKind as Kind};
use super::{rules, suggest, Checker, Index, Scope};
use crate::ast::{self, Value};
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::model::{self, Action, Labels, Protocol, RouteKind, ServerTls};
use crate::route_index::Earlier;
use crate::source::Span;

pub(crate) const LISTENER_PROTOCOLS: &[Protocol] = &[
    Protocol::Http,
    Protocol::Http2,
    Protocol::Grpc,
    Protocol::GrpcWeb,
    Protocol::Https,
    Protocol::Tls,
    Protocol::Tcp,
    Protocol::Mongo,
    Protocol::Mysql,
    Protocol::Redis,
];
const TLS_MODES: &[(&str, &str)] = &[
    ("simple", "SIMPLE"),
    ("mutual", "MUTUAL"),
    ("passthrough", "PASSTHROUGH"),
    ("auto-passthrough", "AUTO_PASSTHROUGH"),
    ("istio-mutual", "ISTIO_MUTUAL"),
];

impl Checker<'_> {
    pub(super) fn gateway(
        &mut self,
        scope: &Scope<'_>,
        gateway: &ast::Gateway,
        index: &Index,
        services: &HashMap<&str, &model::Service>,
    ) -> Option<model::Gateway> {
        let ns = scope.name.text.as_str();
        let name = gateway.name.text.as_str();
        let mut ok = self.name_rule(&gateway.name, "gateway name", "DNS-1123 label", rules::dns_label);
        self.quiet_names = !ok;
        let template = scope.naming.template(Key::GatewayRoutes);
        let virtual_service = template.expand(&[("gateway", name), ("namespace", ns)]);
        ok &= self.generated_name(
            &virtual_service,
            template,
            Key::GatewayRoutes,
            gateway.name.span,
            rules::dns_subdomain,
            "VirtualService name",
        );
        self.quiet_names = false;

        let mut selector = Labels::new();
        let mut selector_spans: BTreeMap<String, Span> = BTreeMap::new();
        for (key, value) in &gateway.selector {
            if let Err(why) = rules::qualified_name(&key.text) {
                self.error(
                    Diagnostic::error(
                        Code::InvalidValue,
                        key.span,
                        format!("`{}` is not a valid label key: {why}", key.text),
                    )
                    .label("invalid label key"),
                );
                ok = false;
            } else if let Some(first) = selector_spans.insert(key.text.clone(), key.span) {
                self.duplicate("selector label", &key.text, key.span, first);
                ok = false;
            } else {
                selector.insert(key.text.clone(), value.value.clone());
            }
        }
        if selector.is_empty() {
            selector.insert("istio".into(), "ingressgateway".into());
        }

        let mut servers = Vec::new();
        let mut seen_ports: BTreeMap<u16, Span> = BTreeMap::new();
        let mut hosts = BTreeSet::new();
        for listener in &gateway.listeners {
            match self.listener(listener, &mut seen_ports) {
                Some(server) => {
                    hosts.extend(server.hosts.iter().cloned());
                    servers.push(server);
                }
                None => ok = false,
            }
        }
        if gateway.listeners.is_empty() {
            self.error(
                Diagnostic::error(
                    Code::NoPorts,
                    gateway.name.span,
                    format!("gateway `{name}` has no listener"),
                )
                .label("listens on nothing")
                .help("add a listener, such as `listen http 80 hosts \"*\"`"),
            );
            ok = false;
        }
        servers.sort_by_key(|s| s.number);
        // With a listener already reported, a missing kind of listener may be that one.
        if servers.len() == gateway.listeners.len() {
            ok &= self.gateway_route_kinds(gateway, &servers);
        }

        let cx = Context {
            ns,
            own: None,
            own_facts: None,
            owner: format!("gateway `{name}`"),
            index,
            gateway: true,
            span: gateway.name.span,
        };
        // With a listener already reported, its port is unknown: claim no port exhausts.
        let known = if servers.len() == gateway.listeners.len() {
            servers.as_slice()
        } else {
            &[]
        };
        let reach = Reach::gateway(known);
        let routes = self.routes_reaching(&gateway.routes, &cx, &reach)?;
        let routes = self.carry_over(gateway, routes, services, &reach);
        let mut general = Vec::new();
        let mut by_host: BTreeMap<String, Vec<model::Route>> = BTreeMap::new();
        for route in routes {
            let hosts: BTreeSet<String> = route.alternatives.iter().filter_map(|a| a.host.clone()).collect();
            if hosts.is_empty() {
                general.push(route);
                continue;
            }
            // `route host "a.example.com" or prefix "/a"`: the alternatives for every host
            // stay with the routes for every host.
            if route.alternatives.iter().any(|a| a.host.is_none()) {
                let mut r = route.clone();
                r.alternatives.retain(|a| a.host.is_none());
                if !r.taken_by(&general) {
                    general.push(r);
                }
            }
            for host in hosts {
                let mut r = route.clone();
                r.alternatives.retain(|a| a.host.as_deref() == Some(host.as_str()));
                for a in &mut r.alternatives {
                    a.host = None;
                }
                // `route host "h" -> x` alone takes every request for that host.
                if r.alternatives.iter().any(|a| *a == model::Conditions::default()) {
                    r.alternatives.clear();
                }
                // The host's part of a route whose other parts are reached elsewhere may be
                // taken by the host's earlier routes: Istio would never reach it there.
                let own = by_host.entry(host).or_default();
                if !r.taken_by(own) {
                    own.push(r);
                }
            }
        }
        for (host, span) in gateway
            .routes
            .iter()
            .flat_map(|r| &r.alternatives)
            .flat_map(|a| &a.conditions)
            .filter_map(|c| match c {
                ast::Condition::Host { value, span } | ast::Condition::Sni { value, span } => {
                    Some((value.value.to_ascii_lowercase(), *span))
                }
                _ => None,
            })
        {
            let admitted = hosts.iter().any(|h| host_admits(h, &host));
            if !admitted {
                let list: Vec<String> = hosts.iter().map(|h| format!("`{h}`")).collect();
                self.error(
                    Diagnostic::error(
                        Code::InvalidHost,
                        span,
                        format!("no listener of gateway `{name}` accepts host `{host}`"),
                    )
                    .label("host not served")
                    .help(format!(
                        "add it to a listener's `hosts`; the listeners accept {}",
                        list.join(", ")
                    )),
                );
                ok = false;
            }
        }
        // One VirtualService may not list overlapping hosts: keep the widest. (Not
        // `host_admits`, which is symmetric for a route host `*`: `*` and `a.example.com`
        // would each drop the other and leave the VirtualService without hosts.)
        // Only a wildcard covers another host: a gateway with thousands of named hosts
        // compares each with the few wildcards, not with every other host.
        let wildcards: Vec<&String> = hosts.iter().filter(|g| g.starts_with('*')).collect();
        let hosts: Vec<String> = hosts
            .iter()
            .filter(|h| !wildcards.iter().any(|g| *g != *h && covers(g, h)))
            .cloned()
            .collect();
        ok.then(|| model::Gateway {
            name: name.to_string(),
            span: gateway.name.span,
            virtual_service,
            selector,
            servers,
            hosts,
            routes: general,
            host_routes: by_host.into_iter().collect(),
        })
    }

    fn listener(&mut self, listener: &ast::Listener, seen_ports: &mut BTreeMap<u16, Span>) -> Option<model::Server> {
        let mut ok = true;
        let protocol = self.protocol(&listener.protocol, LISTENER_PROTOCOLS, "gateway listener");
        let number = self.port_number(&listener.port);
        let mut hosts = Vec::new();
        for host in &listener.hosts {
            if !host.vars.is_empty() {
                ok = false;
            } else if let Err(why) = rules::gateway_host(&host.value) {
                self.error(
                    Diagnostic::error(
                        Code::InvalidHost,
                        host.span,
                        format!("{:?} is not a valid gateway host: {why}", host.value),
                    )
                    .label("invalid host")
                    .help("use `*` for any host, or a name such as `shop.example.com` or `*.example.com`"),
                );
                ok = false;
            } else {
                hosts.push(host.value.to_ascii_lowercase());
            }
        }
        if listener.hosts.is_empty() {
            hosts.push("*".to_string());
        }
        hosts.sort();
        hosts.dedup();

        let mut tls = None;
        let mut tls_span = None;
        let mut credential = None;
        let mut https_redirect = false;
        let mut seen: BTreeMap<String, &ast::Setting> = BTreeMap::new();
        for option in &listener.options {
            if !self.once(&mut seen, option) {
                ok = false;
                continue;
            }
            match option.key.text.as_str() {
                "tls" => {
                    tls_span = Some(option.span);
                    match option.values.as_slice() {
                        [Value::Word(w)] => match TLS_MODES.iter().find(|(m, _)| *m == w.text) {
                            Some((_, mode)) => tls = Some(*mode),
                            None => {
                                let words: Vec<&str> = TLS_MODES.iter().map(|(m, _)| *m).collect();
                                let mut d = Diagnostic::error(
                                    Code::UnknownKeyword,
                                    w.span,
                                    format!("unknown TLS mode `{}`", w.text),
                                )
                                .label("not a gateway TLS mode");
                                if let Some(suggestion) = suggest::did_you_mean(&w.text, &words, "gateway TLS modes") {
                                    d = suggestion.on(d, w.span);
                                }
                                self.error(d);
                                ok = false;
                            }
                        },
                        _ => {
                            self.error(
                                Diagnostic::error(Code::InvalidValue, option.span, "`tls` takes one mode")
                                    .label("not a TLS mode")
                                    .help("write `tls simple`, `tls mutual`, `tls passthrough`, `tls auto-passthrough` or `tls istio-mutual`"),
                            );
                            ok = false;
                        }
                    }
                }
                "credential" => match self.single(option, Kind::Str) {
                    Some(Arg::Str(c)) if rules::dns_subdomain(&c).is_ok() => credential = Some(c),
                    Some(_) => {
                        self.error(
                            Diagnostic::error(
                                Code::InvalidValue,
                                option.span,
                                "a credential is the name of a Kubernetes secret",
                            )
                            .label("not a secret name")
                            .help("secret names are lowercase DNS subdomains, such as `shop-cert`"),
                        );
                        ok = false;
                    }
                    None => ok = false,
                },
                _ => {
                    if let Some(extra) = option.values.first() {
                        self.error(
                            Diagnostic::error(Code::InvalidValue, extra.span(), "`https-redirect` takes no value")
                                .label("unexpected"),
                        );
                        ok = false;
                    }
                    https_redirect = true;
                }
            }
        }
        let (Some(protocol), Some(number)) = (protocol, number) else {
            return None;
        };
        if let Some(first) = seen_ports.insert(number, listener.port.span) {
            self.duplicate("listener port", &number.to_string(), listener.port.span, first);
            return None;
        }
        let secure = matches!(protocol, Protocol::Https | Protocol::Tls);
        match (secure, tls, tls_span) {
            (true, None, _) => {
                self.error(
                    Diagnostic::error(
                        Code::TlsRequired,
                        listener.protocol.span,
                        format!("an `{}` listener needs TLS settings", protocol.word()),
                    )
                    .label("no `tls`")
                    .help("add `tls simple credential \"secret-name\"` to terminate TLS, or `tls passthrough` to pass it through"),
                );
                ok = false;
            }
            (false, Some(_), Some(span)) => {
                self.error(
                    Diagnostic::error(
                        Code::TlsRequired,
                        span,
                        format!("a plain `{}` listener cannot carry TLS settings", protocol.word()),
                    )
                    .label("TLS on a plain listener")
                    .help("declare the listener as `https` (or `tls`) to serve TLS on it"),
                );
                ok = false;
            }
            _ => {}
        }
        if let Some(mode) = tls {
            let needs_credential = matches!(mode, "SIMPLE" | "MUTUAL");
            if needs_credential && credential.is_none() {
                self.error(
                    Diagnostic::error(
                        Code::TlsRequired,
                        tls_span.unwrap_or(listener.span),
                        format!("TLS mode `{}` needs a certificate", mode.to_ascii_lowercase()),
                    )
                    .label("no credential")
                    .help("name the Kubernetes secret holding the certificate: `credential \"shop-cert\"`"),
                );
                ok = false;
            }
            if !needs_credential && credential.is_some() {
                self.error(
                    Diagnostic::error(Code::TlsRequired, tls_span.unwrap_or(listener.span), format!("TLS mode `{}` takes no certificate", mode.to_ascii_lowercase()))
                        .label("credential not used")
                        .help("passthrough modes leave TLS to the destination, and `istio-mutual` uses the mesh's certificates"),
                );
                ok = false;
            }
        }
        if https_redirect && protocol != Protocol::Http {
            self.error(
                Diagnostic::error(
                    Code::MisplacedProperty,
                    listener.span,
                    "`https-redirect` applies to `http` listeners",
                )
                .label("not an HTTP listener")
                .help("put `https-redirect` on the plain `http` listener that should send clients to HTTPS"),
            );
            ok = false;
        }
        ok.then(|| model::Server {
            name: format!("{}-{number}", protocol.word()),
            protocol,
            number,
            hosts,
            tls: tls.map(|mode| ServerTls { mode, credential }),
            https_redirect,
            span: listener.span,
        })
    }

    /// Every kind of route the gateway has needs a listener that carries it.
    fn gateway_route_kinds(&mut self, gateway: &ast::Gateway, servers: &[model::Server]) -> bool {
        let mut ok = true;
        let mut reported = BTreeSet::new();
        for route in &gateway.routes {
            let kind = match route.kind {
                ast::RouteKind::Http => RouteKind::Http,
                ast::RouteKind::Tls => RouteKind::Tls,
                ast::RouteKind::Tcp => RouteKind::Tcp,
            };
            let carries = |s: &model::Server| listener_carries(s, kind);
            if servers.is_empty() || servers.iter().any(carries) || !reported.insert(format!("{:?}", route.kind)) {
                continue;
            }
            let (kind, help) = match route.kind {
                ast::RouteKind::Http => (
                    "HTTP",
                    "add an `http` listener, or an `https` listener that terminates TLS",
                ),
                ast::RouteKind::Tls => ("TLS", "add a `tls` or `https` listener with `tls passthrough`"),
                ast::RouteKind::Tcp => ("TCP", "add a `tcp` listener"),
            };
            self.error(
                Diagnostic::error(
                    Code::NoHttpPort,
                    route.keyword,
                    format!("gateway `{}` has no listener for this {kind} route", gateway.name.text),
                )
                .label(format!("{kind} route"))
                .help(help),
            );
            ok = false;
        }
        ok
    }

    /// Ingress traffic does not pass through a service's own VirtualService (istioctl
    /// IST0140): a gateway route that sends everything (on some hosts or listener ports) to a
    /// service carries the service's HTTP routes over, so its version split applies to
    /// ingress traffic too. A gateway route with other conditions cannot be combined with
    /// them, and is warned about when that bypasses a version split.
    fn carry_over(
        &mut self,
        gateway: &ast::Gateway,
        routes: Vec<model::Route>,
        services: &HashMap<&str, &model::Service>,
        reach: &Reach,
    ) -> Vec<model::Route> {
        let mut out: Vec<model::Route> = Vec::new();
        // The routes in `out`, by kind, indexed once: a route is looked up, not compared with
        // every route before it (a gateway that carries a thousand routes over is common).
        let mut earlier: [Earlier<'static>; 3] = Default::default();
        for (route, written) in routes.into_iter().zip(&gateway.routes) {
            // The gateway route's own `host` and `port` (a listener port) stay on every
            // carried alternative; any other condition cannot be combined with the service's.
            let only_place = route.alternatives.iter().all(|a| {
                *a == model::Conditions {
                    host: a.host.clone(),
                    port: a.port,
                    ..model::Conditions::default()
                }
            });
            let carried = match &route.action {
                Action::Forward(d)
                    if only_place && d.len() == 1 && d[0].subset.is_none() && route.kind == RouteKind::Http =>
                {
                    let target = d[0].clone();
                    let service = services.get(target.host.as_str()).copied();
                    service
                        .filter(|s| s.routes.iter().any(|r| r.kind == RouteKind::Http && !r.synthesised))
                        .map(|s| (s, target))
                }
                _ => None,
            };
            let Some((service, target)) = carried else {
                // Not carried over: every destination that names no version bypasses the
                // version routes of its service (TCP and TLS routes, splits, conditions).
                if let Action::Forward(list) = &route.action {
                    for d in list.iter().filter(|d| d.subset.is_none()) {
                        let bypassed = services.get(d.host.as_str()).copied();
                        let split =
                            bypassed.and_then(|s| super::routes::version_routes(s, route.kind).map(|at| (s, at)));
                        if let Some((service, split)) = split {
                            self.ingress_split(written.keyword, service, split);
                        }
                    }
                }
                earlier[slot(route.kind)].push_owned(route.alternatives.clone());
                out.push(route);
                continue;
            };
            let places = if route.alternatives.is_empty() {
                vec![model::Conditions::default()]
            } else {
                route.alternatives.clone()
            };
            for carried in carried_routes(service, target.port) {
                if carried.alternatives.is_empty() && route.alternatives.is_empty() {
                    push_reachable(&mut out, &mut earlier, carried, reach);
                    continue;
                }
                let base = if carried.alternatives.is_empty() {
                    vec![model::Conditions::default()]
                } else {
                    carried.alternatives.clone()
                };
                let alternatives = places
                    .iter()
                    .flat_map(|p| {
                        base.iter().map(move |a| model::Conditions {
                            host: p.host.clone(),
                            port: p.port,
                            ..a.clone()
                        })
                    })
                    .collect();
                let carried = model::Route {
                    alternatives,
                    ..carried
                };
                push_reachable(&mut out, &mut earlier, carried, reach);
            }
        }
        out
    }
}

/// Adds a carried route unless the routes before it already take every request it matches
/// (a gateway route on the same path, say): Istio would never reach it.
fn push_reachable(
    out: &mut Vec<model::Route>,
    earlier: &mut [Earlier<'static>; 3],
    route: model::Route,
    reach: &Reach,
) {
    let earlier = &mut earlier[slot(route.kind)];
    if !reach.unreachable(&route.alternatives, route.kind, earlier) {
        earlier.push_owned(route.alternatives.clone());
        out.push(route);
    }
}

impl Checker<'_> {
    fn ingress_split(&mut self, at: Span, service: &model::Service, split: Span) {
        self.error(
            Diagnostic::warning(
                Code::IngressSplit,
                at,
                format!("traffic from this gateway route ignores the routes of service `{}`", service.name),
            )
            .label("sent to every version alike")
            .note(split, format!("`{}` chooses versions here, for mesh traffic only", service.name))
            .help(format!(
                "ingress traffic does not pass through the mesh routes of `{}`; send everything to it (no path condition) to carry its routes over, or name a version (`{}/v1`)",
                service.name, service.name
            )),
        );
    }
}

/// A service's HTTP routes as the gateway applies them to requests it sends to the service's
/// `port`. Conditions that mean something else at the gateway are settled: a `port`
/// condition names the service's port, not a listener, so alternatives for another port are
/// dropped and the condition on this one holds; a `from` condition names a caller inside the
/// mesh, never the gateway, so it never holds. Destinations on the service itself go to
/// `port`, and routes after one that now takes every request are left out.
fn carried_routes(service: &model::Service, port: Option<u16>) -> Vec<model::Route> {
    let mut out = Vec::new();
    for r in service.routes.iter().filter(|r| r.kind == RouteKind::Http) {
        let mut carried = r.clone();
        if !carried.alternatives.is_empty() {
            carried
                .alternatives
                .retain(|a| a.source.is_none() && (a.port.is_none() || port.is_none() || a.port == port));
            if carried.alternatives.is_empty() {
                continue;
            }
            for a in &mut carried.alternatives {
                a.port = None;
            }
            if carried.alternatives.iter().any(|a| *a == model::Conditions::default()) {
                carried.alternatives.clear();
            }
        }
        if let Action::Forward(destinations) = &mut carried.action {
            for d in destinations
                .iter_mut()
                .filter(|d| d.host == service.fqdn && d.port.is_none())
            {
                d.port = port;
            }
        }
        if let Some((mirror, _)) = carried.options.mirror.as_mut() {
            if mirror.host == service.fqdn && mirror.port.is_none() {
                mirror.port = port;
            }
        }
        let last = carried.alternatives.is_empty();
        out.push(carried);
        if last {
            break;
        }
    }
    out
}

/// Whether a listener carries routes of a kind: HTTP on plain HTTP listeners and on HTTPS
/// listeners that terminate TLS, TLS routes on passthrough listeners, TCP on TCP listeners
/// and TLS listeners that terminate TLS.
pub(super) fn listener_carries(s: &model::Server, kind: RouteKind) -> bool {
    let mode = s.tls.as_ref().map(|t| t.mode);
    match kind {
        RouteKind::Http => {
            s.protocol.is_http()
                || (s.protocol == Protocol::Https && matches!(mode, Some("SIMPLE" | "MUTUAL" | "ISTIO_MUTUAL")))
        }
        RouteKind::Tls => matches!(mode, Some("PASSTHROUGH" | "AUTO_PASSTHROUGH")),
        RouteKind::Tcp => {
            matches!(
                s.protocol,
                Protocol::Tcp | Protocol::Mongo | Protocol::Mysql | Protocol::Redis
            ) || (s.protocol == Protocol::Tls && mode.is_some_and(|m| m != "PASSTHROUGH"))
        }
    }
}

/// Whether a listener host admits a route host (`*` admits all, `*.a.com` its subdomains).
pub(super) fn host_admits(listener: &str, host: &str) -> bool {
    if listener == "*" || listener == host {
        return true;
    }
    match listener.strip_prefix('*') {
        Some(suffix) => host.ends_with(suffix) && host.len() > suffix.len(),
        None => host.strip_prefix('*').is_some_and(|s| listener.ends_with(s)),
    }
}

/// Whether every request host that `narrow` accepts is accepted by `wide` too.
fn covers(wide: &str, narrow: &str) -> bool {
    if wide == "*" || wide == narrow {
        return true;
    }
    match wide.strip_prefix('*') {
        Some(suffix) => narrow.len() > suffix.len() && narrow.ends_with(suffix),
        None => false,
    }
}

/// Whether two listener host lists could both accept one request host.
pub(super) fn hosts_overlap(a: &[String], b: &[String]) -> bool {
    a.iter()
        .any(|x| b.iter().any(|y| host_admits(x, y) || host_admits(y, x)))
}

#[cfg(test)]
mod tests {
    use super::covers;

    #[test]
    fn the_widest_host_covers_the_narrower() {
        assert!(covers("*", "a.example.com"));
        assert!(covers("*", "*"));
        assert!(covers("*.example.com", "a.example.com"));
        assert!(covers("*.com", "*.example.com"));
        // A named host never covers `*` or a wildcard, so `*` beside it is kept.
        assert!(!covers("a.example.com", "*"));
        assert!(!covers("a.example.com", "*.example.com"));
        assert!(!covers("*.example.com", "example.com"));
        assert!(!covers("*.example.com", "*"));
    }
}
