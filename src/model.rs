//! The resolved mesh: every reference followed, every name generated, every default
//! applied, in canonical order. `emit` turns it into manifests without further decisions.

use serde::Serialize;

use crate::source::Span;

pub type Labels = litemap::LiteMap<String, String>;

/// A part of the model that is empty for almost every route or destination (options, header
/// changes), kept out of line: one pointer until something is set. Reads see the empty
/// value; the first write through `DerefMut` makes room. Compares, prints and serialises as
/// the value it holds.
#[derive(Clone)]
pub struct Sparse<T: Empty>(Option<Box<T>>);

/// A type with a shared empty value, for [`Sparse`].
pub trait Empty: Default + 'static {
    const EMPTY: &'static Self;
    fn is_empty(&self) -> bool;
}

impl<T: Empty> Sparse<T> {
    /// `value`, out of line unless it is empty.
    pub fn new(value: T) -> Self {
        Sparse((!value.is_empty()).then(|| Box::new(value)))
    }
}

impl<T: Empty> Default for Sparse<T> {
    fn default() -> Self {
        Sparse(None)
    }
}

impl<T: Empty> std::ops::Deref for Sparse<T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.0.as_deref().unwrap_or(T::EMPTY)
    }
}

impl<T: Empty> std::ops::DerefMut for Sparse<T> {
    fn deref_mut(&mut self) -> &mut T {
        self.0.get_or_insert_with(Box::default)
    }
}

impl<T: Empty + PartialEq> PartialEq for Sparse<T> {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl<T: Empty + std::fmt::Debug> std::fmt::Debug for Sparse<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        (**self).fmt(f)
    }
}

impl<T: Empty + Serialize> Serialize for Sparse<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        (**self).serialize(serializer)
    }
}

/// Where each part of a route is written, by keyword (`fault`, `retries`, `path`,
/// `header x-user`, `from`, ...), so that a target refusing it can point at it. Not part of
/// the value: two routes with the same options or conditions compare equal wherever they
/// are written.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Spans(Vec<(String, Span)>);

impl Spans {
    /// Records where `key` is written; the first place wins.
    pub fn insert(&mut self, key: impl Into<String>, span: Span) {
        let key = key.into();
        if self.get(&key).is_none() {
            self.0.push((key, span));
        }
    }

    pub fn get(&self, key: &str) -> Option<Span> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, span)| *span)
    }
}

