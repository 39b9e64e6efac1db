//! The files of one VM, as `istioctl x workload entry configure` writes them
//! (istio/istio `istioctl/pkg/workload/workload.go`: `createClusterEnv`, `createMeshConfig`,
//! `createHosts`), plus `run.sh` and a README.
//!
//! Where each input comes from:
//!
//! | input | istioctl reads it from | meshc takes it from |
//! |---|---|---|
//! | namespace, service account, labels, ports, network | the WorkloadGroup | the `.mesh` (the same WorkloadGroup meshc writes) |
//! | the VM's address (`ISTIO_SVC_IP`) | `--internalIP` | the version's `at` |
//! | east-west gateway address (`hosts`) | `--ingressIP` or the `istio-eastwestgateway` Service | `cluster { eastwest ... }`; without it `hosts` is left for the README's command |
//! | istiod revision (`CA_ADDR`, istiod host) | the kube client's `--revision` | `cluster { revision ... }`; default: none |
//! | cluster ID | the injector's `global.multiCluster.clusterName` | Istio's default, `Kubernetes` |
//! | trust domain, mesh ID | the mesh config | `cluster.local` (Istio's default) |
//! | istio namespace | `--istioNamespace` | Istio's default, `istio-system` |
//! | root certificate, token | the cluster | not generated: the README gives the command |

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use super::{file, VmVersion};
use crate::emit::yaml;
use crate::output::GeneratedFile;

/// The mesh ID the VMs' agents use: Istio's default. (The trust domain is the compile
/// option `--trust-domain`, `cluster.local` by default too.)
const MESH_ID: &str = "cluster.local";
/// The namespace istiod runs in (istioctl's `--istioNamespace` default).
const ISTIO_NAMESPACE: &str = "istio-system";
/// The cluster ID istioctl falls back to (Istio's default cluster name).
const CLUSTER_ID: &str = "Kubernetes";
/// istiod's secure xDS and CA port.
const ISTIOD_PORT: u16 = 15012;

/// Which VMs a folder is for: one static address, or any VM that joins the group.
#[derive(Clone, Copy)]
enum Member<'a> {
    Address(&'a str),
    Group,
}

/// Every file of every VM of one version.
pub(super) fn vm_files(vm: &VmVersion<'_>, trust_domain: &str) -> Result<Vec<GeneratedFile>, String> {
    let mut members: Vec<Member<'_>> = vm.vm.entries.iter().map(|e| Member::Address(&e.address)).collect();
    if vm.vm.auto_register {
        members.push(Member::Group);
    }
    let mut out = Vec::new();
    for member in members {
        let folder = format!(
            "vm/{}/{}-{}/{}",
            vm.namespace.name,
            vm.service.name,
            vm.version.name,
            match member {
                Member::Address(address) => address.replace(':', "-"),
                Member::Group => "group".to_string(),
            }
        );
        out.push(file(format!("{folder}/cluster.env"), cluster_env(vm, member)));
        out.push(file(
            format!("{folder}/mesh.yaml"),
            mesh_yaml(vm, member, trust_domain)?,
        ));
        out.push(file(format!("{folder}/hosts"), hosts(vm)));
        if let Some(script) = run_sh(vm) {
            out.push(file(format!("{folder}/run.sh"), script));
        }
        out.push(file(format!("{folder}/README.md"), readme(vm, member, trust_domain)));
    }
    Ok(out)
}

/// A value as istioctl quotes it in `cluster.env` (its `shellescape.Quote`): unchanged when
/// it holds only word characters and `@%+=:,./-`, else in single quotes.
pub(crate) fn shell_quote(s: &str) -> String {
    if s.is_empty() {
        return "''".to_string();
    }
    let safe = s.chars().all(|c| c.is_ascii_alphanumeric() || "_@%+=:,./-".contains(c));
    if safe {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\"'\"'"))
    }
}

fn istiod_host(vm: &VmVersion<'_>) -> String {
    match &vm.namespace.cluster.revision {
        Some(revision) => format!("istiod-{revision}.{ISTIO_NAMESPACE}.svc"),
        None => format!("istiod.{ISTIO_NAMESPACE}.svc"),
    }
}

/// The inbound ports, in port-name order.
fn inbound_ports(vm: &VmVersion<'_>) -> Vec<u16> {
    vm.ports().into_values().collect()
}

