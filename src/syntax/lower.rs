//! Parse tree → AST, one small function per rule. Spans are converted here, once.

use pest::iterators::Pair;

use super::Rule;
use crate::ast::*;
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::source::{SourceId, Span};

pub(super) struct Lower {
    source: SourceId,
    pub(super) diagnostics: Vec<Diagnostic>,
}

impl Lower {
    pub(super) fn new(source: SourceId) -> Self {
        Lower {
            source,
            diagnostics: Vec::new(),
        }
    }

    /// The pair's span without the white space and comments a rule ending in an optional
    /// part can swallow, so that labels cover only what was written.
    ///
    /// The skipped white space ends at a token or at the end of the input, so a pair that does
    /// not end in white space ends in a comment only at the end of the input. Strings do not
    /// span lines, so when the last line of the pair has no `#`, its content ends where its
    /// white space starts; only a pair with a comment on that line is scanned token by token.
    fn span(&self, pair: &Pair<'_, Rule>) -> Span {
        let s = pair.as_span();
        let text = s.as_str();
        let (start, input) = (s.start(), s.get_input());
        let end = if text.ends_with(|c: char| c.is_ascii_whitespace()) {
            let trimmed = text.trim_end_matches(|c: char| c.is_ascii_whitespace());
            let last_line = &trimmed[trimmed.rfind('\n').map_or(0, |n| n + 1)..];
            if last_line.contains('#') {
                super::format::content_end(input, start, s.end())
            } else {
                start + trimmed.len()
            }
        } else if s.end() == input.len() && text.contains('#') {
            super::format::content_end(input, start, s.end())
        } else {
            s.end()
        };
        Span::new(self.source, start, end.max(start))
    }

    /// A keyword at the start of `pair`, as a name with its own span.
    fn keyword(&self, pair: &Pair<'_, Rule>, word: &str) -> Name {
        let start = pair.as_span().start();
        Name {
            text: word.to_string(),
            span: Span::new(self.source, start, start + word.len()),
        }
    }

    /// The grammar guarantees the shapes walked here; should one ever be missing, the tree
    /// is reported as an internal error rather than a panic.
    fn internal(&mut self, span: Span, what: &str) {
        self.diagnostics.push(
            Diagnostic::error(
                Code::Syntax,
                span,
                format!("internal error: the parser produced no {what} here"),
            )
            .help("this is a bug in meshc; please report it with the input that caused it"),
        );
    }

    pub(super) fn file(&mut self, pair: Pair<'_, Rule>) -> File {
        let mut file = File::default();
        for child in pair.into_inner() {
            match child.as_rule() {
                Rule::namespace_decl => file.namespaces.extend(self.namespace(child)),
                Rule::import_decl => {
                    let span = self.span(&child);
                    file.imports.extend(self.string(child.into_inner().next(), span));
                }
                _ => {}
            }
        }
        file
    }

    fn namespace(&mut self, pair: Pair<'_, Rule>) -> Option<Namespace> {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let name = self.name(inner.next(), span)?;
        let mut ns = Namespace {
            name,
            naming: Vec::new(),
            clusters: Vec::new(),
            services: Vec::new(),
            externals: Vec::new(),
            gateways: Vec::new(),
            security: Vec::new(),
            span,
        };
        for child in inner {
            match child.as_rule() {
                Rule::security_decl => ns.security.extend(self.setting(child)),
                Rule::naming_block => ns.naming.push(self.naming(child)),
                Rule::cluster_block => ns.clusters.push(self.cluster(child)),
                Rule::service_decl => ns.services.extend(self.service(child)),
                Rule::external_decl => ns.externals.extend(self.external(child)),
                Rule::gateway_decl => ns.gateways.extend(self.gateway(child)),
                _ => {}
            }
        }
        ns.services.shrink_to_fit();
        Some(ns)
    }

