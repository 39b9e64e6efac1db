//! Routes: conditions, targets, weights and reachability, for services and gateways.

use std::collections::BTreeMap;

use super::{suggest, Checker, Index};
use crate::ast::{self, Target};
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::model::{self, Conditions, Destination, UriMatch};

const MATCH_KINDS: &[&str] = &["prefix", "exact", "regex"];
const MAX_REGEX: usize = 1024;

/// What a route's target names.
pub(super) enum RouteTarget<'a> {
    /// A service's routes name its versions.
    Versions(&'a [&'a str]),
}

impl Checker<'_> {
    /// A service's routes, in order, ending with a default route. Empty when the file has
    /// none (the service then needs no VirtualService). `None` when any route is wrong.
    pub(super) fn routes(
        &mut self,
        routes: &[ast::Route],
        target: &RouteTarget<'_>,
        owner: &str,
    ) -> Option<Vec<model::Route>> {
        let mut ok = true;
        let mut out = Vec::new();
        let mut resolved = Vec::new();
        for route in routes {
            let alternatives = self.conditions(route);
            let destinations = match target {
                RouteTarget::Versions(versions) => self.version_destinations(route, versions, owner),
            };
            match (alternatives, destinations) {
                (Some(alternatives), Some(destinations)) => {
                    resolved.push((route, alternatives.clone()));
                    out.push(model::Route {
                        alternatives,
                        destinations,
                        synthesised: false,
                    });
                }
                _ => ok = false,
            }
        }
        ok &= self.reachability(&resolved);
        if !ok {
            return None;
        }
        if out.last().is_some_and(|r| !r.alternatives.is_empty()) {
            out.push(model::Route {
                alternatives: Vec::new(),
                destinations: vec![Destination {
                    subset: None,
                    weight: None,
                }],
                synthesised: true,
            });
        }
        Some(out)
    }

    /// The alternatives of a route; empty for a route that matches everything.
    fn conditions(&mut self, route: &ast::Route) -> Option<Vec<Conditions>> {
        let mut ok = true;
        let mut alternatives = Vec::new();
        for alternative in &route.alternatives {
            let mut conditions = Conditions::default();
            let mut uri_at = None;
            for condition in &alternative.conditions {
                let kind = condition.kind.text.as_str();
                let value = condition.value.value.clone();
                let uri = match kind {
                    "prefix" => UriMatch::Prefix(value),
                    "exact" => UriMatch::Exact(value),
                    "regex" => UriMatch::Regex(value),
                    _ => {
                        let mut d = Diagnostic::error(
                            Code::UnknownKeyword,
                            condition.kind.span,
                            format!("unknown match `{kind}`"),
                        )
                        .label("not a match kind");
                        if let Some(help) = suggest::did_you_mean(kind, MATCH_KINDS, "match kinds") {
                            d = d.help(help);
                        }
                        self.error(d);
                        ok = false;
                        continue;
                    }
                };
                let empty = match &uri {
                    UriMatch::Prefix(v) | UriMatch::Regex(v) => v.is_empty(),
                    UriMatch::Exact(_) => false,
                };
                if empty {
                    self.error(
                        Diagnostic::error(
                            Code::InvalidValue,
                            condition.value.span,
                            format!("a `{kind}` match cannot be empty"),
                        )
                        .label("empty")
                        .help("to match every request, write the route without a match: `route -> v1`"),
                    );
                    ok = false;
                }
                if let UriMatch::Regex(v) = &uri {
                    if v.len() > MAX_REGEX {
                        self.error(
                            Diagnostic::error(
                                Code::InvalidValue,
                                condition.value.span,
                                format!("the regex is {} bytes; Istio accepts at most {MAX_REGEX}", v.len()),
                            )
                            .label("too long"),
                        );
                        ok = false;
                    }
                }
                if let Some(first) = uri_at.replace(condition.kind.span) {
                    self.error(
                        Diagnostic::error(
                            Code::MisplacedProperty,
                            condition.kind.span,
                            "one alternative can match the path only once",
                        )
                        .label("second path condition")
                        .note(first, "first path condition")
                        .help("to accept either path, separate the alternatives with `or`: `route prefix \"/a\" or prefix \"/b\" -> v1`"),
                    );
                    ok = false;
                    continue;
                }
                conditions.uri = Some(uri);
            }
            alternatives.push(conditions);
        }
        ok.then_some(alternatives)
    }

    fn version_destinations(&mut self, route: &ast::Route, versions: &[&str], owner: &str) -> Option<Vec<Destination>> {
        let known = |this: &mut Self, name: &ast::Name| -> bool {
            if versions.contains(&name.text.as_str()) {
                return true;
            }
            let mut d = Diagnostic::error(
                Code::UnknownVersion,
                name.span,
                format!("service `{owner}` has no version `{}`", name.text),
            )
            .label("unknown version");
            if let Some(help) = suggest::did_you_mean(&name.text, versions, "versions") {
                d = d.help(help);
            }
            this.error(d);
            false
        };
        match &route.target {
            Target::Single(name) => known(self, name).then(|| {
                vec![Destination {
                    subset: Some(name.text.clone()),
                    weight: None,
                }]
            }),
            Target::Split { entries, span } => {
                let mut ok = true;
                let mut total: i64 = 0;
                let mut seen: BTreeMap<&str, &ast::Name> = BTreeMap::new();
                let mut destinations = Vec::new();
                for entry in entries {
                    ok &= known(self, &entry.name);
                    if let Some(first) = seen.insert(&entry.name.text, &entry.name) {
                        self.error(
                            Diagnostic::error(
                                Code::RepeatedTarget,
                                entry.name.span,
                                format!("version `{}` appears twice in this split", entry.name.text),
                            )
                            .label("again here")
                            .note(first.span, "first here")
                            .help("give each version one weight"),
                        );
                        ok = false;
                    }
                    let weight = entry
                        .weight
                        .whole()
                        .filter(|w| (0..=100).contains(w) && !entry.weight.is_fraction());
                    if entry.weight.too_large() {
                        ok = false;
                        continue;
                    }
                    match weight {
                        Some(w) => {
                            total += w;
                            destinations.push(Destination {
                                subset: Some(entry.name.text.clone()),
                                weight: u32::try_from(w).ok(),
                            });
                        }
                        None => {
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
                        }
                    }
                }
                if entries.is_empty() {
                    self.error(
                        Diagnostic::error(Code::WeightSum, *span, "this split names no version")
                            .label("empty split")
                            .help("list versions with their weights: `{ v1 90% v2 10% }`"),
                    );
                    return None;
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
                            *span,
                            format!("the weights add up to {total}%, not 100%"),
                        )
                        .label(format!("{total}% in all"))
                        .help(hint),
                    );
                    ok = false;
                }
                ok.then_some(destinations)
            }
        }
    }

    /// Reports routes that can never match: after a catch-all, or whose every alternative
    /// is already matched by an earlier route.
    fn reachability(&mut self, routes: &[(&ast::Route, Vec<Conditions>)]) -> bool {
        let mut ok = true;
        for (i, (route, alternatives)) in routes.iter().enumerate() {
            let earlier = &routes[..i];
            if let Some((catch_all, _)) = earlier.iter().find(|(_, alts)| alts.is_empty()) {
                self.error(
                    Diagnostic::error(Code::UnreachableRoute, route.keyword, "this route can never match")
                        .label("unreachable")
                        .note(catch_all.keyword, "this earlier route matches every request")
                        .help("routes are tried in order: move the default route (the one without a match) last"),
                );
                ok = false;
                continue;
            }
            if alternatives.is_empty() {
                continue;
            }
            let cover = |alt: &Conditions| {
                earlier.iter().find(|(_, alts)| {
                    alts.iter().any(|e| match (&e.uri, &alt.uri) {
                        (Some(e), Some(a)) => a.covered_by(e),
                        (None, _) => true,
                        _ => false,
                    })
                })
            };
            let covers: Vec<_> = alternatives.iter().map(cover).collect();
            if covers.iter().all(Option::is_some) {
                if let Some(Some((first, _))) = covers.first() {
                    self.error(
                        Diagnostic::error(Code::UnreachableRoute, route.keyword, "this route can never match")
                            .label("shadowed")
                            .note(
                                first.keyword,
                                "this earlier route already matches every request this one matches",
                            )
                            .help("routes are tried in order: put the more specific route first"),
                    );
                    ok = false;
                }
            }
        }
        ok
    }

    pub(super) fn gateway_routes(
        &mut self,
        gateway: &ast::Gateway,
        ns: &str,
        index: &Index,
        namespaces: &[model::Namespace],
    ) -> Option<Vec<model::GatewayRoute>> {
        let mut ok = true;
        let mut out = Vec::new();
        let mut resolved = Vec::new();
        for route in &gateway.routes {
            let alternatives = self.conditions(route);
            let target = match &route.target {
                Target::Single(name) => Some(name),
                Target::Split { span, .. } => {
                    self.error(
                        Diagnostic::error(Code::MisplacedProperty, *span, "a gateway route sends traffic to one service")
                            .label("weights here")
                            .help("write `-> service`; split between versions in the service's own routes, which the gateway follows"),
                    );
                    None
                }
            };
            let Some(target) = target else {
                ok = false;
                continue;
            };
            let key = self.resolve_service(
                target,
                ns,
                |n, s| index.contains_key(&(n.to_string(), s.to_string())),
                |n| index.keys().filter(|(kn, _)| kn == n).map(|(_, s)| s.clone()).collect(),
            );
            let (Some(alternatives), Some((target_ns, target_name))) = (alternatives, key) else {
                ok = false;
                continue;
            };
            resolved.push((route, alternatives.clone()));
            // A service that failed its own checks has already been reported.
            let Some(service) = namespaces
                .iter()
                .find(|n| n.name == target_ns)
                .and_then(|n| n.services.iter().find(|s| s.name == target_name))
            else {
                ok = false;
                continue;
            };
            let Some(port) = service.http_ports().next() else {
                self.error(
                    Diagnostic::error(
                        Code::NoHttpPort,
                        target.span,
                        format!("service `{}` has no HTTP port for this gateway route", service.name),
                    )
                    .label("no HTTP port")
                    .help("gateway routes carry HTTP; give the service an `http`, `http2`, `grpc` or `grpc-web` port"),
                );
                ok = false;
                continue;
            };
            let written: Vec<&model::Route> = service.routes.iter().filter(|r| !r.synthesised).collect();
            if alternatives.is_empty() && !written.is_empty() {
                // Ingress traffic does not pass through the service's mesh VirtualService
                // (istioctl IST0140): carry its routes over so the split applies here too.
                for r in &service.routes {
                    out.push(model::GatewayRoute {
                        alternatives: r.alternatives.clone(),
                        host: service.fqdn.clone(),
                        port: port.number,
                        destinations: r.destinations.clone(),
                    });
                }
                continue;
            }
            if !written.is_empty() {
                self.error(
                    Diagnostic::warning(
                        Code::IngressSplit,
                        route.keyword,
                        format!("traffic from this gateway route ignores the routes of service `{}`", service.name),
                    )
                    .label("sent to every version alike")
                    .help(format!(
                        "ingress traffic does not pass through the mesh routes of `{}`; route it with `route -> {}` (no match) to carry them over",
                        service.name, target.text
                    )),
                );
            }
            out.push(model::GatewayRoute {
                alternatives,
                host: service.fqdn.clone(),
                port: port.number,
                destinations: vec![Destination {
                    subset: None,
                    weight: None,
                }],
            });
        }
        ok &= self.reachability(&resolved);
        ok.then_some(out)
    }
}