impl PartialEq for Spans {
    fn eq(&self, _: &Spans) -> bool {
        true
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct Mesh {
    /// Sorted by name.
    pub namespaces: Vec<Namespace>,
}

impl Mesh {
    /// The service `name` of namespace `namespace`, found by binary search (both lists are
    /// sorted by name).
    pub fn service(&self, namespace: &str, name: &str) -> Option<&Service> {
        let ns = self
            .namespaces
            .binary_search_by(|n| n.name.as_str().cmp(namespace))
            .ok()
            .and_then(|i| self.namespaces.get(i))?;
        let i = ns.services.binary_search_by(|s| s.name.as_str().cmp(name)).ok()?;
        ns.services.get(i)
    }
}

impl Namespace {
    /// The security of gateway `name`, found by binary search (the list is sorted by
    /// gateway name).
    pub fn security_of(&self, gateway: &str) -> Option<&GatewaySecurity> {
        let i = self
            .gateway_security
            .binary_search_by(|s| s.gateway.as_str().cmp(gateway))
            .ok()?;
        self.gateway_security.get(i)
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Namespace {
    pub name: String,
    pub span: Span,
    /// Sorted by name.
    pub services: Vec<Service>,
    /// Sorted by name.
    pub externals: Vec<External>,
    /// Sorted by name.
    pub gateways: Vec<Gateway>,
    /// ServiceAccounts to create, sorted and unique.
    pub accounts: Vec<String>,
    /// The mutual TLS the namespace's workloads accept (`mtls permissive`; STRICT by default).
    pub mtls: MtlsMode,
    /// One per gateway, sorted by gateway name.
    pub gateway_security: Vec<GatewaySecurity>,
    /// What the namespace's VMs need to know about the cluster (`cluster { ... }`).
    pub cluster: Cluster,
}

/// The mutual TLS a workload accepts (PeerAuthentication `mtls.mode`).
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum MtlsMode {
    /// Mutual TLS only.
    #[default]
    Strict,
    /// Mutual TLS and plain text, while clients migrate.
    Permissive,
}

impl MtlsMode {
    /// The PeerAuthentication mode.
    pub fn istio_name(self) -> &'static str {
        match self {
            MtlsMode::Strict => "STRICT",
            MtlsMode::Permissive => "PERMISSIVE",
        }
    }
}

/// What a service says about who may call it and how.
#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct ServiceSecurity {
    /// The service's own mode; `None` takes the namespace's.
    pub mtls: Option<MtlsMode>,
    /// Modes of single ports, by target port, sorted.
    pub port_mtls: Vec<(u16, MtlsMode)>,
    /// `allow` rules, in written order.
    pub allow: Vec<Allow>,
    pub jwt: Option<Jwt>,
}

impl ServiceSecurity {
    /// The mode a target port accepts, given the namespace's.
    pub fn mode_on(&self, port: u16, namespace: MtlsMode) -> MtlsMode {
        self.port_mtls
            .iter()
            .find(|(p, _)| *p == port)
            .map(|(_, m)| *m)
            .or(self.mtls)
            .unwrap_or(namespace)
    }
}

/// `allow from web methods GET paths "/api/*"`: a caller, and what it may do (nothing
/// listed means anything).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Allow {
    /// Namespace and `.mesh` name of the calling service.
    pub from: (String, String),
    pub methods: Vec<String>,
    pub paths: Vec<String>,
    pub span: Span,
}

/// `jwt issuer "..." jwks "..."`: tokens a workload accepts, and whether it requires one.
#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct Jwt {
    pub issuer: String,
    pub jwks_uri: String,
    pub audiences: Vec<String>,
    /// Headers the token is read from, with the prefix before it (`Bearer `).
    pub from_headers: Vec<(String, Option<String>)>,
    pub from_params: Vec<String>,
    /// Pass the token on to the workload.
    pub forward: bool,
    /// `optional`: requests without a token are let through (only invalid tokens are
    /// refused).
    pub optional: bool,
    /// Claims the token must carry: (claim, accepted values).
    pub claims: Vec<(String, Vec<String>)>,
    pub span: Span,
}

/// `cluster { network kube-net  eastwest 203.0.113.10  revision canary }`: unset fields
/// take Istio's defaults (no network name, istiod without revision).
#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct Cluster {
    /// The cluster's network (`topology.istio.io/network`).
    pub network: Option<String>,
    /// The east-west gateway's address: how VMs reach istiod and, across networks, the
    /// services.
    pub eastwest: Option<String>,
    /// The istiod revision the VMs' agents connect to.
    pub revision: Option<String>,
}

