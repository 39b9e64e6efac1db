//! How a pod version's container runs: `resources`, `probe`, `relax` and `hardening`,
//! written on a service (the default of its pod versions) or on a pod version (which
//! overrides the service per resource and per probe kind, and adds to its relaxations).

use std::collections::BTreeMap;

use super::{suggest, Checker};
use crate::ast::{self, PropertyKind};
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::model::{self, Hardening, ProbeAction, ProbeKind};
use crate::source::Span;

/// What meshc writes for a resource neither the version nor its service sets:
/// (name, request, limit). Documented in the README ("Workload hardening").
pub(crate) const DEFAULT_RESOURCES: &[(&str, &str, &str)] = &[("cpu", "100m", "1"), ("memory", "128Mi", "512Mi")];
/// The default startup probe gives a slow application this long to open its port:
/// `failures` × `period` = 60 × 5 s = 5 minutes.
const STARTUP_PERIOD: u32 = 5;
const STARTUP_FAILURES: u32 = 60;

const RESOURCES: &[&str] = &["cpu", "memory", "ephemeral-storage"];
const METHODS: &[&str] = &["http", "tcp", "exec"];
const PROBE_SETTINGS: &[&str] = &["delay", "period", "timeout", "failures"];
const RELAX: &[&str] = &["writable-root", "image-user", "root", "token"];

/// The workload settings written at one level (a service or a pod version).
#[derive(Debug, Clone, Default)]
pub(super) struct Written {
    /// Resource name → (request, limit).
    resources: BTreeMap<String, (String, String)>,
    probes: BTreeMap<ProbeKind, model::Probe>,
    hardening: Hardening,
}

/// One Kubernetes quantity: `100m`, `0.5`, `128Mi`, `1G`.
struct Quantity {
    /// The value in thousandths of the unit, for comparing a request with its limit.
    millis: f64,
    suffix: &'static str,
}

const SUFFIXES: &[(&str, f64)] = &[
    ("Ki", 1024.0),
    ("Mi", 1_048_576.0),
    ("Gi", 1_073_741_824.0),
    ("Ti", 1_099_511_627_776.0),
    ("Pi", 1_125_899_906_842_624.0),
    ("Ei", 1_152_921_504_606_846_976.0),
    ("m", 0.001),
    ("k", 1e3),
    ("M", 1e6),
    ("G", 1e9),
    ("T", 1e12),
    ("P", 1e15),
    ("E", 1e18),
    ("", 1.0),
];

/// Reads a quantity in Kubernetes' format (without the rarely used exponent form).
fn quantity(text: &str) -> Option<Quantity> {
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, suffix) = text.split_at(split);
    let valid_number = !number.is_empty()
        && number.chars().filter(|&c| c == '.').count() <= 1
        && !number.starts_with('.')
        && !number.ends_with('.');
    if !valid_number {
        return None;
    }
    let value: f64 = number.parse().ok()?;
    let &(suffix, factor) = SUFFIXES.iter().find(|(s, _)| *s == suffix)?;
    Some(Quantity {
        millis: value * factor * 1000.0,
        suffix,
    })
}

