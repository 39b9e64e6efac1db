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
        let routes = routes.iter().filter(|r| r.kind == kind);
        match copies(ports, kind) {
            Copies::Once(port) => routes.for_each(|r| add_route(&mut spec, r, port.map(|p| (host, p)), None)),
            Copies::PerPort(numbers) => {
                let routes: Vec<&model::Route> = routes.collect();
                for &port in &numbers {
                    for r in &routes {
                        add_route(&mut spec, r, Some((host, port)), Some(port));
                    }
                }
            }
        }
    }
    spec
}

/// How [`mesh_virtual_service`] writes the routes of one kind.
enum Copies {
    /// Once each; destinations to the host itself name this port, when it is the host's
    /// only port of the kind.
    Once(Option<u16>),
    /// Once for each of these ports (the host's ports of the kind, when it has several
    /// ports): each copy matches its port and keeps the alternatives that can match there.
    PerPort(Vec<u16>),
}

fn copies(ports: &[model::Port], kind: RouteKind) -> Copies {
    let kind_ports: Vec<u16> = ports
        .iter()
        .filter(|p| kind.carries(p.protocol))
        .map(|p| p.number)
        .collect();
    match kind_ports.as_slice() {
        _ if ports.len() <= 1 => Copies::Once(None),
        [one] => Copies::Once(Some(*one)),
        _ => Copies::PerPort(kind_ports),
    }
}

/// The route of a mesh VirtualService that adds most to its size.
pub(super) struct Largest<'r> {
    pub(super) route: &'r model::Route,
    /// How many times the route is written (once per port it can match on).
    pub(super) copies: usize,
    pub(super) destinations: usize,
    /// What it adds to the least size.
    pub(super) size: usize,
}

/// The least size of a mesh VirtualService, as [`least_json_size`] counts it.
pub(super) struct LeastSize<'r> {
    pub(super) bytes: usize,
    /// The routes written (each copy counted) and their destinations.
    pub(super) routes: usize,
    pub(super) destinations: usize,
    pub(super) largest: Option<Largest<'r>>,
}

/// A lower bound of the size, as JSON (the form the API server stores), of the VirtualService
/// [`mesh_virtual_service`] writes for this host, ports and routes: only the destinations of
/// each copy of each route are counted, each at the least its host, subset, port and weight
/// take. Also the route that adds most. Worked out from the model, without building the
/// object: a route written once per port, with a destination per port, grows as the square
/// of the ports.
pub(super) fn least_json_size<'r>(host: &str, ports: &[model::Port], routes: &'r [model::Route]) -> LeastSize<'r> {
    let by_kind = [RouteKind::Http, RouteKind::Tls, RouteKind::Tcp].map(|kind| (kind, copies(ports, kind)));
    let mut least = LeastSize {
        bytes: 0,
        routes: 0,
        destinations: 0,
        largest: None,
    };
    for route in routes {
        let Action::Forward(list) = &route.action else { continue };
        let Some((_, how)) = by_kind.iter().find(|(kind, _)| *kind == route.kind) else {
            continue;
        };
        let (copies, own_port) = match how {
            Copies::Once(port) => (1, port.is_some()),
            Copies::PerPort(numbers) if route.alternatives.is_empty() => (numbers.len(), true),
            Copies::PerPort(numbers) => (
                numbers
                    .iter()
                    .filter(|&&port| route.alternatives.iter().any(|a| a.port.is_none_or(|p| p == port)))
                    .count(),
                true,
            ),
        };
        let once: usize = list
            .iter()
            .map(|d| least_destination(d, list.len() > 1, d.port.is_some() || (own_port && d.host == host)))
            .sum();
        let size = once.saturating_mul(copies);
        least.bytes = least.bytes.saturating_add(size);
        least.routes += copies;
        least.destinations = least.destinations.saturating_add(copies.saturating_mul(list.len()));
        if least.largest.as_ref().is_none_or(|largest| size > largest.size) {
            least.largest = Some(Largest {
                route,
                copies,
                destinations: list.len(),
                size,
            });
        }
    }
    least
}

