//! The abstract syntax tree: what the file says, with a span on every node. Nothing here is
//! validated beyond the grammar; `check` decides what it means.

use serde::Serialize;

use crate::source::Span;

/// An identifier as written.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Name {
    pub text: String,
    pub span: Span,
}

/// A string literal, escapes decoded. Variable references (`${NAME}`) are still in
/// `value`, listed in `vars`, until `check` substitutes them.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Str {
    pub value: String,
    pub span: Span,
    pub vars: Vec<VarRef>,
}

/// `${NAME}` inside a value.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct VarRef {
    pub name: String,
    /// Where it is written in the source.
    pub span: Span,
    /// Its byte range in [`Str::value`].
    pub start: usize,
    pub end: usize,
}

/// A number literal: `8001`, `30%`, `-5`, `2.5`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Number {
    /// The digits as written, without a sign or `%`.
    pub text: String,
    pub negative: bool,
    pub percent: bool,
    pub span: Span,
}

impl Number {
    /// The value when it is a whole number that fits in an `i64`.
    pub fn whole(&self) -> Option<i64> {
        let magnitude: i64 = self.text.parse().ok()?;
        Some(if self.negative { -magnitude } else { magnitude })
    }

    pub fn is_fraction(&self) -> bool {
        self.text.contains('.')
    }

    /// A whole number too large to read; reported when the file is read, so later checks
    /// stay silent about it.
    pub fn too_large(&self) -> bool {
        !self.is_fraction() && self.whole().is_none()
    }
}

/// One parsed source file.
#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct File {
    /// `import "path"` statements; the command line loads these files, the library only
    /// sees the sources it is given.
    pub imports: Vec<Str>,
    pub namespaces: Vec<Namespace>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Namespace {
    pub name: Name,
    pub naming: Vec<NamingBlock>,
    /// `cluster { ... }` blocks, in order.
    pub clusters: Vec<ClusterBlock>,
    pub services: Vec<Service>,
    pub externals: Vec<External>,
    pub gateways: Vec<Gateway>,
    /// `mtls ...` settings of the namespace.
    pub security: Vec<Setting>,
    pub span: Span,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct NamingBlock {
    pub entries: Vec<NamingEntry>,
    pub span: Span,
}

/// `cluster { network kube-net  eastwest 203.0.113.10 }`
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ClusterBlock {
    /// Each setting's key and value, as written.
    pub settings: Vec<(Name, Str)>,
    pub span: Span,
}

/// `deployment "{service}-{version}"`
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct NamingEntry {
    pub key: Name,
    pub template: Str,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Service {
    pub name: Name,
    pub ports: Vec<Port>,
    pub calls: Vec<Call>,
    /// Workload settings written on the service (`resources`, `probe`, `relax`,
    /// `hardening`): the default of its pod versions.
    pub settings: Vec<Property>,
    pub versions: Vec<Version>,
    pub policies: Vec<PolicyBlock>,
    pub routes: Vec<Route>,
    /// `mtls`, `allow` and `jwt` settings.
    pub security: Vec<Setting>,
    pub span: Span,
}

/// `port http 8003 -> 8001`
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Port {
    pub protocol: Name,
    pub number: Number,
    pub target: Option<Number>,
    pub span: Span,
}

/// `calls hello2 via env HTTP_HELLO_BACKEND`
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Call {
    pub service: Name,
    pub env: Option<Name>,
    pub span: Span,
}

#[derive(Debug, Clone, Serialize, Copy, PartialEq, Eq)]
pub enum Runtime {
    Pod,
    Vm,
}

impl Runtime {
    pub fn keyword(self) -> &'static str {
        match self {
            Runtime::Pod => "pod",
            Runtime::Vm => "vm",
        }
    }
}

/// `pod v1 image "..."`, `vm v2 at 10.0.0.2`
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Version {
    pub runtime: Runtime,
    pub runtime_span: Span,
    pub name: Name,
    pub properties: Vec<Property>,
    /// Only in the braced form: `pod v1 { image "..." policy { ... } }`.
    pub policies: Vec<PolicyBlock>,
    pub span: Span,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Property {
    pub kind: PropertyKind,
    /// The keyword.
    pub key: Name,
    pub span: Span,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub enum PropertyKind {
    Image(Str),
    Replicas(Number),
    Env {
        name: Name,
        value: Str,
    },
    Label {
        key: Name,
        value: Str,
    },
    Annotation {
        key: Name,
        value: Str,
    },
    Account(Name),
    /// `agent none` or `agent istio`.
    Agent(Name),
    /// VM addresses, as written (unquoted or quoted).
    At(Vec<Str>),
    /// `network net2`: the VM's network.
    Network(Str),
    /// `locality "region/zone/subzone"`
    Locality(Str),
    /// `weight 10`
    Weight(Number),
    /// `auto-register`
    AutoRegister,
    /// `resources cpu 100m..500m memory 128Mi`: each resource and its quantity as written.
    Resources(Vec<(Name, Name)>),
    /// `probe readiness http "/healthz" port 8080 period 5s`
    Probe(Probe),
    /// `relax writable-root token`
    Relax(Vec<Name>),
    /// `hardening off`
    Hardening(Name),
    /// A property meshc does not know, kept for a precise diagnostic.
    Other(Vec<Literal>),
}

/// `probe KIND METHOD ["arg"...] [port N] [SETTING VALUE...]`
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Probe {
    /// `readiness`, `liveness` or `startup`.
    pub kind: Name,
    /// `http`, `tcp` or `exec`.
    pub method: Name,
    /// The path of `http`, the command of `exec`.
    pub args: Vec<Str>,
    pub port: Option<Number>,
    /// `delay 10s`, `period 5s`, `timeout 2s`, `failures 3`.
    pub settings: Vec<(Name, Value)>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub enum Literal {
    Str(Str),
    Number(Number),
}

impl Literal {
    pub fn span(&self) -> Span {
        match self {
            Literal::Str(s) => s.span,
            Literal::Number(n) => n.span,
        }
    }
}

/// A duration literal: `500ms`, `5s`, `1.5m`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Duration {
    pub text: String,
    pub span: Span,
}

impl Duration {
    /// The duration in milliseconds.
    pub fn millis(&self) -> Option<f64> {
        let split = self.text.find(|c: char| c.is_ascii_alphabetic())?;
        let (number, unit) = self.text.split_at(split);
        let value: f64 = number.parse().ok()?;
        let factor = match unit {
            "ms" => 1.0,
            "s" => 1_000.0,
            "m" => 60_000.0,
            "h" => 3_600_000.0,
            _ => return None,
        };
        Some(value * factor)
    }
}

/// One value of an option or setting list.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub enum Value {
    Str(Str),
    Number(Number),
    Duration(Duration),
    /// A bare word: `round-robin`, `reviews/v2`, `simple`.
    Word(Name),
}

impl Value {
    pub fn span(&self) -> Span {
        match self {
            Value::Str(s) => s.span,
            Value::Number(n) => n.span,
            Value::Duration(d) => d.span,
            Value::Word(w) => w.span,
        }
    }
}

/// `key value value ...`: a policy setting, a route option, a listener option, an
/// external service setting.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Setting {
    pub key: Name,
    pub values: Vec<Value>,
    pub span: Span,
}

/// `policy { ... }`
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PolicyBlock {
    pub settings: Vec<Setting>,
    pub span: Span,
}

#[derive(Debug, Clone, Serialize, Copy, PartialEq, Eq)]
pub enum RouteKind {
    Http,
    Tcp,
    Tls,
}

/// `route prefix "/hello" { v1 30% v2 70% }`; no condition means the default route.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Route {
    pub keyword: Span,
    pub kind: RouteKind,
    /// Alternatives (any may match), each a list of conditions (all must hold).
    pub alternatives: Vec<Alternative>,
    pub action: Action,
    pub options: Vec<Setting>,
    pub span: Span,
}

