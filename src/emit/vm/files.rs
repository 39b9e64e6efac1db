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

/// Every file of every VM of one version. The text is written directly (no serializer,
/// no map per file): a large mesh has thousands of VMs.
pub(super) fn vm_files(vm: &VmVersion<'_>, trust_domain: &str) -> Result<Vec<GeneratedFile>, String> {
    let mut members: Vec<Member<'_>> = vm.vm.entries.iter().map(|e| Member::Address(&e.address)).collect();
    if vm.vm.auto_register {
        members.push(Member::Group);
    }
    let ports = port_list(vm);
    let istiod = istiod_host(vm);
    let run = run_sh(vm);
    let mut out = Vec::with_capacity(members.len() * 5);
    for member in members {
        let mut folder = String::with_capacity(64);
        for part in [
            "vm/",
            &vm.namespace.name,
            "/",
            &vm.service.name,
            "-",
            &vm.version.name,
            "/",
        ] {
            folder.push_str(part);
        }
        match member {
            Member::Address(address) => {
                for c in address.chars() {
                    folder.push(if c == ':' { '-' } else { c });
                }
            }
            Member::Group => folder.push_str("group"),
        }
        let path = |name: &str| {
            let mut path = String::with_capacity(folder.len() + 1 + name.len());
            path.push_str(&folder);
            path.push('/');
            path.push_str(name);
            path
        };
        out.push(file(path("cluster.env"), cluster_env(vm, member, &ports, &istiod)));
        out.push(file(
            path("mesh.yaml"),
            mesh_yaml(vm, member, &ports, &istiod, trust_domain)?,
        ));
        out.push(file(path("hosts"), hosts(vm, &istiod)));
        if let Some(script) = &run {
            out.push(file(path("run.sh"), script.clone()));
        }
        out.push(file(path("README.md"), readme(vm, member, &istiod, trust_domain)));
    }
    Ok(out)
}

/// Whether istioctl leaves `s` unquoted in `cluster.env` (see [`shell_quote`]).
fn shell_safe(s: &str) -> bool {
    !s.is_empty()
        && s.bytes().all(|c| {
            c.is_ascii_alphanumeric()
                || matches!(c, b'_' | b'@' | b'%' | b'+' | b'=' | b':' | b',' | b'.' | b'/' | b'-')
        })
}

/// A value as istioctl quotes it in `cluster.env` (its `shellescape.Quote`): unchanged when
/// it holds only word characters and `@%+=:,./-`, else in single quotes.
pub(crate) fn shell_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    push_shell_quoted(&mut out, s);
    out
}

/// [`shell_quote`] appended to `out`.
fn push_shell_quoted(out: &mut String, s: &str) {
    if shell_safe(s) {
        out.push_str(s);
    } else {
        out.push('\'');
        out.push_str(&s.replace('\'', "'\"'\"'"));
        out.push('\'');
    }
}

fn istiod_host(vm: &VmVersion<'_>) -> String {
    match &vm.namespace.cluster.revision {
        Some(revision) => format!("istiod-{revision}.{ISTIO_NAMESPACE}.svc"),
        None => format!("istiod.{ISTIO_NAMESPACE}.svc"),
    }
}

/// The ports as the WorkloadGroup has them ([`VmVersion::ports`]): port name → the port the
/// VM listens on, in name order, the last of a repeated name winning.
fn port_list<'a>(vm: &VmVersion<'a>) -> Vec<(&'a str, u16)> {
    let mut ports: Vec<(&str, u16)> = vm.service.ports.iter().map(|p| (p.name.as_str(), p.target)).collect();
    ports.sort_by(|a, b| a.0.cmp(b.0));
    let mut unique: Vec<(&str, u16)> = Vec::with_capacity(ports.len());
    for port in ports {
        match unique.last_mut() {
            Some(last) if last.0 == port.0 => *last = port,
            _ => unique.push(port),
        }
    }
    unique
}