impl Checker<'_> {
    /// Reads the workload settings of one level; `None` when one is wrong (reported).
    pub(super) fn workload_settings(
        &mut self,
        properties: &[&ast::Property],
        ports: &[model::Port],
    ) -> Option<Written> {
        let mut written = Written::default();
        let mut ok = true;
        let mut resource_spans: BTreeMap<String, Span> = BTreeMap::new();
        let mut probe_spans: BTreeMap<ProbeKind, Span> = BTreeMap::new();
        let mut hardening_span: Option<Span> = None;
        for property in properties {
            match &property.kind {
                PropertyKind::Resources(entries) => {
                    for (name, value) in entries {
                        if let Some(first) = resource_spans.insert(name.text.clone(), name.span) {
                            self.duplicate("resource", &name.text, name.span, first);
                            ok = false;
                        } else if let Some(pair) = self.resource(name, value) {
                            written.resources.insert(name.text.clone(), pair);
                        } else {
                            ok = false;
                        }
                    }
                }
                PropertyKind::Probe(probe) => match self.probe(probe, ports) {
                    Some(p) => {
                        if let Some(first) = probe_spans.insert(p.kind, probe.kind.span) {
                            self.duplicate("probe", p.kind.word(), probe.kind.span, first);
                            ok = false;
                        }
                        written.probes.insert(p.kind, p);
                    }
                    None => ok = false,
                },
                PropertyKind::Relax(words) => {
                    for word in words {
                        match word.text.as_str() {
                            "writable-root" => written.hardening.writable_root = true,
                            "image-user" => written.hardening.image_user = true,
                            "root" => {
                                written.hardening.root = true;
                                self.runs_as_root(word.span, "`relax root`");
                            }
                            "token" => written.hardening.token = true,
                            other => {
                                self.unknown_choice(
                                    word.span,
                                    other,
                                    RELAX,
                                    "relaxation",
                                    "not something meshc can relax",
                                );
                                ok = false;
                            }
                        }
                    }
                }
                PropertyKind::Hardening(word) => {
                    if let Some(first) = hardening_span.replace(property.key.span) {
                        self.duplicate("setting", "hardening", property.key.span, first);
                        ok = false;
                    } else if word.text == "off" {
                        written.hardening.off = true;
                        self.runs_as_root(word.span, "`hardening off`");
                    } else {
                        self.error(
                            Diagnostic::error(
                                Code::InvalidValue,
                                word.span,
                                format!("`hardening` takes `off`, not `{}`", word.text),
                            )
                            .label("not `off`")
                            .help("hardening is on by default; write `hardening off` only to turn it off"),
                        );
                        ok = false;
                    }
                }
                _ => {}
            }
        }
        ok.then_some(written)
    }

    /// A pod version's container settings: its own over its service's over meshc's
    /// defaults.
    pub(super) fn container_settings(
        &mut self,
        service: &Written,
        version: &Written,
        ports: &[model::Port],
    ) -> model::ContainerSettings {
        let mut resources = service.resources.clone();
        resources.extend(version.resources.clone());
        for (name, request, limit) in DEFAULT_RESOURCES {
            resources
                .entry((*name).to_string())
                .or_insert_with(|| ((*request).to_string(), (*limit).to_string()));
        }
        let mut probes = service.probes.clone();
        probes.extend(version.probes.clone());
        if let Some(port) = ports.iter().find(|p| p.protocol != model::Protocol::Udp) {
            for &kind in ProbeKind::ALL {
                probes.entry(kind).or_insert_with(|| default_probe(kind, port.target));
            }
        }
        let (s, v) = (service.hardening, version.hardening);
        model::ContainerSettings {
            requests: resources.iter().map(|(k, (r, _))| (k.clone(), r.clone())).collect(),
            limits: resources.into_iter().map(|(k, (_, l))| (k, l)).collect(),
            probes: probes.into_values().collect(),
            hardening: Hardening {
                off: s.off || v.off,
                writable_root: s.writable_root || v.writable_root,
                image_user: s.image_user || v.image_user,
                root: s.root || v.root,
                token: s.token || v.token,
            },
        }
    }

    fn runs_as_root(&mut self, span: Span, what: &str) {
        self.error(
            Diagnostic::warning(Code::RunsAsRoot, span, format!("{what} lets the container run as root"))
                .label("may run as root")
                .help("prefer an image that runs as a non-root user; `relax image-user` keeps its own user"),
        );
    }

    fn unknown_choice(&mut self, span: Span, word: &str, known: &[&str], kind: &str, label: &str) {
        let mut d = Diagnostic::error(Code::UnknownKeyword, span, format!("unknown {kind} `{word}`")).label(label);
        if let Some(suggestion) = suggest::did_you_mean(word, known, &format!("{kind}s")) {
            d = suggestion.on(d, span);
        }
        self.error(d);
    }

    /// `cpu 100m..500m`: (request, limit); one quantity is both.
    fn resource(&mut self, name: &ast::Name, value: &ast::Name) -> Option<(String, String)> {
        if !RESOURCES.contains(&name.text.as_str()) {
            self.unknown_choice(
                name.span,
                &name.text,
                RESOURCES,
                "resource",
                "not a resource meshc sets",
            );
            return None;
        }
        let (request, limit) = value.text.split_once("..").unwrap_or((&value.text, &value.text));
        let mut read = |text: &str| -> Option<Quantity> {
            let Some(q) = quantity(text) else {
                self.error(
                    Diagnostic::error(
                        Code::BadQuantity,
                        value.span,
                        format!("`{text}` is not a Kubernetes quantity"),
                    )
                    .label("not a quantity")
                    .help("write a number with an optional suffix, such as `100m`, `0.5`, `128Mi` or `1Gi`; a range is `REQUEST..LIMIT`"),
                );
                return None;
            };
            if name.text != "cpu" && q.suffix == "m" {
                self.error(
                    Diagnostic::error(
                        Code::BadQuantity,
                        value.span,
                        format!("`{text}` is {} thousandths of a byte", &text[..text.len() - 1]),
                    )
                    .label("`m` is milli, not mega")
                    .help(format!(
                        "write `{}Mi` (mebibytes) or `{}M` (megabytes)",
                        &text[..text.len() - 1],
                        &text[..text.len() - 1]
                    )),
                );
                return None;
            }
            Some(q)
        };
        let (req, lim) = (read(request), read(limit));
        let (req, lim) = (req?, lim?);
        if req.millis > lim.millis {
            self.error(
                Diagnostic::error(
                    Code::RequestOverLimit,
                    value.span,
                    format!(
                        "the {} request `{request}` is larger than its limit `{limit}`",
                        name.text
                    ),
                )
                .label("request above limit")
                .help("write the request first: `REQUEST..LIMIT`, with the request at most the limit"),
            );
            return None;
        }
        Some((request.to_string(), limit.to_string()))
    }

    fn probe(&mut self, probe: &ast::Probe, ports: &[model::Port]) -> Option<model::Probe> {
        let words: Vec<&str> = ProbeKind::ALL.iter().map(|k| k.word()).collect();
        let Some(kind) = ProbeKind::ALL.iter().copied().find(|k| k.word() == probe.kind.text) else {
            self.unknown_choice(
                probe.kind.span,
                &probe.kind.text,
                &words,
                "probe kind",
                "not a probe kind",
            );
            return None;
        };
        let method = probe.method.text.as_str();
        if !METHODS.contains(&method) {
            self.unknown_choice(probe.method.span, method, METHODS, "probe method", "not a probe method");
            return None;
        }
        let mut ok = true;
        let port = match &probe.port {
            Some(_) if method == "exec" => {
                self.probe_value(probe.method.span, "an `exec` probe runs a command and takes no `port`");
                return None;
            }
            Some(number) => {
                let port = self.port_number(number)?;
                if !ports
                    .iter()
                    .any(|p| p.target == port && p.protocol != model::Protocol::Udp)
                {
                    self.probe_port(
                        number.span,
                        format!(
                            "the {} probe checks port {port}, which the workload does not listen on",
                            kind.word()
                        ),
                        ports,
                    );
                    return None;
                }
                Some(port)
            }
            None if method == "http" => {
                let Some(p) = ports.iter().find(|p| p.protocol == model::Protocol::Http) else {
                    self.probe_port(
                        probe.method.span,
                        "an `http` probe needs an HTTP port, and the service has none".to_string(),
                        ports,
                    );
                    return None;
                };
                Some(p.target)
            }
            None => ports
                .iter()
                .find(|p| p.protocol != model::Protocol::Udp)
                .map(|p| p.target),
        };
        let args: Vec<String> = probe.args.iter().map(|a| a.value.clone()).collect();
        let action = match (method, port) {
            ("http", Some(port)) => match args.as_slice() {
                [path] if path.starts_with('/') => ProbeAction::Http {
                    path: path.clone(),
                    port,
                },
                _ => {
                    self.probe_value(probe.method.span, "an `http` probe takes one path starting with `/`");
                    return None;
                }
            },
            ("tcp", Some(port)) if args.is_empty() => ProbeAction::Tcp { port },
            ("tcp", None) => {
                self.probe_port(
                    probe.method.span,
                    "a `tcp` probe needs a TCP port, and the service has none".to_string(),
                    ports,
                );
                return None;
            }
            ("exec", _) if !args.is_empty() => ProbeAction::Exec(args),
            ("exec", _) => {
                self.probe_value(
                    probe.method.span,
                    "an `exec` probe takes the command to run, as strings",
                );
                return None;
            }
            _ => {
                self.probe_value(probe.method.span, "a `tcp` probe takes no strings");
                return None;
            }
        };
        let mut out = model::Probe {
            kind,
            action,
            delay: None,
            period: None,
            timeout: None,
            failures: None,
        };
        for (name, value) in &probe.settings {
            let (slot, min) = match name.text.as_str() {
                "delay" => (&mut out.delay, 0),
                "period" => (&mut out.period, 1),
                "timeout" => (&mut out.timeout, 1),
                "failures" => (&mut out.failures, 1),
                other => {
                    self.unknown_choice(name.span, other, PROBE_SETTINGS, "probe setting", "not a probe setting");
                    ok = false;
                    continue;
                }
            };
            let read = match (name.text.as_str(), value) {
                ("failures", ast::Value::Number(n)) if !n.negative && !n.percent => n.whole(),
                ("failures", _) => None,
                (_, ast::Value::Duration(d)) => d
                    .millis()
                    .filter(|ms| ms.fract() == 0.0 && (*ms as i64) % 1000 == 0)
                    .map(|ms| ms as i64 / 1000),
                _ => None,
            };
            match read.and_then(|v| u32::try_from(v).ok()).filter(|&v| v >= min) {
                Some(v) => *slot = Some(v),
                None => {
                    let what = if name.text == "failures" {
                        "`failures` takes a whole number, 1 or more"
                    } else {
                        "probe timings are whole seconds, such as `5s` or `1m`"
                    };
                    self.probe_value(value.span(), what);
                    ok = false;
                }
            }
        }
        ok.then_some(out)
    }

    fn probe_value(&mut self, span: Span, what: &str) {
        self.error(
            Diagnostic::error(Code::InvalidValue, span, what.to_string())
                .label("not a probe Kubernetes accepts")
                .help("write `probe readiness http \"/healthz\"`, `probe liveness tcp` or `probe startup exec \"cat\" \"/tmp/ready\"`"),
        );
    }

    fn probe_port(&mut self, span: Span, message: String, ports: &[model::Port]) {
        let listening: Vec<String> = ports
            .iter()
            .filter(|p| p.protocol != model::Protocol::Udp)
            .map(|p| format!("{} ({})", p.target, p.protocol.word()))
            .collect();
        let help = if listening.is_empty() {
            "the service has no TCP port to probe; use an `exec` probe".to_string()
        } else {
            format!(
                "the workload listens on {}; probe one of them, or use an `exec` probe",
                listening.join(", ")
            )
        };
        self.error(
            Diagnostic::error(Code::ProbePort, span, message)
                .label("no such port on the workload")
                .help(help),
        );
    }
}

