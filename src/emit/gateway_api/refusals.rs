//! What the Gateway API standard channel (v1.4) cannot say, reported as M3024 at the
//! option, condition or route at fault, so that the writer only ever sees routes it can
//! write.
//!
//! What does not carry over, and why:
//!
//! * fault injection, retries, CORS, direct responses: no such field in the standard
//!   channel (retries and CORS are experimental there);
//! * `from` conditions (source labels), header absence, prefix matches on headers and query
//!   parameters: an HTTPRoute matches on path, headers and query parameters by exact value
//!   or regular expression only;
//! * TCP and TLS routes: TCPRoute and TLSRoute are not in the standard channel;
//! * routes to or of external services: a backend is a Kubernetes Service;
//! * gateways with their own selector, mutual TLS or auto-passthrough listeners: a Gateway
//!   of class `istio` gets a gateway deployment of its own, terminates TLS with a
//!   certificate, or passes it through;
//! * rule order: the Gateway API ranks rules by how specific their match is (exact path,
//!   longest path prefix, method, number of header and query matches), not by their order
//!   in the file, so a route whose requests a later, more specific route would take is
//!   reported.

use std::collections::{BTreeMap, BTreeSet};

use super::plan::{
    backend, default_selector, gateway_routes, listeners, mesh_routes, service_by_fqdn, version_backends, RouteObject,
    RouteObjectKind, Rule,
};
use super::precedence::{gateway_covered, intersection, may_overlap, rank, rank_reason};
use super::values::*;
use crate::check::rules;
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::model::{
    self, Action, Conditions, Destination, HeaderMatch, HeaderOps, Mesh, Namespace, Route, RouteKind, StringMatch,
};
use crate::source::Span;

const FALLBACK: &str = "or compile with `--routes istio`, which writes VirtualServices";

/// Reports every part of the mesh that `--routes gateway-api` cannot write.
pub(in crate::emit) fn check(mesh: &Mesh, diagnostics: &mut Vec<Diagnostic>) {
    let mut refusals = Refusals {
        mesh,
        found: Vec::new(),
        seen: BTreeSet::new(),
    };
    for ns in &mesh.namespaces {
        for service in &ns.services {
            for route in service
                .routes
                .iter()
                .filter(|r| r.kind != RouteKind::Http && !r.synthesised)
            {
                refusals.layer4(route);
            }
            for object in mesh_routes(service) {
                refusals.object(&object);
            }
        }
        for external in &ns.externals {
            for route in external.routes.iter().filter(|r| !r.synthesised) {
                refusals.problem(
                    route.span,
                    format!(
                        "the Gateway API cannot route traffic for external service `{}`",
                        external.name
                    ),
                    "route of an external service",
                    "an HTTPRoute's parent is a Gateway or a Kubernetes Service, not a ServiceEntry; \
                     move these settings to the routes that call it, or leave them out",
                );
            }
        }
        for gateway in &ns.gateways {
            refusals.gateway(gateway);
        }
        refusals.names(ns);
    }
    diagnostics.append(&mut refusals.found);
}

struct Refusals<'m> {
    mesh: &'m Mesh,
    found: Vec<Diagnostic>,
    /// (span, message) of every problem reported, so that a route checked for several
    /// ports or hosts is reported once.
    seen: BTreeSet<(Span, String)>,
}

impl<'m> Refusals<'m> {
    fn problem(&mut self, span: Span, message: String, label: &str, help: &str) {
        if self.seen.insert((span, message.clone())) {
            self.found.push(
                Diagnostic::error(Code::NotExpressible, span, message)
                    .label(label)
                    .help(format!("{help}; {FALLBACK}")),
            );
        }
    }

    /// `what` (a noun phrase) at `span`.
    fn cannot_express(&mut self, span: Span, what: &str, help: &str) {
        self.problem(
            span,
            format!("the Gateway API cannot express {what}"),
            "not expressible with the Gateway API",
            help,
        );
    }

    fn route_problem(&mut self, route: &Route, what: &str, help: &str) {
        self.cannot_express(route.span, what, help);
    }

