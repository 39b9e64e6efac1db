//! Routes: conditions, targets, weights, options and reachability, for services, external
//! services and gateways.

use std::collections::{BTreeMap, HashMap};

use super::settings::{Arg, ValueKind as Kind};
use super::{rules, suggest, Checker, Index, ServiceFacts, Versions};
use crate::ast::{self, Action as AstAction, Condition, RouteKind as AstKind, Value};
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::model::{
    self, Action, Conditions, Cors, Destination, HeaderMatch, HeaderOps, Redirect, Retries, RouteKind, RouteOptions,
    SourceMatch, Sparse, StringMatch,
};
use crate::route_index::Earlier;
use crate::source::Span;

/// A destination's host, subset and port: where a split's repeats are looked up.
type DestinationKey = (String, Option<String>, Option<u16>);

const CONDITIONS: &[&str] = &[
    "prefix", "exact", "regex", "header", "query", "method", "port", "from", "sni", "host",
];
const METHODS: &[&str] = &[
    "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
];
const MAX_REGEX: usize = 1024;
const RETRY_ON: &[&str] = &[
    "5xx",
    "gateway-error",
    "reset",
    "reset-before-request",
    "connect-failure",
    "envoy-ratelimited",
    "retriable-4xx",
    "refused-stream",
    "retriable-status-codes",
    "retriable-headers",
    "cancelled",
    "deadline-exceeded",
    "internal",
    "resource-exhausted",
    "unavailable",
    "http3-post-connect-failure",
];

/// Where routes are written, which decides what their targets may name.
pub(super) struct Context<'a> {
    pub(super) ns: &'a str,
    /// The service whose routes these are (its versions are targets by name), if any.
    pub(super) own: Option<(&'a str, &'a str)>,
    /// What the index says of `own`, looked up once.
    pub(super) own_facts: Option<&'a ServiceFacts>,
    /// For messages: "service `hello2`", "gateway `main`".
    pub(super) owner: String,
    pub(super) index: &'a Index,
    pub(super) gateway: bool,
    /// The declaration the routes belong to.
    pub(super) span: Span,
}

impl Context<'_> {
    fn own_facts(&self) -> Option<&ServiceFacts> {
        self.own_facts
    }
}

/// Where the requests an owner routes arrive: for each kind of route, the ports that carry
/// it (a service's ports, a gateway's listeners) with the hosts served there (`*` inside the
/// mesh). A `port` condition means one of these, and a route whose conditions hold on every
/// one of them matches every request. Empty when the ports are unknown (already reported).
pub(super) struct Reach {
    ports: Vec<(RouteKind, u16, Vec<String>)>,
    /// "port" or "listener", for messages.
    what: &'static str,
    /// Gateways: the routes of one host are tried before the routes for every host,
    /// wherever they are written, so only that host's earlier routes can shadow them.
    hosts_first: bool,
}

impl Reach {
    /// The ports of a service or external service.
    fn service(facts: Option<&ServiceFacts>) -> Reach {
        let ports = facts
            .map(|f| f.ports.as_slice())
            .unwrap_or_default()
            .iter()
            .filter_map(|(n, p)| Some((*n, (*p)?)))
            .flat_map(|(n, p)| {
                [RouteKind::Http, RouteKind::Tcp, RouteKind::Tls]
                    .into_iter()
                    .filter(move |k| k.carries(p))
                    .map(move |k| (k, n, vec!["*".to_string()]))
            })
            .collect();
        Reach {
            ports,
            what: "port",
            hosts_first: false,
        }
    }

    /// The listeners of a gateway, each with the kinds of route it carries.
    pub(super) fn gateway(servers: &[model::Server]) -> Reach {
        let ports = servers
            .iter()
            .flat_map(|s| {
                [RouteKind::Http, RouteKind::Tcp, RouteKind::Tls]
                    .into_iter()
                    .filter(|k| super::gateway::listener_carries(s, *k))
                    .map(|k| (k, s.number, s.hosts.clone()))
            })
            .collect();
        Reach {
            ports,
            what: "listener",
            hosts_first: true,
        }
    }

    /// The ports a route of `kind` receives requests on, for `host` (any host when `None`).
    fn ports(&self, kind: RouteKind, host: Option<&str>) -> Vec<u16> {
        let mut out: Vec<u16> = self
            .ports
            .iter()
            .filter(|(k, _, hosts)| {
                *k == kind && host.is_none_or(|h| hosts.iter().any(|l| super::gateway::host_admits(l, h)))
            })
            .map(|(_, n, _)| *n)
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The earlier routes (by index, each given by its alternatives, none for a route that
    /// matches everything) that together take every request `alternative` matches, if they
    /// do: on each port it can arrive on, some earlier alternative covers it.
    pub(super) fn shadowing(
        &self,
        alternative: &Conditions,
        kind: RouteKind,
        earlier: &Earlier<'_>,
    ) -> Option<Vec<usize>> {
        let ports: Vec<Option<u16>> = match alternative.port {
            Some(p) => vec![Some(p)],
            None => {
                let ports = self.ports(kind, alternative.host.as_deref());
                if ports.is_empty() {
                    vec![None]
                } else {
                    ports.into_iter().map(Some).collect()
                }
            }
        };
        let mut by = Vec::new();
        for port in ports {
            let on_port = Conditions {
                port,
                ..alternative.clone()
            };
            // On gateways, a host's own routes come first: routes for every host written
            // before them do not take their requests.
            let own_host = |a: &Conditions| !self.hosts_first || on_port.host.is_none() || a.host == on_port.host;
            let catch_all = |e: &[Conditions]| e.is_empty() && (!self.hosts_first || on_port.host.is_none());
            let cover = earlier.candidates(&on_port).into_iter().find(|&i| {
                let e = earlier.route(i);
                catch_all(e) || e.iter().any(|a| own_host(a) && on_port.covered_by(a))
            })?;
            if !by.contains(&cover) {
                by.push(cover);
            }
        }
        Some(by)
    }

    /// Whether a route with these alternatives takes no request the earlier ones leave.
    pub(super) fn unreachable(&self, alternatives: &[Conditions], kind: RouteKind, earlier: &Earlier<'_>) -> bool {
        let everything = [Conditions::default()];
        let alternatives = if alternatives.is_empty() {
            &everything[..]
        } else {
            alternatives
        };
        alternatives.iter().all(|a| self.shadowing(a, kind, earlier).is_some())
    }

    /// A route's alternatives limited to the ports where the earlier routes leave it some
    /// requests (unchanged where they leave it all of them); `None` when they leave it
    /// nothing.
    fn narrow(&self, alternatives: &[Conditions], kind: RouteKind, earlier: &Earlier<'_>) -> Option<Vec<Conditions>> {
        let everything = [Conditions::default()];
        let written = if alternatives.is_empty() {
            &everything[..]
        } else {
            alternatives
        };
        let mut out = Vec::new();
        for alternative in written {
            let ports = self.ports(kind, alternative.host.as_deref());
            // One copy per port only where there are several: elsewhere a written
            // alternative stays as it is (M3020 reports it when shadowed).
            if ports.len() < 2 {
                if !alternatives.is_empty() || self.shadowing(alternative, kind, earlier).is_none() {
                    out.push(alternative.clone());
                }
                continue;
            }
            if alternative.port.is_some() {
                if self.shadowing(alternative, kind, earlier).is_none() {
                    out.push(alternative.clone());
                }
                continue;
            }
            let on = |p: u16| Conditions {
                port: Some(p),
                ..alternative.clone()
            };
            let open: Vec<u16> = ports
                .iter()
                .copied()
                .filter(|p| self.shadowing(&on(*p), kind, earlier).is_none())
                .collect();
            if open.len() == ports.len() {
                out.push(alternative.clone());
            } else {
                out.extend(open.into_iter().map(on));
            }
        }
        if out.is_empty() {
            return None;
        }
        if alternatives.is_empty() && out.len() == 1 && out[0] == Conditions::default() {
            out.clear();
        }
        Some(out)
    }

    /// Makes a route's conditions say what they mean for the requests that arrive: a `port`
    /// that every request of the kind (for the alternative's host) arrives on is no
    /// condition, and a route whose alternatives together hold on every port is the default
    /// route. Returns the ports that made the route match everything, if any did.
    fn exhaust(&self, alternatives: &mut Vec<Conditions>, kind: RouteKind) -> Option<Vec<u16>> {
        let mut implied = Vec::new();
        for alternative in alternatives.iter_mut() {
            let Some(port) = alternative.port else { continue };
            if self.ports(kind, alternative.host.as_deref()) == [port] {
                alternative.port = None;
                implied.push(port);
            }
        }
        // `port` alternatives that together name every port a host is served on: that host.
        let mut hosts: Vec<Option<String>> = alternatives.iter().map(|a| a.host.clone()).collect();
        hosts.sort();
        hosts.dedup();
        let mut every = Vec::new();
        for host in hosts {
            let ports = self.ports(kind, host.as_deref());
            let bare = |p: Option<u16>| Conditions {
                host: host.clone(),
                port: p,
                ..Conditions::default()
            };
            if ports.len() > 1 && ports.iter().all(|p| alternatives.contains(&bare(Some(*p)))) {
                alternatives.retain(|a| a.host != host);
                alternatives.push(bare(None));
                if host.is_none() {
                    every = ports;
                }
            }
        }
        if alternatives.iter().any(|a| *a == Conditions::default()) {
            alternatives.clear();
            implied.extend(every);
            implied.sort_unstable();
            implied.dedup();
            return (!implied.is_empty()).then_some(implied);
        }
        None
    }

    /// Whether a route with these alternatives matches every request it can receive.
    fn everything(&self, alternatives: &[Conditions], kind: RouteKind) -> bool {
        let mut alternatives = alternatives.to_vec();
        self.exhaust(&mut alternatives, kind);
        alternatives.is_empty() || alternatives.iter().any(Conditions::matches_everything)
    }

    /// The alternatives of a route that matches every request which it would match as well
    /// without: they never decide anything. Later ones go first, keeping what was written
    /// first.
    fn redundant(&self, alternatives: &[Conditions], kind: RouteKind) -> Vec<usize> {
        let mut kept: Vec<usize> = (0..alternatives.len()).collect();
        if kept.len() < 2 || !self.everything(alternatives, kind) {
            return Vec::new();
        }
        let mut out = Vec::new();
        for i in (0..alternatives.len()).rev() {
            if kept.len() < 2 {
                break;
            }
            let without: Vec<Conditions> = kept
                .iter()
                .filter(|k| **k != i)
                .map(|k| alternatives[*k].clone())
                .collect();
            if self.everything(&without, kind) {
                kept.retain(|k| *k != i);
                out.push(i);
            }
        }
        out.sort_unstable();
        out
    }
}

/// A place for each kind of route, for per-kind tables.
pub(super) fn slot(kind: RouteKind) -> usize {
    match kind {
        RouteKind::Http => 0,
        RouteKind::Tcp => 1,
        RouteKind::Tls => 2,
    }
}

/// A route's conditions once read, for the reachability checks.
struct Resolved<'a> {
    route: &'a ast::Route,
    kind: RouteKind,
    alternatives: Vec<Conditions>,
    /// Set when the route matches every request only because its `port` conditions name
    /// every port of its kind.
    exhausted: Option<Vec<u16>>,
    /// The alternatives that never decide anything (see [`Reach::redundant`]).
    redundant: Vec<usize>,
}

impl Checker<'_> {
    /// Routes in order. HTTP and TCP routes end with a default route (written, or a
    /// synthesised one to the whole service) unless the routes already take every request.
    /// `None` when any route is wrong.
    pub(super) fn routes(&mut self, routes: &[ast::Route], cx: &Context<'_>) -> Option<Vec<model::Route>> {
        let reach = Reach::service(cx.own_facts());
        self.routes_reaching(routes, cx, &reach)
    }