/// Conditions that must all hold: `prefix "/api" method GET`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Alternative {
    pub conditions: Vec<Condition>,
    pub span: Span,
}

/// A string condition: `"jason"`, `prefix "ja"`, `regex "^j"`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct StrMatch {
    /// `exact`, `prefix` or `regex`; `None` means exact.
    pub kind: Option<Name>,
    pub value: Str,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub enum Condition {
    /// `prefix "/a"`, `exact "/a"`, `regex "/a.*"`
    Uri {
        kind: Name,
        value: Str,
    },
    /// `header NAME ...`; `matcher` is `None` for `absent`.
    Header {
        name: Name,
        matcher: Option<StrMatch>,
        span: Span,
    },
    Query {
        name: Name,
        matcher: StrMatch,
        span: Span,
    },
    Method {
        value: Str,
        span: Span,
    },
    Port {
        number: Number,
        span: Span,
    },
    /// `from service [version]`
    From {
        service: Name,
        version: Option<Name>,
        span: Span,
    },
    Sni {
        value: Str,
        span: Span,
    },
    Host {
        value: Str,
        span: Span,
    },
    /// An unknown `word "value"`.
    Other {
        kind: Name,
        value: Str,
    },
}

impl Condition {
    pub fn span(&self) -> Span {
        match self {
            Condition::Uri { kind, value } | Condition::Other { kind, value } => kind.span.to(value.span),
            Condition::Header { span, .. }
            | Condition::Query { span, .. }
            | Condition::Method { span, .. }
            | Condition::Port { span, .. }
            | Condition::From { span, .. }
            | Condition::Sni { span, .. }
            | Condition::Host { span, .. } => *span,
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub enum Action {
    /// `{ v1 30% v2 70% }`
    Split { entries: Vec<Weighted>, span: Span },
    /// `-> v1`, `-> ratings`, `-> reviews/v2:9080`
    Single(Name),
    /// `redirect "/new"`
    Redirect { uri: Str, span: Span },
    /// `respond 503 "body"`
    Respond {
        status: Number,
        body: Option<Str>,
        span: Span,
    },
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Weighted {
    pub name: Name,
    pub weight: Number,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Gateway {
    pub name: Name,
    pub listeners: Vec<Listener>,
    pub routes: Vec<Route>,
    pub selector: Vec<(Name, Str)>,
    /// `jwt` and `identity` settings.
    pub security: Vec<Setting>,
    pub span: Span,
}

/// `listen http 8003 hosts "*"`
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Listener {
    pub protocol: Name,
    pub port: Number,
    pub hosts: Vec<Str>,
    pub options: Vec<Setting>,
    pub span: Span,
}

/// `external NAME { hosts "..." port https 443 resolution dns }`
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct External {
    pub name: Name,
    pub settings: Vec<Setting>,
    pub ports: Vec<Port>,
    pub policies: Vec<PolicyBlock>,
    pub routes: Vec<Route>,
    pub span: Span,
}