    /// A problem with one option of a route, at the option (at the route when the model
    /// does not know where the option is written, as for a synthesised route).
    fn option_problem(&mut self, route: &Route, key: &str, what: &str, help: &str) {
        self.cannot_express(route.options.spans.get(key).unwrap_or(route.span), what, help);
    }

    /// A problem with one condition of a route, at the condition.
    fn condition_problem(&mut self, route: &Route, c: &Conditions, key: &str, what: &str, help: &str) {
        self.cannot_express(c.spans.get(key).unwrap_or(route.span), what, help);
    }

    fn layer4(&mut self, route: &Route) {
        let kind = if route.kind == RouteKind::Tcp { "TCP" } else { "TLS" };
        self.route_problem(
            route,
            &format!("this {kind} route"),
            &format!("{kind}Route is not in the standard channel that meshc writes; route {kind} traffic with Istio"),
        );
    }

    fn object(&mut self, object: &RouteObject<'m>) {
        for rule in &object.rules {
            self.rule(object, rule);
        }
        // Limits of one route object.
        let kind = object.kind.name();
        let mut rules = 0;
        let mut matches = 0;
        for rule in &object.rules {
            for group in rule.groups() {
                rules += 1;
                matches += group.len().max(1);
                if rules == MAX_RULES + 1 {
                    self.route_problem(
                        rule.route,
                        &format!("more than {MAX_RULES} rules in one {kind} (`{}`)", object.name),
                        &format!("a {kind} holds at most {MAX_RULES} rules; merge routes with `or`"),
                    );
                }
                if matches > MAX_ROUTE_MATCHES && matches - group.len().max(1) <= MAX_ROUTE_MATCHES {
                    self.route_problem(
                        rule.route,
                        &format!(
                            "more than {MAX_ROUTE_MATCHES} matches in one {kind} (`{}`)",
                            object.name
                        ),
                        &format!("a {kind} holds at most {MAX_ROUTE_MATCHES} matches across its rules"),
                    );
                }
            }
        }
        self.order(object);
    }

    /// A route whose requests a later route would take under the Gateway API's ranking.
    fn order(&mut self, object: &RouteObject<'m>) {
        let alternatives = |rule: &Rule<'m>| -> Vec<Option<&'m Conditions>> {
            if rule.alternatives.is_empty() {
                vec![None]
            } else {
                rule.alternatives.iter().map(|c| Some(*c)).collect()
            }
        };
        for (i, earlier) in object.rules.iter().enumerate() {
            let found = object.rules[i + 1..].iter().find_map(|later| {
                if std::ptr::eq(later.route, earlier.route) {
                    return None;
                }
                if later.route.action == earlier.route.action && later.route.options == earlier.route.options {
                    return None;
                }
                alternatives(earlier).into_iter().find_map(|a| {
                    alternatives(later).into_iter().find_map(|b| {
                        let (ra, rb) = (rank(a, object.kind), rank(b, object.kind));
                        let taken = rb > ra && may_overlap(a, b);
                        // Requests both match that a route before both takes, outranking
                        // them, go there either way.
                        let settled = || {
                            intersection(a, b).is_some_and(|both| {
                                object.rules[..i]
                                    .iter()
                                    .flat_map(alternatives)
                                    .any(|c| rank(c, object.kind) >= rb && c.is_none_or(|c| gateway_covered(&both, c)))
                            })
                        };
                        (taken && !settled()).then(|| (later.route.span, later.route.synthesised, rank_reason(ra, rb)))
                    })
                })
            });
            if let Some((later, synthesised, reason)) = found {
                let message = "the Gateway API would send some of this route's requests to a later route".to_string();
                if self.seen.insert((earlier.route.span, message.clone())) {
                    self.found.push(
                        Diagnostic::error(Code::NotExpressible, earlier.route.span, message)
                            .label("loses requests to a later route")
                            .note(
                                later,
                                if synthesised {
                                    format!("the Gateway API tries the default route meshc adds here first: {reason}")
                                } else {
                                    format!("the Gateway API tries this route first: {reason}")
                                },
                            )
                            .help(format!(
                                "Gateway API routes are tried from the most specific match to the least, not in \
                                 the order of the file; give this route a match at least as specific as the later \
                                 one's (or make their matches exclude each other); {FALLBACK}"
                            )),
                    );
                }
            }
        }
    }