    /// [`Checker::routes`], for requests that arrive where `reach` says.
    pub(super) fn routes_reaching(
        &mut self,
        routes: &[ast::Route],
        cx: &Context<'_>,
        reach: &Reach,
    ) -> Option<Vec<model::Route>> {
        let mut ok = true;
        let mut out = Vec::new();
        let mut resolved = Vec::new();
        for route in routes {
            let kind = match route.kind {
                AstKind::Http => RouteKind::Http,
                AstKind::Tcp => RouteKind::Tcp,
                AstKind::Tls => RouteKind::Tls,
            };
            let mut alternatives = self.conditions(route, kind, cx, reach);
            let redundant = alternatives
                .as_ref()
                .map(|a| reach.redundant(a, kind))
                .unwrap_or_default();
            let exhausted = alternatives.as_mut().and_then(|a| reach.exhaust(a, kind));
            let mut action = self.action(route, kind, cx);
            let (name, options) = match &mut action {
                Some(action) => self.route_options(route, kind, action, cx),
                None => (None, None),
            };
            // Reachability needs only the conditions: check it even when the action is wrong.
            if let Some(alternatives) = &alternatives {
                resolved.push(Resolved {
                    route,
                    kind,
                    alternatives: alternatives.clone(),
                    exhausted,
                    redundant,
                });
            }
            match (alternatives, action, options) {
                (Some(alternatives), Some(action), Some(options)) => {
                    out.push(model::Route {
                        kind,
                        span: route.keyword,
                        name,
                        alternatives,
                        action,
                        options: Sparse::new(options),
                        synthesised: false,
                    });
                }
                _ => ok = false,
            }
        }
        ok &= self.reachability(&resolved, reach, cx);
        if !ok {
            return None;
        }
        let Some(facts) = cx.own_facts() else {
            return Some(out);
        };
        // A service's VirtualService is written once per port: each route keeps the ports
        // where it still takes requests, so no copy of it goes where Istio never reaches.
        let mut earlier: [Earlier<'_>; 3] = Default::default();
        for (route, resolved) in out.iter_mut().zip(&resolved) {
            let earlier = &mut earlier[slot(route.kind)];
            if let Some(mut narrowed) = reach.narrow(&route.alternatives, route.kind, earlier) {
                narrowed.shrink_to_fit();
                route.alternatives = narrowed;
            }
            earlier.push(&resolved.alternatives);
        }
        for kind in [RouteKind::Http, RouteKind::Tcp] {
            let earlier = &earlier[slot(kind)];
            // Istio never reaches a default route after routes that take every request: the
            // default route takes the ports where some requests are left, if any.
            if earlier.is_empty() {
                continue;
            }
            let Some(mut alternatives) = reach.narrow(&[], kind, earlier) else {
                continue;
            };
            alternatives.shrink_to_fit();
            out.push(model::Route {
                kind,
                span: cx.span,
                name: None,
                alternatives,
                action: Action::Forward(vec![Destination {
                    host: facts.fqdn.clone(),
                    subset: None,
                    port: None,
                    weight: None,
                    request_headers: Sparse::default(),
                    response_headers: Sparse::default(),
                }]),
                options: Sparse::default(),
                synthesised: true,
            });
        }
        // The model keeps the routes until the end: no spare room (a route is large).
        out.shrink_to_fit();
        Some(out)
    }

    /// The alternatives of a route; empty for a route that matches everything.
    fn conditions(
        &mut self,
        route: &ast::Route,
        kind: RouteKind,
        cx: &Context<'_>,
        reach: &Reach,
    ) -> Option<Vec<Conditions>> {
        let mut ok = true;
        let mut alternatives = Vec::new();
        for alternative in &route.alternatives {
            let mut c = Conditions::default();
            let mut seen: BTreeMap<String, Span> = BTreeMap::new();
            for condition in &alternative.conditions {
                let (key, allowed) = match condition {
                    Condition::Uri { .. } => ("path".to_string(), kind == RouteKind::Http),
                    Condition::Header { name, .. } => (format!("header {}", name.text), kind == RouteKind::Http),
                    Condition::Query { name, .. } => (format!("query {}", name.text), kind == RouteKind::Http),
                    Condition::Method { .. } => ("method".to_string(), kind == RouteKind::Http),
                    Condition::Port { .. } => ("port".to_string(), true),
                    // Requests through a gateway come from the gateway's own workloads.
                    Condition::From { .. } => ("from".to_string(), !cx.gateway),
                    Condition::Sni { .. } => ("sni".to_string(), kind == RouteKind::Tls),
                    Condition::Host { .. } => ("host".to_string(), cx.gateway && kind == RouteKind::Http),
                    Condition::Other { kind: word, .. } => {
                        let mut d = Diagnostic::error(
                            Code::UnknownKeyword,
                            word.span,
                            format!("unknown condition `{}`", word.text),
                        )
                        .label("not a condition");
                        if let Some(suggestion) = suggest::did_you_mean(&word.text, CONDITIONS, "conditions") {
                            d = suggestion.on(d, word.span);
                        }
                        self.error(d);
                        ok = false;
                        continue;
                    }
                };
                if !allowed {
                    self.misplaced_condition(condition, kind, cx);
                    ok = false;
                    continue;
                }
                if key != "sni" {
                    if let Some(first) = seen.insert(key.clone(), condition.span()) {
                        self.error(
                            Diagnostic::error(
                                Code::MisplacedProperty,
                                condition.span(),
                                format!("one alternative can test the {key} only once"),
                            )
                            .label("second test")
                            .note(first, "first test")
                            .help("to accept either value, separate the alternatives with `or`: `route prefix \"/a\" or prefix \"/b\" -> v1`"),
                        );
                        ok = false;
                        continue;
                    }
                }
                c.spans.insert(key, condition.span());
                ok &= self.condition(condition, &mut c, cx);
            }
            let port_span = alternative.conditions.iter().find_map(|c| match c {
                Condition::Port { number, .. } => Some(number.span),
                _ => None,
            });
            if let Some(span) = port_span {
                ok &= self.port_reached(&c, span, kind, cx, reach);
            }
            let wrote_sni = alternative
                .conditions
                .iter()
                .any(|c| matches!(c, Condition::Sni { .. }));
            if kind == RouteKind::Tls && !wrote_sni {
                self.error(
                    Diagnostic::error(
                        Code::MisplacedProperty,
                        alternative.span,
                        "a TLS route must match on SNI",
                    )
                    .label("no `sni` here")
                    .help("add the server name this route is for: `route tls sni \"shop.example.com\" -> v1`"),
                );
                ok = false;
            }
            c.headers.sort();
            c.query.sort();
            c.sni.sort();
            c.sni.dedup();
            alternatives.push(c);
        }
        if kind == RouteKind::Tls && route.alternatives.is_empty() {
            self.error(
                Diagnostic::error(Code::MisplacedProperty, route.keyword, "a TLS route must match on SNI")
                    .label("no `sni`")
                    .help("add the server name this route is for: `route tls sni \"shop.example.com\" -> v1`"),
            );
            ok = false;
        }
        ok.then_some(alternatives)
    }

    /// A `port` condition names a port that routes of this kind receive requests on (for the
    /// alternative's host, on gateways): any other never matches.
    fn port_reached(&mut self, c: &Conditions, span: Span, kind: RouteKind, cx: &Context<'_>, reach: &Reach) -> bool {
        let ports = reach.ports(kind, None);
        let Some(port) = c.port.filter(|_| !ports.is_empty()) else {
            return true;
        };
        let list = |ports: &[u16]| -> String {
            let list: Vec<String> = ports.iter().map(|p| format!("`{p}`")).collect();
            list.join(", ")
        };
        if !ports.contains(&port) {
            self.error(
                Diagnostic::error(
                    Code::UnknownPort,
                    span,
                    format!("{} has no {} {} {port}", cx.owner, kind.word(), reach.what),
                )
                .label(format!("no {} {} here", kind.word(), reach.what))
                .help(format!(
                    "this condition would never hold; the {} {}s are {}",
                    kind.word(),
                    reach.what,
                    list(&ports)
                )),
            );
            return false;
        }
        let Some(host) = c.host.as_deref() else { return true };
        let serving = reach.ports(kind, Some(host));
        // A host no listener serves is reported as such (M3015).
        if serving.is_empty() || serving.contains(&port) {
            return true;
        }
        self.error(
            Diagnostic::error(
                Code::UnknownPort,
                span,
                format!(
                    "the {} {} {port} of {} does not serve host `{host}`",
                    kind.word(),
                    reach.what,
                    cx.owner
                ),
            )
            .label(format!("`{host}` is not served here"))
            .help(format!(
                "this condition would never hold; `{host}` is served on {}, or add it to the listener's `hosts`",
                list(&serving)
            )),
        );
        false
    }

    fn misplaced_condition(&mut self, condition: &Condition, kind: RouteKind, cx: &Context<'_>) {
        let (what, help) = match (condition, kind) {
            (Condition::Sni { .. }, _) => (
                "`sni`",
                "SNI is matched by TLS routes: `route tls sni \"a.example.com\" -> v1`",
            ),
            (Condition::From { .. }, _) if cx.gateway => (
                "`from`",
                "requests through a gateway come from the gateway's own workloads, never from a service of the mesh; `from` applies to the routes of services",
            ),
            (Condition::Host { .. }, _) if !cx.gateway => (
                "`host`",
                "hosts are chosen on gateways; inside the mesh a service is its own host",
            ),
            (_, RouteKind::Tcp) => ("this condition", "TCP routes can match only `port` and `from`"),
            (_, RouteKind::Tls) => ("this condition", "TLS routes can match only `sni`, `port` and `from`"),
            _ => ("this condition", "it does not apply here"),
        };
        let route = match kind {
            RouteKind::Http => "an HTTP route",
            RouteKind::Tcp => "a TCP route",
            RouteKind::Tls => "a TLS route",
        };
        let from = matches!(condition, Condition::From { .. });
        let route = if cx.gateway && kind == RouteKind::Http && !from {
            route.to_string()
        } else {
            format!("{route} of {}", cx.owner)
        };
        self.error(
            Diagnostic::error(
                Code::MisplacedProperty,
                condition.span(),
                format!("{what} cannot be used in {route}"),
            )
            .label("not here")
            .help(help),
        );
    }

    fn string_match(&mut self, matcher: &ast::StrMatch, what: &str) -> Option<StringMatch> {
        let value = matcher.value.value.clone();
        let kind = matcher.kind.as_ref().map_or("exact", |k| k.text.as_str());
        let result = match kind {
            "prefix" => StringMatch::Prefix(value),
            "regex" => StringMatch::Regex(value),
            _ => StringMatch::Exact(value),
        };
        self.check_string_match(&result, matcher.value.span, what)
    }

    fn check_string_match(&mut self, m: &StringMatch, span: Span, what: &str) -> Option<StringMatch> {
        let empty = match m {
            StringMatch::Prefix(v) | StringMatch::Regex(v) => v.is_empty(),
            StringMatch::Exact(_) => false,
        };
        if empty {
            self.error(
                Diagnostic::error(Code::InvalidValue, span, format!("an empty {what} match"))
                    .label("empty")
                    .help("Istio rejects empty prefix and regex matches; to match everything, leave the condition out"),
            );
            return None;
        }
        if let StringMatch::Regex(v) = m {
            // Envoy compiles these with RE2; its syntax is the regex crate's, less a few
            // extensions, so a pattern the parser refuses would be refused by Istio too.
            if let Err(e) = regex_syntax::Parser::new().parse(v) {
                let why = e.to_string();
                let why = why
                    .lines()
                    .last()
                    .unwrap_or("invalid regex")
                    .trim_start_matches("error: ")
                    .to_string();
                self.error(
                    Diagnostic::error(Code::InvalidValue, span, format!("`{v}` is not a valid regex: {why}"))
                        .label("invalid regex")
                        .help("Istio matches with RE2 syntax; escape special characters with `\\`"),
                );
                return None;
            }
            if v.len() > MAX_REGEX {
                self.error(
                    Diagnostic::error(
                        Code::InvalidValue,
                        span,
                        format!("the regex is {} bytes; Istio accepts at most {MAX_REGEX}", v.len()),
                    )
                    .label("too long"),
                );
                return None;
            }
        }
        Some(m.clone())
    }

    fn condition(&mut self, condition: &Condition, c: &mut Conditions, cx: &Context<'_>) -> bool {
        match condition {
            Condition::Uri { kind, value } => {
                let m = match kind.text.as_str() {
                    "prefix" => StringMatch::Prefix(value.value.clone()),
                    "regex" => StringMatch::Regex(value.value.clone()),
                    _ => StringMatch::Exact(value.value.clone()),
                };
                c.uri = self.check_string_match(&m, value.span, "path");
                c.uri.is_some()
            }
            Condition::Header { name, matcher, .. } => {
                if name.text.to_ascii_lowercase() != name.text
                    || !name
                        .text
                        .chars()
                        .all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '-' | '_' | '.'))
                {
                    self.error(
                        Diagnostic::error(
                            Code::InvalidValue,
                            name.span,
                            format!("`{}` is not a valid header name here", name.text),
                        )
                        .label("invalid header name")
                        .help(format!(
                            "Istio matches header names in lower case: `{}`",
                            name.text.to_ascii_lowercase()
                        )),
                    );
                    return false;
                }
                let m = match matcher {
                    None => HeaderMatch::Absent,
                    Some(m) => match self.string_match(m, "header") {
                        Some(m) => HeaderMatch::Is(m),
                        None => return false,
                    },
                };
                c.headers.push((name.text.clone(), m));
                true
            }
            Condition::Query { name, matcher, .. } => match self.string_match(matcher, "query parameter") {
                Some(m) => {
                    c.query.push((name.text.clone(), m));
                    true
                }
                None => false,
            },
            Condition::Method { value, .. } => {
                let upper = value.value.to_ascii_uppercase();
                if !METHODS.contains(&upper.as_str()) {
                    let mut d = Diagnostic::error(
                        Code::InvalidValue,
                        value.span,
                        format!("`{}` is not an HTTP method", value.value),
                    )
                    .label("unknown method");
                    d = d.help(match suggest::closest(&upper, METHODS.iter().copied()) {
                        Some(best) => format!("did you mean `{best}`?"),
                        None => format!("the methods are {}", METHODS.join(", ")),
                    });
                    self.error(d);
                    return false;
                }
                c.method = Some(upper);
                true
            }
            Condition::Port { number, .. } => match self.port_number(number) {
                Some(p) => {
                    c.port = Some(p);
                    true
                }
                None => false,
            },
            Condition::From { service, version, .. } => {
                let Some(key) = self.resolve_service(service, cx.ns, cx.index) else {
                    return false;
                };
                let Some(facts) = cx.index.get(&key) else { return false };
                if facts.external {
                    self.error(
                        Diagnostic::error(
                            Code::MisplacedProperty,
                            service.span,
                            format!("`{}` is outside the mesh", service.text),
                        )
                        .label("an external service sends no mesh traffic")
                        .help("`from` names a service of the mesh"),
                    );
                    return false;
                }
                let mut labels = model::Labels::new();
                labels.insert(facts.selector.0.clone(), facts.selector.1.clone());
                if let Some(v) = version {
                    if !facts.versions.contains(&v.text) {
                        self.unknown_version(v, &key, &facts.versions);
                        return false;
                    }
                    labels.insert(facts.version_key.clone(), v.text.clone());
                }
                c.source = Some(SourceMatch {
                    labels,
                    namespace: (key.0 != cx.ns).then(|| key.0.clone()),
                });
                true
            }
            Condition::Sni { value, .. } => {
                if let Err(why) = rules::gateway_host(&value.value) {
                    self.error(
                        Diagnostic::error(
                            Code::InvalidHost,
                            value.span,
                            format!("`{}` is not a valid SNI host: {why}", value.value),
                        )
                        .label("invalid host"),
                    );
                    return false;
                }
                let sni = value.value.to_ascii_lowercase();
                if let Some(facts) = cx.own_facts().filter(|_| !cx.gateway) {
                    if !super::gateway::host_admits(&facts.fqdn, &sni) {
                        self.error(
                            Diagnostic::error(
                                Code::InvalidHost,
                                value.span,
                                format!("{} is reached as `{}`, never as `{sni}`", cx.owner, facts.fqdn),
                            )
                            .label("SNI of another host")
                            .help(format!(
                                "Istio accepts only SNI names of the route's own host; match `sni \"{}\"`, or route `{sni}` on a gateway",
                                facts.fqdn
                            )),
                        );
                        return false;
                    }
                }
                c.sni.push(value.value.to_ascii_lowercase());
                true
            }
            Condition::Host { value, .. } => {
                if let Err(why) = rules::gateway_host(&value.value) {
                    self.error(
                        Diagnostic::error(
                            Code::InvalidHost,
                            value.span,
                            format!("`{}` is not a valid host: {why}", value.value),
                        )
                        .label("invalid host"),
                    );
                    return false;
                }
                c.host = Some(value.value.to_ascii_lowercase());
                true
            }
            Condition::Other { .. } => false,
        }
    }

    fn unknown_version(&mut self, name: &ast::Name, service: &(String, String), versions: &Versions) {
        let mut d = Diagnostic::error(
            Code::UnknownVersion,
            name.span,
            format!("service `{}` has no version `{}`", service.1, name.text),
        )
        .label("unknown version");
        let names = self
            .version_names
            .entry(service.clone())
            .or_insert_with(|| suggest::Index::new(versions.declared().iter().map(String::as_str)));
        if let Some(suggestion) = names.did_you_mean(&name.text, "versions") {
            d = suggestion.on(d, name.span);
        }
        self.error(d);
    }

    /// `v1`, `ratings`, `reviews/v2`, `reviews.prod:9080`, as a destination.
    pub(super) fn target(&mut self, target: &ast::Name, kind: RouteKind, cx: &Context<'_>) -> Option<Destination> {
        let text = target.text.as_str();
        let (base, port_text) = match text.split_once(':') {
            Some((b, p)) => (b, Some(p)),
            None => (text, None),
        };
        let (service, version) = match base.split_once('/') {
            Some((s, v)) => (s, Some(v)),
            None => (base, None),
        };
        let own = cx.own_facts();
        // A bare name is one of the service's own versions when it has one by that name.
        let (key, subset) = match own {
            Some(facts) if version.is_none() && facts.versions.contains(service) => {
                let (ns, name) = cx.own.unwrap_or_default();
                ((ns.to_string(), name.to_string()), Some(service.to_string()))
            }
            _ => {
                let name = ast::Name {
                    text: service.to_string(),
                    span: Span::new(target.span.source, target.span.start, target.span.start + service.len()),
                };
                let key = super::service_key(&name.text, cx.ns);
                if !cx.index.contains_key(&key) {
                    self.unknown_target(&name, cx);
                    return None;
                }
                (key, version.map(str::to_string))
            }
        };
        let facts = cx.index.get(&key)?;
        if let Some(v) = &subset {
            if !facts.versions.contains(v) {
                let at = Span::new(
                    target.span.source,
                    target.span.start + service.len() + 1,
                    target.span.start + base.len(),
                );
                self.unknown_version(
                    &ast::Name {
                        text: v.clone(),
                        span: at,
                    },
                    &key,
                    &facts.versions,
                );
                return None;
            }
        }
        let port = match port_text {
            Some(p) => {
                let number: Option<u16> = p.parse().ok();
                match number.filter(|n| facts.ports.iter().any(|(port, _)| port == n)) {
                    Some(n) => Some(n),
                    None => {
                        let list: Vec<String> = facts.ports.iter().map(|(n, _)| format!("`{n}`")).collect();
                        self.error(
                            Diagnostic::error(
                                Code::UnknownPort,
                                target.span,
                                format!("service `{}` has no port {p}", key.1),
                            )
                            .label("unknown port")
                            .help(if list.is_empty() {
                                "declare the port on the service first".to_string()
                            } else {
                                format!("its ports are {}", list.join(", "))
                            }),
                        );
                        return None;
                    }
                }
            }
            None => None,
        };
        let is_own = cx.own.is_some_and(|(ns, name)| key.0 == ns && key.1 == name);
        let fitting: Vec<u16> = facts
            .ports
            .iter()
            .filter(|(_, p)| p.is_some_and(|p| kind.carries(p)))
            .map(|(n, _)| *n)
            .collect();
        if let Some(p) = port.filter(|p| !fitting.contains(p)) {
            self.error(
                Diagnostic::error(
                    Code::NoHttpPort,
                    target.span,
                    format!("port {p} of `{}` does not carry {} traffic", key.1, kind.word()),
                )
                .label(format!("not a {} port", kind.word()))
                .help(format!(
                    "send {} routes to a port declared with a protocol of that kind",
                    kind.word()
                )),
            );
            return None;
        }
        if !is_own && fitting.is_empty() && !facts.ports.is_empty() {
            self.error(
                Diagnostic::error(
                    Code::NoHttpPort,
                    target.span,
                    format!("`{}` has no port for {} traffic", key.1, kind.word()),
                )
                .label(format!("no {} port", kind.word()))
                .help(match kind {
                    RouteKind::Http => "HTTP routes need a port declared as `http`, `http2`, `grpc` or `grpc-web`",
                    RouteKind::Tls => "TLS routes need a port declared as `tls` or `https`",
                    RouteKind::Tcp => "TCP routes need a port declared as `tcp`, `mongo`, `mysql` or `redis`",
                }),
            );
            return None;
        }
        let port = match port {
            Some(p) => Some(p),
            None if is_own => None,
            // A gateway always names the port; inside the mesh a single-port service needs none.
            None if cx.gateway || facts.ports.len() > 1 => match fitting.as_slice() {
                [one] => Some(*one),
                [] => None,
                _ => {
                    self.port_required(target, &key.1, facts);
                    return None;
                }
            },
            None => None,
        };
        Some(Destination {
            host: facts.fqdn.clone(),
            subset,
            port,
            weight: None,
            request_headers: Sparse::default(),
            response_headers: Sparse::default(),
        })
    }

    fn port_required(&mut self, target: &ast::Name, service: &str, facts: &ServiceFacts) {
        let list: Vec<String> = facts
            .ports
            .iter()
            .map(|(n, _)| format!("`{}:{n}`", target.text))
            .collect();
        self.error(
            Diagnostic::error(
                Code::PortRequired,
                target.span,
                format!("service `{service}` has several ports; say which one this route sends to"),
            )
            .label("which port?")
            .help(format!("write one of {}", list.join(", "))),
        );
    }

    fn unknown_target(&mut self, name: &ast::Name, cx: &Context<'_>) {
        let own = cx.own.map(|(ns, service)| (ns.to_string(), service.to_string()));
        let names = self.target_names.entry((cx.ns.to_string(), own)).or_insert_with(|| {
            let services = cx
                .index
                .range((cx.ns.to_string(), String::new())..)
                .take_while(|((n, _), _)| n == cx.ns)
                .map(|((_, s), _)| s.as_str());
            let versions = cx
                .own_facts()
                .map(|facts| facts.versions.declared())
                .unwrap_or_default();
            suggest::Index::new(services.chain(versions.iter().map(String::as_str)))
        });
        let suggestion = names.did_you_mean(&name.text, "versions and services");
        let (code, message) = if cx.own.is_some() && !name.text.contains('.') {
            (
                Code::UnknownVersion,
                format!(
                    "{} has no version `{}`, and there is no service by that name",
                    cx.owner, name.text
                ),
            )
        } else {
            (Code::UnknownService, format!("there is no service `{}`", name.text))
        };
        let mut d = Diagnostic::error(code, name.span, message).label("unknown target");
        if let Some(suggestion) = suggestion {
            d = suggestion.on(d, name.span);
        }
        self.error(d);
    }

    fn action(&mut self, route: &ast::Route, kind: RouteKind, cx: &Context<'_>) -> Option<Action> {
        match &route.action {
            AstAction::Single(target) => {
                let d = self.target(target, kind, cx)?;
                Some(Action::Forward(vec![d]))
            }
            AstAction::Split { entries, span } => self.split(entries, *span, kind, cx).map(Action::Forward),
            AstAction::Redirect { span, .. } | AstAction::Respond { span, .. } if kind != RouteKind::Http => {
                self.error(
                    Diagnostic::error(
                        Code::MisplacedProperty,
                        *span,
                        "only HTTP routes can redirect or respond",
                    )
                    .label("not for TCP or TLS")
                    .help("TCP and TLS routes forward connections: `-> v1`"),
                );
                None
            }
            AstAction::Redirect { uri, .. } => {
                if uri.value.is_empty() {
                    self.error(
                        Diagnostic::error(Code::InvalidValue, uri.span, "a redirect needs a path")
                            .label("empty")
                            .help("write the path to redirect to, such as `redirect \"/v2/login\"`"),
                    );
                    return None;
                }
                Some(Action::Redirect(Redirect {
                    uri: uri.value.clone(),
                    ..Redirect::default()
                }))
            }
            AstAction::Respond { status, body, .. } => {
                let code = status.whole().filter(|c| (200..=599).contains(c) && !status.percent);
                let Some(code) = code.and_then(|c| u16::try_from(c).ok()) else {
                    self.error(
                        Diagnostic::error(Code::InvalidValue, status.span, "a response status is from 200 to 599")
                            .label("not an HTTP status")
                            .help("write a status such as `respond 503 \"maintenance\"`"),
                    );
                    return None;
                };
                Some(Action::Respond {
                    status: code,
                    body: body.as_ref().map(|b| b.value.clone()),
                })
            }
        }
    }

    fn split(
        &mut self,
        entries: &[ast::Weighted],
        span: Span,
        kind: RouteKind,
        cx: &Context<'_>,
    ) -> Option<Vec<Destination>> {
        if entries.is_empty() {
            self.error(
                Diagnostic::error(Code::WeightSum, span, "this split names no destination")
                    .label("empty split")
                    .help("list versions with their weights: `{ v1 90% v2 10% }`"),
            );
            return None;
        }
        let mut ok = true;
        let mut total: i64 = 0;
        // The destinations met, indexed by host, subset and port, so that a long split is
        // checked in linear time.
        let mut seen: HashMap<DestinationKey, Vec<(Destination, Span)>> = HashMap::new();
        // The names that did not resolve, with where they were first written: a name
        // written again is a repeat (reported as one, and collapsed with the others), not
        // a second unknown target.
        let mut unresolved: HashMap<&str, Span> = HashMap::new();
        let mut out = Vec::new();
        for entry in entries {
            let destination = match unresolved.get(entry.name.text.as_str()) {
                Some(&first) => {
                    self.error(repeated_target(&entry.name, first));
                    None
                }
                None => {
                    let destination = self.target(&entry.name, kind, cx);
                    if destination.is_none() {
                        unresolved.insert(&entry.name.text, entry.name.span);
                    }
                    destination
                }
            };
            if entry.weight.too_large() {
                ok = false;
                continue;
            }
            let weight = entry
                .weight
                .whole()
                .filter(|w| (0..=100).contains(w) && !entry.weight.is_fraction());
            let Some(weight) = weight else {
                let why = if entry.weight.negative {
                    "a weight cannot be negative"
                } else if entry.weight.is_fraction() {
                    "a weight is a whole percentage"
                } else {
                    "a weight is at most 100%"
                };
                self.error(
                    Diagnostic::error(Code::BadWeight, entry.weight.span, why)
                        .label("invalid weight")
                        .help("weights are whole percentages from 0% to 100% that add up to 100%"),
                );
                ok = false;
                continue;
            };
            total += weight;
            let Some(mut destination) = destination else {
                ok = false;
                continue;
            };
            let at = (destination.host.clone(), destination.subset.clone(), destination.port);
            if let Some((_, first)) = seen.get(&at).and_then(|s| s.iter().find(|(d, _)| d == &destination)) {
                self.error(repeated_target(&entry.name, *first));
                ok = false;
                continue;
            }
            seen.entry(at).or_default().push((destination.clone(), entry.name.span));
            destination.weight = u32::try_from(weight).ok();
            out.push(destination);
        }
        if ok && total != 100 {
            let hint = if total < 100 {
                format!("add {}% to one of the weights", 100 - total)
            } else {
                format!("take {}% off the weights", total - 100)
            };
            self.error(
                Diagnostic::error(
                    Code::WeightSum,
                    span,
                    format!("the weights add up to {total}%, not 100%"),
                )
                .label(format!("{total}% in all"))
                .help(hint),
            );
            ok = false;
        }
        ok.then_some(out)
    }

    /// Options after the action: `timeout 5s retries 3 ...`.
    fn route_options(
        &mut self,
        route: &ast::Route,
        kind: RouteKind,
        action: &mut Action,
        cx: &Context<'_>,
    ) -> (Option<String>, Option<RouteOptions>) {
        let mut options = RouteOptions::default();
        let mut name = None;
        let mut ok = true;
        let mut seen: BTreeMap<String, &ast::Setting> = BTreeMap::new();
        let forward = matches!(action, Action::Forward(_));
        let redirect = matches!(action, Action::Redirect(_));
        let mut redirect_parts = Redirect::default();
        for option in &merge_rewrite(&route.options) {
            let key = option.key.text.as_str();
            let repeatable = matches!(key, "request" | "response" | "fault");
            if !repeatable && !self.once(&mut seen, option) {
                ok = false;
                continue;
            }
            if kind != RouteKind::Http && key != "name" {
                self.error(
                    Diagnostic::error(
                        Code::MisplacedProperty,
                        option.key.span,
                        format!("`{key}` applies to HTTP routes only"),
                    )
                    .label("not for TCP or TLS")
                    .help("TCP and TLS routes only forward connections"),
                );
                ok = false;
                continue;
            }
            let only_forward = matches!(key, "timeout" | "retries" | "fault" | "rewrite" | "mirror");
            let only_redirect = matches!(key, "code" | "authority" | "scheme");
            if (only_forward && !forward) || (only_redirect && !redirect) {
                let help = if only_redirect {
                    "`code`, `authority` and `scheme` complete a `redirect`"
                } else {
                    "Istio applies it only to routes that forward to a destination, not to `redirect` or `respond`"
                };
                self.error(
                    Diagnostic::error(
                        Code::MisplacedProperty,
                        option.key.span,
                        format!("`{key}` does not apply to this route"),
                    )
                    .label("not here")
                    .help(help),
                );
                ok = false;
                continue;
            }
            options.spans.insert(key, option.key.span);
            let read = match key {
                "name" => self
                    .single(option, Kind::Str)
                    .and_then(|a| a.text())
                    .map(|n| name = Some(n)),
                "timeout" => self
                    .single(option, Kind::Duration)
                    .and_then(|a| a.text())
                    .map(|t| options.timeout = Some(t)),
                "retries" => self.retries(option).map(|r| options.retries = Some(r)),
                "fault" => self.fault(option, &mut options),
                "rewrite" => self.rewrite(option, &mut options),
                "mirror" => self.mirror(option, cx).map(|m| options.mirror = Some(m)),
                "request" | "response" => self.header_option(option, &mut options, action, cx),
                "cors" => self.cors(option).map(|c| options.cors = Some(c)),
                "code" => self.single(option, Kind::Whole).and_then(|a| {
                    let code = a.whole().filter(|c| [301, 302, 303, 307, 308].contains(c));
                    if code.is_none() {
                        self.error(
                            Diagnostic::error(
                                Code::InvalidValue,
                                option.span,
                                "a redirect code is 301, 302, 303, 307 or 308",
                            )
                            .label("not a redirect status"),
                        );
                    }
                    code.and_then(|c| u16::try_from(c).ok())
                        .map(|c| redirect_parts.code = Some(c))
                }),
                "authority" => self
                    .single(option, Kind::Str)
                    .and_then(|a| a.text())
                    .map(|a| redirect_parts.authority = Some(a)),
                _ => self.single(option, Kind::Str).and_then(|a| a.text()).and_then(|s| {
                    if s == "http" || s == "https" {
                        redirect_parts.scheme = Some(s);
                        Some(())
                    } else {
                        self.error(
                            Diagnostic::error(
                                Code::InvalidValue,
                                option.span,
                                "a redirect scheme is \"http\" or \"https\"",
                            )
                            .label("unknown scheme"),
                        );
                        None
                    }
                }),
            };
            ok &= read.is_some();
        }
        if !ok {
            return (name, None);
        }
        if let Action::Redirect(r) = action {
            r.authority = redirect_parts.authority;
            r.scheme = redirect_parts.scheme;
            r.code = redirect_parts.code;
        }
        (name, Some(options))
    }

    fn retries(&mut self, option: &ast::Setting) -> Option<Retries> {
        let Some(first) = option.values.first() else {
            self.error(
                Diagnostic::error(
                    Code::InvalidValue,
                    option.key.span,
                    "`retries` needs the number of attempts",
                )
                .label("no attempts")
                .help("write `retries 3`, optionally followed by `per-try 2s` and `on \"5xx,reset\"`"),
            );
            return None;
        };
        let attempts = self.arg(first, Kind::Whole, "`retries`")?.whole()?;
        let args = self.pairs(
            option,
            &option.values[1..],
            &[("per-try", Kind::Duration), ("on", Kind::Str)],
        )?;
        if attempts == 0 && !args.is_empty() {
            self.error(
                Diagnostic::error(
                    Code::InvalidValue,
                    option.span,
                    "`retries 0` turns retries off and takes no options",
                )
                .label("options without retries")
                .help("give at least one attempt, or remove the options"),
            );
            return None;
        }
        let retry_on = args.get("on").and_then(Arg::text);
        if let Some(on) = &retry_on {
            for part in on.split(',').map(str::trim) {
                let known = RETRY_ON.contains(&part)
                    || (part.len() == 3 && part.parse::<u16>().is_ok_and(|c| (100..=599).contains(&c)));
                if !known {
                    let mut d = Diagnostic::error(
                        Code::InvalidValue,
                        option.span,
                        format!("`{part}` is not a retry condition"),
                    )
                    .label("unknown retry condition");
                    d = d.help(match suggest::closest(part, RETRY_ON.iter().copied()) {
                        Some(best) => format!("did you mean `{best}`?"),
                        None => {
                            "use Envoy's retry conditions (`5xx`, `reset`, `connect-failure`, …) or HTTP status codes"
                                .to_string()
                        }
                    });
                    self.error(d);
                    return None;
                }
            }
        }
        Some(Retries {
            attempts,
            per_try_timeout: args.get("per-try").and_then(Arg::text),
            retry_on,
        })
    }

    fn fault(&mut self, option: &ast::Setting, options: &mut RouteOptions) -> Option<()> {
        let usage = "write `fault delay 5s 10%` or `fault abort 500 10%`";
        let Some(Value::Word(kind)) = option.values.first() else {
            self.error(
                Diagnostic::error(Code::InvalidValue, option.key.span, "`fault` needs `delay` or `abort`")
                    .label("incomplete")
                    .help(usage),
            );
            return None;
        };
        let percent = match option.values.get(2) {
            Some(v) => self.arg(v, Kind::Percent, "the share of requests")?.percent()?,
            None => 100.0,
        };
        if let Some(extra) = option.values.get(3) {
            self.error(
                Diagnostic::error(
                    Code::InvalidValue,
                    extra.span(),
                    "`fault` takes a kind, a value and a share",
                )
                .label("one too many")
                .help(usage),
            );
            return None;
        }
        let Some(value) = option.values.get(1) else {
            self.error(
                Diagnostic::error(
                    Code::InvalidValue,
                    kind.span,
                    format!("`fault {}` needs a value", kind.text),
                )
                .label("incomplete")
                .help(usage),
            );
            return None;
        };
        match kind.text.as_str() {
            "delay" => {
                let d = self.arg(value, Kind::Duration, "a delay")?.text()?;
                if options.delay.replace((d, percent)).is_some() {
                    self.error(
                        Diagnostic::error(Code::Duplicate, option.span, "the delay is set twice").label("again here"),
                    );
                    return None;
                }
            }
            "abort" => {
                let status = self.arg(value, Kind::Whole, "an abort")?.whole()?;
                let Some(status) = u16::try_from(status).ok().filter(|s| (200..=599).contains(s)) else {
                    self.error(
                        Diagnostic::error(Code::InvalidValue, value.span(), "an abort status is from 200 to 599")
                            .label("not an HTTP status")
                            .help("write an HTTP status, such as `fault abort 503 10%`"),
                    );
                    return None;
                };
                if options.abort.replace((status, percent)).is_some() {
                    self.error(
                        Diagnostic::error(Code::Duplicate, option.span, "the abort is set twice").label("again here"),
                    );
                    return None;
                }
            }
            _ => {
                let mut d = Diagnostic::error(
                    Code::UnknownKeyword,
                    kind.span,
                    format!("unknown fault `{}`", kind.text),
                )
                .label("not a fault");
                d = d.help(match suggest::closest(&kind.text, ["delay", "abort"]) {
                    Some(best) => format!("did you mean `{best}`?"),
                    None => "a fault is a `delay` or an `abort`".to_string(),
                });
                self.error(d);
                return None;
            }
        }
        Some(())
    }

    fn rewrite(&mut self, option: &ast::Setting, options: &mut RouteOptions) -> Option<()> {
        match option.values.as_slice() {
            [Value::Str(uri)] => {
                options.rewrite_uri = Some(uri.value.clone());
                Some(())
            }
            _ => {
                let args = self.pairs(option, &option.values, &[("uri", Kind::Str), ("authority", Kind::Str)])?;
                if args.is_empty() {
                    self.error(
                        Diagnostic::error(Code::InvalidValue, option.key.span, "`rewrite` needs what to rewrite")
                            .label("incomplete")
                            .help("write `rewrite \"/new/path\"` or `rewrite authority \"new.example.com\"`"),
                    );
                    return None;
                }
                options.rewrite_uri = args.get("uri").and_then(Arg::text);
                options.rewrite_authority = args.get("authority").and_then(Arg::text);
                Some(())
            }
        }
    }

    fn mirror(&mut self, option: &ast::Setting, cx: &Context<'_>) -> Option<(Destination, Option<f64>)> {
        let usage = "write `mirror reviews/v2` or `mirror reviews/v2 10%`";
        let (target, share) = match option.values.as_slice() {
            [Value::Word(t)] => (t, None),
            [Value::Word(t), share] => (t, Some(share)),
            _ => {
                self.error(
                    Diagnostic::error(
                        Code::InvalidValue,
                        option.span,
                        "`mirror` takes a destination and a share",
                    )
                    .label("not a mirror")
                    .help(usage),
                );
                return None;
            }
        };
        let percent = match share {
            Some(v) => Some(self.arg(v, Kind::Percent, "the mirrored share")?.percent()?),
            None => None,
        };
        let destination = self.target(target, RouteKind::Http, cx)?;
        Some((destination, percent))
    }

    /// `request|response OP NAME ["value"] [for TARGET]`: for the whole route, or for the
    /// requests sent to one of its destinations (and that destination's responses).
    fn header_option(
        &mut self,
        option: &ast::Setting,
        options: &mut RouteOptions,
        action: &mut Action,
        cx: &Context<'_>,
    ) -> Option<()> {
        let request = option.key.text == "request";
        let values = option.values.as_slice();
        let (values, target) = match values {
            [rest @ .., Value::Word(word), Value::Word(target)] if word.text == "for" => (rest, Some(target)),
            _ => (values, None),
        };
        let Some(target) = target else {
            let ops = if request {
                &mut options.request_headers
            } else {
                &mut options.response_headers
            };
            return self.header_op(option, values, ops);
        };
        let wanted = self.target(target, RouteKind::Http, cx)?;
        let destination = match action {
            Action::Forward(list) => list.iter_mut().find(|d| {
                d.host == wanted.host && d.subset == wanted.subset && (wanted.port.is_none() || d.port == wanted.port)
            }),
            _ => None,
        };
        let Some(destination) = destination else {
            self.error(
                Diagnostic::error(
                    Code::MisplacedProperty,
                    target.span,
                    format!("this route does not send to `{}`", target.text),
                )
                .label("not a destination of this route")
                .help(
                    "`for` names one of the route's destinations; leave it out to change the headers of every request",
                ),
            );
            return None;
        };
        let ops = if request {
            &mut destination.request_headers
        } else {
            &mut destination.response_headers
        };
        self.header_op(option, values, ops)
    }

    fn header_op(&mut self, option: &ast::Setting, values: &[Value], ops: &mut HeaderOps) -> Option<()> {
        let usage = "write `request set x-name \"value\"`, `request add x-name \"value\"` or `request remove x-name`, optionally followed by `for v2`";
        let (op, name, value) = match values {
            [Value::Word(op), Value::Word(name), Value::Str(value)] => (op, name, Some(value)),
            [Value::Word(op), Value::Word(name)] => (op, name, None),
            _ => {
                self.error(
                    Diagnostic::error(
                        Code::InvalidValue,
                        option.span,
                        format!("`{}` takes an operation and a header", option.key.text),
                    )
                    .label("not a header operation")
                    .help(usage),
                );
                return None;
            }
        };
        let header = name.text.to_ascii_lowercase();
        match (op.text.as_str(), value) {
            ("set", Some(v)) => {
                ops.set.insert(header, v.value.clone());
            }
            ("add", Some(v)) => {
                ops.add.insert(header, v.value.clone());
            }
            ("remove", None) => ops.remove.push(header),
            ("set" | "add", None) | ("remove", Some(_)) => {
                self.error(
                    Diagnostic::error(
                        Code::InvalidValue,
                        option.span,
                        format!("`{}` is used wrongly here", op.text),
                    )
                    .label("wrong shape")
                    .help(usage),
                );
                return None;
            }
            _ => {
                self.unknown_word(
                    op,
                    &option.key.text,
                    &[("set", Kind::Str), ("add", Kind::Str), ("remove", Kind::Flag)],
                );
                return None;
            }
        }
        ops.remove.sort();
        ops.remove.dedup();
        Some(())
    }

    fn cors(&mut self, option: &ast::Setting) -> Option<Cors> {
        let args = self.pairs(
            option,
            &option.values,
            &[
                ("origin", Kind::Str),
                ("methods", Kind::Str),
                ("headers", Kind::Str),
                ("expose", Kind::Str),
                ("max-age", Kind::Duration),
                ("credentials", Kind::Flag),
            ],
        )?;
        let list = |key: &str| -> Vec<String> {
            args.get(key)
                .and_then(Arg::text)
                .map(|s| {
                    s.split(',')
                        .map(|p| p.trim().to_string())
                        .filter(|p| !p.is_empty())
                        .collect()
                })
                .unwrap_or_default()
        };
        let origins: Vec<StringMatch> = list("origin").into_iter().map(StringMatch::Exact).collect();
        if origins.is_empty() {
            self.error(
                Diagnostic::error(Code::InvalidValue, option.key.span, "`cors` needs the allowed origins")
                    .label("no origin")
                    .help("write `cors origin \"https://example.com\"`, optionally with `methods \"GET,POST\"`"),
            );
            return None;
        }
        Some(Cors {
            origins,
            methods: list("methods"),
            headers: list("headers"),
            expose: list("expose"),
            max_age: args.get("max-age").and_then(Arg::text),
            credentials: args.contains_key("credentials"),
        })
    }

    /// Reports routes that can never match: after a route of the same kind that matches
    /// every request, or when every alternative is matched, on every port it can arrive on,
    /// by earlier routes (one or several together); warns about single alternatives that can
    /// never match.
    fn reachability(&mut self, routes: &[Resolved<'_>], reach: &Reach, cx: &Context<'_>) -> bool {
        let mut ok = true;
        // Per kind of route: the routes so far, and their alternatives indexed.
        let mut so_far: [(Vec<&Resolved<'_>>, Earlier<'_>); 3] = Default::default();
        for r in routes {
            let (earlier, lists) = &so_far[slot(r.kind)];
            let everything = |e: &&&Resolved<'_>| {
                e.alternatives.is_empty() || e.alternatives.iter().any(Conditions::matches_everything)
            };
            let alternatives = if r.alternatives.is_empty() {
                vec![Conditions::default()]
            } else {
                r.alternatives.clone()
            };
            let covers: Vec<Option<Vec<&Resolved<'_>>>> = alternatives
                .iter()
                .map(|a| {
                    reach
                        .shadowing(a, r.kind, lists)
                        .map(|by| by.into_iter().map(|i| earlier[i]).collect())
                })
                .collect();
            let (earlier, lists) = &mut so_far[slot(r.kind)];
            earlier.push(r);
            lists.push(&r.alternatives);
            if covers.iter().all(Option::is_some) {
                let mut by: Vec<&Resolved<'_>> = Vec::new();
                for cover in covers.iter().flatten().flatten() {
                    if !by.iter().any(|b| std::ptr::eq(*b, *cover)) {
                        by.push(cover);
                    }
                }
                by.sort_by_key(|b| b.route.keyword);
                if let Some(catch_all) = by.iter().find(everything) {
                    let d = Diagnostic::error(Code::UnreachableRoute, r.route.keyword, "this route can never match")
                        .label("unreachable");
                    let d = match &catch_all.exhausted {
                        Some(ports) => d
                            .note(
                                catch_all.route.keyword,
                                format!(
                                    "this earlier route matches every request: {}",
                                    every_port(ports, r.kind, reach, cx)
                                ),
                            )
                            .help("`port` conditions that every request meets select nothing: remove them, or move that route last"),
                        None => d
                            .note(catch_all.route.keyword, "this earlier route matches every request")
                            .help("routes are tried in order: move the default route (the one without a condition) last"),
                    };
                    self.error(d);
                    ok = false;
                    continue;
                }
                let mut d = Diagnostic::error(Code::UnreachableRoute, r.route.keyword, "this route can never match")
                    .label("shadowed");
                if let [one] = by.as_slice() {
                    d = d.note(
                        one.route.keyword,
                        "this earlier route already matches every request this one matches",
                    );
                } else {
                    for b in &by {
                        d = d.note(
                            b.route.keyword,
                            "with the other marked routes, this earlier route takes every request this one matches",
                        );
                    }
                }
                self.error(d.help("routes are tried in order: put the more specific route first"));
                ok = false;
            } else {
                for written in r.redundant.iter().filter_map(|i| r.route.alternatives.get(*i)) {
                    self.error(
                        Diagnostic::warning(
                            Code::IneffectiveMatch,
                            written.span,
                            "this alternative never decides anything",
                        )
                        .label("redundant")
                        .note(
                            r.route.keyword,
                            "the route's other alternatives already match every request it can receive",
                        )
                        .help("remove this alternative; to route on it, give it a route of its own before this one"),
                    );
                }
                // Alternatives merged by `exhaust` no longer line up with the written ones.
                if r.alternatives.is_empty() || r.alternatives.len() != r.route.alternatives.len() {
                    continue;
                }
                for (alternative, cover) in r.route.alternatives.iter().zip(&covers) {
                    let Some(first) = cover.as_ref().and_then(|c| c.first()) else {
                        continue;
                    };
                    self.error(
                        Diagnostic::warning(
                            Code::IneffectiveMatch,
                            alternative.span,
                            "this alternative can never match",
                        )
                        .label("already taken")
                        .note(first.route.keyword, "an earlier route matches every request it matches")
                        .help("remove this alternative, or move the route above the one that shadows it"),
                    );
                }
            }
        }
        ok
    }
}