/// The protocols Istio selects by port name.
#[derive(Debug, Clone, Serialize, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
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

    /// The Kubernetes port protocol: `UDP` for udp, `TCP` for everything else.
    pub fn transport(self) -> &'static str {
        if self == Protocol::Udp {
            "UDP"
        } else {
            "TCP"
        }
    }

    /// Whether Istio applies `http` routes on this port (plain-text HTTP family).
    pub fn is_http(self) -> bool {
        matches!(
            self,
            Protocol::Http | Protocol::Http2 | Protocol::Grpc | Protocol::GrpcWeb
        )
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Port {
    /// The Service port name: the protocol, suffixed with the number when the service has
    /// several ports of one protocol (`http`, `http-8080`).
    pub name: String,
    pub protocol: Protocol,
    pub number: u16,
    /// The port the workload listens on.
    pub target: u16,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
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
    pub policy: Sparse<Policy>,
    /// In declaration order, ending with the default route (written or synthesised).
    pub routes: Vec<Route>,
    /// Namespace and host of every service and external host it calls, sorted (for
    /// Sidecar scoping).
    pub calls: Vec<(String, String)>,
    pub security: ServiceSecurity,
}

impl Service {
    pub fn http_ports(&self) -> impl Iterator<Item = &Port> {
        self.ports.iter().filter(|p| p.protocol.is_http())
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Version {
    pub name: String,
    /// Where the version is declared.
    pub span: Span,
    /// Every label of the workload: selector, version and user labels.
    pub labels: Labels,
    pub annotations: Labels,
    pub account: String,
    pub policy: Sparse<Policy>,
    pub workload: Workload,
    /// Whether the workload runs the Istio agent (always for pods; `agent none` on a VM).
    pub agent: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub enum Workload {
    Pod(Pod),
    Vm(Vm),
}

/// The VMs of one version: a WorkloadGroup, a WorkloadEntry per static address, and what
/// runs on them.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Vm {
    /// One per address, in written order; empty when the VMs only auto-register.
    pub entries: Vec<VmEntry>,
    /// The WorkloadGroup's name (the `deployment` naming template).
    pub group: String,
    /// `auto-register`: further VMs may join the group on their own.
    pub auto_register: bool,
    /// The container the VM runs with `docker run`, when the `.mesh` says.
    pub image: Option<String>,
    /// As for a pod: called services' addresses, then the version's own variables.
    pub env: Vec<(String, String)>,
    /// Written, or else the cluster's.
    pub network: Option<String>,
    pub locality: Option<String>,
    pub weight: Option<u32>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Pod {
    pub deployment: String,
    pub image: String,
    pub replicas: i32,
    /// Addresses of called services (sorted by name), then the version's own variables as
    /// written.
    pub env: Vec<(String, String)>,
    /// How the container runs: resources, probes, hardening.
    pub container: ContainerSettings,
}

/// A pod version's `resources`, `probe`s, `relax` and `hardening`, with the service's as
/// defaults and meshc's defaults for what neither says.
#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct ContainerSettings {
    /// Resource name → quantity as written (`cpu` → `100m`).
    pub requests: Labels,
    pub limits: Labels,
    /// At most one per kind, sorted by kind.
    pub probes: Vec<Probe>,
    pub hardening: Hardening,
}

/// Which parts of the default hardening apply.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, Default)]
pub struct Hardening {
    /// `hardening off`: no security context, the token mounted.
    pub off: bool,
    /// `relax writable-root`: a writable root filesystem.
    pub writable_root: bool,
    /// `relax image-user`: the image's own (non-root) user instead of meshc's UID.
    pub image_user: bool,
    /// `relax root`: the image's user, which may be root.
    pub root: bool,
    /// `relax token`: the service account token mounted.
    pub token: bool,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub enum ProbeKind {
    Startup,
    Readiness,
    Liveness,
}

impl ProbeKind {
    pub const ALL: &'static [ProbeKind] = &[ProbeKind::Startup, ProbeKind::Readiness, ProbeKind::Liveness];

    pub fn word(self) -> &'static str {
        match self {
            ProbeKind::Startup => "startup",
            ProbeKind::Readiness => "readiness",
            ProbeKind::Liveness => "liveness",
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Probe {
    pub kind: ProbeKind,
    pub action: ProbeAction,
    /// Whole seconds.
    pub delay: Option<u32>,
    pub period: Option<u32>,
    pub timeout: Option<u32>,
    pub failures: Option<u32>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub enum ProbeAction {
    Http { path: String, port: u16 },
    Tcp { port: u16 },
    Exec(Vec<String>),
}

/// One VM address, registered as one WorkloadEntry.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct VmEntry {
    pub name: String,
    pub address: String,
}

/// How a string is matched.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StringMatch {
    Exact(String),
    Prefix(String),
    Regex(String),
}

impl StringMatch {
    /// Whether every string this matches is also matched by `earlier`.
    pub fn covered_by(&self, earlier: &StringMatch) -> bool {
        match (earlier, self) {
            (StringMatch::Prefix(p), StringMatch::Prefix(q) | StringMatch::Exact(q)) => q.starts_with(p.as_str()),
            (StringMatch::Exact(a), StringMatch::Exact(b)) => a == b,
            (StringMatch::Regex(a), StringMatch::Regex(b)) => a == b,
            _ => false,
        }
    }
}

/// A header condition: a match, or the header's absence.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HeaderMatch {
    Is(StringMatch),
    Absent,
}

/// Requests sent by a workload: `from reviews v2`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, Hash)]
pub struct SourceMatch {
    pub labels: Labels,
    /// Set when the source lives in another namespace than the route.
    pub namespace: Option<String>,
}

/// Conditions that must all hold. Empty means "everything".
#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct Conditions {
    pub uri: Option<StringMatch>,
    /// Sorted by header name.
    pub headers: Vec<(String, HeaderMatch)>,
    /// Sorted by parameter name.
    pub query: Vec<(String, StringMatch)>,
    pub method: Option<String>,
    pub port: Option<u16>,
    pub source: Option<SourceMatch>,
    /// TLS routes: SNI host names, sorted.
    pub sni: Vec<String>,
    /// Gateway routes: the request host this route is for.
    pub host: Option<String>,
    /// Where each condition is written: `path`, `method`, `port`, `from`, `sni`, `host`,
    /// `header NAME`, `query NAME`.
    pub spans: Spans,
}

impl Conditions {
    /// Whether these conditions hold for every request.
    pub fn matches_everything(&self) -> bool {
        Conditions::default().covered_by(self)
    }

    /// Whether every request matching `self` also matches `earlier`.
    pub fn covered_by(&self, earlier: &Conditions) -> bool {
        fn option<T: PartialEq>(earlier: &Option<T>, this: &Option<T>) -> bool {
            earlier.is_none() || earlier == this
        }
        let uri = match (&earlier.uri, &self.uri) {
            (None, _) => true,
            // Every path starts with `/`.
            (Some(StringMatch::Prefix(p)), _) if p == "/" => true,
            (Some(e), Some(t)) => t.covered_by(e),
            (Some(_), None) => false,
        };
        let headers = earlier.headers.iter().all(|(name, e)| {
            self.headers.iter().any(|(n, t)| {
                n == name
                    && match (e, t) {
                        (HeaderMatch::Absent, HeaderMatch::Absent) => true,
                        (HeaderMatch::Is(e), HeaderMatch::Is(t)) => t.covered_by(e),
                        _ => false,
                    }
            })
        });
        let query = earlier
            .query
            .iter()
            .all(|(name, e)| self.query.iter().any(|(n, t)| n == name && t.covered_by(e)));
        let sni = earlier.sni.is_empty() || (!self.sni.is_empty() && self.sni.iter().all(|h| earlier.sni.contains(h)));
        uri && headers
            && query
            && sni
            && option(&earlier.method, &self.method)
            && option(&earlier.port, &self.port)
            && option(&earlier.source, &self.source)
            && option(&earlier.host, &self.host)
    }
}

#[derive(Debug, Clone, Serialize, Copy, PartialEq, Eq)]
pub enum RouteKind {
    Http,
    Tcp,
    Tls,
}

impl RouteKind {
    /// Whether routes of this kind apply to a port of this protocol.
    pub fn carries(self, protocol: Protocol) -> bool {
        match self {
            RouteKind::Http => protocol.is_http(),
            RouteKind::Tls => matches!(protocol, Protocol::Tls | Protocol::Https),
            RouteKind::Tcp => matches!(
                protocol,
                Protocol::Tcp | Protocol::Mongo | Protocol::Mysql | Protocol::Redis
            ),
        }
    }

    pub fn word(self) -> &'static str {
        match self {
            RouteKind::Http => "HTTP",
            RouteKind::Tcp => "TCP",
            RouteKind::Tls => "TLS",
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Route {
    pub kind: RouteKind,
    /// Where the route is written (its `route` keyword); for a synthesised default route,
    /// the declaration of what it belongs to.
    pub span: Span,
    pub name: Option<String>,
    /// Any may match; empty means the route matches every request.
    pub alternatives: Vec<Conditions>,
    pub action: Action,
    pub options: Sparse<RouteOptions>,
    /// True for the catch-all meshc adds when the file has no default route.
    pub synthesised: bool,
}

impl Route {
    /// Whether every request this route matches is matched by one of `earlier` of its kind.
    pub fn taken_by(&self, earlier: &[Route]) -> bool {
        let everything = [Conditions::default()];
        let alternatives = if self.alternatives.is_empty() {
            &everything[..]
        } else {
            &self.alternatives
        };
        let earlier: Vec<&Route> = earlier.iter().filter(|r| r.kind == self.kind).collect();
        alternatives.iter().all(|a| {
            earlier
                .iter()
                .any(|e| e.alternatives.is_empty() || e.alternatives.iter().any(|b| a.covered_by(b)))
        })
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub enum Action {
    Forward(Vec<Destination>),
    Redirect(Redirect),
    Respond { status: u16, body: Option<String> },
}

#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct Redirect {
    pub uri: String,
    pub authority: Option<String>,
    pub scheme: Option<String>,
    pub code: Option<u16>,
}

/// What an HTTP route does besides choosing destinations.
#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct RouteOptions {
    pub timeout: Option<String>,
    pub retries: Option<Retries>,
    pub delay: Option<(String, f64)>,
    pub abort: Option<(u16, f64)>,
    pub rewrite_uri: Option<String>,
    pub rewrite_authority: Option<String>,
    pub mirror: Option<(Destination, Option<f64>)>,
    pub request_headers: HeaderOps,
    pub response_headers: HeaderOps,
    pub cors: Option<Cors>,
    /// Where each option is written, by its keyword.
    pub spans: Spans,
}

impl Empty for RouteOptions {
    const EMPTY: &'static Self = &RouteOptions {
        timeout: None,
        retries: None,
        delay: None,
        abort: None,
        rewrite_uri: None,
        rewrite_authority: None,
        mirror: None,
        request_headers: HeaderOps::NONE,
        response_headers: HeaderOps::NONE,
        cors: None,
        spans: Spans(Vec::new()),
    };

    fn is_empty(&self) -> bool {
        self.spans.0.is_empty() && self == Self::EMPTY
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Retries {
    pub attempts: u32,
    pub per_try_timeout: Option<String>,
    pub retry_on: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct HeaderOps {
    pub set: Labels,
    pub add: Labels,
    pub remove: Vec<String>,
}

impl HeaderOps {
    const NONE: HeaderOps = HeaderOps {
        set: Labels::new_vec(),
        add: Labels::new_vec(),
        remove: Vec::new(),
    };

    pub fn is_empty(&self) -> bool {
        self.set.is_empty() && self.add.is_empty() && self.remove.is_empty()
    }
}

impl Empty for HeaderOps {
    const EMPTY: &'static Self = &HeaderOps::NONE;

    fn is_empty(&self) -> bool {
        HeaderOps::is_empty(self)
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct Cors {
    pub origins: Vec<StringMatch>,
    pub methods: Vec<String>,
    pub headers: Vec<String>,
    pub expose: Vec<String>,
    pub max_age: Option<String>,
    pub credentials: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Destination {
    /// The FQDN of the service.
    pub host: String,
    /// A version (DestinationRule subset); `None` means any workload of the service.
    pub subset: Option<String>,
    pub port: Option<u16>,
    /// Percent; `None` when the destination is alone.
    pub weight: Option<u32>,
    /// Header changes for requests to this destination only, and for its responses.
    pub request_headers: Sparse<HeaderOps>,
    pub response_headers: Sparse<HeaderOps>,
}

/// DestinationRule traffic policy.
#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct Policy {
    pub lb: Option<LoadBalancer>,
    pub tcp: Option<TcpPool>,
    pub http: Option<HttpPool>,
    pub outlier: Option<Outlier>,
    pub tls: Option<ClientTls>,
}

impl Policy {
    pub fn is_empty(&self) -> bool {
        self == Self::EMPTY
    }
}

impl Empty for Policy {
    const EMPTY: &'static Self = &Policy {
        lb: None,
        tcp: None,
        http: None,
        outlier: None,
        tls: None,
    };

    fn is_empty(&self) -> bool {
        Policy::is_empty(self)
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub enum LoadBalancer {
    Simple(&'static str),
    HashHeader(String),
    HashCookie { name: String, ttl: Option<String> },
    HashSourceIp,
    HashQuery(String),
}

#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct TcpPool {
    pub max_connections: Option<u32>,
    pub connect_timeout: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct HttpPool {
    pub max_pending: Option<u32>,
    pub max_requests: Option<u32>,
    pub per_connection: Option<u32>,
    pub max_retries: Option<u32>,
    pub idle_timeout: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct Outlier {
    pub consecutive_errors: Option<u32>,
    pub gateway_errors: Option<u32>,
    pub interval: Option<String>,
    pub base_ejection: Option<String>,
    pub max_ejection: Option<u32>,
    pub min_health: Option<u32>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ClientTls {
    /// `DISABLE`, `SIMPLE`, `MUTUAL` or `ISTIO_MUTUAL`.
    pub mode: &'static str,
    pub credential: Option<String>,
    pub sni: Option<String>,
}

/// A service outside the mesh, registered with a ServiceEntry.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct External {
    pub name: String,
    pub span: Span,
    pub hosts: Vec<String>,
    pub addresses: Vec<String>,
    pub ports: Vec<Port>,
    /// `NONE`, `STATIC`, `DNS` or `DNS_ROUND_ROBIN`.
    pub resolution: &'static str,
    /// `MESH_EXTERNAL` or `MESH_INTERNAL`.
    pub location: &'static str,
    pub policy: Policy,
    pub routes: Vec<Route>,
    pub destination_rule: String,
    pub virtual_service: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
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
    /// Routes for every host, in order.
    pub routes: Vec<Route>,
    /// Routes for one host (`route host "..."`), each host's list in order; requests for
    /// such a host try these first, then `routes`.
    pub host_routes: Vec<(String, Vec<Route>)>,
}

/// What a gateway says about security: who it is, and the token it requires.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct GatewaySecurity {
    /// The gateway's name in the `.mesh` file.
    pub gateway: String,
    /// The namespace and service account of the gateway's workload, when an `identity` line
    /// names them; otherwise the output target's gateway is assumed (Istio's ingress gateway,
    /// or the deployment Istio makes for a Gateway API Gateway).
    pub identity: Option<(String, String)>,
    /// A token every request through the gateway must carry.
    pub jwt: Option<Jwt>,
}

impl Gateway {
    /// The hosts its routes send to, mirrors included.
    pub fn destinations(&self) -> std::collections::BTreeSet<&str> {
        let mut out = std::collections::BTreeSet::new();
        for route in self.routes.iter().chain(self.host_routes.iter().flat_map(|(_, r)| r)) {
            if let Action::Forward(destinations) = &route.action {
                out.extend(destinations.iter().map(|d| d.host.as_str()));
            }
            if let Some((mirror, _)) = &route.options.mirror {
                out.insert(mirror.host.as_str());
            }
        }
        out
    }

    /// The hosts that have no routes of their own: the shared VirtualService's hosts.
    pub fn shared_hosts(&self) -> Vec<String> {
        let own: Vec<&str> = self.host_routes.iter().map(|(h, _)| h.as_str()).collect();
        self.hosts
            .iter()
            .filter(|h| !own.contains(&h.as_str()))
            .cloned()
            .collect()
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Server {
    pub name: String,
    pub protocol: Protocol,
    pub number: u16,
    pub hosts: Vec<String>,
    pub tls: Option<ServerTls>,
    pub https_redirect: bool,
    /// Where the listener is declared.
    pub span: Span,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ServerTls {
    /// `SIMPLE`, `MUTUAL`, `PASSTHROUGH`, `AUTO_PASSTHROUGH` or `ISTIO_MUTUAL`.
    pub mode: &'static str,
    pub credential: Option<String>,
}