    fn rule(&mut self, object: &RouteObject<'m>, rule: &Rule<'m>) {
        let route = rule.route;
        let grpc = object.kind == RouteObjectKind::Grpc;
        let on_grpc = "a GRPCRoute (for the service's gRPC port)";
        match &route.action {
            Action::Forward(list) => {
                if list.len() > MAX_LIST {
                    self.route_problem(
                        route,
                        &format!("a split over more than {MAX_LIST} destinations"),
                        &format!("a rule has at most {MAX_LIST} backends"),
                    );
                }
                for d in list {
                    self.destination(object, route, d, None);
                }
            }
            Action::Redirect(r) => {
                if grpc {
                    self.route_problem(
                        route,
                        &format!("a redirect in {on_grpc}"),
                        "GRPCRoute has no redirect filter",
                    );
                }
                if r.uri.len() > MAX_PATH {
                    self.route_problem(
                        route,
                        "a redirect path this long",
                        &format!("paths are at most {MAX_PATH} characters"),
                    );
                }
                if let Some(authority) = &r.authority {
                    if split_authority(authority).is_none() {
                        self.route_problem(
                            route,
                            &format!("the redirect authority `{authority}`"),
                            "a redirect names a DNS host name (lowercase, not an IP address), optionally with `:port`",
                        );
                    }
                }
            }
            Action::Respond { .. } => self.route_problem(
                route,
                "a direct response (`respond`)",
                "an HTTPRoute forwards or redirects; serve the response from a workload",
            ),
        }
        if rule.alternatives.len() > if grpc { MAX_GRPC_MATCHES } else { MAX_MATCHES } {
            self.route_problem(
                route,
                "this many alternatives in one rule",
                &format!(
                    "a rule has at most {} matches; split the route",
                    if grpc { MAX_GRPC_MATCHES } else { MAX_MATCHES }
                ),
            );
        }
        for c in &rule.alternatives {
            self.conditions(object, route, c);
        }
        self.options(object, rule);
    }

    /// A destination of a route; `at` is where it is written, when not at the route.
    fn destination(&mut self, object: &RouteObject<'m>, route: &Route, d: &Destination, at: Option<Span>) {
        let span = at.unwrap_or(route.span);
        if service_by_fqdn(self.mesh, &d.host).is_none() {
            self.cannot_express(
                span,
                &format!("a route to `{}`, which is not a service of the mesh", d.host),
                "Gateway API backends are Kubernetes Services; an external service has none",
            );
        } else if backend(self.mesh, object, d).is_none() {
            self.cannot_express(
                span,
                &format!("a route to `{}` without a port", d.host),
                "a Service backend needs a port; write `service:port`",
            );
        }
    }

    fn conditions(&mut self, object: &RouteObject<'m>, route: &Route, c: &Conditions) {
        let grpc = object.kind == RouteObjectKind::Grpc;
        if c.source.is_some() {
            self.condition_problem(
                route,
                c,
                "from",
                "a `from` condition",
                "Gateway API routes cannot match the workload a request comes from",
            );
        }
        if c.port.is_some() && object.gateway.is_some() {
            self.condition_problem(
                route,
                c,
                "port",
                "a `port` condition on a gateway route",
                "attach the route to listeners instead: give the gateway one HTTP listener per set of routes",
            );
        }
        match (&c.uri, grpc) {
            (uri, true) => {
                if let Err(why) = grpc_method(uri.as_ref()) {
                    self.condition_problem(route, c, "path", "this path match on a gRPC port", &why);
                }
            }
            (Some(StringMatch::Exact(p) | StringMatch::Prefix(p)), false) => {
                if let Some(why) = path_problem(p) {
                    self.condition_problem(
                        route,
                        c,
                        "path",
                        &format!("the path `{p}`"),
                        &format!("a Gateway API path {why}"),
                    );
                }
            }
            (Some(StringMatch::Regex(r)), false) if r.len() > MAX_PATH => {
                self.condition_problem(
                    route,
                    c,
                    "path",
                    "a path expression this long",
                    &format!("it is at most {MAX_PATH} characters"),
                );
            }
            _ => {}
        }
        if grpc && c.method.is_some() {
            self.condition_problem(
                route,
                c,
                "method",
                "a `method` condition on a gRPC port",
                "gRPC requests are all POST requests",
            );
        }
        if let (true, Some((name, _))) = (grpc, c.query.first()) {
            self.condition_problem(
                route,
                c,
                &format!("query {name}"),
                "a `query` condition on a gRPC port",
                "a GRPCRoute matches methods and headers only",
            );
        }
        if c.headers.len() > MAX_LIST || c.query.len() > MAX_LIST {
            self.route_problem(
                route,
                &format!("more than {MAX_LIST} header or query conditions in one alternative"),
                &format!("a match tests at most {MAX_LIST} headers and {MAX_LIST} query parameters"),
            );
        }
        for (name, header) in &c.headers {
            match header {
                HeaderMatch::Absent => self.condition_problem(
                    route,
                    c,
                    &format!("header {name}"),
                    &format!("a test that header `{name}` is absent"),
                    "Gateway API routes match headers by value only; match the value the header has instead",
                ),
                HeaderMatch::Is(m) => self.value_match(route, c, "header", name, m, MAX_HEADER_VALUE),
            }
        }
        for (name, m) in &c.query {
            self.value_match(route, c, "query parameter", name, m, MAX_QUERY_VALUE);
        }
    }