    fn cluster(&mut self, pair: Pair<'_, Rule>) -> ClusterBlock {
        let span = self.span(&pair);
        let mut settings = Vec::new();
        for setting in pair.into_inner() {
            let setting_span = self.span(&setting);
            let mut inner = setting.into_inner();
            let key = self.name(inner.next(), setting_span);
            let value = inner.next().and_then(|p| self.word_or_string(p, setting_span));
            if let (Some(key), Some(value)) = (key, value) {
                settings.push((key, value));
            }
        }
        ClusterBlock { settings, span }
    }

    /// A bare `${NAME}`: a value that is only a variable reference.
    fn var_ref(&self, pair: &Pair<'_, Rule>) -> Str {
        let text = pair.as_str();
        let at = self.span(pair);
        Str {
            value: text.to_string(),
            span: at,
            vars: vec![VarRef {
                name: text[2..text.len() - 1].to_string(),
                span: at,
                start: 0,
                end: text.len(),
            }],
        }
    }

    /// A value written as a string, a variable or a bare word (a name, an address).
    fn word_or_string(&mut self, pair: Pair<'_, Rule>, span: Span) -> Option<Str> {
        match pair.as_rule() {
            Rule::string => return self.string(Some(pair), span),
            Rule::var_ref => return Some(self.var_ref(&pair)),
            _ => {}
        }
        Some(Str {
            value: pair.as_str().to_string(),
            span: self.span(&pair),
            vars: Vec::new(),
        })
    }

    fn naming(&mut self, pair: Pair<'_, Rule>) -> NamingBlock {
        let span = self.span(&pair);
        let mut entries = Vec::new();
        for entry in pair.into_inner() {
            let entry_span = self.span(&entry);
            let mut inner = entry.into_inner();
            let key = self.name(inner.next(), entry_span);
            let template = self.string(inner.next(), entry_span);
            if let (Some(key), Some(template)) = (key, template) {
                entries.push(NamingEntry { key, template });
            }
        }
        NamingBlock { entries, span }
    }

    fn service(&mut self, pair: Pair<'_, Rule>) -> Option<Service> {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let name = self.name(inner.next(), span)?;
        // Each list allocated once at its size (counted over the children first, which only
        // reads the parse tree), rather than grown from four and shrunk back.
        let mut count = [0usize; 7];
        for child in inner.clone() {
            let list = match child.as_rule() {
                Rule::port_decl => 0,
                Rule::calls_decl => 1,
                Rule::resources_prop | Rule::probe_prop | Rule::relax_prop | Rule::hardening_prop => 2,
                Rule::version_decl => 3,
                Rule::policy_block => 4,
                Rule::route_decl => 5,
                Rule::security_decl => 6,
                _ => continue,
            };
            count[list] += 1;
        }
        let mut service = Service {
            name,
            ports: Vec::with_capacity(count[0]),
            calls: Vec::with_capacity(count[1]),
            settings: Vec::with_capacity(count[2]),
            versions: Vec::with_capacity(count[3]),
            policies: Vec::with_capacity(count[4]),
            routes: Vec::with_capacity(count[5]),
            security: Vec::with_capacity(count[6]),
            span,
        };
        for child in inner {
            match child.as_rule() {
                Rule::security_decl => service.security.extend(self.setting(child)),
                Rule::port_decl => service.ports.extend(self.port(child)),
                Rule::calls_decl => service.calls.extend(self.calls(child)),
                Rule::version_decl => service.versions.extend(self.version(child)),
                Rule::policy_block => service.policies.push(self.policy(child)),
                Rule::route_decl => service.routes.extend(self.route(child)),
                Rule::resources_prop | Rule::probe_prop | Rule::relax_prop | Rule::hardening_prop => {
                    service.settings.extend(self.property(child));
                }
                _ => {}
            }
        }
        // The AST lives until the model is built: no vector keeps spare room (an element
        // left out for an internal error would leave one).
        service.ports.shrink_to_fit();
        service.calls.shrink_to_fit();
        service.settings.shrink_to_fit();
        service.versions.shrink_to_fit();
        service.policies.shrink_to_fit();
        service.routes.shrink_to_fit();
        service.security.shrink_to_fit();
        Some(service)
    }

