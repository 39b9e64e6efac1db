//! Security settings: `mtls` (namespaces and services), `allow` and `jwt` (services),
//! `jwt` and `identity` (gateways), and the rule that ties mutual TLS to the Istio agent
//! of VM callers (M3050).

use super::{rules, Checker, Index, Scope};
use crate::ast::{Name, Setting, Value};
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::model::{self, Allow, GatewaySecurity, Jwt, MtlsMode, ServiceSecurity};
use crate::source::Span;

const ALLOW_KEYS: &[&str] = &["from", "methods", "paths"];
const JWT_KEYS: &[&str] = &[
    "issuer",
    "jwks",
    "audiences",
    "header",
    "prefix",
    "param",
    "forward",
    "optional",
    "claim",
];
const METHODS: &[&str] = &[
    "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
];

/// A sub-key of a setting and the values that follow it.
struct Clause<'s> {
    key: &'s Name,
    values: Vec<&'s Value>,
}

impl Checker<'_> {
    /// Splits `key value... key value...` at the words of `keys`; reports what comes before
    /// the first of them.
    fn clauses<'s>(&mut self, setting: &'s Setting, keys: &[&str]) -> Option<Vec<Clause<'s>>> {
        let mut out: Vec<Clause<'s>> = Vec::new();
        for value in &setting.values {
            match value {
                Value::Word(w) if keys.contains(&w.text.as_str()) => out.push(Clause {
                    key: w,
                    values: Vec::new(),
                }),
                _ => match out.last_mut() {
                    Some(clause) => clause.values.push(value),
                    None => {
                        let context = setting.key.text.as_str();
                        let words: Vec<String> = keys.iter().map(|k| format!("`{k}`")).collect();
                        let mut d = Diagnostic::error(
                            Code::UnknownKeyword,
                            value.span(),
                            format!("`{context}` expected one of its settings here"),
                        )
                        .label("not a setting of this line");
                        d = match value {
                            Value::Word(w) => match super::suggest::did_you_mean(&w.text, keys, "settings") {
                                Some(suggestion) => suggestion.on(d, w.span),
                                None => d.help(format!("`{context}` takes {}", words.join(", "))),
                            },
                            _ => d.help(format!("`{context}` takes {}", words.join(", "))),
                        };
                        self.error(d);
                        return None;
                    }
                },
            }
        }
        Some(out)
    }

    /// Reports a security setting written where it does not apply.
    fn misplaced_security(&mut self, setting: &Setting, place: &str, help: &str) {
        self.error(
            Diagnostic::error(
                Code::MisplacedProperty,
                setting.key.span,
                format!("`{}` does not apply to a {place}", setting.key.text),
            )
            .label(format!("not for a {place}"))
            .help(help.to_string()),
        );
    }

    /// `strict` or `permissive`.
    fn mtls_mode(&mut self, value: Option<&Value>, at: Span) -> Option<MtlsMode> {
        let word = match value {
            Some(Value::Word(w)) => Some(w.text.as_str()),
            _ => None,
        };
        match word {
            Some("strict") => Some(MtlsMode::Strict),
            Some("permissive") => Some(MtlsMode::Permissive),
            _ => {
                let span = value.map(Value::span).unwrap_or(at);
                self.error(
                    Diagnostic::error(Code::InvalidValue, span, "`mtls` takes `strict` or `permissive`")
                        .label("not a mutual TLS mode")
                        .help(
                            "write `mtls permissive` while clients without the Istio agent migrate, or `mtls strict`",
                        ),
                );
                None
            }
        }
    }

    /// The namespace's mode: STRICT unless an `mtls` line says otherwise.
    pub(super) fn namespace_mtls(&mut self, settings: &[&Setting]) -> MtlsMode {
        let mut mode = MtlsMode::Strict;
        let mut first: Option<Span> = None;
        for setting in settings {
            if setting.key.text != "mtls" {
                let help = match setting.key.text.as_str() {
                    "allow" | "jwt" => "write it in the service it protects",
                    _ => "write it in a gateway",
                };
                self.misplaced_security(setting, "namespace", help);
                continue;
            }
            if let Some(first) = first {
                self.duplicate_setting(setting, first);
                continue;
            }
            first = Some(setting.key.span);
            if setting.values.len() > 1 {
                self.error(
                    Diagnostic::error(
                        Code::MisplacedProperty,
                        setting.values[1].span(),
                        "a namespace's `mtls` takes only the mode",
                    )
                    .label("not for a namespace")
                    .help("set single ports in the service: `mtls permissive ports 8080`"),
                );
                continue;
            }
            if let Some(m) = self.mtls_mode(setting.values.first(), setting.key.span) {
                mode = m;
            }
        }
        mode
    }

    fn duplicate_setting(&mut self, setting: &Setting, first: Span) {
        self.set_twice(setting, first, "keep one of them");
    }

    /// A service's `mtls`, `allow` and `jwt` lines; `None` when one is wrong (reported).
    pub(super) fn service_security(
        &mut self,
        scope: &Scope<'_>,
        settings: &[Setting],
        ports: &[model::Port],
        index: &Index,
    ) -> Option<ServiceSecurity> {
        let ns = scope.name.text.as_str();
        let mut out = ServiceSecurity::default();
        let mut ok = true;
        let mut mtls_first: Option<Span> = None;
        let mut jwt_first: Option<Span> = None;
        for setting in settings {
            match setting.key.text.as_str() {
                "mtls" => ok &= self.service_mtls(setting, ports, &mut out, &mut mtls_first),
                "allow" => match self.allow(setting, ns, index) {
                    Some(allow) => out.allow.push(allow),
                    None => ok = false,
                },
                "jwt" => {
                    if let Some(first) = jwt_first {
                        self.duplicate_setting(setting, first);
                        ok = false;
                        continue;
                    }
                    jwt_first = Some(setting.key.span);
                    match self.jwt(setting) {
                        Some(_) if !ports.is_empty() && !ports.iter().any(|p| p.protocol.is_http()) => {
                            self.error(
                                Diagnostic::error(
                                    Code::InvalidJwt,
                                    setting.key.span,
                                    "a token is read from HTTP requests, and this service has no HTTP port",
                                )
                                .label("no request to read it from")
                                .help("Istio could never see a token here, so every request would be refused; remove `jwt`, or give the service an `http`, `http2` or `grpc` port"),
                            );
                            ok = false;
                        }
                        Some(jwt) => out.jwt = Some(jwt),
                        None => ok = false,
                    }
                }
                _ => {
                    self.misplaced_security(setting, "service", "write `identity` in a gateway");
                    ok = false;
                }
            }
        }
        out.port_mtls.sort();
        // Lines are alternatives: their order does not matter, so it does not reach output.
        out.allow
            .sort_by(|a, b| (&a.from, &a.methods, &a.paths).cmp(&(&b.from, &b.methods, &b.paths)));
        ok.then_some(out)
    }

    /// `mtls MODE` or `mtls MODE ports N...` (service ports or the ports they forward to).
    fn service_mtls(
        &mut self,
        setting: &Setting,
        ports: &[model::Port],
        out: &mut ServiceSecurity,
        first: &mut Option<Span>,
    ) -> bool {
        let Some(mode) = self.mtls_mode(setting.values.first(), setting.key.span) else {
            return false;
        };
        let rest = setting.values.get(1..).unwrap_or_default();
        let Some((head, numbers)) = rest.split_first() else {
            if let Some(first) = *first {
                self.duplicate_setting(setting, first);
                return false;
            }
            *first = Some(setting.key.span);
            out.mtls = Some(mode);
            return true;
        };
        if !matches!(head, Value::Word(w) if w.text == "ports") || numbers.is_empty() {
            self.error(
                Diagnostic::error(Code::InvalidValue, head.span(), "expected `ports` and port numbers")
                    .label("not `ports N`")
                    .help("write `mtls permissive` for the whole service, or `mtls permissive ports 8080`"),
            );
            return false;
        }
        let mut ok = true;
        for value in numbers {
            let number = match value {
                Value::Number(n) if !n.percent && !n.negative => n.whole().and_then(|w| u16::try_from(w).ok()),
                _ => None,
            };
            // A service port means the port it forwards to: Istio matches target ports.
            let target = number.and_then(|n| {
                ports
                    .iter()
                    .find(|p| p.number == n)
                    .or_else(|| ports.iter().find(|p| p.target == n))
                    .map(|p| p.target)
            });
            let Some(target) = target else {
                let list: Vec<String> = ports.iter().map(|p| p.number.to_string()).collect();
                self.error(
                    Diagnostic::error(Code::UnknownPort, value.span(), "the service has no such port")
                        .label("not a port of this service")
                        .help(format!("the service's ports are {}", list.join(", "))),
                );
                ok = false;
                continue;
            };
            if out.port_mtls.iter().any(|(p, _)| *p == target) {
                self.error(
                    Diagnostic::error(Code::Duplicate, value.span(), format!("port {target} is given twice"))
                        .label("again here")
                        .help("give each port's mode once"),
                );
                ok = false;
                continue;
            }
            out.port_mtls.push((target, mode));
        }
        ok
    }

    /// `allow from SERVICE... [methods M...] [paths "P"...]`
    fn allow(&mut self, setting: &Setting, ns: &str, index: &Index) -> Option<Allow> {
        let clauses = self.clauses(setting, ALLOW_KEYS)?;
        let mut from: Option<(String, String)> = None;
        let mut methods = Vec::new();
        let mut paths = Vec::new();
        let mut ok = true;
        for clause in &clauses {
            if clause.values.is_empty() {
                ok &= self.needs_value(clause.key);
                continue;
            }
            match clause.key.text.as_str() {
                "from" => {
                    for value in &clause.values {
                        let Value::Word(w) = value else {
                            ok &= self.not_a(value, "a service name", "`from web` or `from web.other-namespace`");
                            continue;
                        };
                        if from.is_some() {
                            self.error(
                                Diagnostic::error(Code::InvalidValue, w.span, "one `allow` line names one caller")
                                    .label("a second caller")
                                    .help("write one `allow` line per caller"),
                            );
                            ok = false;
                            continue;
                        }
                        match self.resolve_service(w, ns, index) {
                            Some(key) if index.get(&key).is_some_and(|f| f.external) => {
                                self.error(
                                    Diagnostic::error(
                                        Code::InvalidValue,
                                        w.span,
                                        format!("`{}` is an external service, which has no mesh identity", w.text),
                                    )
                                    .label("outside the mesh")
                                    .help("allow a service of the mesh"),
                                );
                                ok = false;
                            }
                            Some(key) => from = Some(key),
                            None => ok = false,
                        }
                    }
                }
                "methods" => {
                    for value in &clause.values {
                        let text = match value {
                            Value::Word(w) => Some(w.text.clone()),
                            Value::Str(s) => Some(s.value.clone()),
                            _ => None,
                        };
                        match text.filter(|t| METHODS.contains(&t.as_str())) {
                            Some(t) => methods.push(t),
                            None => ok &= self.not_a(value, "an HTTP method", "`GET`, `POST`, `PUT`, `DELETE`, ..."),
                        }
                    }
                }
                _ => {
                    for value in &clause.values {
                        match value {
                            Value::Str(s) if rules::authorization_path(&s.value).is_ok() => paths.push(s.value.clone()),
                            Value::Str(s) => {
                                let why = rules::authorization_path(&s.value).err().unwrap_or_default();
                                self.error(
                                    Diagnostic::error(
                                        Code::InvalidValue,
                                        s.span,
                                        format!("`{}` is not a path Istio can match: {why}", s.value),
                                    )
                                    .label("not a path match")
                                    .help(
                                        "write an exact path \"/a\", a prefix \"/api/*\", a suffix \"*.png\" or \"*\"",
                                    ),
                                );
                                ok = false;
                            }
                            _ => ok &= self.not_a(value, "a path in double quotes", "\"/api/*\""),
                        }
                    }
                }
            }
        }
        let Some(from) = from else {
            if ok {
                self.error(
                    Diagnostic::error(Code::InvalidValue, setting.key.span, "`allow` does not say who")
                        .label("no `from`")
                        .help("name the caller: `allow from web methods GET`"),
                );
            }
            return None;
        };
        methods.sort();
        methods.dedup();
        ok.then_some(Allow {
            from,
            methods,
            paths,
            span: setting.key.span,
        })
    }

    fn needs_value(&mut self, key: &Name) -> bool {
        self.error(
            Diagnostic::error(Code::InvalidValue, key.span, format!("`{}` needs a value", key.text))
                .label("no value")
                .help(format!("write what `{}` takes after it", key.text)),
        );
        false
    }

    fn not_a(&mut self, value: &Value, what: &str, example: &str) -> bool {
        self.error(
            Diagnostic::error(Code::InvalidValue, value.span(), format!("expected {what}"))
                .label(format!("not {what}"))
                .help(format!("write {example}")),
        );
        false
    }

    /// `jwt issuer "..." jwks "..." [audiences "a"...] [header NAME [prefix "..."]]
    /// [param NAME] [forward] [optional] [claim NAME "v"...]`
    fn jwt(&mut self, setting: &Setting) -> Option<Jwt> {
        let clauses = self.clauses(setting, JWT_KEYS)?;
        let mut jwt = Jwt {
            span: setting.key.span,
            ..Jwt::default()
        };
        let mut ok = true;
        let mut issuer: Option<Span> = None;
        let mut jwks: Option<Span> = None;
        for clause in &clauses {
            let key = clause.key.text.as_str();
            let flag = matches!(key, "forward" | "optional");
            if flag {
                if let Some(extra) = clause.values.first() {
                    self.error(
                        Diagnostic::error(Code::InvalidValue, extra.span(), format!("`{key}` takes no value"))
                            .label("unexpected value")
                            .help(format!("write `{key}` alone")),
                    );
                    ok = false;
                }
                if key == "forward" {
                    jwt.forward = true;
                } else {
                    jwt.optional = true;
                    self.error(
                        Diagnostic::warning(
                            Code::OptionalToken,
                            clause.key.span,
                            "requests without a token are let through",
                        )
                        .label("a token is optional here")
                        .help("Istio only refuses invalid tokens unless a policy requires one; remove `optional` to require a valid token"),
                    );
                }
                continue;
            }
            if clause.values.is_empty() {
                ok &= self.needs_value(clause.key);
                continue;
            }
            let texts: Vec<Option<&str>> = clause
                .values
                .iter()
                .map(|v| match v {
                    Value::Str(s) if s.vars.is_empty() => Some(s.value.as_str()),
                    Value::Word(w) => Some(w.text.as_str()),
                    _ => None,
                })
                .collect();
            if let Some(i) = texts.iter().position(Option::is_none) {
                ok &= self.not_a(clause.values[i], "a string", "a value in double quotes");
                continue;
            }
            let texts: Vec<&str> = texts.into_iter().flatten().collect();
            let single = matches!(key, "issuer" | "jwks" | "header" | "prefix" | "param");
            if single && texts.len() > 1 {
                self.error(
                    Diagnostic::error(
                        Code::InvalidValue,
                        clause.values[1].span(),
                        format!("`{key}` takes one value"),
                    )
                    .label("one too many")
                    .help(format!("write one value after `{key}`")),
                );
                ok = false;
                continue;
            }
            let span = clause.values[0].span();
            match key {
                "issuer" => {
                    if let Some(first) = issuer.replace(clause.key.span) {
                        self.twice(clause.key, first);
                        ok = false;
                    }
                    ok &= self.jwt_url(texts[0], span, "issuer", true);
                    jwt.issuer = texts[0].to_string();
                }
                "jwks" => {
                    if let Some(first) = jwks.replace(clause.key.span) {
                        self.twice(clause.key, first);
                        ok = false;
                    }
                    ok &= self.jwt_url(texts[0], span, "jwks", false);
                    jwt.jwks_uri = texts[0].to_string();
                }
                "audiences" => jwt.audiences.extend(texts.iter().map(|t| t.to_string())),
                "header" => jwt.from_headers.push((texts[0].to_string(), None)),
                "prefix" => match jwt.from_headers.last_mut() {
                    Some((_, prefix @ None)) => *prefix = Some(texts[0].to_string()),
                    _ => {
                        self.error(
                            Diagnostic::error(Code::InvalidValue, clause.key.span, "`prefix` follows a `header`")
                                .label("no header before it")
                                .help("write `header authorization prefix \"Bearer \"`"),
                        );
                        ok = false;
                    }
                },
                "param" => jwt.from_params.push(texts[0].to_string()),
                _ => {
                    let Some((claim, values)) = texts.split_first().filter(|(_, v)| !v.is_empty()) else {
                        ok &= self.needs_value(clause.key);
                        continue;
                    };
                    if let Err(why) = rules::claim_name(claim) {
                        self.error(
                            Diagnostic::error(
                                Code::InvalidValue,
                                span,
                                format!("`{claim}` is not a claim name: {why}"),
                            )
                            .label("not a claim name")
                            .help("write the claim's name, such as `claim groups \"admin\"`"),
                        );
                        ok = false;
                    }
                    jwt.claims
                        .push((claim.to_string(), values.iter().map(|v| v.to_string()).collect()));
                }
            }
        }
        for (seen, what) in [(issuer, "issuer"), (jwks, "jwks")] {
            if seen.is_none() && ok {
                self.error(
                    Diagnostic::error(Code::InvalidJwt, setting.key.span, format!("`jwt` has no `{what}`"))
                        .label(format!("no `{what}`"))
                        .help("write both: `jwt issuer \"https://issuer.example.com\" jwks \"https://issuer.example.com/jwks.json\"`"),
                );
                ok = false;
            }
        }
        ok.then_some(jwt)
    }

    fn twice(&mut self, key: &Name, first: Span) {
        self.error(
            Diagnostic::error(Code::Duplicate, key.span, format!("`{}` is given twice", key.text))
                .label("again here")
                .note(first, "first given here")
                .help("give it once"),
        );
    }

    /// The issuer is a URL (or, as in Istio's samples, an address such as
    /// `testing@secure.istio.io`); the key set is a URL fetched over HTTPS.
    fn jwt_url(&mut self, text: &str, span: Span, what: &str, issuer: bool) -> bool {
        let plain = text.strip_prefix("http://");
        let rest = text.strip_prefix("https://").or(plain);
        let host = rest.map(|r| r.split(['/', '?', '#']).next().unwrap_or_default());
        let url = host.is_some_and(|h| !h.is_empty()) && !text.contains(char::is_whitespace);
        let mail = issuer
            && !text.contains(char::is_whitespace)
            && text
                .split_once('@')
                .is_some_and(|(a, b)| !a.is_empty() && b.contains('.'));
        if !url && !mail {
            let example = if issuer {
                "\"https://issuer.example.com\""
            } else {
                "\"https://issuer.example.com/.well-known/jwks.json\""
            };
            self.error(
                Diagnostic::error(Code::InvalidJwt, span, format!("the `{what}` `{text}` is not a URL"))
                    .label("not an http(s) URL")
                    .help(format!("write the full URL, such as {example}")),
            );
            return false;
        }
        if !issuer && plain.is_some() {
            self.error(
                Diagnostic::error(Code::InsecureJwks, span, "the key set is fetched over plain HTTP")
                    .label("`http://`")
                    .help("anyone on the path could swap the keys and forge tokens; fetch it over `https://`"),
            );
            return false;
        }
        true
    }

    /// A gateway's `identity` and `jwt` lines.
    pub(super) fn gateway_security(&mut self, gateway: &crate::ast::Gateway) -> GatewaySecurity {
        let name = gateway.name.text.as_str();
        let mut identity = None;
        let mut jwt = None;
        let mut seen: Vec<(&str, Span)> = Vec::new();
        for setting in &gateway.security {
            let key = setting.key.text.as_str();
            if !matches!(key, "identity" | "jwt") {
                self.misplaced_security(
                    setting,
                    "gateway",
                    "write it in the service it protects, or in the namespace",
                );
                continue;
            }
            if let Some((_, first)) = seen.iter().find(|(k, _)| *k == key) {
                self.duplicate_setting(setting, *first);
                continue;
            }
            seen.push((key, setting.key.span));
            if key == "jwt" {
                jwt = self.jwt(setting);
                continue;
            }
            let parsed = match setting.values.as_slice() {
                [Value::Word(w)] => w
                    .text
                    .split_once('/')
                    .filter(|(n, a)| rules::dns_label(n).is_ok() && rules::dns_subdomain(a).is_ok()),
                _ => None,
            };
            match parsed {
                Some((n, a)) => identity = Some((n.to_string(), a.to_string())),
                None => {
                    let span = setting.values.first().map(Value::span).unwrap_or(setting.key.span);
                    self.error(
                        Diagnostic::error(
                            Code::InvalidValue,
                            span,
                            "`identity` takes the gateway's namespace and service account",
                        )
                        .label("not `namespace/account`")
                        .help("write `identity istio-system/istio-ingressgateway-service-account`"),
                    );
                }
            }
        }
        GatewaySecurity {
            gateway: name.to_string(),
            identity,
            jwt,
        }
    }

    /// M3050: a VM without the agent sends plain text, which a STRICT workload refuses.
    pub(super) fn plaintext_callers(&mut self, mesh: &model::Mesh) {
        let services: Vec<(&model::Namespace, &model::Service)> = mesh
            .namespaces
            .iter()
            .flat_map(|ns| ns.services.iter().map(move |s| (ns, s)))
            .collect();
        for (caller_ns, caller) in &services {
            for version in caller.versions.iter().filter(|v| !v.agent) {
                for (callee_ns, callee) in &services {
                    let calls = caller.calls.iter().any(|(_, host)| *host == callee.fqdn);
                    let allowed = callee
                        .security
                        .allow
                        .iter()
                        .any(|a| a.from.0 == caller_ns.name && a.from.1 == caller.name);
                    if !calls && !allowed {
                        continue;
                    }
                    let strict: Vec<String> = callee
                        .ports
                        .iter()
                        .filter(|p| callee.security.mode_on(p.target, callee_ns.mtls) == MtlsMode::Strict)
                        .map(|p| p.number.to_string())
                        .collect();
                    if strict.is_empty() {
                        continue;
                    }
                    self.error(
                        Diagnostic::error(
                            Code::PlaintextCaller,
                            version.span,
                            format!(
                                "VM version `{}` of `{}` runs no Istio agent, but calls `{}`, which accepts mutual TLS only",
                                version.name, caller.name, callee.name
                            ),
                        )
                        .label("sends plain text")
                        .note(callee.span, format!("`{}` refuses plain text on port {}", callee.name, strict.join(", ")))
                        .help(format!(
                            "write `mtls permissive` in service `{}` while the VM migrates, or run the agent on the VM (remove `agent none`)",
                            callee.name
                        )),
                    );
                }
            }
        }
    }
}
