//! The resolved mesh: every reference followed, every name generated, every default
//! applied, in canonical order. `emit` turns it into manifests without further decisions.

use std::collections::BTreeMap;

use crate::source::Span;

pub type Labels = BTreeMap<String, String>;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Mesh {
    /// Sorted by name.
    pub namespaces: Vec<Namespace>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Namespace {
    pub name: String,
    pub span: Span,
    /// Sorted by name.
    pub services: Vec<Service>,
    /// Sorted by name.
    pub gateways: Vec<Gateway>,
    /// ServiceAccounts to create, sorted and unique.
    pub accounts: Vec<String>,
}

/// The protocols Istio selects by port name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Protocol {
    Http,
    Http2,
    Https,
    Grpc,
    GrpcWeb,
    Tcp,
    Tls,
    Mongo,
    Mysql,
    Redis,
    Udp,
}

impl Protocol {
    pub const ALL: &'static [Protocol] = &[
        Protocol::Http,
        Protocol::Http2,
        Protocol::Https,
        Protocol::Grpc,
        Protocol::GrpcWeb,
        Protocol::Tcp,
        Protocol::Tls,
        Protocol::Mongo,
        Protocol::Mysql,
        Protocol::Redis,
        Protocol::Udp,
    ];

    /// The word used in `.mesh` files and as the Service port name prefix.
    pub fn word(self) -> &'static str {
        match self {
            Protocol::Http => "http",
            Protocol::Http2 => "http2",
            Protocol::Https => "https",
            Protocol::Grpc => "grpc",
            Protocol::GrpcWeb => "grpc-web",
            Protocol::Tcp => "tcp",
            Protocol::Tls => "tls",
            Protocol::Mongo => "mongo",
            Protocol::Mysql => "mysql",
            Protocol::Redis => "redis",
            Protocol::Udp => "udp",
        }
    }

    /// The name Istio's Gateway `port.protocol` field uses.
    pub fn istio_name(self) -> &'static str {
        match self {
            Protocol::Http => "HTTP",
            Protocol::Http2 => "HTTP2",
            Protocol::Https => "HTTPS",
            Protocol::Grpc => "GRPC",
            Protocol::GrpcWeb => "GRPC-WEB",
            Protocol::Tcp => "TCP",
            Protocol::Tls => "TLS",
            Protocol::Mongo => "MONGO",
            Protocol::Mysql => "MYSQL",
            Protocol::Redis => "REDIS",
            Protocol::Udp => "UDP",
        }
    }

    pub fn from_word(word: &str) -> Option<Protocol> {
        Protocol::ALL.iter().copied().find(|p| p.word() == word)
    }

    /// Whether Istio applies `http` routes on this port (plain-text HTTP family).
    pub fn is_http(self) -> bool {
        matches!(
            self,
            Protocol::Http | Protocol::Http2 | Protocol::Grpc | Protocol::GrpcWeb
        )
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Port {
    /// The Service port name: the protocol, suffixed with the number when the service has
    /// several ports of one protocol (`http`, `http-8080`).
    pub name: String,
    pub protocol: Protocol,
    pub number: u16,
    /// The port the workload listens on.
    pub target: u16,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Service {
    /// The name in the `.mesh` file.
    pub name: String,
    /// Where that name is declared.
    pub span: Span,
    /// The Kubernetes Service name (the mesh host's short name).
    pub host: String,
    /// `<host>.<namespace>.svc.<cluster domain>`
    pub fqdn: String,
    /// Label key and value the Service selects.
    pub selector: (String, String),
    /// The label key that tells versions apart.
    pub version_key: String,
    pub destination_rule: String,
    pub virtual_service: String,
    /// Sorted by port number.
    pub ports: Vec<Port>,
    /// Sorted by name.
    pub versions: Vec<Version>,
    /// In declaration order, ending with the default route (written or synthesised).
    pub routes: Vec<Route>,
}

impl Service {
    pub fn http_ports(&self) -> impl Iterator<Item = &Port> {
        self.ports.iter().filter(|p| p.protocol.is_http())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Version {
    pub name: String,
    /// Where the version is declared.
    pub span: Span,
    /// Every label of the workload: selector, version and user labels.
    pub labels: Labels,
    pub annotations: Labels,
    pub account: String,
    pub workload: Workload,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Workload {
    Pod(Pod),
    Vm(Vec<VmEntry>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Pod {
    pub deployment: String,
    pub image: String,
    pub replicas: i32,
    /// Sorted by name.
    pub env: Vec<(String, String)>,
}

/// One VM address, registered as one WorkloadEntry.
#[derive(Debug, Clone, PartialEq)]
pub struct VmEntry {
    pub name: String,
    pub address: String,
}

/// A URI condition.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum UriMatch {
    Prefix(String),
    Exact(String),
    Regex(String),
}

impl UriMatch {
    /// Whether every request this matches is also matched by `earlier`.
    pub fn covered_by(&self, earlier: &UriMatch) -> bool {
        match (earlier, self) {
            (UriMatch::Prefix(p), UriMatch::Prefix(q) | UriMatch::Exact(q)) => q.starts_with(p.as_str()),
            (UriMatch::Exact(a), UriMatch::Exact(b)) => a == b,
            (UriMatch::Regex(a), UriMatch::Regex(b)) => a == b,
            _ => false,
        }
    }
}

/// Conditions that must all hold. Empty means "everything".
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Conditions {
    pub uri: Option<UriMatch>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    /// Any may match; empty means the route matches every request.
    pub alternatives: Vec<Conditions>,
    pub destinations: Vec<Destination>,
    /// True for the catch-all meshc adds when the file has no default route.
    pub synthesised: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Destination {
    /// A version (DestinationRule subset); `None` means any workload of the service.
    pub subset: Option<String>,
    /// Percent; `None` when the destination is alone.
    pub weight: Option<u32>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Gateway {
    pub name: String,
    /// Where the gateway is declared.
    pub span: Span,
    pub virtual_service: String,
    pub selector: Labels,
    /// Sorted by port number.
    pub servers: Vec<Server>,
    /// Union of the servers' hosts, sorted.
    pub hosts: Vec<String>,
    pub routes: Vec<GatewayRoute>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Server {
    pub name: String,
    pub protocol: Protocol,
    pub number: u16,
    pub hosts: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct GatewayRoute {
    pub alternatives: Vec<Conditions>,
    /// FQDN of the target service.
    pub host: String,
    pub port: u16,
    pub destinations: Vec<Destination>,
}
