//! Every Deployment of every example is hardened by default, read back from the YAML: pod
//! and container security contexts, no token automount (also on the ServiceAccounts),
//! resources with requests at most their limits, readiness and liveness probes on a port
//! the container declares, and a writable `/tmp` beside the read-only root filesystem.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use std::fs;

use serde_yaml::Value;

fn documents(path: &str, vars: Option<&str>) -> Vec<Value> {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_meshc"));
    cmd.arg("build");
    if let Some(vars) = vars {
        cmd.args(["--vars", vars]);
    }
    let out = cmd.arg(path).output().expect("run meshc");
    assert!(out.status.success(), "{path}: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).expect("utf-8");
    serde_yaml::Deserializer::from_str(&text)
        .map(|d| serde::Deserialize::deserialize(d).expect("yaml"))
        .collect()
}

fn get<'v>(v: &'v Value, path: &str) -> &'v Value {
    path.split('.').fold(v, |v, key| &v[key])
}

fn millis(q: &str) -> f64 {
    let split = q.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(q.len());
    let (n, suffix) = q.split_at(split);
    let factor = match suffix {
        "" => 1000.0,
        "m" => 1.0,
        "Ki" => 1_024_000.0,
        "Mi" => 1_048_576_000.0,
        "Gi" => 1_073_741_824_000.0,
        "k" => 1e6,
        "M" => 1e9,
        "G" => 1e12,
        other => panic!("unexpected suffix {other} in {q}"),
    };
    n.parse::<f64>().expect("number") * factor
}

fn assert_hardened(example: &str, deployment: &Value) {
    let name = format!(
        "{example}: {}",
        get(deployment, "metadata.name").as_str().unwrap_or("?")
    );
    let pod = get(deployment, "spec.template.spec");
    assert_eq!(pod["automountServiceAccountToken"], Value::Bool(false), "{name}");
    assert_eq!(get(pod, "securityContext.runAsNonRoot"), &Value::Bool(true), "{name}");
    assert_eq!(
        get(pod, "securityContext.seccompProfile.type").as_str(),
        Some("RuntimeDefault"),
        "{name}"
    );
    let containers = pod["containers"].as_sequence().expect("containers");
    assert!(!containers.is_empty(), "{name}");
    for c in containers {
        let sc = &c["securityContext"];
        assert_eq!(sc["allowPrivilegeEscalation"], Value::Bool(false), "{name}");
        assert_eq!(sc["privileged"], Value::Bool(false), "{name}");
        assert_eq!(sc["readOnlyRootFilesystem"], Value::Bool(true), "{name}");
        assert_eq!(sc["runAsNonRoot"], Value::Bool(true), "{name}");
        let uid = sc["runAsUser"].as_i64().expect("runAsUser");
        assert!(uid >= 10000 && uid != 1337, "{name}: uid {uid}");
        assert_eq!(sc["runAsGroup"].as_i64(), Some(uid), "{name}");
        assert_eq!(
            get(sc, "seccompProfile.type").as_str(),
            Some("RuntimeDefault"),
            "{name}"
        );
        let drop: Vec<&str> = sc["capabilities"]["drop"]
            .as_sequence()
            .expect("drop")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(drop, ["ALL"], "{name}");
        assert!(sc["capabilities"].get("add").is_none(), "{name}");
        assert_eq!(c["imagePullPolicy"].as_str(), Some("Always"), "{name}");

        // /tmp stays writable, on an emptyDir of the pod.
        let mount = c["volumeMounts"]
            .as_sequence()
            .and_then(|m| m.iter().find(|m| m["mountPath"].as_str() == Some("/tmp")))
            .unwrap_or_else(|| panic!("{name}: no /tmp mount"));
        let volume = pod["volumes"]
            .as_sequence()
            .and_then(|v| v.iter().find(|v| v["name"] == mount["name"]))
            .unwrap_or_else(|| panic!("{name}: no volume for /tmp"));
        assert!(volume.get("emptyDir").is_some(), "{name}");

        for resource in ["cpu", "memory"] {
            let request = c["resources"]["requests"][resource].as_str().expect("request");
            let limit = c["resources"]["limits"][resource].as_str().expect("limit");
            assert!(
                millis(request) <= millis(limit),
                "{name}: {resource} {request} > {limit}"
            );
        }

        let ports: Vec<i64> = c["ports"]
            .as_sequence()
            .map(|p| p.iter().filter_map(|p| p["containerPort"].as_i64()).collect())
            .unwrap_or_default();
        for probe in ["readinessProbe", "livenessProbe"] {
            let p = &c[probe];
            let port = p["tcpSocket"]["port"]
                .as_i64()
                .or_else(|| p["httpGet"]["port"].as_i64());
            match port {
                Some(port) => assert!(ports.contains(&port), "{name}: {probe} on {port}, not in {ports:?}"),
                None => assert!(p.get("exec").is_some(), "{name}: no {probe}"),
            }
        }
    }
}