/// `cluster.env`: the agent's environment, one sorted `KEY=value` line each.
fn cluster_env(vm: &VmVersion<'_>, member: Member<'_>, ports: &[(&str, u16)], istiod: &str) -> String {
    let mut inbound = String::new();
    for (i, (_, port)) in ports.iter().enumerate() {
        if i > 0 {
            inbound.push(',');
        }
        let _ = write!(inbound, "{port}");
    }
    if ports.is_empty() {
        inbound.push('*');
    }
    let service = [vm.vm.group.as_str(), ".", &vm.namespace.name].concat();
    let ca = vm.namespace.cluster.revision.as_ref().map(|_| discovery(istiod));
    let mut env: Vec<(&str, &str)> = Vec::with_capacity(8);
    env.push(("ISTIO_INBOUND_PORTS", &inbound));
    env.push(("ISTIO_NAMESPACE", &vm.namespace.name));
    env.push(("ISTIO_SERVICE", &service));
    env.push(("ISTIO_SERVICE_CIDR", "*"));
    // ssh, Prometheus, the agent's health and status ports.
    env.push(("ISTIO_LOCAL_EXCLUDE_PORTS", "22,15090,15021,15020"));
    env.push(("SERVICE_ACCOUNT", &vm.version.account));
    if let Some(ca) = &ca {
        env.push(("CA_ADDR", ca));
    }
    if let Member::Address(address) = member {
        env.push(("ISTIO_SVC_IP", address));
    }
    env.sort_unstable_by_key(|(key, _)| *key);
    let mut out = String::with_capacity(320);
    for (key, value) in env {
        out.push_str(key);
        out.push('=');
        push_shell_quoted(&mut out, value);
        out.push('\n');
    }
    out
}

/// The canonical service name and revision Istio derives from a workload's labels
/// (`labels.CanonicalService`).
fn canonical<'a>(labels: &'a crate::model::Labels, workload: &'a str) -> (&'a str, &'a str) {
    let find = |keys: &[&str]| keys.iter().find_map(|k| labels.get(*k).map(String::as_str));
    let name = find(&["service.istio.io/canonical-name", "app.kubernetes.io/name", "app"]).unwrap_or(workload);
    let revision = find(&[
        "service.istio.io/canonical-revision",
        "app.kubernetes.io/version",
        "version",
    ])
    .unwrap_or("latest");
    (name, revision)
}

/// `mesh.yaml`: the proxy config, with the metadata istioctl derives from the group, as
/// meshc's YAML writer writes a `{defaultConfig: {discoveryAddress, proxyMetadata}}`
/// object (the same quoting: [`yaml_scalar`]).
fn mesh_yaml(
    vm: &VmVersion<'_>,
    member: Member<'_>,
    ports: &[(&str, u16)],
    istiod: &str,
    trust_domain: &str,
) -> Result<String, String> {
    let group = vm.vm.group.as_str();
    let (name, revision) = canonical(&vm.version.labels, group);
    // The labels with the canonical ones, in key order, as JSON (Go's `json.Marshal`).
    let mut labels: BTreeMap<&str, &str> = vm
        .version
        .labels
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    labels.insert("service.istio.io/canonical-name", name);
    labels.insert("service.istio.io/canonical-revision", revision);
    let mut labels_json = String::with_capacity(256);
    labels_json.push('{');
    for (i, (key, value)) in labels.iter().enumerate() {
        if i > 0 {
            labels_json.push(',');
        }
        push_json_string(&mut labels_json, key)?;
        labels_json.push(':');
        push_json_string(&mut labels_json, value)?;
    }
    labels_json.push('}');
    let mut ports_json = String::new();
    if !ports.is_empty() {
        ports_json.push('[');
        for (i, (name, port)) in ports.iter().enumerate() {
            if i > 0 {
                ports_json.push(',');
            }
            ports_json.push_str("{\"name\":");
            push_json_string(&mut ports_json, name)?;
            let _ = write!(ports_json, ",\"containerPort\":{port},\"protocol\":\"\"}}");
        }
        ports_json.push(']');
    }
    let network = vm.vm.network.as_deref().unwrap_or_default();
    let mut md: Vec<(&str, &str)> = Vec::with_capacity(14);
    md.push(("CANONICAL_REVISION", revision));
    md.push(("CANONICAL_SERVICE", name));
    md.push(("ISTIO_META_CLUSTER_ID", CLUSTER_ID));
    md.push(("ISTIO_META_DNS_CAPTURE", "true"));
    md.push(("ISTIO_META_MESH_ID", MESH_ID));
    md.push(("ISTIO_META_NETWORK", network));
    if !ports.is_empty() {
        md.push(("ISTIO_META_POD_PORTS", &ports_json));
    }
    md.push(("ISTIO_META_WORKLOAD_NAME", group));
    md.push(("ISTIO_METAJSON_LABELS", &labels_json));
    md.push(("POD_NAMESPACE", &vm.namespace.name));
    md.push(("SERVICE_ACCOUNT", &vm.version.account));
    md.push(("TRUST_DOMAIN", trust_domain));
    if let Member::Group = member {
        md.push(("ISTIO_META_AUTO_REGISTER_GROUP", group));
    }
    md.sort_unstable_by_key(|(key, _)| *key);
    let mut out = String::with_capacity(1024);
    out.push_str("defaultConfig:\n  discoveryAddress: ");
    yaml_scalar(&mut out, &discovery(istiod));
    out.push_str("\n  proxyMetadata:\n");
    for (key, value) in md {
        // The keys are plain (capitals and `_`; a test checks them).
        out.push_str("    ");
        out.push_str(key);
        out.push_str(": ");
        yaml_scalar(&mut out, value);
        out.push('\n');
    }
    Ok(out)
}

