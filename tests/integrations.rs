//! meshc with the tools around it, run for real when they are installed: `kubectl
//! kustomize` on the `-o DIR` output, kustomize running `meshc` as an exec KRM function,
//! and the pre-commit framework running the hooks of `.pre-commit-hooks.yaml`. A test whose
//! tool is missing prints a notice and passes.
//!
//! Tools are found on PATH, or through `MESHC_KUBECTL`, `MESHC_KUSTOMIZE` (a standalone
//! kustomize binary: kubectl's built-in kustomize has no `--enable-exec`, so it cannot run
//! exec functions) and `MESHC_PRE_COMMIT`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use std::fs;
use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use meshc::emit::yaml::parse_documents;
use serde_yaml::Value;

const EXAMPLE: &str = "examples/hybrid-hello.mesh";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn meshc_path() -> &'static str {
    env!("CARGO_BIN_EXE_meshc")
}

fn run(program: &str, args: &[&str], dir: &Path, stdin: Option<&str>) -> Output {
    run_env(program, args, dir, stdin, &[])
}

fn run_env(program: &str, args: &[&str], dir: &Path, stdin: Option<&str>, env: &[(&str, &Path)]) -> Output {
    let mut command = Command::new(program);
    command
        .args(args)
        .current_dir(dir)
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, value) in env {
        command.env(key, value);
    }
    let mut child = command.spawn().unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    if let Some(text) = stdin {
        child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    }
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn show(output: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        output.status.code(),
        text(&output.stdout),
        text(&output.stderr)
    )
}

/// Whether `program args...` runs and exits 0.
fn works(program: &str, args: &[&str]) -> Option<Output> {
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())
}

fn kubectl() -> Option<String> {
    let program = std::env::var("MESHC_KUBECTL").unwrap_or_else(|_| "kubectl".to_string());
    works(&program, &["version", "--client"]).map(|_| program)
}

/// (kind, namespace, name) of a manifest, to compare sets of documents.
fn key(doc: &Value) -> (String, String, String) {
    let get = |v: &Value| v.as_str().unwrap_or("").to_string();
    (
        get(&doc["kind"]),
        get(&doc["metadata"]["namespace"]),
        get(&doc["metadata"]["name"]),
    )
}

fn sorted(mut docs: Vec<Value>) -> Vec<Value> {
    docs.sort_by_key(key);
    docs
}

/// The documents `meshc build FILE` prints.
fn built(file: &str) -> Vec<Value> {
    let output = run(meshc_path(), &["build", file], root(), None);
    assert!(output.status.success(), "{}", show(&output));
    parse_documents(&text(&output.stdout)).unwrap()
}

#[test]
fn kubectl_kustomize_reads_the_output_folder() {
    let Some(kubectl) = kubectl() else {
        println!("skipped: kubectl is not installed (set MESHC_KUBECTL to its path)");
        return;
    };
    let scratch = common::Scratch::new("integrations-kustomize-dir");
    let out = scratch.path("out");
    let build = run(
        meshc_path(),
        &["build", "-o", out.to_str().unwrap(), EXAMPLE],
        root(),
        None,
    );
    assert!(build.status.success(), "{}", show(&build));
    let rendered = run(&kubectl, &["kustomize", out.to_str().unwrap()], root(), None);
    assert!(rendered.status.success(), "{}", show(&rendered));
    let from_kustomize = sorted(parse_documents(&text(&rendered.stdout)).unwrap());
    let from_meshc = sorted(built(EXAMPLE));
    assert_eq!(from_kustomize.len(), 25);
    assert_eq!(from_kustomize, from_meshc);
}

/// A ResourceList as kustomize sends it to a generator: no items, the generator's config as
/// functionConfig.
fn resource_list(items: &str, function_config: &str) -> String {
    format!(
        "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:{items}\nfunctionConfig:\n{function_config}"
    )
}

fn indent(text: &str, by: usize) -> String {
    text.lines().map(|l| format!("{}{l}\n", " ".repeat(by))).collect()
}