/// Where a service chooses among its versions: a route of `kind` that sends to one of them
/// by name, when it has several. A caller that does not pass through the service's own
/// VirtualService bypasses that choice.
pub(super) fn version_routes(service: &model::Service, kind: RouteKind) -> Option<Span> {
    if service.versions.len() < 2 {
        return None;
    }
    service
        .routes
        .iter()
        .filter(|r| r.kind == kind && !r.synthesised)
        .find(|r| matches!(&r.action, Action::Forward(list) if list.iter().any(|d| d.host == service.fqdn && d.subset.is_some())))
        .map(|r| r.span)
}

impl Checker<'_> {
    /// Sidecars do not chain VirtualServices: a mesh route that sends to another service as
    /// a whole goes straight to that service's workloads, past the version routes of its own
    /// VirtualService. Warns at each such route (gateways: see `carry_over`).
    pub(super) fn bypassed_routes(&mut self, mesh: &model::Mesh) {
        let services: Vec<&model::Service> = mesh.namespaces.iter().flat_map(|n| &n.services).collect();
        let owners = mesh.namespaces.iter().flat_map(|n| {
            n.services.iter().map(|s| (s.fqdn.as_str(), &s.routes)).chain(
                n.externals
                    .iter()
                    .map(|e| (e.hosts.first().map_or("", String::as_str), &e.routes)),
            )
        });
        let mut found = Vec::new();
        for (own, routes) in owners {
            for route in routes.iter().filter(|r| !r.synthesised) {
                let Action::Forward(list) = &route.action else { continue };
                for d in list.iter().filter(|d| d.subset.is_none() && d.host != own) {
                    let Some(target) = services.iter().find(|s| s.fqdn == d.host) else {
                        continue;
                    };
                    if let Some(split) = version_routes(target, route.kind) {
                        found.push((route.span, target.name.clone(), split));
                    }
                }
            }
        }
        for (at, name, split) in found {
            self.error(
                Diagnostic::warning(
                    Code::BypassedRoutes,
                    at,
                    format!("traffic from this route ignores the routes of service `{name}`"),
                )
                .label("sent to every version alike")
                .note(split, format!("`{name}` chooses versions here, for requests addressed to it"))
                .help(format!(
                    "sidecars apply only the VirtualService of the host a request is addressed to; name the version (`{name}/v1`) or the split here, or let callers address `{name}` directly"
                )),
            );
        }
    }
}