    fn port(&mut self, pair: Pair<'_, Rule>) -> Option<Port> {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let protocol = self.name(inner.next(), span)?;
        let number = self.number(inner.next(), span)?;
        let target = inner.next().and_then(|p| self.number(Some(p), span));
        Some(Port {
            protocol,
            number,
            target,
            span,
        })
    }

    fn calls(&mut self, pair: Pair<'_, Rule>) -> Option<Call> {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let service = self.name(inner.next(), span)?;
        let env = match inner.next() {
            Some(via) => {
                let via_span = self.span(&via);
                self.name(via.into_inner().next(), via_span)
            }
            None => None,
        };
        Some(Call { service, env, span })
    }

    fn version(&mut self, pair: Pair<'_, Rule>) -> Option<Version> {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let runtime_pair = inner.next()?;
        let runtime_span = self.span(&runtime_pair);
        let runtime = if runtime_pair.as_str() == "vm" {
            Runtime::Vm
        } else {
            Runtime::Pod
        };
        let name = self.name(inner.next(), span)?;
        // Most children are properties: allocated once for all of them.
        let mut properties = Vec::with_capacity(inner.len());
        let mut policies = Vec::new();
        for child in inner {
            if child.as_rule() == Rule::policy_block {
                policies.push(self.policy(child));
            } else {
                properties.extend(self.property(child));
            }
        }
        properties.shrink_to_fit();
        policies.shrink_to_fit();
        Some(Version {
            runtime,
            runtime_span,
            name,
            properties,
            policies,
            span,
        })
    }

    fn property(&mut self, pair: Pair<'_, Rule>) -> Option<Property> {
        let span = self.span(&pair);
        let rule = pair.as_rule();
        let word = match rule {
            Rule::image_prop => "image",
            Rule::replicas_prop => "replicas",
            Rule::env_prop => "env",
            Rule::label_prop => "label",
            Rule::annotation_prop => "annotation",
            Rule::account_prop => "account",
            Rule::agent_prop => "agent",
            Rule::at_prop => "at",
            Rule::network_prop => "network",
            Rule::locality_prop => "locality",
            Rule::weight_prop => "weight",
            Rule::autoregister_prop => "auto-register",
            Rule::resources_prop => "resources",
            Rule::probe_prop => "probe",
            Rule::relax_prop => "relax",
            Rule::hardening_prop => "hardening",
            _ => "",
        };
        let key = self.keyword(&pair, word);
        let mut inner = pair.into_inner();
        let (key, kind) = match rule {
            Rule::image_prop => (key, PropertyKind::Image(self.string(inner.next(), span)?)),
            Rule::replicas_prop => (key, PropertyKind::Replicas(self.number(inner.next(), span)?)),
            Rule::env_prop => {
                let name = self.name(inner.next(), span)?;
                let value = self.string(inner.next(), span)?;
                (key, PropertyKind::Env { name, value })
            }
            Rule::label_prop | Rule::annotation_prop => {
                let label_key = self.name(inner.next(), span)?;
                let value = self.string(inner.next(), span)?;
                let kind = if rule == Rule::label_prop {
                    PropertyKind::Label { key: label_key, value }
                } else {
                    PropertyKind::Annotation { key: label_key, value }
                };
                (key, kind)
            }
            Rule::account_prop => (key, PropertyKind::Account(self.name(inner.next(), span)?)),
            Rule::agent_prop => (key, PropertyKind::Agent(self.name(inner.next(), span)?)),
            Rule::network_prop => (key, PropertyKind::Network(self.word_or_string(inner.next()?, span)?)),
            Rule::locality_prop => (key, PropertyKind::Locality(self.string(inner.next(), span)?)),
            Rule::weight_prop => (key, PropertyKind::Weight(self.number(inner.next(), span)?)),
            Rule::autoregister_prop => (key, PropertyKind::AutoRegister),
            Rule::at_prop => {
                let addresses = inner
                    .filter_map(|p| match p.as_rule() {
                        Rule::string => self.string(Some(p), span),
                        Rule::var_ref => Some(self.var_ref(&p)),
                        _ => Some(Str {
                            value: p.as_str().to_string(),
                            span: self.span(&p),
                            vars: Vec::new(),
                        }),
                    })
                    .collect();
                (key, PropertyKind::At(addresses))
            }
            Rule::resources_prop => {
                let mut entries = Vec::new();
                for entry in inner {
                    let entry_span = self.span(&entry);
                    let mut parts = entry.into_inner();
                    let name = self.name(parts.next(), entry_span)?;
                    let quantity = self.name(parts.next(), entry_span)?;
                    entries.push((name, quantity));
                }
                (key, PropertyKind::Resources(entries))
            }
            Rule::probe_prop => (key, PropertyKind::Probe(self.probe(inner, span)?)),
            Rule::relax_prop => {
                let words = inner.filter_map(|p| self.name(Some(p), span)).collect();
                (key, PropertyKind::Relax(words))
            }
            Rule::hardening_prop => (key, PropertyKind::Hardening(self.name(inner.next(), span)?)),
            _ => {
                let key = self.name(inner.next(), span)?;
                let values = inner
                    .filter_map(|p| match p.as_rule() {
                        Rule::string => self.string(Some(p), span).map(Literal::Str),
                        _ => self.number(Some(p), span).map(Literal::Number),
                    })
                    .collect();
                (key, PropertyKind::Other(values))
            }
        };
        Some(Property { kind, key, span })
    }

