//! Model → manifests. Each output target lives in a folder of its own, plans its objects
//! from the model, owns its refusals (diagnostics with spans on the option or condition at
//! fault) and writes typed objects; every planned object passes through one
//! registry (`registry.rs`) with one collision check, and `yaml.rs` turns objects
//! into text.
//!
//! Two passes over the same code: a target's walk over a namespace names each object to
//! [`Emitter::object`] before building it. The planning pass ([`plan_objects`]) only
//! registers the names; once the whole mesh is planned and nothing is refused, the writing
//! passes ([`write`]) walk each namespace once per kind it has, build only that kind's
//! objects and hand each document over as soon as its place in the canonical order comes.
//! No document's text is kept beyond that, so output of any size streams, and a target that
//! writes what it did not plan is an internal error rather than a different output.
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
pub(crate) use registry::{Closed, Out};
use registry::{Entry, ObjectKind, Owner, Registry};

/// What planning produced: each namespace's objects in canonical order (names only, nothing
/// written yet), and the targets' diagnostics (refusals and name collisions).
pub(crate) struct Plan {
    namespaces: Vec<Closed>,
    pub(crate) diagnostics: Vec<Diagnostic>,
    /// An internal error found while planning (a value a target's checks let through).
    pub(crate) error: Option<String>,
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
    let plan = plan_recording(mesh, options, Some(&mut planned));
    (planned, plan.diagnostics)
}

/// Plans every object of the mesh for the output target `options` choose, and checks the
/// plan: one registry, one collision check.
pub(crate) fn plan_objects(mesh: &model::Mesh, options: &Options) -> Plan {
    plan_recording(mesh, options, None)
}

fn plan_recording(mesh: &model::Mesh, options: &Options, planned: Option<&mut Vec<Planned>>) -> Plan {
    let mut diagnostics = Vec::new();
    match options.routes {
        RouteApi::GatewayApi => gateway_api::check(mesh, &mut diagnostics),
        RouteApi::Istio => istio::check(mesh, &mut diagnostics),
    }
    security::check(mesh, &mut diagnostics);
    let across = security::across(mesh, options.routes);
    let mut emitter = Emitter::new(options, &across, Pass::Plan, None);
    emitter.planned = planned;
    let mut namespaces = Vec::with_capacity(mesh.namespaces.len());
    for ns in &mesh.namespaces {
        emitter.walk(mesh, ns);
        namespaces.push(emitter.registry.finish(options.api, &mut diagnostics));
    }
    Plan {
        namespaces,
        diagnostics,
        error: emitter.error,
    }
}