/// Why `port` conditions on `ports` hold for every request: "8001 is the only HTTP port of
/// service `hello2`".
fn every_port(ports: &[u16], kind: RouteKind, reach: &Reach, cx: &Context<'_>) -> String {
    match ports {
        [one] => format!("{one} is the only {} {} of {}", kind.word(), reach.what, cx.owner),
        _ => {
            let list: Vec<String> = ports.iter().map(u16::to_string).collect();
            format!(
                "{} are all the {} {}s of {}",
                list.join(", "),
                kind.word(),
                reach.what,
                cx.owner
            )
        }
    }
}

/// `rewrite authority "h"` reads as a `rewrite` without values followed by an `authority`
/// option (which, alone, completes a redirect): join the two back into one rewrite.
fn merge_rewrite(options: &[ast::Setting]) -> Vec<ast::Setting> {
    let mut out: Vec<ast::Setting> = Vec::with_capacity(options.len());
    for option in options {
        if let Some(last) = out.last_mut() {
            if last.key.text == "rewrite" && last.values.is_empty() && option.key.text == "authority" {
                last.values.push(Value::Word(option.key.clone()));
                last.values.extend(option.values.iter().cloned());
                last.span = last.span.to(option.span);
                continue;
            }
        }
        out.push(option.clone());
    }
    out
}