fn inline_config(mesh: &str) -> String {
    format!(
        "  apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: mesh\n  data:\n    mesh: |\n{}",
        indent(mesh, 6)
    )
}

#[test]
fn krm_function_appends_the_mesh_to_the_resource_list() {
    let mesh = fs::read_to_string(root().join(EXAMPLE)).unwrap();
    let kept = "\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: kept\n  data:\n    flag: \"on\"\n    count: \"1\"";
    let expected = built(EXAMPLE);

    // `meshc` with no arguments, as kustomize runs it, and `meshc krm`: the same answer.
    let input = resource_list(kept, &inline_config(&mesh));
    for args in [&[][..], &["krm"][..]] {
        let output = run(meshc_path(), args, root(), Some(&input));
        assert!(output.status.success(), "{}", show(&output));
        let list = &parse_documents(&text(&output.stdout)).unwrap()[0];
        assert_eq!(list["kind"].as_str(), Some("ResourceList"));
        let items = list["items"].as_sequence().unwrap();
        assert_eq!(items.len(), 1 + expected.len());
        assert_eq!(items[0]["metadata"]["name"].as_str(), Some("kept"));
        assert_eq!(items[0]["data"]["flag"].as_str(), Some("on"), "values keep their type");
        assert_eq!(items[1..].to_vec(), expected);
        assert!(list.get("results").is_none());
    }

    // Exactly what kustomize sends a generator (kustomize's fnplugin.go): the functionConfig,
    // annotated as local config, is also the one item; kustomize drops it from the output.
    let config = inline_config(&mesh).replacen(
        "    name: mesh\n",
        "    name: mesh\n    annotations:\n      config.kubernetes.io/local-config: \"true\"\n",
        1,
    );
    let input = resource_list(
        &format!("\n{}", config.replacen("  apiVersion", "- apiVersion", 1)),
        &config,
    );
    let output = run(meshc_path(), &[], root(), Some(&input));
    assert!(output.status.success(), "{}", show(&output));
    let list = &parse_documents(&text(&output.stdout)).unwrap()[0];
    let items = list["items"].as_sequence().unwrap();
    assert_eq!(
        items[0]["metadata"]["annotations"]["config.kubernetes.io/local-config"].as_str(),
        Some("true")
    );
    assert_eq!(items[1..].to_vec(), expected);

    // spec.files, relative to the working directory (kustomize sets it to the
    // kustomization's folder).
    let files_config = "  apiVersion: meshc.dev/v1alpha1\n  kind: MeshGenerator\n  metadata:\n    name: mesh\n  spec:\n    files: [examples/hybrid-hello.mesh]\n    api: v1beta1\n";
    let output = run(
        meshc_path(),
        &["krm"],
        root(),
        Some(&resource_list(" []", files_config)),
    );
    assert!(output.status.success(), "{}", show(&output));
    let list = &parse_documents(&text(&output.stdout)).unwrap()[0];
    let items = list["items"].as_sequence().unwrap();
    assert_eq!(items.len(), expected.len());
    assert!(items
        .iter()
        .any(|i| i["apiVersion"].as_str() == Some("networking.istio.io/v1beta1")));

    // Errors: a results entry, the items unchanged, exit status 1.
    let broken = mesh.replace("port http 8001\n    calls hello3", "port http 99999\n    calls hello3");
    let output = run(
        meshc_path(),
        &[],
        root(),
        Some(&resource_list(kept, &inline_config(&broken))),
    );
    assert_eq!(output.status.code(), Some(1), "{}", show(&output));
    let list = &parse_documents(&text(&output.stdout)).unwrap()[0];
    assert_eq!(list["items"].as_sequence().map(Vec::len), Some(1));
    let result = &list["results"][0];
    assert_eq!(result["severity"].as_str(), Some("error"));
    assert_eq!(result["tags"]["code"].as_str(), Some("M3002"));
    assert!(result["message"].as_str().unwrap().contains("M3002"));
    assert!(text(&output.stderr).contains("99999"), "diagnostics on stderr too");

    // A config without a mesh.
    let output = run(
        meshc_path(),
        &["krm"],
        root(),
        Some(&resource_list(" []", "  kind: ConfigMap\n")),
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stdout).contains("names no mesh"));
}

