//! meshc compiles a `.mesh` topology — namespaces, services, ports, versions on pods or
//! VMs, weighted routes, gateways — into the Kubernetes and Istio manifests of the mesh,
//! and refuses, at the `.mesh` line, the mistakes that schemas miss.
//!
//! # Stages
//!
//! | stage | module | input → output | raises |
//! |---|---|---|---|
//! | read | [`syntax`] | text → [`ast::File`] (spans on every node) | M1xxx |
//! | check | [`check`] | AST → [`model::Mesh`] (names resolved and generated, defaults applied) | M2xxx, M3xxx |
//! | emit | [`emit`] | model → typed objects → YAML [`Document`]s | — |
//!
//! The library does no I/O: [`compile`] takes the sources' text and returns documents or
//! diagnostics; the `meshc` binary reads files, writes output and picks exit codes.

pub mod ast;
pub mod check;
pub mod codes;
pub mod diagnostic;
pub mod emit;
pub mod model;
pub mod source;
pub mod syntax;

pub use codes::Code;
pub use diagnostic::{Diagnostic, Severity};
pub use source::{Source, SourceKind, Span};

/// The Istio API version to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ApiVersion {
    /// `networking.istio.io/v1`, `security.istio.io/v1`: Istio 1.22 and later.
    #[default]
    V1,
    /// `networking.istio.io/v1beta1`, `security.istio.io/v1beta1`: Istio 1.5 to 1.21.
    V1beta1,
    /// `networking.istio.io/v1alpha3`, `security.istio.io/v1beta1`: the oldest meshes,
    /// such as Alibaba Cloud ASM of the seed article's era.
    V1alpha3,
}

impl ApiVersion {
    pub fn networking(self) -> &'static str {
        match self {
            ApiVersion::V1 => "networking.istio.io/v1",
            ApiVersion::V1beta1 => "networking.istio.io/v1beta1",
            ApiVersion::V1alpha3 => "networking.istio.io/v1alpha3",
        }
    }

    /// The security group has no v1alpha3: older targets use v1beta1.
    pub fn security(self) -> &'static str {
        match self {
            ApiVersion::V1 => "security.istio.io/v1",
            ApiVersion::V1beta1 | ApiVersion::V1alpha3 => "security.istio.io/v1beta1",
        }
    }
}

/// How to compile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub api: ApiVersion,
    /// The cluster's DNS domain, for service addresses (`cluster.local`).
    pub cluster_domain: String,
    /// Also write a Sidecar per service that limits its proxy's outbound configuration to
    /// the services it `calls` (and the control plane's namespace).
    pub sidecars: bool,
    /// Which API the routes are written in: Istio VirtualServices (the default) or the
    /// Kubernetes Gateway API.
    pub routes: RouteApi,
}

/// The API routes are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RouteApi {
    /// Istio VirtualServices for mesh and ingress routes, and Istio Gateways for ingress.
    #[default]
    Istio,
    /// The Kubernetes Gateway API, standard channel (v1.4): an HTTPRoute (a GRPCRoute on
    /// gRPC ports) per routed service with the Service as its parent (GAMMA), a Gateway
    /// (`gatewayClassName: istio`) and HTTPRoutes per gateway, and a Service per version
    /// that a route sends to by weight. What the Gateway API cannot express (fault
    /// injection, retries, CORS, `from` conditions, direct responses, TCP and TLS routes,
    /// ...) is reported as M3024 at the route. DestinationRules, workloads and Services are
    /// written as in Istio mode; VirtualServices and Istio Gateways are not.
    GatewayApi,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            api: ApiVersion::V1,
            cluster_domain: "cluster.local".to_string(),
            sidecars: false,
            routes: RouteApi::Istio,
        }
    }
}

/// One generated manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub api_version: String,
    pub kind: String,
    /// `None` for cluster-scoped kinds (Namespace).
    pub namespace: Option<String>,
    pub name: String,
    /// The document's YAML, ending with a newline, without a `---` line.
    pub yaml: String,
}

/// What a successful compilation produced.
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    pub documents: Vec<Document>,
    /// Findings that do not stop compilation.
    pub warnings: Vec<Diagnostic>,
}

impl Output {
    /// All documents as one multi-document YAML stream, each preceded by `---`.
    pub fn to_yaml(&self) -> String {
        let mut out = String::with_capacity(self.documents.iter().map(|d| d.yaml.len() + 4).sum());
        for doc in &self.documents {
            out.push_str("---\n");
            out.push_str(&doc.yaml);
        }
        out
    }
}

/// Why compilation failed: every problem found, sorted by file and position (warnings
/// included).
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub diagnostics: Vec<Diagnostic>,
}

/// Parses and checks every source, then writes the manifests. All semantic problems are
/// reported together; a file the grammar rejects reports its first syntax error.
pub fn compile(sources: &[Source], options: &Options) -> Result<Output, Failure> {
    let (mesh, mut diagnostics) = analyze(sources, options);
    diagnostic::sort(&mut diagnostics);
    let Some(mesh) = mesh.filter(|_| !diagnostics.iter().any(Diagnostic::is_error)) else {
        return Err(Failure { diagnostics });
    };
    match emit::emit(&mesh, options) {
        Ok(documents) => Ok(Output {
            documents,
            warnings: diagnostics,
        }),
        Err(message) => {
            let span = Span::default();
            diagnostics.push(
                Diagnostic::error(
                    Code::Syntax,
                    span,
                    format!("internal error while writing YAML: {message}"),
                )
                .help("this is a bug in meshc; please report it with the input that caused it"),
            );
            Err(Failure { diagnostics })
        }
    }
}

/// Parses and checks, without writing: the mesh (absent when a file could not be read) and
/// every diagnostic, unsorted.
pub fn analyze(sources: &[Source], options: &Options) -> (Option<model::Mesh>, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    let mut files = Vec::with_capacity(sources.len());
    let mut definitions = check::Definitions::new();
    let mut readable = true;
    for (id, source) in sources.iter().enumerate() {
        match source.kind {
            SourceKind::Mesh => {
                let (file, mut found) = syntax::parse(id, &source.text);
                diagnostics.append(&mut found);
                match file {
                    Some(file) => files.push(file),
                    None => readable = false,
                }
            }
            SourceKind::Vars => diagnostics.extend(check::read_vars(id, &source.text, &mut definitions)),
        }
    }
    if !readable {
        return (None, diagnostics);
    }
    let (mesh, mut found) = check::check(&mut files, &definitions, options);
    diagnostics.append(&mut found);
    (Some(mesh), diagnostics)
}