/// istiod's secure address: `host:15012`.
fn discovery(istiod: &str) -> String {
    const PORT: &str = ":15012";
    debug_assert_eq!(PORT, format!(":{ISTIOD_PORT}"));
    [istiod, PORT].concat()
}

/// A string as compact JSON writes it (`serde_json`, as Go's `json.Marshal`): the common
/// case, with nothing to escape, is copied; the rest goes through `serde_json`.
fn push_json_string(out: &mut String, s: &str) -> Result<(), String> {
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.push('"');
        out.push_str(s);
        out.push('"');
    } else {
        out.push_str(&serde_json::to_string(s).map_err(|e| e.to_string())?);
    }
    Ok(())
}

/// A string scalar exactly as meshc's YAML writer writes it (`yaml::document` of a
/// `String`): plain when [`yaml::plain_is_safe`], else the writer's double-quoted form:
/// printable ASCII as it is but `"` and `\\` escaped (the JSON values hold quotes); any
/// other text goes through the writer itself.
fn yaml_scalar(out: &mut String, s: &str) {
    if yaml::plain_is_safe(s) {
        out.push_str(s);
    } else if s.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        out.push('"');
        let mut run = 0;
        for (i, b) in s.bytes().enumerate() {
            if b == b'"' || b == b'\\' {
                out.push_str(&s[run..i]);
                out.push('\\');
                run = i;
            }
        }
        out.push_str(&s[run..]);
        out.push('"');
    } else {
        match yaml::document(s) {
            Ok(text) => out.push_str(text.strip_suffix('\n').unwrap_or(&text)),
            Err(_) => out.push_str(s),
        }
    }
}