/// `cluster.env`: the agent's environment, one sorted `KEY=value` line each.
fn cluster_env(vm: &VmVersion<'_>, member: Member<'_>) -> String {
    let ports: Vec<String> = inbound_ports(vm).iter().map(u16::to_string).collect();
    let mut env: BTreeMap<&str, String> = BTreeMap::new();
    env.insert(
        "ISTIO_INBOUND_PORTS",
        if ports.is_empty() {
            "*".to_string()
        } else {
            ports.join(",")
        },
    );
    env.insert("ISTIO_NAMESPACE", vm.namespace.name.clone());
    env.insert("ISTIO_SERVICE", format!("{}.{}", vm.vm.group, vm.namespace.name));
    env.insert("ISTIO_SERVICE_CIDR", "*".to_string());
    // ssh, Prometheus, the agent's health and status ports.
    env.insert("ISTIO_LOCAL_EXCLUDE_PORTS", "22,15090,15021,15020".to_string());
    env.insert("SERVICE_ACCOUNT", vm.version.account.clone());
    if vm.namespace.cluster.revision.is_some() {
        env.insert("CA_ADDR", format!("{}:{ISTIOD_PORT}", istiod_host(vm)));
    }
    if let Member::Address(address) = member {
        env.insert("ISTIO_SVC_IP", address.to_string());
    }
    let mut out = String::new();
    for (key, value) in env {
        let _ = writeln!(out, "{key}={}", shell_quote(&value));
    }
    out
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MeshFile {
    default_config: ProxyConfig,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ProxyConfig {
    discovery_address: String,
    proxy_metadata: BTreeMap<&'static str, String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PodPort<'a> {
    name: &'a str,
    container_port: u16,
    protocol: &'a str,
}

/// The canonical service name and revision Istio derives from a workload's labels
/// (`labels.CanonicalService`).
fn canonical(labels: &crate::model::Labels, workload: &str) -> (String, String) {
    let find = |keys: &[&str]| keys.iter().find_map(|k| labels.get(*k).cloned());
    let name = find(&["service.istio.io/canonical-name", "app.kubernetes.io/name", "app"])
        .unwrap_or_else(|| workload.to_string());
    let revision = find(&[
        "service.istio.io/canonical-revision",
        "app.kubernetes.io/version",
        "version",
    ])
    .unwrap_or_else(|| "latest".to_string());
    (name, revision)
}

/// `mesh.yaml`: the proxy config, with the metadata istioctl derives from the group.
fn mesh_yaml(vm: &VmVersion<'_>, member: Member<'_>, trust_domain: &str) -> Result<String, String> {
    let group = &vm.vm.group;
    let (name, revision) = canonical(&vm.version.labels, group);
    let mut labels = vm.version.labels.clone();
    labels.insert("service.istio.io/canonical-name".to_string(), name.clone());
    labels.insert("service.istio.io/canonical-revision".to_string(), revision.clone());
    let port_map = vm.ports();
    let ports: Vec<PodPort<'_>> = port_map
        .iter()
        .map(|(name, &container_port)| PodPort {
            name: name.as_str(),
            container_port,
            protocol: "",
        })
        .collect();
    let mut md: BTreeMap<&'static str, String> = BTreeMap::new();
    md.insert("CANONICAL_REVISION", revision);
    md.insert("CANONICAL_SERVICE", name);
    md.insert("ISTIO_META_CLUSTER_ID", CLUSTER_ID.to_string());
    md.insert("ISTIO_META_DNS_CAPTURE", "true".to_string());
    md.insert("ISTIO_META_MESH_ID", MESH_ID.to_string());
    md.insert("ISTIO_META_NETWORK", vm.vm.network.clone().unwrap_or_default());
    if !ports.is_empty() {
        md.insert("ISTIO_META_POD_PORTS", json(&ports)?);
    }
    md.insert("ISTIO_META_WORKLOAD_NAME", group.clone());
    md.insert("ISTIO_METAJSON_LABELS", json(&labels)?);
    md.insert("POD_NAMESPACE", vm.namespace.name.clone());
    md.insert("SERVICE_ACCOUNT", vm.version.account.clone());
    md.insert("TRUST_DOMAIN", trust_domain.to_string());
    if let Member::Group = member {
        md.insert("ISTIO_META_AUTO_REGISTER_GROUP", group.clone());
    }
    yaml::document(&MeshFile {
        default_config: ProxyConfig {
            discovery_address: format!("{}:{ISTIOD_PORT}", istiod_host(vm)),
            proxy_metadata: md,
        },
    })
}

/// Compact JSON, as Go's `json.Marshal` writes it (map keys sorted).
fn json<T: Serialize>(value: &T) -> Result<String, String> {
    serde_json::to_string(value).map_err(|e| e.to_string())
}

/// `hosts`: istiod's name at the east-west gateway, to append to `/etc/hosts`.
fn hosts(vm: &VmVersion<'_>) -> String {
    match &vm.namespace.cluster.eastwest {
        Some(ip) => format!("{ip} {}\n", istiod_host(vm)),
        // Like istioctl when it cannot find the gateway's address: no line.
        None => String::new(),
    }
}

/// `run.sh`: the version's container, started as the seed article starts it.
fn run_sh(vm: &VmVersion<'_>) -> Option<String> {
    let image = vm.vm.image.as_ref()?;
    let name = format!("{}-{}", vm.service.name, vm.version.name);
    let mut out = String::new();
    let _ = writeln!(out, "# Starts {name} on this VM: sh run.sh");
    let _ = writeln!(out, "set -e");
    let _ = writeln!(out, "docker rm -f {name} >/dev/null 2>&1 || true");
    let _ = writeln!(out, "docker run -d --restart unless-stopped \\");
    let _ = writeln!(out, "  --network host \\");
    let _ = writeln!(out, "  --name {name} \\");
    for (key, value) in &vm.vm.env {
        let _ = writeln!(out, "  -e {} \\", shell_quote(&format!("{key}={value}")));
    }
    let _ = writeln!(out, "  {}", shell_quote(image));
    Some(out)
}

/// `README.md`: what the folder holds and how to finish the VM's setup.
fn readme(vm: &VmVersion<'_>, member: Member<'_>, trust_domain: &str) -> String {
    let ns = &vm.namespace.name;
    let account = &vm.version.account;
    let who = match member {
        Member::Address(address) => format!("the VM at `{address}`"),
        Member::Group => format!(
            "any VM that joins WorkloadGroup `{}` on its own (its agent registers a WorkloadEntry when it connects)",
            vm.vm.group
        ),
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# {}/{} version {}\n\nFiles for {who}, in namespace `{ns}`.\n",
        ns, vm.service.name, vm.version.name
    );
    let _ = writeln!(out, "| file | what |\n|---|---|");
    let _ = writeln!(
        out,
        "| `cluster.env` | the Istio agent's environment (as `istioctl x workload entry configure` writes it) |"
    );
    let _ = writeln!(
        out,
        "| `mesh.yaml` | the agent's proxy config: istiod's address and the workload's metadata |"
    );
    let _ = writeln!(
        out,
        "| `hosts` | istiod's name at the east-west gateway, for `/etc/hosts` |"
    );
    if vm.vm.image.is_some() {
        let _ = writeln!(
            out,
            "| `run.sh` | starts the version's container with `docker run --network host` |"
        );
    }
    let _ = writeln!(
        out,
        "\n## 1. What only the cluster can give\n\nWith `kubectl` on the cluster, in this folder:\n"
    );
    let _ = writeln!(out, "```sh");
    let _ = writeln!(
        out,
        "kubectl -n {ns} get configmap istio-ca-root-cert -o jsonpath='{{.data.root-cert\\.pem}}' > root-cert.pem"
    );
    let _ = writeln!(
        out,
        "kubectl -n {ns} create token {account} --audience istio-ca --duration 1h > istio-token"
    );
    if vm.namespace.cluster.eastwest.is_none() {
        let _ = writeln!(
            out,
            "echo \"$(kubectl -n {ISTIO_NAMESPACE} get svc istio-eastwestgateway -o jsonpath='{{.status.loadBalancer.ingress[0].ip}}') {}\" > hosts",
            istiod_host(vm)
        );
    }
    let _ = writeln!(out, "```\n");
    if vm.namespace.cluster.eastwest.is_none() {
        let _ = writeln!(
            out,
            "The `.mesh` declares no east-west gateway (`cluster {{ eastwest ADDRESS }}`), so `hosts` is empty until the last command fills it.\n"
        );
    }
    let _ = writeln!(out, "## 2. On the VM\n\nCopy the folder to the VM, install the Istio sidecar package of the cluster's Istio version, then:\n");
    let _ = writeln!(out, "```sh");
    let _ = writeln!(
        out,
        "sudo mkdir -p /etc/certs /var/run/secrets/tokens /etc/istio/config /etc/istio/proxy /var/lib/istio/envoy"
    );
    let _ = writeln!(out, "sudo cp root-cert.pem /etc/certs/root-cert.pem");
    let _ = writeln!(out, "sudo cp istio-token /var/run/secrets/tokens/istio-token");
    let _ = writeln!(out, "sudo cp cluster.env /var/lib/istio/envoy/cluster.env");
    let _ = writeln!(out, "sudo cp mesh.yaml /etc/istio/config/mesh");
    let _ = writeln!(out, "sudo sh -c 'cat hosts >> /etc/hosts'");
    let _ = writeln!(
        out,
        "sudo chown -R istio-proxy /var/lib/istio /etc/certs /etc/istio/proxy /etc/istio/config /var/run/secrets"
    );
    let _ = writeln!(out, "sudo systemctl start istio");
    if vm.vm.image.is_some() {
        let _ = writeln!(out, "sh run.sh");
    }
    let _ = writeln!(out, "```\n");
    let _ = writeln!(
        out,
        "## Inputs\n\nFrom the `.mesh`: the namespace, service account `{account}`, labels, ports, network{}{}{}. \
Trust domain `{trust_domain}` (`--trust-domain`). Istio's defaults: istiod in `{ISTIO_NAMESPACE}`, cluster ID `{CLUSTER_ID}`, mesh ID `{MESH_ID}`, \
DNS capture on. Proxy settings of the cluster's own mesh config (`meshConfig.defaultConfig`) are not included.",
        if vm.namespace.cluster.eastwest.is_some() {
            ", the east-west gateway's address"
        } else {
            ""
        },
        if vm.namespace.cluster.revision.is_some() {
            ", the istiod revision"
        } else {
            ""
        },
        if vm.vm.image.is_some() {
            ", the image and its environment"
        } else {
            ""
        },
    );
    out
}
