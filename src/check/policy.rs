//! `policy { ... }` blocks → DestinationRule traffic policies.

use std::collections::BTreeMap;

use super::settings::{Arg, ValueKind};
use super::{suggest, Checker};
use crate::ast::{PolicyBlock, Setting, Value};
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::model::{ClientTls, HttpPool, LoadBalancer, Outlier, Policy, TcpPool};

const SIMPLE_LB: &[(&str, &str)] = &[
    ("round-robin", "ROUND_ROBIN"),
    ("least-request", "LEAST_REQUEST"),
    ("random", "RANDOM"),
    ("passthrough", "PASSTHROUGH"),
];
const TLS_MODES: &[(&str, &str)] = &[
    ("disable", "DISABLE"),
    ("simple", "SIMPLE"),
    ("mutual", "MUTUAL"),
    ("istio-mutual", "ISTIO_MUTUAL"),
];
const CONNECTIONS: &[(&str, ValueKind)] = &[("max", ValueKind::Whole), ("connect-timeout", ValueKind::Duration)];
const HTTP: &[(&str, ValueKind)] = &[
    ("max-pending", ValueKind::Whole),
    ("max-requests", ValueKind::Whole),
    ("per-connection", ValueKind::Whole),
    ("max-retries", ValueKind::Whole),
    ("idle-timeout", ValueKind::Duration),
];
const OUTLIER: &[(&str, ValueKind)] = &[
    ("consecutive-errors", ValueKind::Whole),
    ("gateway-errors", ValueKind::Whole),
    ("interval", ValueKind::Duration),
    ("base-ejection", ValueKind::Duration),
    ("max-ejection", ValueKind::Percent),
    ("min-health", ValueKind::Percent),
];