#[test]
fn every_deployment_of_every_example_is_hardened() {
    let mut deployments = 0;
    let mut accounts = 0;
    let mut entries: Vec<_> = fs::read_dir("examples").expect("examples").flatten().collect();
    entries.sort_by_key(|e| e.path());
    for entry in entries {
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some("mesh") {
            continue;
        }
        let vars = path.with_extension("vars");
        let vars = vars.exists().then(|| vars.to_string_lossy().into_owned());
        let example = path.to_string_lossy().into_owned();
        for doc in documents(&example, vars.as_deref()) {
            match doc["kind"].as_str() {
                Some("Deployment") => {
                    assert_hardened(&example, &doc);
                    deployments += 1;
                }
                Some("ServiceAccount") => {
                    assert_eq!(doc["automountServiceAccountToken"], Value::Bool(false), "{example}");
                    accounts += 1;
                }
                _ => {}
            }
        }
    }
    assert!(deployments >= 10, "only {deployments} Deployments in the examples");
    assert!(accounts > 0);
}

#[test]
fn relaxations_change_only_what_they_name() {
    let dir = env!("CARGO_TARGET_TMPDIR");
    let path = format!("{dir}/relax.mesh");
    fs::write(
        &path,
        r#"namespace shop {
  service web {
    port http 8080
    pod v1 image "a:1" relax writable-root
    pod v2 image "a:2" relax image-user
    pod v3 image "a:3" relax token
    pod v4 image "a:4" hardening off
  }
}"#,
    )
    .expect("write");
    let docs = documents(&path, None);
    let pod = |name: &str| -> Value {
        docs.iter()
            .find(|d| d["kind"].as_str() == Some("Deployment") && d["metadata"]["name"].as_str() == Some(name))
            .map(|d| get(d, "spec.template.spec").clone())
            .unwrap_or_else(|| panic!("no {name}"))
    };
    let v1 = pod("web-v1");
    assert_eq!(
        v1["containers"][0]["securityContext"]["readOnlyRootFilesystem"],
        Value::Bool(false)
    );
    assert!(v1.get("volumes").is_none());
    assert_eq!(
        v1["containers"][0]["securityContext"]["runAsUser"].as_i64(),
        Some(10001)
    );
    let v2 = pod("web-v2");
    assert!(v2["containers"][0]["securityContext"].get("runAsUser").is_none());
    assert_eq!(
        v2["containers"][0]["securityContext"]["runAsNonRoot"],
        Value::Bool(true)
    );
    assert_eq!(
        v2["containers"][0]["securityContext"]["readOnlyRootFilesystem"],
        Value::Bool(true)
    );
    let v3 = pod("web-v3");
    assert_eq!(v3["automountServiceAccountToken"], Value::Bool(true));
    assert_eq!(
        v3["containers"][0]["securityContext"]["runAsUser"].as_i64(),
        Some(10001)
    );
    let v4 = pod("web-v4");
    assert!(v4.get("securityContext").is_none());
    assert!(v4["containers"][0].get("securityContext").is_none());
    assert_eq!(v4["automountServiceAccountToken"], Value::Bool(true));
    // Resources and probes are not hardening: they stay.
    assert!(v4["containers"][0]["resources"]["limits"].get("memory").is_some());
    assert!(v4["containers"][0].get("readinessProbe").is_some());
}