/// M3010: a split names one destination again (after `first`).
fn repeated_target(name: &ast::Name, first: Span) -> Diagnostic {
    Diagnostic::error(
        Code::RepeatedTarget,
        name.span,
        format!("`{}` appears twice in this split", name.text),
    )
    .label("again here")
    .note(first, "first here")
    .help("give each destination one weight")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

    use super::*;
    use model::{SourceMatch, StringMatch};

    /// A small deterministic generator (no seed changes between runs).
    struct Lcg(u64);

    impl Lcg {
        fn below(&mut self, n: usize) -> usize {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((self.0 >> 33) as usize) % n
        }

        fn pick<T: Clone>(&mut self, from: &[T]) -> T {
            from[self.below(from.len())].clone()
        }
    }

    /// Conditions drawn from small sets of values, so that many cover one another.
    fn conditions(rng: &mut Lcg) -> Conditions {
        let text = |s: &str| s.to_string();
        let uris = [
            None,
            Some(StringMatch::Exact(text("/a"))),
            Some(StringMatch::Exact(text("/ab"))),
            Some(StringMatch::Prefix(text("/"))),
            Some(StringMatch::Prefix(text("/a"))),
            Some(StringMatch::Prefix(text("/ab"))),
            Some(StringMatch::Prefix(text("/é"))),
            Some(StringMatch::Exact(text("/éa"))),
            Some(StringMatch::Prefix(text(""))),
            Some(StringMatch::Regex(text("/a.*"))),
        ];
        let headers = [
            (text("h1"), HeaderMatch::Is(StringMatch::Exact(text("x")))),
            (text("h1"), HeaderMatch::Is(StringMatch::Exact(text("y")))),
            (text("h1"), HeaderMatch::Absent),
            (text("h2"), HeaderMatch::Is(StringMatch::Prefix(text("a")))),
            (text("h2"), HeaderMatch::Is(StringMatch::Prefix(text("ab")))),
            (text("h2"), HeaderMatch::Is(StringMatch::Regex(text("a+")))),
        ];
        let mut chosen: Vec<(String, HeaderMatch)> = (0..rng.below(3)).map(|_| rng.pick(&headers)).collect();
        chosen.sort_by(|a, b| a.0.cmp(&b.0));
        chosen.dedup_by(|a, b| a.0 == b.0);
        let query = [
            (text("q"), StringMatch::Exact(text("1"))),
            (text("q"), StringMatch::Prefix(text("1"))),
        ];
        let mut labels = model::Labels::new();
        labels.insert(text("app"), text("caller"));
        let sources = [
            None,
            Some(SourceMatch {
                labels,
                namespace: None,
            }),
        ];
        Conditions {
            uri: rng.pick(&uris),
            headers: chosen,
            query: if rng.below(4) == 0 {
                vec![rng.pick(&query)]
            } else {
                Vec::new()
            },
            method: rng.pick(&[None, Some(text("GET")), Some(text("POST"))]),
            port: rng.pick(&[None, Some(80), Some(81)]),
            source: rng.pick(&sources),
            sni: Vec::new(),
            host: rng.pick(&[None, Some(text("a.example.com")), Some(text("b.example.com"))]),
            spans: model::Spans::default(),
        }
    }

    #[test]
    fn the_index_of_earlier_routes_never_misses_one_that_covers_an_alternative() {
        let mut rng = Lcg(7);
        let mut covering = 0;
        for _ in 0..300 {
            let routes: Vec<Vec<Conditions>> = (0..rng.below(60))
                .map(|_| (0..rng.below(3)).map(|_| conditions(&mut rng)).collect())
                .collect();
            let earlier = Earlier::of(routes.iter().map(|r| (RouteKind::Http, r.as_slice())), RouteKind::Http);
            for _ in 0..20 {
                let alternative = conditions(&mut rng);
                let candidates = earlier.candidates(&alternative);
                assert!(
                    candidates.windows(2).all(|w| w[0] < w[1]),
                    "not in order: {candidates:?}"
                );
                for (i, route) in routes.iter().enumerate() {
                    if route.is_empty() || route.iter().any(|a| alternative.covered_by(a)) {
                        covering += 1;
                        assert!(
                            candidates.contains(&i),
                            "route {i} ({route:?}) covers {alternative:?} but is not a candidate"
                        );
                    }
                }
                // Routes of another kind are not there at all.
                let other = Earlier::of(routes.iter().map(|r| (RouteKind::Tcp, r.as_slice())), RouteKind::Http);
                assert!(other.is_empty());
            }
        }
        // The draws cover often enough for the test to mean something.
        assert!(covering > 1_000, "only {covering} covering pairs");
    }

    #[test]
    fn routes_on_distinct_values_are_found_by_lookup() {
        let header = |i: usize| Conditions {
            headers: vec![(
                "x-user".to_string(),
                HeaderMatch::Is(StringMatch::Exact(format!("u{i}"))),
            )],
            ..Conditions::default()
        };
        let path = |i: usize| Conditions {
            uri: Some(StringMatch::Prefix(format!("/p/{i}/"))),
            ..Conditions::default()
        };
        for made in [header as fn(usize) -> Conditions, path] {
            let routes: Vec<Vec<Conditions>> = (0..1_000).map(|i| vec![made(i)]).collect();
            let earlier = Earlier::of(routes.iter().map(|r| (RouteKind::Http, r.as_slice())), RouteKind::Http);
            assert_eq!(earlier.candidates(&made(500)), vec![500]);
            assert_eq!(earlier.candidates(&made(5_000)), Vec::<usize>::new());
        }
    }
}
