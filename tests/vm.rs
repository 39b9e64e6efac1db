//! The VM half: the files meshc writes for each VM of the seed, read back and compared with
//! the WorkloadGroup it writes for the same version, and what `build -o DIR` does with them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use std::collections::BTreeMap;

use common::{compile_ok, parse_yaml, read, root, string_map};
use meshc::{GeneratedFile, Options, Output};
use serde_yaml::Value;

const VM: &str = "vm/hybrid-hello/hello2-v2/192.168.0.171";

fn seed() -> Output {
    let text = read(&root().join("examples/hybrid-hello.mesh"));
    compile_ok(&text, &Options::default())
}

fn file<'o>(output: &'o Output, path: &str) -> &'o str {
    let found: Vec<&GeneratedFile> = output.files.iter().filter(|f| f.path == path).collect();
    assert_eq!(found.len(), 1, "exactly one file {path} in {:?}", paths(output));
    &found[0].contents
}

fn paths(output: &Output) -> Vec<&str> {
    output.files.iter().map(|f| f.path.as_str()).collect()
}

/// `cluster.env` as istioctl's reader would see it: `KEY=value`, single quotes removed.
fn cluster_env(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (k, v) = l.split_once('=').expect("KEY=value");
            let v = v.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')).unwrap_or(v);
            (k.to_string(), v.to_string())
        })
        .collect()
}

fn group<'d>(docs: &'d [Value], name: &str) -> &'d Value {
    docs.iter()
        .find(|d| d["kind"] == "WorkloadGroup" && d["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no WorkloadGroup {name}"))
}

#[test]
fn the_seed_vm_starts_the_v2_image_with_hello3s_address() {
    let output = seed();
    let script = file(&output, &format!("{VM}/run.sh"));
    let run: Vec<&str> = script
        .lines()
        .skip_while(|l| !l.starts_with("docker run"))
        .map(|l| l.trim().trim_end_matches('\\').trim())
        .collect();
    assert!(run.contains(&"--network host"), "{script}");
    assert!(
        run.contains(&"-e HTTP_HELLO_BACKEND=hello3-svc.hybrid-hello.svc.cluster.local"),
        "{script}"
    );
    assert_eq!(
        run.last().copied(),
        Some("registry.cn-beijing.aliyuncs.com/asm_repo/http_springboot_v2:1.0.1"),
        "{script}"
    );
    // v3's VM runs the v3 image, and no VM file lands among the manifests.
    let v3 = file(&output, "vm/hybrid-hello/hello2-v3/192.168.0.172/run.sh");
    assert!(v3.contains("http_springboot_v3:1.0.1") && !v3.contains("http_springboot_v2"));
    assert!(!output.to_yaml().contains("docker run"));
}

#[test]
fn cluster_env_and_mesh_yaml_agree_with_the_workload_group() {
    let output = seed();
    let docs = parse_yaml(&output.to_yaml());
    let group = group(&docs, "hello2-deploy-v2");
    let namespace = group["metadata"]["namespace"].as_str().expect("namespace");
    let account = group["spec"]["template"]["serviceAccount"].as_str().expect("account");
    let labels = string_map(&group["spec"]["metadata"]["labels"]);
    assert_eq!(labels, string_map(&group["spec"]["template"]["labels"]));
    let ports: BTreeMap<String, u64> = group["spec"]["template"]["ports"]
        .as_mapping()
        .expect("ports")
        .iter()
        .map(|(k, v)| (k.as_str().expect("name").to_string(), v.as_u64().expect("port")))
        .collect();
    assert_eq!(ports, BTreeMap::from([("http".to_string(), 8001)]));

    let env = cluster_env(file(&output, &format!("{VM}/cluster.env")));
    assert_eq!(env["ISTIO_NAMESPACE"], namespace);
    assert_eq!(env["SERVICE_ACCOUNT"], account);
    assert_eq!(env["ISTIO_SERVICE"], format!("hello2-deploy-v2.{namespace}"));
    assert_eq!(env["ISTIO_SVC_IP"], "192.168.0.171");
    let inbound: Vec<u64> = env["ISTIO_INBOUND_PORTS"]
        .split(',')
        .map(|p| p.parse().expect("port"))
        .collect();
    assert_eq!(inbound, ports.values().copied().collect::<Vec<_>>());

    let mesh = parse_yaml(file(&output, &format!("{VM}/mesh.yaml")));
    let md = string_map(&mesh[0]["defaultConfig"]["proxyMetadata"]);
    assert_eq!(md["POD_NAMESPACE"], namespace);
    assert_eq!(md["SERVICE_ACCOUNT"], account);
    assert_eq!(md["ISTIO_META_WORKLOAD_NAME"], "hello2-deploy-v2");
    assert_eq!(md["CANONICAL_SERVICE"], labels["app"]);
    assert_eq!(md["CANONICAL_REVISION"], labels["version"]);
    let json_labels: BTreeMap<String, String> =
        serde_json::from_str(&md["ISTIO_METAJSON_LABELS"]).expect("labels are JSON");
    for (k, v) in &labels {
        assert_eq!(json_labels.get(k), Some(v), "label {k}");
    }
    let pod_ports: Vec<serde_json::Value> = serde_json::from_str(&md["ISTIO_META_POD_PORTS"]).expect("JSON");
    let pod_ports: BTreeMap<String, u64> = pod_ports
        .iter()
        .map(|p| {
            (
                p["name"].as_str().expect("name").to_string(),
                p["containerPort"].as_u64().expect("port"),
            )
        })
        .collect();
    assert_eq!(pod_ports, ports);
    // A statically registered VM does not auto-register too.
    assert!(!md.contains_key("ISTIO_META_AUTO_REGISTER_GROUP"));
}