    fn value_match(&mut self, route: &Route, c: &Conditions, what: &str, name: &str, m: &StringMatch, max: usize) {
        let key = format!("{} {name}", if what == "header" { "header" } else { "query" });
        if !header_name_ok(name) {
            self.condition_problem(
                route,
                c,
                &key,
                &format!("the {what} name `{name}`"),
                "names are HTTP tokens of 1 to 256 characters",
            );
        }
        match m {
            StringMatch::Prefix(p) => self.condition_problem(
                route,
                c,
                &key,
                &format!("a prefix match on {what} `{name}`"),
                &format!(
                    "the Gateway API matches {what}s exactly or by regular expression; write `regex \"{}.*\"`",
                    regex_escape(p)
                ),
            ),
            StringMatch::Exact(v) | StringMatch::Regex(v) if v.is_empty() || v.len() > max => self.condition_problem(
                route,
                c,
                &key,
                &format!("an empty or over-long value for {what} `{name}`"),
                &format!("the value has 1 to {max} characters"),
            ),
            _ => {}
        }
    }

    fn options(&mut self, object: &RouteObject<'m>, rule: &Rule<'m>) {
        let route = rule.route;
        let o = &route.options;
        // Every option, by name: a new one does not compile until this target writes it
        // (in `mod.rs`) or refuses it (here).
        let model::RouteOptions {
            timeout: _,
            retries: _,
            delay: _,
            abort: _,
            rewrite_uri: _,
            rewrite_authority: _,
            mirror: _,
            request_headers: _,
            response_headers: _,
            cors: _,
            spans: _,
        } = &**o;
        let grpc = object.kind == RouteObjectKind::Grpc;
        let on_grpc = "on a gRPC port (a GRPCRoute)";
        if o.retries.is_some() {
            self.option_problem(
                route,
                "retries",
                "retries",
                "HTTPRoute retries are experimental in Gateway API v1.4 and retry on status codes only; set \
                 retries with Istio",
            );
        }
        if o.delay.is_some() || o.abort.is_some() {
            self.option_problem(
                route,
                "fault",
                "fault injection",
                "the Gateway API has no fault injection",
            );
        }
        if let model::Action::Forward(destinations) = &route.action {
            if destinations
                .iter()
                .any(|d| !d.request_headers.is_empty() || !d.response_headers.is_empty())
            {
                self.route_problem(
                    route,
                    "header changes for one destination (`for`)",
                    "backend-level filters are implementation-specific in the Gateway API; change the headers for the whole route, or use Istio routes",
                );
            }
        }
        if o.cors.is_some() {
            self.option_problem(
                route,
                "cors",
                "a CORS policy",
                "the HTTPRoute CORS filter is experimental before Gateway API v1.5",
            );
        }
        if let Some(timeout) = &o.timeout {
            if grpc {
                self.option_problem(
                    route,
                    "timeout",
                    &format!("a timeout {on_grpc}"),
                    "GRPCRoute has no timeouts",
                );
            } else if duration(timeout).is_none() {
                self.option_problem(
                    route,
                    "timeout",
                    &format!("the timeout `{timeout}`"),
                    "Gateway API durations are whole numbers of h, m, s and ms",
                );
            }
        }
        self.rewrites(object, rule);
        if let Some((d, share)) = &o.mirror {
            self.destination(object, route, d, route.options.spans.get("mirror"));
            if share.is_some_and(|s| mirror_share(s).is_none()) {
                self.option_problem(
                    route,
                    "mirror",
                    "this mirrored share",
                    "a mirrored share is a percentage with at most four decimals",
                );
            }
        }
        for (what, ops) in [("request", &o.request_headers), ("response", &o.response_headers)] {
            self.header_operations(route, what, ops);
        }
    }

