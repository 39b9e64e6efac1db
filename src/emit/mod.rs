//! Model → manifests. Each output target lives in a folder of its own, plans its objects
//! from the model, owns its refusals (diagnostics with spans on the option or condition at
//! fault) and writes typed objects; every planned object passes through one
//! registry (`registry.rs`) with one collision check, and `yaml.rs` turns objects
//! into text.
//!
//! * `istio/`: the workloads (Namespace, ServiceAccounts, Services, Deployments,
//!   WorkloadEntries), ServiceEntries, DestinationRules and Sidecars of every mode, and the
//!   Istio Gateways and VirtualServices of the default mode;
//! * `vm/`: a WorkloadGroup per VM version, and the files each VM needs (Istio agent
//!   configuration, a `docker run` script, a README), returned beside the manifests;
//! * `gateway_api/`: `--routes gateway-api`, Gateway API Gateways, HTTPRoutes,
//!   GRPCRoutes, ReferenceGrants and per-version Services in place of Istio's routing;
//! * `security/`: PeerAuthentications, RequestAuthentications and AuthorizationPolicies,
//!   in every mode.
//!
//! Canonical order: namespaces by name; within one, the Namespace, then ServiceAccounts,
//! Services, Deployments, WorkloadEntries, WorkloadGroups, ServiceEntries, DestinationRules, Gateways,
//! VirtualServices (with `--routes gateway-api`: Gateway API Gateways, HTTPRoutes,
//! GRPCRoutes and ReferenceGrants instead of the two), Sidecars, PeerAuthentications,
//! RequestAuthentications and AuthorizationPolicies, each kind sorted by name. Routes keep
//! the order of the `.mesh` file.

mod gateway_api;
mod istio;
mod registry;
mod security;
mod vm;
pub mod yaml;

use crate::diagnostic::Diagnostic;
use crate::model;
use crate::options::{Options, RouteApi};
use crate::output::GeneratedFile;
use istio::objects::{Map, Metadata, Object};
pub(crate) use registry::Closed;
use registry::{ObjectKind, Owner, Registry};

/// What emission produced: the documents (when writing, and nothing was refused), the
/// targets' diagnostics (refusals and name collisions), and an internal error of the YAML
/// writer, if any.
pub(crate) struct Emitted {
    /// Each namespace's objects in canonical order (empty when anything was refused).
    pub(crate) namespaces: Vec<Closed>,
    /// The VMs' files (when writing and `options.vm_files`), sorted by path.
    pub(crate) files: Vec<GeneratedFile>,
    pub(crate) diagnostics: Vec<Diagnostic>,
    pub(crate) error: Option<String>,
}

/// Plans every object of the mesh for the output target `options` choose, checks the plan
/// and, with `write` and nothing refused, writes the documents in canonical order.
pub(crate) fn emit(mesh: &model::Mesh, options: &Options, write: bool) -> Emitted {
    emit_recording(mesh, options, write, None)
}

/// One object the output target plans: its kind, namespace and name, and the declaration
/// (service, version or gateway) it is generated from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    pub kind: &'static str,
    pub namespace: Option<String>,
    pub name: String,
    pub owner: crate::source::Span,
}

/// Plans the output target `options` choose without writing: every object that a service,
/// version or gateway owns (not the namespaces' own objects), in planning order, and the
/// target's diagnostics (those [`crate::analyze`] adds to the checker's).
pub fn plan(mesh: &model::Mesh, options: &Options) -> (Vec<Planned>, Vec<Diagnostic>) {
    let mut planned = Vec::new();
    let emitted = emit_recording(mesh, options, false, Some(&mut planned));
    (planned, emitted.diagnostics)
}

fn emit_recording(mesh: &model::Mesh, options: &Options, write: bool, planned: Option<&mut Vec<Planned>>) -> Emitted {
    let mut diagnostics = Vec::new();
    if options.routes == RouteApi::GatewayApi {
        gateway_api::check(mesh, &mut diagnostics);
    }
    security::check(mesh, &mut diagnostics);
    let mut emitter = Emitter {
        options,
        write: write && !diagnostics.iter().any(Diagnostic::is_error),
        registry: Registry::default(),
        error: None,
        files: Vec::new(),
        callers: security::callers_by_host(mesh),
        planned,
    };
    let mut namespaces = Vec::with_capacity(mesh.namespaces.len());
    for ns in &mesh.namespaces {
        emitter.istio(ns);
        emitter.vm(ns);
        if options.routes == RouteApi::GatewayApi {
            emitter.gateway_api(mesh, ns);
        }
        emitter.security(mesh, ns);
        namespaces.push(emitter.registry.finish(options.api, &mut diagnostics));
    }
    let mut files = std::mem::take(&mut emitter.files);
    if diagnostics.iter().any(Diagnostic::is_error) {
        namespaces.clear();
        files.clear();
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Emitted {
        namespaces,
        files,
        diagnostics,
        error: emitter.error,
    }
}

/// The state of emission shared by every target.
struct Emitter<'a, 'm> {
    options: &'a Options,
    /// Whether to write YAML, or only plan (to check the plan).
    write: bool,
    registry: Registry<'m>,
    error: Option<String>,
    /// The VMs' files planned so far.
    files: Vec<GeneratedFile>,
    /// Every service that `calls` a host, by the host (see `security::callers_by_host`).
    callers: security::CallersByHost<'m>,
    /// Where to record every planned object, for [`plan`].
    planned: Option<&'a mut Vec<Planned>>,
}

fn labels(pairs: &[(&str, &str)]) -> Map {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// The routes object of a gateway host with routes of its own, in every target:
/// `<gateway routes name>-<host>`, the host with `.` as `-` and `*` as `x`
/// (`gw-a-example-com` for `a.example.com`).
fn host_routes_name(gateway: &model::Gateway, host: &str) -> String {
    format!("{}-{}", gateway.virtual_service, host_suffix(host))
}

/// `a.example.com` → `a-example-com`, `*.example.com` → `x-example-com`: a host as part of
/// an object or listener name.
fn host_suffix(host: &str) -> String {
    let suffix: String = host
        .chars()
        .map(|c| match c {
            '.' => '-',
            '*' => 'x',
            c => c,
        })
        .collect();
    suffix.trim_matches('-').to_string()
}

impl<'m> Emitter<'_, 'm> {
    /// Registers one planned object and, when writing, writes it.
    fn push<S: serde::Serialize>(
        &mut self,
        kind: ObjectKind,
        namespace: Option<&str>,
        metadata: Metadata,
        spec: Option<S>,
        owner: Owner<'m>,
    ) {
        let (name, yaml) = if self.write {
            let object = Object {
                api_version: kind.api_version(self.options.api),
                kind: kind.name(),
                metadata,
                automount_service_account_token: (kind == ObjectKind::ServiceAccount).then_some(false),
                spec,
            };
            let yaml = match yaml::document(&object) {
                Ok(text) => Some(text),
                Err(e) => {
                    self.error.get_or_insert(e);
                    None
                }
            };
            (object.metadata.name, yaml)
        } else {
            (metadata.name, None)
        };
        if let (Some(planned), Some(span)) = (self.planned.as_deref_mut(), owner.span()) {
            planned.push(Planned {
                kind: kind.name(),
                namespace: namespace.map(str::to_string),
                name: name.clone(),
                owner: span,
            });
        }
        self.registry.add(kind, namespace, name, owner, yaml);
    }

    fn meta(&self, name: &str, ns: &str, labels: Map) -> Metadata {
        Metadata {
            name: name.to_string(),
            namespace: Some(ns.to_string()),
            labels,
            annotations: Map::new(),
        }
    }
}
