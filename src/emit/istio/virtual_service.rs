//! VirtualServices: the Istio form of routes, for mesh traffic and at gateways.

use super::objects::*;
use crate::model::{self, Action, Conditions, HeaderMatch, RouteKind};

pub(super) fn gateway_virtual_service<'r>(
    hosts: Vec<String>,
    gateway: &str,
    routes: impl Iterator<Item = &'r model::Route>,
) -> VirtualServiceSpec {
    let mut spec = VirtualServiceSpec {
        hosts,
        gateways: vec![gateway.to_string()],
        http: Vec::new(),
        tls: Vec::new(),
        tcp: Vec::new(),
    };
    for route in routes {
        add_route(&mut spec, route, None, None);
    }
    spec
}

/// The VirtualService of a service or external host for mesh traffic. When the host has
/// several ports a route can apply to, each route is written once per port, matching that
/// port, so that every destination names its port (istioctl IST0112).
pub(super) fn mesh_virtual_service(host: &str, ports: &[model::Port], routes: &[model::Route]) -> VirtualServiceSpec {
    let mut spec = VirtualServiceSpec {
        hosts: vec![host.to_string()],
        gateways: Vec::new(),
        http: Vec::new(),
        tls: Vec::new(),
        tcp: Vec::new(),
    };
    for kind in [RouteKind::Http, RouteKind::Tls, RouteKind::Tcp] {
        let fits = |p: &&model::Port| kind.carries(p.protocol);
        let kind_ports: Vec<u16> = ports.iter().filter(fits).map(|p| p.number).collect();
        let routes = routes.iter().filter(|r| r.kind == kind);
        match kind_ports.as_slice() {
            _ if ports.len() <= 1 => routes.for_each(|r| add_route(&mut spec, r, None, None)),
            [one] => routes.for_each(|r| add_route(&mut spec, r, Some((host, *one)), None)),
            many => {
                let routes: Vec<&model::Route> = routes.collect();
                for &port in many {
                    for r in &routes {
                        add_route(&mut spec, r, Some((host, port)), Some(port));
                    }
                }
            }
        }
    }
    spec
}

/// Adds one route to the VirtualService. `own` gives the port for destinations to the
/// route's own host that name none; `match_port` adds a port condition.
fn add_route(spec: &mut VirtualServiceSpec, route: &model::Route, own: Option<(&str, u16)>, match_port: Option<u16>) {
    // Written once per port: keep the alternatives that can match on this port, and leave
    // the route out of this port's list when none can.
    let narrowed;
    let route = match match_port {
        Some(port) if route.alternatives.iter().any(|a| a.port.is_some_and(|p| p != port)) => {
            let mut r = route.clone();
            r.alternatives.retain(|a| a.port.is_none_or(|p| p == port));
            if r.alternatives.is_empty() {
                return;
            }
            narrowed = r;
            &narrowed
        }
        _ => route,
    };
    let destinations = match &route.action {
        Action::Forward(list) => list
            .iter()
            .map(|d| {
                let port = d.port.or_else(|| own.filter(|(h, _)| *h == d.host).map(|(_, p)| p));
                RouteDestination {
                    destination: destination(d, port),
                    weight: if list.len() > 1 { d.weight } else { None },
                    headers: headers(&d.request_headers, &d.response_headers),
                }
            })
            .collect(),
        _ => Vec::new(),
    };
    match route.kind {
        RouteKind::Http => {
            let mut http = http_route(route, destinations, match_port);
            if let (Some((d, _)), Some(mirror)) = (&route.options.mirror, http.mirror.as_mut()) {
                if mirror.port.is_none() {
                    mirror.port = own
                        .filter(|(h, _)| *h == d.host)
                        .map(|(_, number)| PortSelector { number });
                }
            }
            spec.http.push(http);
        }
        RouteKind::Tcp | RouteKind::Tls => {
            let mut matches: Vec<L4Match> = route
                .alternatives
                .iter()
                .map(|c| L4Match {
                    sni_hosts: c.sni.clone(),
                    port: c.port.or(match_port),
                    source_labels: c.source.as_ref().map(|s| s.labels.clone()).unwrap_or_default(),
                    source_namespace: c.source.as_ref().and_then(|s| s.namespace.clone()),
                })
                .collect();
            if matches.is_empty() && match_port.is_some() {
                matches.push(L4Match {
                    port: match_port,
                    ..L4Match::default()
                });
            }
            if route.kind == RouteKind::Tcp {
                spec.tcp.push(TcpRoute {
                    matches,
                    route: destinations,
                });
            } else {
                spec.tls.push(TlsRoute {
                    matches,
                    route: destinations,
                });
            }
        }
    }
}