/// Writes the documents of a plan with no errors, in canonical order, handing each to
/// `sink` as soon as it is written: the targets write one kind of a namespace at a time, in
/// their planning order, and only the documents that come before their place are held. The
/// VMs' files come back (with `options.vm_files`), sorted by path; an internal error (a
/// value the checks let through, or a target writing what it did not plan) stops writing.
pub(crate) fn write(
    mesh: &model::Mesh,
    options: &Options,
    plan: &Plan,
    sink: &mut dyn FnMut(Out<'_>),
) -> Result<Vec<GeneratedFile>, String> {
    let across = security::across(mesh, options.routes);
    let mut files = Vec::new();
    for (ns, closed) in mesh.namespaces.iter().zip(&plan.namespaces) {
        for kind in closed.kinds() {
            let writing = Writing::new(closed, kind, &mut *sink);
            let mut emitter = Emitter::new(options, &across, Pass::Write(kind), Some(writing));
            emitter.walk(mesh, ns);
            if let Some(error) = emitter.error.take() {
                return Err(error);
            }
            files.append(&mut emitter.files);
            if let Some(writing) = emitter.writing.take() {
                writing.finish()?;
            }
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

/// What a walk over a namespace does with each object its targets plan.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Pass {
    /// Registers every object's kind, namespace and name.
    Plan,
    /// Builds and writes the objects of one kind.
    Write(ObjectKind),
}

/// The state of emission shared by every target.
struct Emitter<'a, 'm> {
    options: &'a Options,
    pass: Pass,
    /// Whether the planning pass builds each object too (and drops it): the Gateway API
    /// target finds a value it cannot convert (a bug) only while building, and that must
    /// stop compilation before anything is written.
    build_in_plan: bool,
    registry: Registry<'m>,
    error: Option<String>,
    /// The VMs' files written so far.
    files: Vec<GeneratedFile>,
    /// What the security target needs to know across namespaces (see `security::across`).
    across: &'a security::Across<'m>,
    /// Where to record every planned object, for [`plan`].
    planned: Option<&'a mut Vec<Planned>>,
    /// The kind being written, when writing.
    writing: Option<Writing<'a>>,
}

impl<'a, 'm> Emitter<'a, 'm> {
    fn new(options: &'a Options, across: &'a security::Across<'m>, pass: Pass, writing: Option<Writing<'a>>) -> Self {
        Emitter {
            options,
            pass,
            build_in_plan: options.routes == RouteApi::GatewayApi,
            registry: Registry::default(),
            error: None,
            files: Vec::new(),
            across,
            planned: None,
            writing,
        }
    }

    /// Every object of one namespace, in each target's planning order; a target that has
    /// no object of the kind being written is not walked.
    fn walk(&mut self, mesh: &'m model::Mesh, ns: &'m model::Namespace) {
        let (istio, vm, gateway_api, security) = (
            self.decides_any(istio::KINDS),
            self.decides(ObjectKind::WorkloadGroup),
            self.options.routes == RouteApi::GatewayApi && self.decides_any(gateway_api::KINDS),
            self.decides_any(security::KINDS),
        );
        if istio {
            self.istio(ns);
        }
        if vm {
            self.vm(ns);
        }
        if gateway_api {
            self.gateway_api(mesh, ns);
        }
        if security {
            self.security(mesh, ns);
        }
    }

    /// Whether the object a target is about to plan is to be built: the planning pass
    /// registers it (and builds it only with `build_in_plan`), a writing pass builds the
    /// objects of its kind. The object is then given to [`Emitter::write`].
    fn object(&mut self, kind: ObjectKind, namespace: Option<&str>, name: &str, owner: Owner<'m>) -> bool {
        match self.pass {
            Pass::Write(writing) => writing == kind,
            Pass::Plan => {
                if let (Some(planned), Some(span)) = (self.planned.as_deref_mut(), owner.span()) {
                    planned.push(Planned {
                        kind: kind.name(),
                        namespace: namespace.map(str::to_string),
                        name: name.to_string(),
                        owner: span,
                    });
                }
                self.registry.add(kind, namespace, name.to_string(), owner);
                self.build_in_plan
            }
        }
    }

    /// Whether a target must work out an object of this kind now: whether it exists at all
    /// depends on its contents (a policy with no rule is not written), so the planning pass
    /// needs it too.
    fn decides(&self, kind: ObjectKind) -> bool {
        self.decides_any(&[kind])
    }

    /// [`Emitter::decides`] for any of `kinds`: whether a walk that plans only these kinds
    /// has anything to do in this pass.
    fn decides_any(&self, kinds: &[ObjectKind]) -> bool {
        match self.pass {
            Pass::Plan => true,
            Pass::Write(writing) => kinds.contains(&writing),
        }
    }

    /// Whether this pass writes the objects of `kind`.
    fn writes(&self, kind: ObjectKind) -> bool {
        self.pass == Pass::Write(kind)
    }

    /// Writes the object [`Emitter::object`] asked for (nothing in the planning pass).
    fn write<S: serde::Serialize>(&mut self, metadata: Metadata, spec: Option<S>) {
        let (Pass::Write(kind), Some(writing)) = (self.pass, self.writing.as_mut()) else {
            return;
        };
        let object = Object {
            api_version: kind.api_version(self.options.api),
            kind: kind.name(),
            metadata,
            automount_service_account_token: (kind == ObjectKind::ServiceAccount).then_some(false),
            spec,
        };
        if let Err(e) = writing.add(&object.metadata.name, &object) {
            self.error.get_or_insert(e);
        }
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

/// A writing pass over one kind of a namespace: its documents come in planning order, and
/// leave in canonical order.
struct Writing<'a> {
    closed: &'a Closed,
    sink: &'a mut dyn FnMut(Out<'_>),
    entries: &'a [Entry],
    /// For the n-th document written, its place in `entries` (`None`: the same place).
    arrival: Option<Vec<u32>>,
    written: usize,
    /// Documents written before their place came, by place.
    early: Vec<Option<String>>,
    /// The place of the next document to hand over.
    next: usize,
    /// The document being written (kept between documents, so that writing one allocates
    /// nothing when it comes in order).
    yaml: String,
}

impl<'a> Writing<'a> {
    fn new(closed: &'a Closed, kind: ObjectKind, sink: &'a mut dyn FnMut(Out<'_>)) -> Self {
        let entries = closed.of_kind(kind);
        let arrival = closed.arrival(kind);
        Writing {
            closed,
            sink,
            entries,
            early: if arrival.is_some() {
                vec![None; entries.len()]
            } else {
                Vec::new()
            },
            arrival,
            written: 0,
            next: 0,
            yaml: String::new(),
        }
    }

    fn add<T: serde::Serialize>(&mut self, name: &str, object: &T) -> Result<(), String> {
        let n = self.written;
        self.written += 1;
        let place = match &self.arrival {
            None => n,
            Some(arrival) => arrival.get(n).map_or(usize::MAX, |&p| p as usize),
        };
        match self.entries.get(place) {
            Some(entry) if entry.name() == name => {}
            _ => {
                return Err(format!(
                    "an object `{name}` that was not planned (please report this bug in meshc)"
                ))
            }
        }
        self.yaml.clear();
        yaml::document_into(&mut self.yaml, object)?;
        if place != self.next {
            self.early[place] = Some(std::mem::take(&mut self.yaml));
            return Ok(());
        }
        (self.sink)(self.closed.document(&self.entries[place], &mut self.yaml));
        self.next += 1;
        while let Some(mut yaml) = self.early.get_mut(self.next).and_then(Option::take) {
            (self.sink)(self.closed.document(&self.entries[self.next], &mut yaml));
            self.next += 1;
        }
        Ok(())
    }

    fn finish(self) -> Result<(), String> {
        if self.next != self.entries.len() {
            return Err(format!(
                "{} of {} planned objects written (please report this bug in meshc)",
                self.next,
                self.entries.len()
            ));
        }
        Ok(())
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::ApiVersion;
    use crate::source::Span;

    /// A namespace whose Services were planned in the order `names`.
    fn closed(names: &[&str]) -> Closed {
        let mut registry = Registry::default();
        for (i, name) in names.iter().enumerate() {
            let owner = Owner::Service(name, Span::new(0, i, i + 1));
            registry.add(ObjectKind::Service, Some("ns"), name.to_string(), owner);
        }
        let mut diagnostics = Vec::new();
        let closed = registry.finish(ApiVersion::default(), &mut diagnostics);
        assert!(diagnostics.is_empty());
        closed
    }

    #[derive(serde::Serialize)]
    struct Named<'a> {
        name: &'a str,
    }

    /// Writes the Services in the order `names`, and records after each which documents
    /// the sink had received.
    fn write_in(closed: &Closed, names: &[&str]) -> (Vec<Vec<String>>, Result<(), String>) {
        let mut received = Vec::new();
        let mut after_each = Vec::new();
        let result = {
            let mut sink = |out: Out<'_>| received.push(out.name.to_string());
            let mut writing = Writing::new(closed, ObjectKind::Service, &mut sink);
            let mut result = Ok(());
            for name in names {
                result = result.and(writing.add(name, &Named { name }));
                after_each.push(writing.next);
            }
            result.and(writing.finish())
        };
        let seen = after_each.iter().map(|&n| received[..n].to_vec()).collect();
        (seen, result)
    }

    #[test]
    fn documents_planned_in_canonical_order_are_handed_over_at_once() {
        let plan = closed(&["a", "b", "c"]);
        assert_eq!(plan.arrival(ObjectKind::Service), None);
        let (seen, result) = write_in(&plan, &["a", "b", "c"]);
        assert_eq!(result, Ok(()));
        assert_eq!(seen, [vec!["a"], vec!["a", "b"], vec!["a", "b", "c"]]);
    }

    #[test]
    fn a_document_planned_early_waits_only_for_those_before_it() {
        let plan = closed(&["c", "a", "b", "d"]);
        assert_eq!(plan.arrival(ObjectKind::Service), Some(vec![2, 0, 1, 3]));
        let (seen, result) = write_in(&plan, &["c", "a", "b", "d"]);
        assert_eq!(result, Ok(()));
        let nothing: Vec<String> = Vec::new();
        assert_eq!(
            seen,
            [
                nothing,
                vec!["a".to_string()],
                vec!["a".into(), "b".into(), "c".into()],
                vec!["a".into(), "b".into(), "c".into(), "d".into()]
            ]
        );
    }

    #[test]
    fn writing_what_was_not_planned_or_less_than_was_planned_is_an_internal_error() {
        let plan = closed(&["a", "b"]);
        let (_, result) = write_in(&plan, &["a", "x"]);
        assert!(result.is_err_and(|e| e.contains("`x` that was not planned")));
        let (_, result) = write_in(&plan, &["a"]);
        assert!(result.is_err_and(|e| e.contains("1 of 2 planned objects")));
        let (_, result) = write_in(&plan, &["a", "b", "b"]);
        assert!(result.is_err());
    }
}