/// A kustomize that runs exec functions: `MESHC_KUSTOMIZE`, then `kustomize` on PATH, then
/// kubectl if its built-in kustomize has `--enable-exec`. The command's words before DIR.
fn exec_kustomize() -> Result<Vec<String>, String> {
    let standalone = std::env::var("MESHC_KUSTOMIZE").unwrap_or_else(|_| "kustomize".to_string());
    if let Some(help) = works(&standalone, &["build", "--help"]) {
        if text(&help.stdout).contains("--enable-exec") {
            return Ok(vec![
                standalone,
                "build".into(),
                "--enable-alpha-plugins".into(),
                "--enable-exec".into(),
            ]);
        }
    }
    let Some(kubectl) = kubectl() else {
        return Err("neither kustomize nor kubectl is installed".into());
    };
    let help = works(&kubectl, &["kustomize", "--help"])
        .map(|o| text(&o.stdout))
        .unwrap_or_default();
    if help.contains("--enable-exec") {
        return Ok(vec![
            kubectl,
            "kustomize".into(),
            "--enable-alpha-plugins".into(),
            "--enable-exec".into(),
        ]);
    }
    let version = works(&kubectl, &["version", "--client"])
        .map(|o| text(&o.stdout).replace('\n', "; "))
        .unwrap_or_default();
    Err(format!(
        "kubectl's built-in kustomize ({version}) has no --enable-exec flag, and without it kustomize \
         does not run exec KRM functions; set MESHC_KUSTOMIZE to a standalone kustomize binary"
    ))
}

#[test]
fn kustomize_runs_meshc_as_an_exec_krm_function() {
    let command = match exec_kustomize() {
        Ok(command) => command,
        Err(why) => {
            println!("skipped: {why}");
            return;
        }
    };
    let scratch = common::Scratch::new("integrations-krm-exec");
    let mesh = fs::read_to_string(root().join(EXAMPLE)).unwrap();
    let function = format!(
        "  annotations:\n    config.kubernetes.io/function: |\n      exec:\n        path: {}\n",
        meshc_path()
    );
    scratch.write(
        "kust/kustomization.yaml",
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- extra.yaml\ngenerators:\n- inline.yaml\n- files.yaml\n",
    );
    scratch.write(
        "kust/extra.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n  namespace: hybrid-hello\n",
    );
    scratch.write(
        "kust/inline.yaml",
        &format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: mesh\n{function}data:\n  mesh: |\n{}",
            indent(&mesh, 4)
        ),
    );
    scratch.write(
        "kust/mesh/other.mesh",
        "namespace other {\n  service web {\n    port http 8080\n    pod v1 image \"nginx\"\n  }\n}\n",
    );
    scratch.write(
        "kust/files.yaml",
        &format!("apiVersion: meshc.dev/v1alpha1\nkind: MeshGenerator\nmetadata:\n  name: files\n{function}spec:\n  files: [mesh/other.mesh]\n"),
    );
    let (program, args) = command.split_first().unwrap();
    let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
    let dir = scratch.path("kust");
    args.push(dir.to_str().unwrap());
    let output = run(program, &args, &scratch.0, None);
    assert!(output.status.success(), "{}", show(&output));
    let docs = parse_documents(&text(&output.stdout)).unwrap();
    let keys: Vec<_> = docs.iter().map(key).collect();
    for doc in built(EXAMPLE) {
        assert!(
            keys.contains(&key(&doc)),
            "{:?} missing from kustomize's output",
            key(&doc)
        );
    }
    assert!(
        keys.contains(&("Deployment".into(), "other".into(), "web-v1".into())),
        "{keys:?}"
    );
    assert!(keys.contains(&("ConfigMap".into(), "hybrid-hello".into(), "extra".into())));
}