fn destination(d: &model::Destination, port: Option<u16>) -> Destination {
    Destination {
        host: d.host.clone(),
        subset: d.subset.clone(),
        port: port.map(|number| PortSelector { number }),
    }
}

fn string_match(m: &model::StringMatch) -> StringMatch {
    match m {
        model::StringMatch::Exact(v) => StringMatch {
            exact: Some(v.clone()),
            ..StringMatch::default()
        },
        model::StringMatch::Prefix(v) => StringMatch {
            prefix: Some(v.clone()),
            ..StringMatch::default()
        },
        model::StringMatch::Regex(v) => StringMatch {
            regex: Some(v.clone()),
            ..StringMatch::default()
        },
    }
}

fn http_match(c: &Conditions, match_port: Option<u16>) -> HttpMatch {
    let mut m = HttpMatch {
        uri: c.uri.as_ref().map(string_match),
        method: c
            .method
            .as_ref()
            .map(|v| string_match(&model::StringMatch::Exact(v.clone()))),
        port: c.port.or(match_port),
        source_labels: c.source.as_ref().map(|s| s.labels.clone()).unwrap_or_default(),
        source_namespace: c.source.as_ref().and_then(|s| s.namespace.clone()),
        query_params: c.query.iter().map(|(k, v)| (k.clone(), string_match(v))).collect(),
        ..HttpMatch::default()
    };
    for (name, header) in &c.headers {
        match header {
            HeaderMatch::Is(v) => {
                m.headers.insert(name.clone(), string_match(v));
            }
            HeaderMatch::Absent => {
                m.without_headers.insert(name.clone(), StringMatch::default());
            }
        }
    }
    m
}

fn http_route(route: &model::Route, destinations: Vec<RouteDestination>, match_port: Option<u16>) -> HttpRoute {
    let mut matches: Vec<HttpMatch> = route.alternatives.iter().map(|c| http_match(c, match_port)).collect();
    if matches.is_empty() && match_port.is_some() {
        matches.push(HttpMatch {
            port: match_port,
            ..HttpMatch::default()
        });
    }
    let o = &route.options;
    // Every option, by name: a new one does not compile until it is written here.
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
    let fault = (o.delay.is_some() || o.abort.is_some()).then(|| Fault {
        delay: o.delay.as_ref().map(|(d, p)| Delay {
            fixed_delay: d.clone(),
            percentage: Percent { value: *p },
        }),
        abort: o.abort.as_ref().map(|(s, p)| Abort {
            http_status: *s,
            percentage: Percent { value: *p },
        }),
    });
    HttpRoute {
        name: route.name.clone(),
        matches,
        route: destinations,
        redirect: match &route.action {
            Action::Redirect(r) => Some(HttpRedirect {
                uri: r.uri.clone(),
                authority: r.authority.clone(),
                scheme: r.scheme.clone(),
                redirect_code: r.code,
            }),
            _ => None,
        },
        direct_response: match &route.action {
            Action::Respond { status, body } => Some(DirectResponse {
                status: *status,
                body: body.as_ref().map(|b| Body { string: b.clone() }),
            }),
            _ => None,
        },
        rewrite: (o.rewrite_uri.is_some() || o.rewrite_authority.is_some()).then(|| Rewrite {
            uri: o.rewrite_uri.clone(),
            authority: o.rewrite_authority.clone(),
        }),
        timeout: o.timeout.clone(),
        retries: o.retries.as_ref().map(|r| Retries {
            attempts: r.attempts,
            per_try_timeout: r.per_try_timeout.clone(),
            retry_on: r.retry_on.clone(),
        }),
        fault,
        mirror: o.mirror.as_ref().map(|(d, _)| destination(d, d.port)),
        mirror_percentage: o.mirror.as_ref().and_then(|(_, p)| p.map(|value| Percent { value })),
        cors_policy: o.cors.as_ref().map(|c| CorsPolicy {
            allow_origins: c.origins.iter().map(string_match).collect(),
            allow_methods: c.methods.clone(),
            allow_headers: c.headers.clone(),
            expose_headers: c.expose.clone(),
            max_age: c.max_age.clone(),
            allow_credentials: c.credentials.then_some(true),
        }),
        headers: headers(&o.request_headers, &o.response_headers),
    }
}

fn headers(request: &model::HeaderOps, response: &model::HeaderOps) -> Option<Headers> {
    let ops = |h: &model::HeaderOps| {
        (!h.is_empty()).then(|| HeaderOperations {
            set: h.set.clone(),
            add: h.add.clone(),
            remove: h.remove.clone(),
        })
    };
    let (request, response) = (ops(request), ops(response));
    (request.is_some() || response.is_some()).then_some(Headers { request, response })
}