    /// The parts of `probe KIND METHOD ...` after the keyword.
    fn probe<'i>(&mut self, mut inner: impl Iterator<Item = Pair<'i, Rule>>, span: Span) -> Option<Probe> {
        let kind = self.name(inner.next(), span)?;
        let method = self.name(inner.next(), span)?;
        let mut probe = Probe {
            kind,
            method,
            args: Vec::new(),
            port: None,
            settings: Vec::new(),
        };
        for part in inner {
            let part_span = self.span(&part);
            match part.as_rule() {
                Rule::string => probe.args.extend(self.string(Some(part), span)),
                Rule::probe_port => probe.port = Some(self.number(part.into_inner().next(), part_span)?),
                _ => {
                    let mut setting = part.into_inner();
                    let name = self.name(setting.next(), part_span)?;
                    let value = self.value(setting.next()?, part_span)?;
                    probe.settings.push((name, value));
                }
            }
        }
        Some(probe)
    }

    fn route(&mut self, pair: Pair<'_, Rule>) -> Option<Route> {
        let span = self.span(&pair);
        let keyword = self.keyword(&pair, "route").span;
        let mut kind = RouteKind::Http;
        let children = pair.into_inner();
        let mut alternatives =
            Vec::with_capacity(children.clone().filter(|c| c.as_rule() == Rule::alternative).count());
        let mut action = None;
        let mut options = Vec::new();
        for child in children {
            let child_span = self.span(&child);
            match child.as_rule() {
                Rule::route_kind => {
                    kind = if child.as_str() == "tcp" {
                        RouteKind::Tcp
                    } else {
                        RouteKind::Tls
                    };
                }
                Rule::alternative => {
                    let inner = child.into_inner();
                    let mut conditions = Vec::with_capacity(inner.len());
                    conditions.extend(inner.filter_map(|c| self.condition(c)));
                    conditions.shrink_to_fit();
                    alternatives.push(Alternative {
                        conditions,
                        span: child_span,
                    });
                }
                Rule::split => {
                    let inner = child.into_inner();
                    let mut entries = Vec::with_capacity(inner.len());
                    for entry in inner {
                        let entry_span = self.span(&entry);
                        let mut inner = entry.into_inner();
                        let name = self.name(inner.next(), entry_span);
                        let weight = self.number(inner.next(), entry_span);
                        if let (Some(name), Some(weight)) = (name, weight) {
                            entries.push(Weighted { name, weight });
                        }
                    }
                    entries.shrink_to_fit();
                    action = Some(Action::Split {
                        entries,
                        span: child_span,
                    });
                }
                Rule::single_target => {
                    action = self.name(child.into_inner().next(), child_span).map(Action::Single);
                }
                Rule::redirect_action => {
                    action = self
                        .string(child.into_inner().next(), child_span)
                        .map(|uri| Action::Redirect { uri, span: child_span });
                }
                Rule::respond_action => {
                    let mut inner = child.into_inner();
                    let status = self.number(inner.next(), child_span);
                    let body = inner.next().and_then(|b| self.string(Some(b), child_span));
                    action = status.map(|status| Action::Respond {
                        status,
                        body,
                        span: child_span,
                    });
                }
                Rule::route_option => options.extend(self.setting(child)),
                _ => {}
            }
        }
        let Some(action) = action else {
            self.internal(span, "route action");
            return None;
        };
        alternatives.shrink_to_fit();
        options.shrink_to_fit();
        Some(Route {
            keyword,
            kind,
            alternatives,
            action,
            options,
            span,
        })
    }

    fn condition(&mut self, pair: Pair<'_, Rule>) -> Option<Condition> {
        let span = self.span(&pair);
        let rule = pair.as_rule();
        let mut inner = pair.into_inner();
        Some(match rule {
            Rule::uri_cond => {
                let kind = self.name(inner.next(), span)?;
                let value = self.string(inner.next(), span)?;
                Condition::Uri { kind, value }
            }
            Rule::header_cond => {
                let name = self.name(inner.next(), span)?;
                let rest: Vec<Pair<'_, Rule>> = inner.collect();
                let matcher = if rest.first().is_some_and(|p| p.as_rule() == Rule::absent) {
                    None
                } else {
                    Some(self.str_match(rest, span)?)
                };
                Condition::Header { name, matcher, span }
            }
            Rule::query_cond => {
                let name = self.name(inner.next(), span)?;
                let matcher = self.str_match(inner.collect(), span)?;
                Condition::Query { name, matcher, span }
            }
            Rule::method_cond => {
                let part = inner.next()?;
                let value = if part.as_rule() == Rule::string {
                    self.string(Some(part), span)?
                } else {
                    Str {
                        value: part.as_str().to_string(),
                        span: self.span(&part),
                        vars: Vec::new(),
                    }
                };
                Condition::Method { value, span }
            }
            Rule::port_cond => Condition::Port {
                number: self.number(inner.next(), span)?,
                span,
            },
            Rule::from_cond => {
                let service = self.name(inner.next(), span)?;
                let version = inner.next().and_then(|v| self.name(Some(v), span));
                Condition::From { service, version, span }
            }
            Rule::sni_cond => Condition::Sni {
                value: self.string(inner.next(), span)?,
                span,
            },
            Rule::host_cond => Condition::Host {
                value: self.string(inner.next(), span)?,
                span,
            },
            _ => {
                let kind = self.name(inner.next(), span)?;
                let value = self.string(inner.next(), span)?;
                Condition::Other { kind, value }
            }
        })
    }

    /// `[exact|prefix|regex] "value"`
    fn str_match(&mut self, parts: Vec<Pair<'_, Rule>>, span: Span) -> Option<StrMatch> {
        let mut kind = None;
        let mut value = None;
        for part in parts {
            match part.as_rule() {
                Rule::match_type => kind = self.name(Some(part), span),
                Rule::string => value = self.string(Some(part), span),
                _ => {}
            }
        }
        let Some(value) = value else {
            self.internal(span, "string");
            return None;
        };
        Some(StrMatch { kind, value })
    }

    /// `key value...` in any of its forms.
    fn setting(&mut self, pair: Pair<'_, Rule>) -> Option<Setting> {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let key = self.name(inner.next(), span)?;
        let values = inner.filter_map(|p| self.value(p, span)).collect();
        Some(Setting { key, values, span })
    }

    fn value(&mut self, pair: Pair<'_, Rule>, parent: Span) -> Option<Value> {
        Some(match pair.as_rule() {
            Rule::string => Value::Str(self.string(Some(pair), parent)?),
            Rule::number => Value::Number(self.number(Some(pair), parent)?),
            Rule::duration => Value::Duration(Duration {
                text: pair.as_str().to_string(),
                span: self.span(&pair),
            }),
            Rule::var_ref => {
                let text = pair.as_str();
                let at = self.span(&pair);
                Value::Str(Str {
                    value: text.to_string(),
                    span: at,
                    vars: vec![VarRef {
                        name: text[2..text.len() - 1].to_string(),
                        span: at,
                        start: 0,
                        end: text.len(),
                    }],
                })
            }
            _ => Value::Word(self.name(Some(pair), parent)?),
        })
    }

    fn policy(&mut self, pair: Pair<'_, Rule>) -> PolicyBlock {
        let span = self.span(&pair);
        let settings = pair.into_inner().filter_map(|p| self.setting(p)).collect();
        PolicyBlock { settings, span }
    }

    fn external(&mut self, pair: Pair<'_, Rule>) -> Option<External> {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let name = self.name(inner.next(), span)?;
        let mut external = External {
            name,
            settings: Vec::new(),
            ports: Vec::new(),
            policies: Vec::new(),
            routes: Vec::new(),
            span,
        };
        for child in inner {
            match child.as_rule() {
                Rule::external_setting => external.settings.extend(self.setting(child)),
                Rule::port_decl => external.ports.extend(self.port(child)),
                Rule::policy_block => external.policies.push(self.policy(child)),
                Rule::route_decl => external.routes.extend(self.route(child)),
                _ => {}
            }
        }
        Some(external)
    }

    fn gateway(&mut self, pair: Pair<'_, Rule>) -> Option<Gateway> {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let name = self.name(inner.next(), span)?;
        let mut gateway = Gateway {
            name,
            listeners: Vec::new(),
            routes: Vec::new(),
            selector: Vec::new(),
            security: Vec::new(),
            span,
        };
        for child in inner {
            let child_span = self.span(&child);
            match child.as_rule() {
                Rule::listen_decl => {
                    let mut parts = child.into_inner();
                    let protocol = self.name(parts.next(), child_span);
                    let port = self.number(parts.next(), child_span);
                    let mut hosts = Vec::new();
                    let mut options = Vec::new();
                    for part in parts {
                        match part.as_rule() {
                            Rule::string => hosts.extend(self.string(Some(part), child_span)),
                            _ => options.extend(self.setting(part)),
                        }
                    }
                    if let (Some(protocol), Some(port)) = (protocol, port) {
                        gateway.listeners.push(Listener {
                            protocol,
                            port,
                            hosts,
                            options,
                            span: child_span,
                        });
                    }
                }
                Rule::route_decl => gateway.routes.extend(self.route(child)),
                Rule::security_decl => gateway.security.extend(self.setting(child)),
                Rule::selector_prop => {
                    let mut parts = child.into_inner();
                    let key = self.name(parts.next(), child_span);
                    let value = self.string(parts.next(), child_span);
                    if let (Some(key), Some(value)) = (key, value) {
                        gateway.selector.push((key, value));
                    }
                }
                _ => {}
            }
        }
        Some(gateway)
    }

    fn name(&mut self, pair: Option<Pair<'_, Rule>>, parent: Span) -> Option<Name> {
        let Some(pair) = pair else {
            self.internal(parent, "name");
            return None;
        };
        Some(Name {
            text: pair.as_str().to_string(),
            span: self.span(&pair),
        })
    }

    fn number(&mut self, pair: Option<Pair<'_, Rule>>, parent: Span) -> Option<Number> {
        let Some(pair) = pair else {
            self.internal(parent, "number");
            return None;
        };
        let raw = pair.as_str();
        let negative = raw.starts_with('-');
        let percent = raw.ends_with('%');
        let text = raw.trim_start_matches('-').trim_end_matches('%').to_string();
        let span = self.span(&pair);
        let number = Number {
            text,
            negative,
            percent,
            span,
        };
        if !number.is_fraction() && number.whole().is_none() {
            self.diagnostics.push(
                Diagnostic::error(Code::BadNumber, span, format!("the number `{raw}` is too large"))
                    .label("too large")
                    .help("numbers in .mesh files fit in 64 bits; ports and weights are far smaller"),
            );
        }
        Some(number)
    }

    fn string(&mut self, pair: Option<Pair<'_, Rule>>, parent: Span) -> Option<Str> {
        let Some(pair) = pair else {
            self.internal(parent, "string");
            return None;
        };
        let span = self.span(&pair);
        // Between the quotes (the grammar's `string` starts and ends with one).
        let text = pair.as_str();
        let raw = text.get(1..text.len().saturating_sub(1)).unwrap_or("");
        let (value, vars) = self.unescape(raw, pair.as_span().start() + 1);
        Some(Str { value, span, vars })
    }

    /// Decodes `\\`, `\"`, `\n`, `\t`, `\r`, `\$` and `\u{HEX}`, reports any other
    /// escape, and finds `${NAME}` references.
    pub(super) fn unescape(&mut self, raw: &str, offset: usize) -> (String, Vec<VarRef>) {
        if !raw.contains(['\\', '$']) {
            return (raw.to_string(), Vec::new());
        }
        let mut out = String::with_capacity(raw.len());
        let mut vars = Vec::new();
        let mut chars = raw.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if c == '$' && raw[i..].starts_with("${") {
                let body = &raw[i + 2..];
                let len = body
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(body.len());
                if len > 0 && body[len..].starts_with('}') {
                    let start = out.len();
                    out.push_str(&raw[i..i + len + 3]);
                    vars.push(VarRef {
                        name: body[..len].to_string(),
                        span: Span::new(self.source, offset + i, offset + i + len + 3),
                        start,
                        end: out.len(),
                    });
                    for _ in 0..len + 2 {
                        chars.next();
                    }
                } else {
                    self.diagnostics.push(
                        Diagnostic::error(
                            Code::BadVariable,
                            Span::new(self.source, offset + i, offset + i + 2),
                            "`${` must be followed by a variable name and `}`",
                        )
                        .label("unfinished variable")
                        .help("write `${NAME}` to use a variable, or `\\$` for a literal `$`"),
                    );
                }
                continue;
            }
            if c != '\\' {
                out.push(c);
                continue;
            }
            let Some((_, escaped)) = chars.next() else { break };
            match escaped {
                '\\' => out.push('\\'),
                '"' => out.push('"'),
                '$' => out.push('$'),
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                'u' => {
                    let rest = &raw[i + 2..];
                    let decoded = rest
                        .strip_prefix('{')
                        .and_then(|r| r.split_once('}'))
                        .and_then(|(hex, _)| {
                            let code = u32::from_str_radix(hex, 16).ok()?;
                            Some((char::from_u32(code)?, hex.len() + 2))
                        });
                    match decoded {
                        Some((ch, consumed)) => {
                            out.push(ch);
                            for _ in 0..consumed {
                                chars.next();
                            }
                        }
                        None => self.bad_escape(
                            offset + i,
                            2,
                            "`\\u` must be followed by a code point in braces, such as `\\u{e9}`",
                        ),
                    }
                }
                other => self.bad_escape(
                    offset + i,
                    1 + other.len_utf8(),
                    "the escapes are `\\\\`, `\\\"`, `\\n`, `\\t`, `\\r`, `\\$` and `\\u{HEX}`",
                ),
            }
        }
        (out, vars)
    }

    fn bad_escape(&mut self, at: usize, len: usize, help: &str) {
        self.diagnostics.push(
            Diagnostic::error(
                Code::BadEscape,
                Span::new(self.source, at, at + len),
                "unknown escape sequence in a string",
            )
            .label("this escape")
            .help(help),
        );
    }
}