/// `hosts`: istiod's name at the east-west gateway, to append to `/etc/hosts`.
fn hosts(vm: &VmVersion<'_>, istiod: &str) -> String {
    match &vm.namespace.cluster.eastwest {
        Some(ip) => format!("{ip} {istiod}\n"),
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
fn readme(vm: &VmVersion<'_>, member: Member<'_>, istiod: &str, trust_domain: &str) -> String {
    let ns = vm.namespace.name.as_str();
    let account = vm.version.account.as_str();
    let eastwest = vm.namespace.cluster.eastwest.is_some();
    let image = vm.vm.image.is_some();
    let mut out = String::with_capacity(2560);
    let mut put = |parts: &[&str]| {
        for part in parts {
            out.push_str(part);
        }
    };
    put(&[
        "# ",
        ns,
        "/",
        &vm.service.name,
        " version ",
        &vm.version.name,
        "\n\nFiles for ",
    ]);
    match member {
        Member::Address(address) => put(&["the VM at `", address, "`"]),
        Member::Group => put(&[
            "any VM that joins WorkloadGroup `",
            &vm.vm.group,
            "` on its own (its agent registers a WorkloadEntry when it connects)",
        ]),
    }
    put(&[", in namespace `", ns, "`.\n\n"]);
    put(&[
        "| file | what |\n|---|---|\n",
        "| `cluster.env` | the Istio agent's environment (as `istioctl x workload entry configure` writes it) |\n",
        "| `mesh.yaml` | the agent's proxy config: istiod's address and the workload's metadata |\n",
        "| `hosts` | istiod's name at the east-west gateway, for `/etc/hosts` |\n",
    ]);
    if image {
        put(&["| `run.sh` | starts the version's container with `docker run --network host` |\n"]);
    }
    put(&[
        "\n## 1. What only the cluster can give\n\nWith `kubectl` on the cluster, in this folder:\n\n",
        "```sh\n",
        "kubectl -n ",
        ns,
        " get configmap istio-ca-root-cert -o jsonpath='{.data.root-cert\\.pem}' > root-cert.pem\n",
        "kubectl -n ",
        ns,
        " create token ",
        account,
        " --audience istio-ca --duration 1h > istio-token\n",
    ]);
    if !eastwest {
        put(&[
            "echo \"$(kubectl -n ",
            ISTIO_NAMESPACE,
            " get svc istio-eastwestgateway -o jsonpath='{.status.loadBalancer.ingress[0].ip}') ",
            istiod,
            "\" > hosts\n",
        ]);
    }
    put(&["```\n\n"]);
    if !eastwest {
        put(&["The `.mesh` declares no east-west gateway (`cluster { eastwest ADDRESS }`), so `hosts` is empty until the last command fills it.\n\n"]);
    }
    put(&[
        "## 2. On the VM\n\nCopy the folder to the VM, install the Istio sidecar package of the cluster's Istio version, then:\n\n",
        "```sh\n",
        "sudo mkdir -p /etc/certs /var/run/secrets/tokens /etc/istio/config /etc/istio/proxy /var/lib/istio/envoy\n",
        "sudo cp root-cert.pem /etc/certs/root-cert.pem\n",
        "sudo cp istio-token /var/run/secrets/tokens/istio-token\n",
        "sudo cp cluster.env /var/lib/istio/envoy/cluster.env\n",
        "sudo cp mesh.yaml /etc/istio/config/mesh\n",
        "sudo sh -c 'cat hosts >> /etc/hosts'\n",
        "sudo chown -R istio-proxy /var/lib/istio /etc/certs /etc/istio/proxy /etc/istio/config /var/run/secrets\n",
        "sudo systemctl start istio\n",
    ]);
    if image {
        put(&["sh run.sh\n"]);
    }
    put(&[
        "```\n\n",
        "## Inputs\n\nFrom the `.mesh`: the namespace, service account `",
        account,
        "`, labels, ports, network",
        if eastwest { ", the east-west gateway's address" } else { "" },
        if vm.namespace.cluster.revision.is_some() {
            ", the istiod revision"
        } else {
            ""
        },
        if image { ", the image and its environment" } else { "" },
        ". Trust domain `",
        trust_domain,
        "` (`--trust-domain`). Istio's defaults: istiod in `",
        ISTIO_NAMESPACE,
        "`, cluster ID `",
        CLUSTER_ID,
        "`, mesh ID `",
        MESH_ID,
        "`, DNS capture on. Proxy settings of the cluster's own mesh config (`meshConfig.defaultConfig`) are not included.\n",
    ]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_are_written_as_the_yaml_writer_writes_them() {
        for s in [
            "",
            "plain",
            "true",
            "On",
            "a:b",
            "istiod.istio-system.svc:15012",
            "{\"a\":\"b\"}",
            "a\"b\\c\nd\u{7}é\u{2028}\tz\r",
            "0777",
            "~",
            "* x",
            "é",
            "x y",
        ] {
            let map: BTreeMap<&str, &str> = [("k", s)].into_iter().collect();
            let mut ours = String::from("k: ");
            yaml_scalar(&mut ours, s);
            ours.push('\n');
            assert_eq!(yaml::document(&map).unwrap(), ours, "{s:?}");
        }
    }

    /// The metadata keys are written as they are: each must read back as itself. Every
    /// `mesh.yaml` of the examples (one VM group auto-registers, so every key is there).
    #[test]
    fn proxy_metadata_keys_are_plain() {
        let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
        let mut keys = std::collections::BTreeSet::new();
        for entry in std::fs::read_dir(examples).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "mesh") {
                continue;
            }
            let sources = [crate::Source::new("x.mesh", std::fs::read_to_string(&path).unwrap())];
            let options = crate::Options {
                vm_files: true,
                ..crate::Options::default()
            };
            let Ok(output) = crate::compile(&sources, &options) else {
                continue;
            };
            for file in output.files.iter().filter(|f| f.path.ends_with("/mesh.yaml")) {
                let value = yaml::parse_one(&file.contents).unwrap();
                let metadata = value["defaultConfig"]["proxyMetadata"].as_mapping().unwrap();
                for key in metadata.keys() {
                    let key = key.as_str().unwrap();
                    assert!(file.contents.contains(&format!("\n    {key}: ")), "{key}");
                    keys.insert(key.to_string());
                }
            }
        }
        assert!(
            keys.len() >= 13 && keys.contains("ISTIO_META_AUTO_REGISTER_GROUP"),
            "{keys:?}"
        );
        for key in keys {
            assert!(yaml::plain_is_safe(&key), "{key}");
        }
    }

    #[test]
    fn json_strings_are_written_as_serde_json_writes_them() {
        for s in ["", "a", "a\"b", "a\\b", "\n\t\u{1}\u{7f}é", "x/y"] {
            let mut ours = String::new();
            push_json_string(&mut ours, s).unwrap();
            assert_eq!(serde_json::to_string(s).unwrap(), ours, "{s:?}");
        }
    }
}
