//! The VM target: a WorkloadGroup per VM version (the template its VMs register from,
//! statically with `at` or on their own with `auto-register`), and the files each VM needs
//! (`files.rs`): what `istioctl x workload entry configure` writes, and a script that starts
//! the version's container as the seed article does.
//!
//! Files go under `vm/<namespace>/<service>-<version>/<address>/` for each static address
//! and `.../group/` for VMs that auto-register. The WorkloadGroups and the files are both
//! planned by [`vm_versions`], the one place that picks which versions have VMs to set up.

mod files;

use std::collections::BTreeMap;

use serde::Serialize;

use super::istio::objects::Map;
use super::{Emitter, ObjectKind, Owner};
use crate::model::{self, Workload};
use crate::output::GeneratedFile;

/// `networking.istio.io` WorkloadGroup `spec`.
#[derive(Serialize)]
struct WorkloadGroupSpec {
    metadata: GroupMetadata,
    template: GroupTemplate,
}

#[derive(Serialize)]
struct GroupMetadata {
    labels: Map,
    #[serde(skip_serializing_if = "Map::is_empty")]
    annotations: Map,
}

/// The WorkloadEntry every VM of the group registers as (no address: each VM has its own).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GroupTemplate {
    labels: Map,
    ports: BTreeMap<String, u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    network: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    locality: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    weight: Option<u32>,
    service_account: String,
}

/// One VM version, with what its WorkloadGroup and files are made of.
pub(super) struct VmVersion<'m> {
    pub(super) namespace: &'m model::Namespace,
    pub(super) service: &'m model::Service,
    pub(super) version: &'m model::Version,
    pub(super) vm: &'m model::Vm,
}

impl VmVersion<'_> {
    /// The WorkloadGroup's and WorkloadEntries' ports: Service port name → the port the
    /// VM listens on.
    pub(super) fn ports(&self) -> BTreeMap<String, u16> {
        self.service.ports.iter().map(|p| (p.name.clone(), p.target)).collect()
    }
}

/// Every VM version of a namespace that runs the Istio agent, in canonical order (services,
/// then versions, by name).
pub(super) fn vm_versions(ns: &model::Namespace) -> impl Iterator<Item = VmVersion<'_>> {
    ns.services.iter().flat_map(move |service| {
        service
            .versions
            .iter()
            .filter_map(move |version| match &version.workload {
                // A VM without the Istio agent neither registers nor reads agent files.
                Workload::Vm(vm) if version.agent => Some(VmVersion {
                    namespace: ns,
                    service,
                    version,
                    vm,
                }),
                Workload::Vm(_) | Workload::Pod(_) => None,
            })
    })
}

impl<'m> Emitter<'_, 'm> {
    /// The WorkloadGroups of a namespace and, when writing, its VMs' files.
    pub(super) fn vm(&mut self, ns: &'m model::Namespace) {
        for vm in vm_versions(ns) {
            let version = vm.version;
            let owner = Owner::Version(&version.name, &vm.service.name, version.span);
            if !self.object(ObjectKind::WorkloadGroup, Some(&ns.name), &vm.vm.group, owner) {
                continue;
            }
            let spec = WorkloadGroupSpec {
                metadata: GroupMetadata {
                    labels: version.labels.clone(),
                    annotations: version.annotations.clone(),
                },
                template: GroupTemplate {
                    labels: version.labels.clone(),
                    ports: vm.ports(),
                    network: vm.vm.network.clone(),
                    locality: vm.vm.locality.clone(),
                    weight: vm.vm.weight,
                    service_account: version.account.clone(),
                },
            };
            let metadata = self.meta(&vm.vm.group, &ns.name, Map::new());
            self.write(metadata, Some(spec));
            if self.writes(ObjectKind::WorkloadGroup) && self.options.vm_files {
                match files::vm_files(&vm, &self.options.trust_domain) {
                    Ok(files) => self.files.extend(files),
                    Err(e) => {
                        self.error.get_or_insert(e);
                    }
                }
            }
        }
    }
}

/// Lets `files.rs` build a [`GeneratedFile`] without naming the output module.
fn file(path: String, contents: String) -> GeneratedFile {
    GeneratedFile { path, contents }
}