/// [`least_json_size`] for a gateway's VirtualService, whose routes are written once each,
/// as they are: the least size, and how many destinations the routes have in all.
pub(super) fn least_gateway_json_size(routes: &[&model::Route]) -> (usize, usize) {
    let mut size = 0usize;
    let mut count = 0;
    for route in routes {
        if let Action::Forward(list) = &route.action {
            let least: usize = list
                .iter()
                .map(|d| least_destination(d, list.len() > 1, d.port.is_some()))
                .sum();
            size = size.saturating_add(least);
            count += list.len();
        }
    }
    (size, count)
}

/// The least JSON one destination of a route takes:
/// `{"destination":{"host":"H","subset":"S","port":{"number":N}},"weight":W},` with each
/// part it has, a port number at least one digit long.
fn least_destination(d: &model::Destination, weighted: bool, port: bool) -> usize {
    let digits = |n: u32| n.checked_ilog10().unwrap_or(0) as usize + 1;
    r#"{"destination":{"host":""}},"#.len()
        + d.host.len()
        + d.subset.as_ref().map_or(0, |s| r#","subset":"""#.len() + s.len())
        + if port { r#","port":{"number":}"#.len() + 1 } else { 0 }
        + match d.weight {
            Some(w) if weighted => r#","weight":"#.len() + digits(w),
            _ => 0,
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::Options;
    use crate::source::Source;

    /// Service `s` of a mesh with HTTP ports 8001.. (`http` of them), maybe a TCP port, the
    /// pod versions v0.. and routes that split over `destinations` targets: its versions,
    /// itself on a port, another service and its version. Also the mesh's text.
    fn service(http: usize, tcp: bool, destinations: usize) -> (model::Service, String) {
        let mut text = String::from("namespace a {\n  service s {\n");
        for i in 0..http {
            text += &format!("    port http {}\n", 8001 + i);
        }
        if tcp {
            text += "    port tcp 9000\n";
        }
        let versions = destinations.max(2);
        for v in 0..versions {
            text += &format!("    pod v{v} image \"x\"\n");
        }
        let mut targets: Vec<String> = (0..versions).map(|v| format!("v{v}")).collect();
        targets.extend((0..http).map(|i| format!("s:{}", 8001 + i)));
        targets.push("t".into());
        targets.push("t/v1".into());
        targets.truncate(destinations.max(1));
        let split = |targets: &[String]| {
            let rest: String = targets[1..].iter().map(|t| format!(" {t} 0%")).collect();
            format!("{{ {} 100%{rest} }}", targets[0])
        };
        text += &format!("    route header x \"1\" {}\n", split(&targets));
        if http >= 2 {
            text += &format!("    route port 8002 {}\n", split(&targets[..1]));
            text += &format!("    route method \"GET\" port 8001 {}\n", split(&targets));
        }
        text += &format!("    route {}\n  }}\n", split(&targets));
        text += "  service t {\n    port http 80\n    pod v1 image \"x\"\n  }\n}\n";
        let (mesh, diagnostics) = crate::check_sources(&[Source::new("t.mesh", text.as_str())], &Options::default());
        assert!(!diagnostics.iter().any(|d| d.is_error()), "{text}\n{diagnostics:?}");
        let ns = mesh.unwrap().namespaces.into_iter().next().unwrap();
        (ns.services.into_iter().find(|s| s.name == "s").unwrap(), text)
    }

    #[test]
    fn the_least_size_is_at_most_the_written_json_and_close_to_it_when_destinations_dominate() {
        let mut cases = 0;
        for http in [1, 2, 3, 8] {
            for tcp in [false, true] {
                for destinations in [1, 2, 5, 40] {
                    let (s, text) = service(http, tcp, destinations);
                    let least_size = least_json_size(&s.fqdn, &s.ports, &s.routes);
                    let (least, largest) = (least_size.bytes, least_size.largest);
                    let spec = mesh_virtual_service(&s.fqdn, &s.ports, &s.routes);
                    let json = serde_json::to_string(&spec).unwrap().len();
                    assert!(least <= json, "{least} > {json} for\n{text}");
                    if destinations >= 40 {
                        assert!(least * 10 >= json * 8, "{least} is far below {json} for\n{text}");
                    }
                    // The largest is the catch-all split, written on every HTTP port.
                    let largest = largest.unwrap();
                    assert_eq!((largest.copies, largest.destinations), (http, destinations), "{text}");
                    cases += 1;
                }
            }
        }
        assert_eq!(cases, 32);
    }
}