fn pre_commit() -> Option<String> {
    let candidates = std::env::var("MESHC_PRE_COMMIT")
        .into_iter()
        .chain(["pre-commit".to_string()]);
    candidates.into_iter().find(|p| works(p, &["--version"]).is_some())
}

/// The hooks of `.pre-commit-hooks.yaml` as a `repo: local` config. The hooks say
/// `language: python`, with which pre-commit pip-installs meshc as a wheel (built by maturin
/// from the hook repository, or a prebuilt one; `.ci/packaging` runs that path for real); the
/// test uses `language: system` with the same entry, files and options, pointing the entry
/// at the meshc just built, so it checks the hook definitions without a network or a commit.
fn local_config(args: &[&str]) -> String {
    let hooks = fs::read_to_string(root().join(".pre-commit-hooks.yaml")).unwrap();
    let hooks = meshc::emit::yaml::parse_one(&hooks).unwrap();
    let hooks: Vec<serde_json::Value> = serde_json::to_value(&hooks)
        .ok()
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap();
    let mut config = String::from("repos:\n- repo: local\n  hooks:\n");
    for mut hook in hooks {
        assert_eq!(hook["language"], "python");
        let entry = hook["entry"].as_str().unwrap().to_string();
        let rest = entry.strip_prefix("meshc").expect("the entry runs meshc");
        hook["entry"] = format!("'{}'{rest}", meshc_path()).into();
        hook["language"] = "system".into();
        hook["args"] = args.iter().map(|a| serde_json::Value::from(*a)).collect();
        config.push_str(&format!("  - {hook}\n"));
    }
    config
}

#[test]
fn pre_commit_hooks_regenerate_and_check_the_manifests() {
    let Some(pre_commit) = pre_commit() else {
        println!("skipped: pre-commit is not installed (set MESHC_PRE_COMMIT to its path)");
        return;
    };
    if works("git", &["--version"]).is_none() {
        println!("skipped: git is not installed");
        return;
    }
    let scratch = common::Scratch::new("integrations-pre-commit");
    let repo = scratch.path("repo");
    let cache = scratch.path("cache");
    fs::create_dir_all(&repo).unwrap();
    let env = [("PRE_COMMIT_HOME", cache.as_path())];
    let git = |args: &[&str]| {
        let output = run("git", args, &repo, None);
        assert!(output.status.success(), "git {args:?}: {}", show(&output));
    };
    let hook = |id: &str| run_env(&pre_commit, &["run", id, "--all-files"], &repo, None, &env);

    git(&["init", "-q"]);
    let mesh = fs::read_to_string(root().join(EXAMPLE)).unwrap();
    scratch.write("repo/mesh/hello.mesh", &mesh);
    scratch.write(
        "repo/.pre-commit-config.yaml",
        &local_config(&["-o", "deploy", "mesh/"]),
    );
    let build = run(meshc_path(), &["build", "-o", "deploy", "mesh/"], &repo, None);
    assert!(build.status.success(), "{}", show(&build));
    git(&["add", "-A"]);

    // Fresh manifests pass.
    let output = hook("meshc-check");
    assert!(output.status.success(), "{}", show(&output));
    assert!(text(&output.stdout).contains("Passed"), "{}", show(&output));

    // The mesh changed but the manifests were not regenerated: the check fails with a diff.
    scratch.write(
        "repo/mesh/hello.mesh",
        &mesh.replace("port http 8003 -> 8001", "port http 8004 -> 8001"),
    );
    git(&["add", "-A"]);
    let output = hook("meshc-check");
    assert_eq!(output.status.code(), Some(1), "{}", show(&output));
    let out = text(&output.stdout);
    assert!(out.contains("Failed"), "{out}");
    assert!(out.contains("+++ hybrid-hello/service-hello1-svc.yaml"), "{out}");
    assert!(out.contains("-      port: 8003\n+      port: 8004"), "{out}");

    // The build hook regenerates them (and, as pre-commit does when a hook changes files,
    // fails this once); then the check passes.
    let output = hook("meshc-build");
    assert_eq!(output.status.code(), Some(1), "{}", show(&output));
    assert!(
        text(&output.stdout).contains("files were modified by this hook"),
        "{}",
        show(&output)
    );
    let service = fs::read_to_string(repo.join("deploy/hybrid-hello/service-hello1-svc.yaml")).unwrap();
    assert!(service.contains("port: 8004"));
    git(&["add", "-A"]);
    let output = hook("meshc-check");
    assert!(output.status.success(), "{}", show(&output));
    let output = hook("meshc-build");
    assert!(output.status.success(), "nothing left to regenerate: {}", show(&output));

    // A manifest edited by hand fails the check too.
    let path = repo.join("deploy/hybrid-hello/deployment-hello2-deploy-v1.yaml");
    let edited = fs::read_to_string(&path).unwrap().replace("replicas: 1", "replicas: 5");
    fs::write(&path, edited).unwrap();
    git(&["add", "-A"]);
    let output = hook("meshc-check");
    assert_eq!(output.status.code(), Some(1), "{}", show(&output));
    assert!(
        text(&output.stdout).contains("-  replicas: 5\n+  replicas: 1"),
        "{}",
        show(&output)
    );
}

