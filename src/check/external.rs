//! External services: hosts outside the mesh, registered with a ServiceEntry, with their
//! own policies and routes.

use std::collections::BTreeMap;

use super::naming::Key;
use super::routes::Context;
use super::{rules, suggest, Checker, Index, Scope};
use crate::ast::{self, Value};
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::model::{self, Protocol};

const RESOLUTIONS: &[(&str, &str)] = &[("dns", "DNS"), ("dns-round-robin", "DNS_ROUND_ROBIN"), ("none", "NONE")];
const LOCATIONS: &[(&str, &str)] = &[("external", "MESH_EXTERNAL"), ("internal", "MESH_INTERNAL")];

/// The first host an external service declares: what routes and policies address.
pub(super) fn first_host(external: &ast::External) -> Option<String> {
    external
        .settings
        .iter()
        .filter(|s| s.key.text == "hosts")
        .flat_map(|s| &s.values)
        .find_map(|v| match v {
            Value::Str(s) => Some(s.value.to_ascii_lowercase()),
            _ => None,
        })
}

impl Checker<'_> {
    pub(super) fn external(
        &mut self,
        scope: &Scope<'_>,
        external: &ast::External,
        index: &Index,
    ) -> Option<model::External> {
        let ns = scope.name.text.as_str();
        let name = external.name.text.as_str();
        let mut ok = self.name_rule(
            &external.name,
            "external service name",
            "DNS-1123 label",
            rules::dns_label,
        );
        let mut found = ExternalSettings {
            hosts: Vec::new(),
            addresses: Vec::new(),
            resolution: None,
            location: "MESH_EXTERNAL",
        };
        let mut seen: BTreeMap<String, &ast::Setting> = BTreeMap::new();
        for setting in &external.settings {
            if !self.once(&mut seen, setting) {
                ok = false;
                continue;
            }
            ok &= match setting.key.text.as_str() {
                "hosts" | "addresses" => self.hosts_or_addresses(setting, &mut found),
                key => self.external_choice(setting, key, &mut found),
            };
        }
        let ExternalSettings {
            mut hosts,
            addresses,
            resolution,
            location,
        } = found;
        hosts.sort();
        hosts.dedup();
        let resolution = resolution.unwrap_or(if hosts.iter().any(|h| h.starts_with('*')) {
            "NONE"
        } else {
            "DNS"
        });
        ok &= self.hosts_fit(external, &hosts, &addresses, resolution);
        let (ports, ports_ok) = self.external_ports(external);
        ok &= ports_ok;
        let opaque = ports
            .iter()
            .any(|p| !(p.protocol.is_http() || matches!(p.protocol, Protocol::Https | Protocol::Tls)));
        if resolution != "NONE" && hosts.len() > 1 && opaque {
            self.error(
                Diagnostic::error(
                    Code::ExternalProblem,
                    external.name.span,
                    "several hosts on a TCP port cannot be told apart",
                )
                .label("several hosts, opaque TCP port")
                .help("Istio routes raw TCP by address only: declare one external service per host"),
            );
            ok = false;
        }
        if (!external.policies.is_empty() || !external.routes.is_empty()) && hosts.len() > 1 {
            self.error(
                Diagnostic::error(
                    Code::ExternalProblem,
                    external.name.span,
                    "policies and routes apply to one host; this external service has several",
                )
                .label("several hosts")
                .help("declare one external service per host you want to route or tune"),
            );
            ok = false;
        }
        ok &= self.route_ports(&external.routes, &ports, name);
        let policy = self.policy(&external.policies);
        let cx = Context {
            ns,
            own: Some((ns, name)),
            own_facts: index.get(&(ns.to_string(), name.to_string())),
            owner: format!("external service `{name}`"),
            index,
            gateway: false,
            span: external.name.span,
        };
        let routes = self.routes(&external.routes, &cx);
        let vars = [("service", name), ("namespace", ns)];
        let destination_rule = scope.naming.template(Key::DestinationRule).expand(&vars);
        let virtual_service = scope.naming.template(Key::VirtualService).expand(&vars);
        let (Some(policy), Some(routes)) = (policy, routes) else {
            return None;
        };
        ok.then(|| model::External {
            name: name.to_string(),
            span: external.name.span,
            hosts,
            addresses,
            ports,
            resolution,
            location,
            policy,
            routes,
            destination_rule,
            virtual_service,
        })
    }
    /// A `hosts` or `addresses` list; false when an entry is wrong (reported).
    fn hosts_or_addresses(&mut self, setting: &ast::Setting, found: &mut ExternalSettings) -> bool {
        let mut ok = true;
        let is_hosts = setting.key.text == "hosts";
        for value in &setting.values {
            let Value::Str(s) = value else {
                self.error(
                    Diagnostic::error(
                        Code::InvalidValue,
                        value.span(),
                        format!("`{}` takes quoted strings", setting.key.text),
                    )
                    .label("not a string")
                    .help("write `hosts \"api.example.com\", \"www.example.com\"`"),
                );
                ok = false;
                continue;
            };
            if !s.vars.is_empty() {
                ok = false;
                continue;
            }
            let text = s.value.to_ascii_lowercase();
            let valid = if is_hosts {
                if text == "*" {
                    Err("`*` alone would capture every host; name the hosts".to_string())
                } else {
                    rules::gateway_host(&text)
                }
            } else {
                valid_address(&text)
            };
            match valid {
                Ok(()) if is_hosts => found.hosts.push(text),
                Ok(()) => found.addresses.push(text),
                Err(why) => {
                    let (code, what) = if is_hosts {
                        (Code::InvalidHost, "host")
                    } else {
                        (Code::InvalidAddress, "address")
                    };
                    self.error(
                        Diagnostic::error(code, s.span, format!("`{}` is not a valid {what}: {why}", s.value))
                            .label(format!("invalid {what}")),
                    );
                    ok = false;
                }
            }
        }
        ok
    }

    /// `resolution` or `location`: one word of a table; false when it is not (reported).
    fn external_choice(&mut self, setting: &ast::Setting, key: &str, found: &mut ExternalSettings) -> bool {
        let mut ok = true;
        let table = if key == "resolution" { RESOLUTIONS } else { LOCATIONS };
        let words: Vec<&str> = table.iter().map(|(w, _)| *w).collect();
        match setting.values.as_slice() {
            [Value::Word(w)] => match table.iter().find(|(word, _)| *word == w.text) {
                Some((_, value)) if key == "resolution" => found.resolution = Some(value),
                Some((_, value)) => found.location = value,
                None => {
                    let mut d = Diagnostic::error(Code::UnknownKeyword, w.span, format!("`{}` is not a {key}", w.text))
                        .label(format!("unknown {key}"));
                    if let Some(suggestion) = suggest::did_you_mean(&w.text, &words, &format!("{key}s")) {
                        d = suggestion.on(d, w.span);
                    }
                    self.error(d);
                    ok = false;
                }
            },
            _ => {
                self.error(
                    Diagnostic::error(
                        Code::InvalidValue,
                        setting.span,
                        format!("`{key}` takes one of {}", words.join(", ")),
                    )
                    .label("not a single word"),
                );
                ok = false;
            }
        }
        ok
    }

    /// Whether the hosts and addresses fit the resolution; false when not (reported).
    fn hosts_fit(
        &mut self,
        external: &ast::External,
        hosts: &[String],
        addresses: &[String],
        resolution: &str,
    ) -> bool {
        let mut ok = true;
        if hosts.is_empty() && external.settings.iter().all(|s| s.key.text != "hosts") {
            self.error(
                Diagnostic::error(
                    Code::ExternalProblem,
                    external.name.span,
                    format!("external service `{}` names no host", external.name.text),
                )
                .label("no `hosts`")
                .help("add the hosts it serves: `hosts \"api.example.com\"`"),
            );
            ok = false;
        }
        let wildcard = hosts.iter().any(|h| h.starts_with('*'));
        if resolution != "NONE" && wildcard {
            self.error(
                Diagnostic::error(
                    Code::ExternalProblem,
                    external.name.span,
                    "wildcard hosts cannot be resolved through DNS",
                )
                .label("wildcard host with DNS resolution")
                .help("use `resolution none` for wildcard hosts, or list the hosts by name"),
            );
            ok = false;
        }
        if resolution != "NONE" && addresses.iter().any(|a| a.contains('/')) {
            self.error(
                Diagnostic::error(
                    Code::ExternalProblem,
                    external.name.span,
                    "address ranges need `resolution none`",
                )
                .label("CIDR with DNS resolution")
                .help("Istio accepts CIDR `addresses` only with `resolution none`"),
            );
            ok = false;
        }
        ok
    }

    /// The ports of an external service, sorted by number; false when one is wrong
    /// (reported).
    fn external_ports(&mut self, external: &ast::External) -> (Vec<model::Port>, bool) {
        let name = external.name.text.as_str();
        let mut ok = true;
        let mut ports: Vec<model::Port> = Vec::new();
        let mut seen_ports: BTreeMap<u16, crate::source::Span> = BTreeMap::new();
        for port in &external.ports {
            let protocol = self.protocol(&port.protocol, Protocol::ALL, "port");
            let number = self.port_number(&port.number);
            if let Some(t) = &port.target {
                self.error(
                    Diagnostic::error(
                        Code::MisplacedProperty,
                        t.span,
                        "an external service's port has no target port",
                    )
                    .label("not here")
                    .help("write the port the external service listens on: `port https 443`"),
                );
                ok = false;
            }
            let (Some(protocol), Some(number)) = (protocol, number) else {
                ok = false;
                continue;
            };
            if let Some(first) = seen_ports.insert(number, port.number.span) {
                self.duplicate("port", &number.to_string(), port.number.span, first);
                ok = false;
                continue;
            }
            ports.push(model::Port {
                name: format!("{}-{number}", protocol.word()),
                protocol,
                number,
                target: number,
            });
        }
        ports.sort_by_key(|p| p.number);
        if external.ports.is_empty() {
            self.error(
                Diagnostic::error(
                    Code::NoPorts,
                    external.name.span,
                    format!("external service `{name}` declares no port"),
                )
                .label("no `port`")
                .help("add the port it listens on, such as `port https 443`"),
            );
            ok = false;
        }
        (ports, ok)
    }
}

/// What an external service's settings say.
struct ExternalSettings {
    hosts: Vec<String>,
    addresses: Vec<String>,
    resolution: Option<&'static str>,
    location: &'static str,
}

fn valid_address(text: &str) -> Result<(), String> {
    let (ip, prefix) = match text.split_once('/') {
        Some((ip, prefix)) => (ip, Some(prefix)),
        None => (text, None),
    };
    let parsed: std::net::IpAddr = ip
        .parse()
        .map_err(|_| "it is not an IP address or CIDR range".to_string())?;
    if let Some(prefix) = prefix {
        let max = if parsed.is_ipv4() { 32 } else { 128 };
        match prefix.parse::<u8>() {
            Ok(p) if p <= max => {}
            _ => return Err(format!("the prefix length must be 0 to {max}")),
        }
    }
    Ok(())
}