impl Checker<'_> {
    /// Merges the policy blocks of one service, version or external service.
    pub(super) fn policy(&mut self, blocks: &[PolicyBlock]) -> Option<Policy> {
        let mut policy = Policy::default();
        let mut ok = true;
        let mut seen: BTreeMap<String, &Setting> = BTreeMap::new();
        for setting in blocks.iter().flat_map(|b| &b.settings) {
            if !self.once(&mut seen, setting) {
                ok = false;
                continue;
            }
            let read = match setting.key.text.as_str() {
                "lb" => self.load_balancer(setting).map(|lb| policy.lb = Some(lb)),
                "connections" => self.pairs(setting, &setting.values, CONNECTIONS).map(|args| {
                    policy.tcp = Some(TcpPool {
                        max_connections: args.get("max").and_then(Arg::whole),
                        connect_timeout: args.get("connect-timeout").and_then(Arg::text),
                    })
                }),
                "http" => self.pairs(setting, &setting.values, HTTP).map(|args| {
                    policy.http = Some(HttpPool {
                        max_pending: args.get("max-pending").and_then(Arg::whole),
                        max_requests: args.get("max-requests").and_then(Arg::whole),
                        per_connection: args.get("per-connection").and_then(Arg::whole),
                        max_retries: args.get("max-retries").and_then(Arg::whole),
                        idle_timeout: args.get("idle-timeout").and_then(Arg::text),
                    })
                }),
                "outlier" => self.outlier(setting).map(|o| policy.outlier = Some(o)),
                _ => self.client_tls(setting).map(|t| policy.tls = Some(t)),
            };
            if read.is_none() {
                ok = false;
                continue;
            }
            if setting.values.is_empty() {
                self.error(
                    Diagnostic::error(
                        Code::InvalidValue,
                        setting.key.span,
                        format!("`{}` sets nothing", setting.key.text),
                    )
                    .label("empty")
                    .help("Istio rejects an empty setting; give it a value or remove the line"),
                );
                ok = false;
            }
        }
        ok.then_some(policy)
    }

    fn load_balancer(&mut self, setting: &Setting) -> Option<LoadBalancer> {
        let words: Vec<&str> = SIMPLE_LB.iter().map(|(w, _)| *w).chain(["hash"]).collect();
        let Some(Value::Word(first)) = setting.values.first() else {
            self.error(
                Diagnostic::error(
                    Code::InvalidValue,
                    setting.span,
                    "`lb` needs a load-balancing algorithm",
                )
                .label("no algorithm")
                .help("write `lb round-robin`, `lb least-request`, `lb random` or `lb hash header \"x-user\"`"),
            );
            return None;
        };
        if let Some((_, mode)) = SIMPLE_LB.iter().find(|(w, _)| *w == first.text) {
            if let Some(extra) = setting.values.get(1) {
                self.error(
                    Diagnostic::error(
                        Code::InvalidValue,
                        extra.span(),
                        format!("`lb {}` takes nothing more", first.text),
                    )
                    .label("unexpected"),
                );
                return None;
            }
            return Some(LoadBalancer::Simple(mode));
        }
        if first.text != "hash" {
            let mut d = Diagnostic::error(
                Code::UnknownKeyword,
                first.span,
                format!("unknown load-balancing algorithm `{}`", first.text),
            )
            .label("not an algorithm");
            if let Some(suggestion) = suggest::did_you_mean(&first.text, &words, "algorithms") {
                d = suggestion.on(d, first.span);
            }
            self.error(d);
            return None;
        }
        let rest = &setting.values[1..];
        let on = |v: Option<&Value>| match v {
            Some(Value::Str(s)) => Some(s.value.clone()),
            _ => None,
        };
        match rest.first() {
            Some(Value::Word(w)) if w.text == "source-ip" && rest.len() == 1 => Some(LoadBalancer::HashSourceIp),
            Some(Value::Word(w)) if w.text == "header" && rest.len() == 2 => {
                on(rest.get(1)).map(LoadBalancer::HashHeader)
            }
            Some(Value::Word(w)) if w.text == "query" && rest.len() == 2 => {
                on(rest.get(1)).map(LoadBalancer::HashQuery)
            }
            Some(Value::Word(w)) if w.text == "cookie" && (rest.len() == 2 || rest.len() == 4) => {
                let name = on(rest.get(1))?;
                let ttl = match rest.get(2..) {
                    Some([Value::Word(t), value]) if t.text == "ttl" => {
                        match self.arg(value, ValueKind::Duration, "`ttl`")? {
                            Arg::Duration(d) => Some(d),
                            _ => None,
                        }
                    }
                    _ => None,
                };
                Some(LoadBalancer::HashCookie { name, ttl })
            }
            _ => {
                self.error(
                    Diagnostic::error(Code::InvalidValue, setting.span, "`lb hash` needs what to hash on")
                        .label("incomplete")
                        .help("write `lb hash header \"x-user\"`, `lb hash cookie \"user\" ttl 1h`, `lb hash query \"id\"` or `lb hash source-ip`"),
                );
                None
            }
        }
    }

    fn outlier(&mut self, setting: &Setting) -> Option<Outlier> {
        let args = self.pairs(setting, &setting.values, OUTLIER)?;
        let mut ok = true;
        let mut whole_percent = |this: &mut Self, name: &str| -> Option<u32> {
            let p = args.get(name).and_then(Arg::percent)?;
            if p.fract() != 0.0 {
                this.error(
                    Diagnostic::error(
                        Code::InvalidValue,
                        setting.span,
                        format!("`{name}` is a whole percentage"),
                    )
                    .label("fraction")
                    .help("Istio takes whole percentages here"),
                );
                ok = false;
                return None;
            }
            Some(p as u32)
        };
        let max_ejection = whole_percent(self, "max-ejection");
        let min_health = whole_percent(self, "min-health");
        ok.then(|| Outlier {
            consecutive_errors: args.get("consecutive-errors").and_then(Arg::whole),
            gateway_errors: args.get("gateway-errors").and_then(Arg::whole),
            interval: args.get("interval").and_then(Arg::text),
            base_ejection: args.get("base-ejection").and_then(Arg::text),
            max_ejection,
            min_health,
        })
    }

    fn client_tls(&mut self, setting: &Setting) -> Option<ClientTls> {
        let words: Vec<&str> = TLS_MODES.iter().map(|(w, _)| *w).collect();
        let Some(Value::Word(mode_word)) = setting.values.first() else {
            self.error(
                Diagnostic::error(Code::InvalidValue, setting.span, "`tls` needs a mode")
                    .label("no mode")
                    .help("write `tls istio-mutual`, `tls simple`, `tls mutual credential \"name\"` or `tls disable`"),
            );
            return None;
        };
        let Some((_, mode)) = TLS_MODES.iter().find(|(w, _)| *w == mode_word.text) else {
            let mut d = Diagnostic::error(
                Code::UnknownKeyword,
                mode_word.span,
                format!("unknown TLS mode `{}`", mode_word.text),
            )
            .label("not a TLS mode");
            if let Some(suggestion) = suggest::did_you_mean(&mode_word.text, &words, "TLS modes") {
                d = suggestion.on(d, mode_word.span);
            }
            self.error(d);
            return None;
        };
        let args = self.pairs(
            setting,
            &setting.values[1..],
            &[("credential", ValueKind::Str), ("sni", ValueKind::Str)],
        )?;
        let credential = args.get("credential").and_then(Arg::text);
        if *mode == "MUTUAL" && credential.is_none() {
            self.error(
                Diagnostic::error(Code::InvalidValue, mode_word.span, "`tls mutual` needs the client certificate")
                    .label("no credential")
                    .help("name the Kubernetes secret holding the client certificate: `tls mutual credential \"client-cert\"`"),
            );
            return None;
        }
        if matches!(*mode, "DISABLE" | "ISTIO_MUTUAL") && !args.is_empty() {
            self.error(
                Diagnostic::error(
                    Code::InvalidValue,
                    setting.span,
                    format!("`tls {}` takes no certificate or SNI", mode_word.text),
                )
                .label("extra settings")
                .help("Istio manages the certificates of `istio-mutual`; `disable` sends plain text"),
            );
            return None;
        }
        Some(ClientTls {
            mode,
            credential,
            sni: args.get("sni").and_then(Arg::text),
        })
    }
}