#[test]
fn auto_registering_vms_get_a_group_folder_and_no_workload_entry() {
    let text = "namespace shop {\n  cluster { eastwest 203.0.113.10 }\n  service web {\n    port http 8080\n    vm v1 auto-register image \"registry.example.com/web:1.0\"\n  }\n}\n";
    let output = compile_ok(text, &Options::default());
    let docs = parse_yaml(&output.to_yaml());
    assert!(!docs.iter().any(|d| d["kind"] == "WorkloadEntry"));
    group(&docs, "web-v1");
    let md = parse_yaml(file(&output, "vm/shop/web-v1/group/mesh.yaml"));
    assert_eq!(
        md[0]["defaultConfig"]["proxyMetadata"]["ISTIO_META_AUTO_REGISTER_GROUP"],
        "web-v1"
    );
    assert_eq!(
        file(&output, "vm/shop/web-v1/group/hosts"),
        "203.0.113.10 istiod.istio-system.svc\n"
    );
    assert!(!cluster_env(file(&output, "vm/shop/web-v1/group/cluster.env")).contains_key("ISTIO_SVC_IP"));
}

#[test]
fn build_writes_vm_files_beside_the_manifests_but_not_in_the_kustomization() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("vm-build-out");
    let _ = std::fs::remove_dir_all(&dir);
    let out = common::meshc(
        &root(),
        &[
            "build",
            "examples/hybrid-hello.mesh",
            "-o",
            dir.to_str().expect("utf-8 path"),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let output = seed();
    for f in &output.files {
        let written = read(&dir.join(&f.path));
        assert!(written.starts_with("# Generated by meshc"), "{}", f.path);
        assert!(written.ends_with(&f.contents), "{}", f.path);
    }
    let kustomization = read(&dir.join("kustomization.yaml"));
    assert!(!kustomization.contains("vm/"), "{kustomization}");
    // Again: nothing changes, and `--check` agrees.
    let check = common::meshc(
        &root(),
        &[
            "build",
            "--check",
            "examples/hybrid-hello.mesh",
            "-o",
            dir.to_str().expect("utf-8 path"),
        ],
    );
    assert_eq!(
        check.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
}

#[test]
fn vm_files_do_not_depend_on_declaration_order() {
    let text = read(&root().join("examples/vm-other-network.mesh"));
    let first = compile_ok(&text, &Options::default());
    // The same mesh with v3 declared before v2 and the services swapped.
    let v3 = "    vm v3 auto-register network dc-net image \"registry.example.com/web:3.0\"\n";
    let moved = text.replace(v3, "").replace(
        "    pod v1 image \"registry.example.com/web:1.0\"\n",
        &format!("{v3}    pod v1 image \"registry.example.com/web:1.0\"\n"),
    );
    assert_ne!(moved, text);
    let second = compile_ok(&moved, &Options::default());
    assert_eq!(first.files, second.files);
    assert_eq!(first.to_yaml(), second.to_yaml());
}

#[test]
fn a_vm_that_names_no_network_is_on_the_clusters() {
    let text = "namespace shop {\n  cluster { network kube-net }\n  service web {\n    port http 8080\n    vm v1 at 10.0.0.5\n  }\n}\n";
    let output = compile_ok(text, &Options::default());
    let docs = parse_yaml(&output.to_yaml());
    assert_eq!(group(&docs, "web-v1")["spec"]["template"]["network"], "kube-net");
    let md = parse_yaml(file(&output, "vm/shop/web-v1/10.0.0.5/mesh.yaml"));
    assert_eq!(
        md[0]["defaultConfig"]["proxyMetadata"]["ISTIO_META_NETWORK"],
        "kube-net"
    );
}

#[test]
fn helm_output_has_no_vm_files() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("vm-helm-out");
    let _ = std::fs::remove_dir_all(&dir);
    let out = common::meshc(
        &root(),
        &[
            "build",
            "--helm",
            "examples/hybrid-hello.mesh",
            "-o",
            dir.to_str().expect("utf-8 path"),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(dir.join("hybrid-hello").is_dir());
    assert!(!dir.join("vm").exists());
}