    /// The path and authority rewrites of a route.
    fn rewrites(&mut self, object: &RouteObject<'m>, rule: &Rule<'m>) {
        let route = rule.route;
        let o = &route.options;
        let grpc = object.kind == RouteObjectKind::Grpc;
        let on_grpc = "on a gRPC port (a GRPCRoute)";
        if grpc {
            if o.rewrite_uri.is_some() || o.rewrite_authority.is_some() {
                self.option_problem(
                    route,
                    "rewrite",
                    &format!("a rewrite {on_grpc}"),
                    "GRPCRoute has no rewrite filter",
                );
            }
            return;
        }
        if let Some(uri) = &o.rewrite_uri {
            let uris: Vec<Option<&StringMatch>> = if rule.alternatives.is_empty() {
                vec![None]
            } else {
                rule.alternatives.iter().map(|c| c.uri.as_ref()).collect()
            };
            if uris.iter().any(|u| path_rewrite(*u, uri).is_none()) {
                self.option_problem(
                    route,
                    "rewrite",
                    &format!("the rewrite to `{uri}` of a route without a path prefix"),
                    "without a path match Istio replaces only the leading `/` (`/a` becomes `/v2a` for \
                     `rewrite \"/v2\"`); end the rewrite with `/`, or match a path prefix",
                );
            }
            if uri.len() > MAX_PATH {
                self.option_problem(
                    route,
                    "rewrite",
                    "a rewrite path this long",
                    &format!("paths are at most {MAX_PATH} characters"),
                );
            }
        }
        if let Some(authority) = o.rewrite_authority.as_ref().filter(|a| !precise_hostname_ok(a)) {
            self.option_problem(
                route,
                "rewrite",
                &format!("the authority rewrite `{authority}`"),
                "a URLRewrite hostname is a lowercase DNS name without a port",
            );
        }
    }

    /// The `request` or `response` header operations of a route.
    fn header_operations(&mut self, route: &Route, what: &str, ops: &HeaderOps) {
        let mut names: BTreeMap<String, usize> = BTreeMap::new();
        for name in ops.set.keys().chain(ops.add.keys()).chain(&ops.remove) {
            *names.entry(name.to_ascii_lowercase()).or_default() += 1;
            if !header_name_ok(name) {
                self.route_problem(
                    route,
                    &format!("the {what} header name `{name}`"),
                    "header names are HTTP tokens",
                );
            }
        }
        if names.values().any(|n| *n > 1) {
            self.option_problem(
                route,
                what,
                &format!("two operations on one {what} header"),
                "a header modifier acts once on each header name",
            );
        }
        if [ops.set.len(), ops.add.len(), ops.remove.len()]
            .iter()
            .any(|n| *n > MAX_LIST)
        {
            self.option_problem(
                route,
                what,
                &format!("more than {MAX_LIST} {what} header operations of one kind"),
                &format!("a header modifier sets, adds or removes at most {MAX_LIST} headers"),
            );
        }
        if ops
            .set
            .values()
            .chain(ops.add.values())
            .any(|v| v.is_empty() || v.len() > MAX_HEADER_VALUE)
        {
            self.option_problem(
                route,
                what,
                &format!("an empty or over-long {what} header value"),
                &format!("header values have 1 to {MAX_HEADER_VALUE} characters"),
            );
        }
    }