#[test]
fn kubectl_kustomize_runs_meshc_as_an_exec_generator_plugin() {
    let Some(kubectl) = kubectl() else {
        println!("skipped: kubectl is not installed (set MESHC_KUBECTL to its path)");
        return;
    };
    // The plugin layout kustomize looks for, with the script the repository ships.
    let scratch = common::Scratch::new("integrations-kustomize-plugin");
    let home = scratch.path("plugins");
    let plugin_dir = home.join("meshc.dev/v1/meshgenerator");
    std::fs::create_dir_all(&plugin_dir).unwrap();
    let script = std::fs::read_to_string(root().join("integrations/kustomize/MeshGenerator")).unwrap();
    let script = script.replace("${MESHC:-meshc}", meshc_path());
    let plugin = plugin_dir.join("MeshGenerator");
    std::fs::write(&plugin, script).unwrap();
    let mut permissions = std::fs::metadata(&plugin).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
    std::fs::set_permissions(&plugin, permissions).unwrap();

    let app = scratch.path("app");
    std::fs::create_dir_all(app.join("mesh")).unwrap();
    std::fs::copy(root().join(EXAMPLE), app.join("mesh/hybrid-hello.mesh")).unwrap();
    std::fs::write(app.join("kustomization.yaml"), "generators:\n- mesh.yaml\n").unwrap();
    std::fs::write(
        app.join("mesh.yaml"),
        "apiVersion: meshc.dev/v1\nkind: MeshGenerator\nmetadata:\n  name: mesh\nspec:\n  files:\n  - mesh/hybrid-hello.mesh\n",
    )
    .unwrap();
    let rendered = run_env(
        &kubectl,
        &["kustomize", "--enable-alpha-plugins", app.to_str().unwrap()],
        root(),
        None,
        &[("KUSTOMIZE_PLUGIN_HOME", home.as_path())],
    );
    assert!(rendered.status.success(), "{}", show(&rendered));
    let from_kustomize = sorted(parse_documents(&text(&rendered.stdout)).unwrap());
    assert_eq!(from_kustomize.len(), 25);
    assert_eq!(from_kustomize, sorted(built(EXAMPLE)));

    // An error in the mesh stops kustomize, with meshc's diagnostic on its stderr.
    std::fs::write(
        app.join("mesh/hybrid-hello.mesh"),
        "namespace a { service b { port htp 80 } }\n",
    )
    .unwrap();
    let failed = run_env(
        &kubectl,
        &["kustomize", "--enable-alpha-plugins", app.to_str().unwrap()],
        root(),
        None,
        &[("KUSTOMIZE_PLUGIN_HOME", home.as_path())],
    );
    assert!(!failed.status.success());
    assert!(text(&failed.stderr).contains("M3004"), "{}", show(&failed));
}