/// meshc's probe of a kind when neither the version nor its service writes one: whether
/// the application accepts connections on its first TCP port, with a startup probe that
/// gives it five minutes to start before the liveness probe may restart it.
fn default_probe(kind: ProbeKind, port: u16) -> model::Probe {
    let startup = kind == ProbeKind::Startup;
    model::Probe {
        kind,
        action: ProbeAction::Tcp { port },
        delay: None,
        period: startup.then_some(STARTUP_PERIOD),
        timeout: None,
        failures: startup.then_some(STARTUP_FAILURES),
    }
}

#[cfg(test)]
mod tests {
    use super::quantity;

    #[test]
    fn quantities() {
        for ok in ["100m", "0.5", "1", "128Mi", "1Gi", "2G", "500k"] {
            assert!(quantity(ok).is_some(), "{ok}");
        }
        for bad in ["", "m", "1.5.3", ".5", "5.", "100mb", "1e3", "-1", "12 Mi"] {
            assert!(quantity(bad).is_none(), "{bad}");
        }
        let (a, b) = (
            quantity("128Mi").map(|q| q.millis),
            quantity("134217728").map(|q| q.millis),
        );
        assert_eq!(a, b);
        assert!(quantity("500m").map(|q| q.millis) < quantity("1").map(|q| q.millis));
    }
}