    fn gateway(&mut self, gateway: &'m model::Gateway) {
        if !default_selector(&gateway.selector) {
            self.problem(
                gateway.span,
                format!(
                    "the Gateway API cannot select the workloads of gateway `{}`",
                    gateway.name
                ),
                "custom selector",
                "Istio deploys a gateway of its own for each Gateway of class `istio`; drop the `selector`",
            );
        }
        let plans = listeners(gateway);
        if plans.len() > MAX_LISTENERS {
            self.problem(
                gateway.span,
                format!(
                    "gateway `{}` would have more than {MAX_LISTENERS} listeners",
                    gateway.name
                ),
                "too many listeners",
                "a Gateway has one listener per port and host; list fewer hosts",
            );
        }
        for plan in &plans {
            let server = plan.server;
            if plan.protocol.is_none() {
                let mode = server.tls.as_ref().map_or("none", |t| t.mode);
                self.problem(
                    server.span,
                    format!(
                        "the Gateway API cannot express a `{}` listener with TLS mode `{}`",
                        server.protocol.word(),
                        mode.to_ascii_lowercase().replace('_', "-")
                    ),
                    "not expressible with the Gateway API",
                    "a Gateway listener terminates TLS with a certificate (`tls simple`) or passes it through \
                     (`tls passthrough`); client certificates and Istio mutual TLS are not in the standard channel",
                );
            }
            if let Some(host) = &plan.hostname {
                if !hostname_ok(host) {
                    self.problem(
                        server.span,
                        format!("the Gateway API cannot express the listener host `{host}`"),
                        "not a Gateway API hostname",
                        "a listener host is `*`, a DNS name, or `*.` and a DNS name; not an IP address",
                    );
                }
            }
        }
        let mut names: BTreeMap<&str, Span> = BTreeMap::new();
        for plan in &plans {
            if let Some(first) = names.insert(&plan.name, plan.server.span) {
                self.found.push(
                    Diagnostic::error(
                        Code::NameCollision,
                        plan.server.span,
                        format!(
                            "two listeners of gateway `{}` would be named `{}`",
                            gateway.name, plan.name
                        ),
                    )
                    .label("listener name taken")
                    .note(first, "the other listener")
                    .help("give the hosts of one listener names that differ in more than `.` and `-`"),
                );
            }
        }
        let routes = gateway
            .routes
            .iter()
            .chain(gateway.host_routes.iter().flat_map(|(_, r)| r));
        for route in routes.filter(|r| r.kind != RouteKind::Http) {
            self.layer4(route);
        }
        for (host, routes) in &gateway.host_routes {
            if host != "*" && !hostname_ok(host) {
                for route in routes {
                    self.route_problem(
                        route,
                        &format!("the host `{host}`"),
                        "a route host is a DNS name, or `*.` and a DNS name; not an IP address",
                    );
                }
            }
        }
        for object in gateway_routes(gateway) {
            if object.hostnames.len() > MAX_HOSTNAMES {
                self.problem(
                    gateway.span,
                    format!(
                        "the HTTPRoute `{}` would have more than {MAX_HOSTNAMES} hostnames",
                        object.name
                    ),
                    "too many hosts",
                    "an HTTPRoute lists at most 16 hostnames; use a wildcard host such as `*.example.com`",
                );
            }
            self.object(&object);
        }
    }

    /// Names of the per-version Services that are not valid. (Names that are taken are
    /// reported by the registry.)
    fn names(&mut self, ns: &'m Namespace) {
        for backend in version_backends(self.mesh)
            .into_iter()
            .filter(|b| std::ptr::eq(b.namespace, ns))
        {
            let owner = format!("version `{}` of `{}`", backend.version.name, backend.service.name);
            let name = backend.name();
            if let Err(why) = rules::dns1035_label(&name) {
                self.found.push(
                    Diagnostic::error(
                        Code::InvalidName,
                        backend.version.span,
                        format!(
                            "the Service `{name}` that Gateway API routes to {owner} need is not a valid name: {why}"
                        ),
                    )
                    .label("routes send to this version by name")
                    .help("shorten the service's name or the version's name"),
                );
            }
        }
    }
}

/// `s` as a regular expression matching itself.
fn regex_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
