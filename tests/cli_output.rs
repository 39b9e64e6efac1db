//! The `meshc` binary's outputs: `build -o DIR` and `-o FILE.yaml`, `--check` / `diff`,
//! `--helm` and `post-render`, the `github` and `sarif` message formats, completions and
//! the man page. Every test works in its own scratch folder under the system temp dir.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use meshc::emit::yaml::parse_documents;

/// The naming scheme, compiled here from the binary's own source file so that the
/// path-escape defence is tested on the real code.
#[allow(dead_code)]
#[path = "../src/cli/layout.rs"]
mod layout;

const EXAMPLE: &str = "examples/hybrid-hello.mesh";

/// The header of files built from EXAMPLE into `out` (which must exist): the source is
/// named relative to the output folder, by the rule of `layout::source_name`.
fn header(out: &Path) -> String {
    let source = fs::canonicalize(root().join(EXAMPLE)).unwrap();
    let name = layout::source_name(&source, &fs::canonicalize(out).unwrap());
    layout::header(&[name], false)
}

/// Puts a file in `out` as if an earlier build of `out` had written it: the file and its
/// line in the folder's record.
fn as_if_generated(out: &Path, rel: &str, text: &str) {
    let path = out.join(rel);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(&path, text).unwrap();
    let mut record = fs::OpenOptions::new()
        .append(true)
        .open(out.join(".meshc-owned"))
        .unwrap();
    writeln!(record, "# owned {:016x} {rel}", layout::content_hash(text.as_bytes())).unwrap();
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Runs meshc in the crate root (so `examples/…` paths and headers are stable).
fn meshc(args: &[&str]) -> Output {
    meshc_with_stdin(args, None)
}

fn meshc_with_stdin(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_meshc"))
        .args(args)
        .current_dir(root())
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(text) = stdin {
        // meshc may stop (bad input) before reading it all.
        match child.stdin.take().unwrap().write_all(text.as_bytes()) {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
            written => written.unwrap(),
        }
    }
    child.wait_with_output().unwrap()
}

fn code(output: &Output) -> i32 {
    output.status.code().unwrap_or(-1)
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// Every file under `dir`, relative path → contents.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    common::files_under(dir)
}

/// The documents `meshc build` prints, as (kind, namespace, name, yaml text).
fn streamed(args: &[&str]) -> Vec<(String, Option<String>, String, String)> {
    let output = meshc(args);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    stdout(&output)
        .split("---\n")
        .filter(|doc| !doc.is_empty())
        .map(|doc| {
            let value = &parse_documents(doc).unwrap()[0];
            let get = |key: &str| value["metadata"][key].as_str().map(str::to_string);
            (
                value["kind"].as_str().unwrap().to_string(),
                get("namespace"),
                get("name").unwrap(),
                doc.to_string(),
            )
        })
        .collect()
}

fn expected_path(kind: &str, namespace: Option<&str>, name: &str) -> String {
    format!(
        "{}/{}-{name}.yaml",
        namespace.unwrap_or("_cluster"),
        kind.to_lowercase()
    )
}

const BAD_MESH: &str = "namespace x {\n  service a {\n    port http 99999\n    pod v1 image \"i\"\n  }\n}\n";

#[test]
fn dir_output_follows_the_naming_scheme_with_headers_and_a_kustomization() {
    let scratch = common::Scratch::new("cli-output-layout");
    let out = scratch.path("out");
    let run = meshc(&["build", "-o", s(&out), EXAMPLE]);
    assert_eq!(code(&run), 0, "{}", stderr(&run));
    assert!(stdout(&run).is_empty(), "nothing on stdout with -o DIR");

    let docs = streamed(&["build", EXAMPLE]);
    let files = snapshot(&out);
    let mut expected: Vec<String> = docs
        .iter()
        .map(|(kind, ns, name, _)| expected_path(kind, ns.as_deref(), name))
        .collect();
    expected.sort();
    let mut all = expected.clone();
    all.push("kustomization.yaml".to_string());
    all.push(".meshc-owned".to_string());
    all.sort();
    // The VMs' files come beside the manifests, under `vm/`, outside the kustomization.
    let manifests: Vec<String> = files.keys().filter(|p| !p.starts_with("vm/")).cloned().collect();
    assert_eq!(manifests, all);
    assert!(files.contains_key("_cluster/namespace-hybrid-hello.yaml"));
    assert!(files.contains_key("hybrid-hello/virtualservice-hello2.yaml"));

    // Every object file: the header, then exactly the document meshc streams.
    let header = header(&out);
    for (kind, ns, name, yaml) in &docs {
        let text = String::from_utf8(files[&expected_path(kind, ns.as_deref(), name)].clone()).unwrap();
        assert_eq!(text, format!("{header}{yaml}"));
    }

    // The kustomization lists every object file, sorted, and nothing else.
    let kustomization = String::from_utf8(files["kustomization.yaml"].clone()).unwrap();
    assert!(kustomization.starts_with(&header));
    let parsed = &parse_documents(&kustomization).unwrap()[0];
    assert_eq!(parsed["kind"].as_str(), Some("Kustomization"));
    let resources: Vec<String> = parsed["resources"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap().to_string())
        .collect();
    assert_eq!(resources, expected);

    // Deterministic: a second run changes nothing.
    let again = meshc(&["build", "-o", s(&out), EXAMPLE]);
    assert_eq!(code(&again), 0);
    assert_eq!(snapshot(&out), files);
    assert!(
        stderr(&again).contains("0 written, 36 unchanged, 0 stale removed"),
        "{}",
        stderr(&again)
    );
}

#[test]
fn stale_generated_files_are_removed_and_foreign_files_kept_with_a_warning() {
    let scratch = common::Scratch::new("cli-output-stale");
    let out = scratch.path("out");
    assert_eq!(code(&meshc(&["build", "-o", s(&out), EXAMPLE])), 0);
    let header = header(&out);
    as_if_generated(
        &out,
        "hybrid-hello/service-gone.yaml",
        &format!("{header}kind: Service\n"),
    );
    as_if_generated(
        &out,
        "old-namespace/service-x.yaml",
        &format!("{header}kind: Service\n"),
    );
    // Starts with the header, but no build of this folder wrote it: not meshc's.
    scratch.write("out/hybrid-hello/copied.yaml", &format!("{header}kind: Service\n"));
    scratch.write("out/hybrid-hello/notes.txt", "my notes\n");
    scratch.write("out/README.md", "# deploy\n");
    let run = meshc(&["build", "-o", s(&out), EXAMPLE]);
    assert_eq!(code(&run), 0, "{}", stderr(&run));
    assert!(!scratch.path("out/hybrid-hello/service-gone.yaml").exists());
    assert!(
        !scratch.path("out/old-namespace").exists(),
        "an emptied folder is removed"
    );
    assert_eq!(
        fs::read_to_string(scratch.path("out/hybrid-hello/notes.txt")).unwrap(),
        "my notes\n"
    );
    assert_eq!(fs::read_to_string(scratch.path("out/README.md")).unwrap(), "# deploy\n");
    assert!(scratch.path("out/hybrid-hello/copied.yaml").exists());
    let err = stderr(&run);
    for foreign in ["README.md", "notes.txt", "copied.yaml"] {
        assert!(
            err.lines()
                .any(|l| l.starts_with("meshc: warning:") && l.contains(foreign) && l.contains("left untouched")),
            "{err}"
        );
    }
    assert!(err.contains("2 stale removed"), "{err}");
    for gone in ["hybrid-hello/service-gone.yaml", "old-namespace/service-x.yaml"] {
        assert!(err.contains(&format!("meshc: removed {}", s(&out.join(gone)))), "{err}");
    }
    // The foreign files are not listed in the kustomization.
    let kustomization = fs::read_to_string(scratch.path("out/kustomization.yaml")).unwrap();
    assert!(!kustomization.contains("notes.txt") && !kustomization.contains("README"));
}

#[test]
fn nothing_is_written_when_compilation_fails() {
    let scratch = common::Scratch::new("cli-output-fail");
    let bad = scratch.write("bad.mesh", BAD_MESH);
    let fresh = scratch.path("fresh");
    let run = meshc(&["build", "-o", s(&fresh), s(&bad)]);
    assert_eq!(code(&run), 1);
    assert!(!fresh.exists(), "no folder is even created");

    // An existing output folder, stale files included, is left exactly as it was.
    let out = scratch.path("out");
    assert_eq!(code(&meshc(&["build", "-o", s(&out), EXAMPLE])), 0);
    as_if_generated(
        &out,
        "hybrid-hello/service-gone.yaml",
        &format!("{}kind: Service\n", header(&out)),
    );
    let before = snapshot(&out);
    let run = meshc(&["build", "-o", s(&out), s(&bad)]);
    assert_eq!(code(&run), 1);
    assert!(stderr(&run).contains("M3002"));
    assert_eq!(snapshot(&out), before);

    let file = scratch.path("one.yaml");
    assert_eq!(code(&meshc(&["build", "-o", s(&file), s(&bad)])), 1);
    assert!(!file.exists());
}

#[test]
fn a_planned_path_taken_by_a_foreign_file_stops_the_run_before_any_write() {
    let scratch = common::Scratch::new("cli-output-conflict");
    let out = scratch.path("out");
    scratch.write("out/kustomization.yaml", "resources: [mine.yaml]\n");
    let before = snapshot(&out);
    let run = meshc(&["build", "-o", s(&out), EXAMPLE]);
    assert_eq!(code(&run), 2);
    assert!(stderr(&run).contains("was not generated by meshc"), "{}", stderr(&run));
    assert_eq!(snapshot(&out), before);

    let file = scratch.write("manifests.yaml", "kind: Mine\n");
    let run = meshc(&["build", "-o", s(&file), EXAMPLE]);
    assert_eq!(code(&run), 2);
    assert_eq!(fs::read_to_string(&file).unwrap(), "kind: Mine\n");
}

#[cfg(unix)]
#[test]
fn writes_are_atomic_renames_and_leave_no_temporary_files() {
    use std::os::unix::fs::MetadataExt as _;
    let scratch = common::Scratch::new("cli-output-atomic");
    let out = scratch.path("out");
    assert_eq!(code(&meshc(&["build", "-o", s(&out), EXAMPLE])), 0);
    let edited = scratch.path("out/hybrid-hello/service-hello1-svc.yaml");
    let untouched = scratch.path("out/hybrid-hello/service-hello2-svc.yaml");
    let mut text = fs::read_to_string(&edited).unwrap();
    text.push_str("extra: 1\n");
    fs::write(&edited, &text).unwrap();
    let (edited_inode, untouched_inode) = (
        fs::metadata(&edited).unwrap().ino(),
        fs::metadata(&untouched).unwrap().ino(),
    );
    let run = meshc(&["build", "-o", s(&out), EXAMPLE]);
    assert_eq!(code(&run), 0);
    assert!(stderr(&run).contains("1 written, 35 unchanged"), "{}", stderr(&run));
    assert!(
        stderr(&run).contains("service-hello1-svc.yaml: edited since meshc wrote it; replaced"),
        "{}",
        stderr(&run)
    );
    // The edited file was replaced by a rename (a new inode), not rewritten in place; the
    // unchanged one was not touched.
    assert_ne!(fs::metadata(&edited).unwrap().ino(), edited_inode);
    assert_eq!(fs::metadata(&untouched).unwrap().ino(), untouched_inode);
    assert!(!fs::read_to_string(&edited).unwrap().contains("extra"));
    for name in snapshot(&out).keys().filter(|name| *name != ".meshc-owned") {
        assert!(
            !name.contains(".meshc-") && !name.ends_with(".tmp"),
            "left behind: {name}"
        );
    }

    let file = scratch.path("single/all.yaml");
    assert_eq!(code(&meshc(&["build", "-o", s(&file), EXAMPLE])), 0);
    let names: Vec<String> = snapshot(&scratch.path("single")).into_keys().collect();
    assert_eq!(names, ["all.yaml"]);
}

#[test]
fn file_output_is_the_stream_with_the_header() {
    let scratch = common::Scratch::new("cli-output-file");
    let file = scratch.path("all.yaml");
    let run = meshc(&["build", "-o", s(&file), EXAMPLE]);
    assert_eq!(code(&run), 0, "{}", stderr(&run));
    let stream = stdout(&meshc(&["build", EXAMPLE]));
    assert_eq!(
        fs::read_to_string(&file).unwrap(),
        format!("{}{stream}", header(&scratch.0))
    );
    // `.yml` works too, and a directory named x.yaml is a directory.
    let yml = scratch.path("all.yml");
    assert_eq!(code(&meshc(&["build", "-o", s(&yml), EXAMPLE])), 0);
    assert!(yml.is_file());
    let dir = scratch.path("dir.yaml");
    fs::create_dir(&dir).unwrap();
    assert_eq!(code(&meshc(&["build", "-o", s(&dir), EXAMPLE])), 0);
    assert!(dir.join("kustomization.yaml").is_file());
}

#[test]
fn check_passes_when_fresh_and_fails_with_a_diff_otherwise() {
    let scratch = common::Scratch::new("cli-output-check");
    let out = scratch.path("out");
    let check = |args: &[&str]| {
        let mut all = vec!["build", "--check", "-o", s(&out), EXAMPLE];
        all.extend_from_slice(args);
        meshc(&all)
    };

    // Nothing there yet: every file is missing.
    let run = check(&[]);
    assert_eq!(code(&run), 1);
    assert!(!out.exists(), "--check writes nothing");
    assert!(stdout(&run).contains("--- /dev/null\n+++ kustomization.yaml\n"));

    assert_eq!(code(&meshc(&["build", "-o", s(&out), EXAMPLE])), 0);
    let run = check(&[]);
    assert_eq!(code(&run), 0, "{}{}", stdout(&run), stderr(&run));
    assert!(stdout(&run).is_empty());

    // A file edited by hand.
    let edited = scratch.path("out/hybrid-hello/service-hello1-svc.yaml");
    let original = fs::read_to_string(&edited).unwrap();
    fs::write(&edited, original.replace("port: 8003", "port: 9999")).unwrap();
    let run = check(&[]);
    assert_eq!(code(&run), 1);
    let diff = stdout(&run);
    assert!(
        diff.contains("--- hybrid-hello/service-hello1-svc.yaml\n+++ hybrid-hello/service-hello1-svc.yaml\n@@"),
        "{diff}"
    );
    assert!(diff.contains("\n-      port: 9999\n+      port: 8003\n"), "{diff}");
    assert!(
        stderr(&run).contains("1 changed, 0 missing, 0 stale"),
        "{}",
        stderr(&run)
    );
    fs::write(&edited, &original).unwrap();

    // A missing file.
    let namespace = scratch.path("out/_cluster/namespace-hybrid-hello.yaml");
    let saved = fs::read_to_string(&namespace).unwrap();
    fs::remove_file(&namespace).unwrap();
    let run = check(&[]);
    assert_eq!(code(&run), 1);
    assert!(stdout(&run).contains("--- /dev/null\n+++ _cluster/namespace-hybrid-hello.yaml\n@@ -0,0 +1,7 @@\n"));
    fs::write(&namespace, saved).unwrap();

    // A stale generated file, and a foreign one (which is no difference).
    as_if_generated(
        &out,
        "hybrid-hello/service-gone.yaml",
        &format!("{}kind: Service\n", header(&out)),
    );
    scratch.write("out/notes.txt", "mine\n");
    let before = snapshot(&out);
    let run = check(&[]);
    assert_eq!(code(&run), 1);
    assert!(stdout(&run).contains("--- hybrid-hello/service-gone.yaml\n+++ /dev/null\n"));
    assert!(!stdout(&run).contains("notes.txt"));
    assert!(
        stderr(&run).contains("1 changed, 0 missing, 1 stale"),
        "{}",
        stderr(&run)
    );
    assert!(
        stdout(&run).contains("+++ .meshc-owned\n"),
        "the record differs too (it lists the stale file)"
    );
    assert!(stderr(&run).contains(&format!(
        "meshc: would remove {}",
        s(&out.join("hybrid-hello/service-gone.yaml"))
    )));
    assert!(stderr(&run).contains("notes.txt: not generated by meshc"));
    assert_eq!(snapshot(&out), before, "--check writes nothing");

    // `meshc diff` is the same check.
    let run = meshc(&["diff", "-o", s(&out), EXAMPLE]);
    assert_eq!(code(&run), 1);
    assert!(stdout(&run).contains("+++ /dev/null"));
    assert_eq!(code(&meshc(&["build", "-o", s(&out), EXAMPLE])), 0);
    assert!(!scratch.path("out/hybrid-hello/service-gone.yaml").exists());
    assert_eq!(code(&meshc(&["diff", "-o", s(&out), EXAMPLE])), 0);
}

#[test]
fn check_of_a_single_file() {
    let scratch = common::Scratch::new("cli-output-check-file");
    let file = scratch.path("all.yaml");
    let run = meshc(&["build", "--check", "-o", s(&file), EXAMPLE]);
    assert_eq!(code(&run), 1);
    assert!(!file.exists());
    assert_eq!(code(&meshc(&["build", "-o", s(&file), EXAMPLE])), 0);
    assert_eq!(code(&meshc(&["build", "--check", "-o", s(&file), EXAMPLE])), 0);
    let text = fs::read_to_string(&file).unwrap();
    fs::write(&file, text.replace("replicas: 1", "replicas: 3")).unwrap();
    let run = meshc(&["diff", "-o", s(&file), EXAMPLE]);
    assert_eq!(code(&run), 1);
    assert!(
        stdout(&run).contains("-  replicas: 3\n+  replicas: 1\n"),
        "{}",
        stdout(&run)
    );
}

#[test]
fn check_reports_io_trouble_with_status_2() {
    let scratch = common::Scratch::new("cli-output-check-io");
    let not_a_dir = scratch.write("plain-file", "x\n");
    let run = meshc(&["build", "--check", "-o", s(&not_a_dir), EXAMPLE]);
    assert_eq!(code(&run), 2, "{}", stderr(&run));
    assert!(stderr(&run).contains("is not a directory"));
    // --check without -o is a usage error.
    assert_eq!(code(&meshc(&["build", "--check", EXAMPLE])), 2);
}

#[test]
fn no_name_can_lead_a_write_outside_the_folder() {
    // The rules of the naming scheme itself, on hostile names the compiler would never let
    // through.
    let doc = |namespace: Option<&str>, kind: &'static str, name: &str| meshc::Document {
        api_version: "v1",
        kind,
        namespace: namespace.map(Into::into),
        name: name.into(),
        yaml: "kind: Service\n".into(),
    };
    for bad in [
        "",
        ".",
        "..",
        "../x",
        "../../etc",
        "a/b",
        "/abs",
        "a\\b",
        "..\\x",
        ".hidden",
        "_cluster",
        "a b",
        "x\0",
    ] {
        assert!(
            layout::relative_path(&doc(Some(bad), "Service", "web")).is_err(),
            "namespace {bad:?}"
        );
        assert!(
            layout::relative_path(&doc(Some("ns"), "Service", bad)).is_err(),
            "name {bad:?}"
        );
        assert!(layout::relative_path(&doc(None, bad, "web")).is_err(), "kind {bad:?}");
        assert!(layout::plan_dir(&[doc(Some(bad), "Service", "web")], "# h\n", false).is_err());
    }
    assert_eq!(
        layout::relative_path(&doc(Some("ns"), "Service", "web.v1")).as_deref(),
        Ok("ns/service-web.v1.yaml")
    );

    // Through the CLI: a naming template that tries to climb out is refused, nothing written.
    let scratch = common::Scratch::new("cli-output-escape");
    let mesh = scratch.write(
        "mesh/escape.mesh",
        "namespace web {\n  naming { deployment \"../../{service}-{version}\" }\n  service site {\n    port http 8080\n    pod v1 image \"nginx\"\n  }\n}\n",
    );
    let out = scratch.path("mesh/out");
    let run = meshc(&["build", "-o", s(&out), s(&mesh)]);
    assert_eq!(code(&run), 1);
    assert!(stderr(&run).contains("M2005"), "{}", stderr(&run));
    let names: Vec<String> = snapshot(&scratch.0).into_keys().collect();
    assert_eq!(names, ["mesh/escape.mesh"]);
}

#[cfg(unix)]
#[test]
fn a_symlinked_namespace_folder_is_not_followed() {
    let scratch = common::Scratch::new("cli-output-symlink");
    let elsewhere = scratch.path("elsewhere");
    fs::create_dir_all(&elsewhere).unwrap();
    fs::create_dir_all(scratch.path("out")).unwrap();
    std::os::unix::fs::symlink(&elsewhere, scratch.path("out/hybrid-hello")).unwrap();
    let run = meshc(&["build", "-o", s(&scratch.path("out")), EXAMPLE]);
    assert_eq!(code(&run), 2, "{}", stderr(&run));
    assert!(
        fs::read_dir(&elsewhere).unwrap().next().is_none(),
        "nothing written through the link"
    );
    assert!(!scratch.path("out/kustomization.yaml").exists());
}

/// Undoes exactly what Go-template rendering does to meshc's escapes: `{{ "{{" }}` → `{{`
/// and `{{ "}}" }}` → `}}`, left to right; any other `{{` or `}}` would be a template
/// action Helm executes, so it fails the test.
fn render_like_helm(text: &str) -> String {
    const OPEN: &str = "{{ \"{{\" }}";
    const CLOSE: &str = "{{ \"}}\" }}";
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("{{").into_iter().chain(rest.find("}}")).min() {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        if let Some(after) = tail.strip_prefix(OPEN) {
            out.push_str("{{");
            rest = after;
        } else if let Some(after) = tail.strip_prefix(CLOSE) {
            out.push_str("}}");
            rest = after;
        } else {
            panic!("an unescaped template delimiter at {:?}", &tail[..tail.len().min(30)]);
        }
    }
    out.push_str(rest);
    out
}

const HELM_MESH: &str = "namespace web {\n  service site {\n    port http 8080\n    pod v1 image \"{{ .Values.image }}\" env GREETING \"a }} b {{{ c {{- x -}}\"\n  }\n}\n";

#[test]
fn helm_output_renders_back_to_the_plain_manifests() {
    let scratch = common::Scratch::new("cli-output-helm");
    let mesh = scratch.write("helm.mesh", HELM_MESH);
    let templates = scratch.path("chart/templates");
    let run = meshc(&["build", "--helm", "-o", s(&templates), s(&mesh)]);
    assert_eq!(code(&run), 0, "{}", stderr(&run));
    let files = snapshot(&templates);
    assert!(
        !files.contains_key("kustomization.yaml"),
        "no kustomization in helm mode"
    );
    // The source is named relative to the output folder.
    let header =
        "# Generated by meshc from ../../helm.mesh. Do not edit: change the .mesh file and run meshc build --helm.\n";
    let docs = streamed(&["build", s(&mesh)]);
    assert_eq!(files.len(), docs.len() + 1, "the objects and the record");
    // The record is all YAML comments: Helm, which reads every file of templates/, finds
    // nothing in it.
    let record = String::from_utf8(files[".meshc-owned"].clone()).unwrap();
    assert!(record.lines().all(|line| line.starts_with('#')), "{record}");
    let mut saw_template_text = false;
    for (kind, ns, name, yaml) in &docs {
        let text = String::from_utf8(files[&expected_path(kind, ns.as_deref(), name)].clone()).unwrap();
        let body = text.strip_prefix(header).expect("the header comes first, unescaped");
        assert_eq!(render_like_helm(body), *yaml);
        if yaml.contains("{{ .Values.image }}") {
            saw_template_text = true;
            assert!(
                body.contains(r#"image: "{{ "{{" }} .Values.image {{ "}}" }}""#),
                "{body}"
            );
        }
    }
    assert!(saw_template_text);

    // The stream and a single file get the same escaping.
    let stream = meshc(&["build", "--helm", s(&mesh)]);
    assert_eq!(render_like_helm(&stdout(&stream)), stdout(&meshc(&["build", s(&mesh)])));
    let file = scratch.path("chart/templates-one/all.yaml");
    assert_eq!(code(&meshc(&["build", "--helm", "-o", s(&file), s(&mesh)])), 0);
    assert_eq!(
        fs::read_to_string(&file).unwrap(),
        format!("{header}{}", stdout(&stream))
    );

    // --check knows the helm form.
    assert_eq!(
        code(&meshc(&["build", "--helm", "--check", "-o", s(&templates), s(&mesh)])),
        0
    );
    assert_eq!(code(&meshc(&["build", "--check", "-o", s(&templates), s(&mesh)])), 1);
}

#[test]
fn helm_header_never_holds_template_braces() {
    let scratch = common::Scratch::new("cli-output-helm-name");
    let mesh = scratch.write("odd{{name}}.mesh", HELM_MESH);
    let templates = scratch.path("templates");
    assert_eq!(code(&meshc(&["build", "--helm", "-o", s(&templates), s(&mesh)])), 0);
    for (name, bytes) in snapshot(&templates) {
        let text = String::from_utf8(bytes).unwrap();
        render_like_helm(&text);
        if name == ".meshc-owned" {
            continue;
        }
        let first = text.lines().next().unwrap();
        assert!(first.starts_with("# Generated by meshc from"), "{name}");
        assert!(!first.contains("{{") && !first.contains("}}"), "{first}");
        render_like_helm(&text);
    }
}

#[test]
fn post_render_appends_the_mesh_to_stdin() {
    let chart = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-chart";
    let run = meshc_with_stdin(&["post-render", EXAMPLE], Some(chart));
    assert_eq!(code(&run), 0, "{}", stderr(&run));
    let text = stdout(&run);
    let stream = stdout(&meshc(&["build", EXAMPLE]));
    assert_eq!(text, format!("{chart}\n{stream}"));
    let docs = parse_documents(&text).unwrap();
    assert_eq!(docs.len(), 26);
    assert_eq!(docs[0]["metadata"]["name"].as_str(), Some("from-chart"));

    let scratch = common::Scratch::new("cli-output-post-render");
    let bad = scratch.write("bad.mesh", BAD_MESH);
    let run = meshc_with_stdin(&["post-render", s(&bad)], Some(chart));
    assert_eq!(code(&run), 1);
    assert!(stdout(&run).is_empty(), "nothing for helm to install");
}

#[test]
fn github_format_writes_escaped_workflow_commands() {
    let scratch = common::Scratch::new("cli-output-github");
    let bad = scratch.write("a,b:c.mesh", BAD_MESH);
    let run = meshc(&["check", "--message-format", "github", s(&bad)]);
    assert_eq!(code(&run), 1);
    let err = stderr(&run);
    let file = s(&bad).replace(':', "%3A").replace(',', "%2C");
    let expected = format!(
        "::error file={file},line=3,col=15,endLine=3,endColumn=20,title=M3002 port-range::port `99999` is not a port number (not in 1..65535)%0Ahelp: a port is a whole number from 1 to 65535\n"
    );
    assert_eq!(err, expected);

    // `%` in a message.
    let weights = scratch.write(
        "w.mesh",
        "namespace web {\n  service site {\n    port http 8080\n    pod v1 image \"nginx\"\n    pod v2 image \"nginx\"\n    route { v1 30% v2 60% }\n  }\n}\n",
    );
    let run = meshc(&["check", "--message-format", "github", s(&weights)]);
    let err = stderr(&run);
    assert!(err.starts_with("::error file="), "{err}");
    assert!(err.contains("title=M3009 weight-sum::"), "{err}");
    assert!(err.contains("90%25"), "{err}");
    assert!(!err.trim_end().contains('\n'), "one line per diagnostic: {err}");
}

#[test]
fn sarif_format_is_a_sarif_log() {
    let scratch = common::Scratch::new("cli-output-sarif");
    let bad = scratch.write("bad.mesh", BAD_MESH);
    let run = meshc(&["check", "--message-format", "sarif", s(&bad)]);
    assert_eq!(code(&run), 1);
    let log: serde_json::Value = serde_json::from_slice(&run.stderr).expect("stderr is one JSON document");
    assert_eq!(log["version"], "2.1.0");
    let run0 = &log["runs"][0];
    let driver = &run0["tool"]["driver"];
    assert_eq!(driver["name"], "meshc");
    let repository = env!("CARGO_PKG_REPOSITORY");
    assert!(repository.starts_with("https://"), "Cargo.toml names the repository");
    assert_eq!(driver["informationUri"], repository);
    let rules = driver["rules"].as_array().unwrap();
    // Every code, then the CLI's own rule for out-of-date output files.
    assert_eq!(rules.len(), meshc::codes::Code::ALL.len() + 1);
    assert_eq!(rules.last().unwrap()["id"], "out-of-date");
    for (rule, code) in rules.iter().zip(meshc::codes::Code::ALL) {
        assert_eq!(rule["id"], code.id());
        assert_eq!(rule["name"], code.name());
        assert_eq!(rule["shortDescription"]["text"], code.summary());
        let full = rule["fullDescription"]["text"].as_str().unwrap();
        assert!(!full.is_empty() && !full.starts_with('#'), "{full}");
        assert!(code.doc().replace('\n', " ").contains(full), "{}: {full}", code.id());
        assert_eq!(
            rule["helpUri"],
            format!("{repository}/blob/main/docs/codes/{}.md", code.id())
        );
        let level = rule["defaultConfiguration"]["level"].as_str().unwrap();
        assert!(level == "error" || level == "warning", "{level}");
    }
    let results = run0["results"].as_array().unwrap();
    assert_eq!(results.len(), 1);
    let result = &results[0];
    assert_eq!(result["ruleId"], "M3002");
    assert_eq!(rules[result["ruleIndex"].as_u64().unwrap() as usize]["id"], "M3002");
    assert_eq!(result["level"], "error");
    assert!(result["message"]["text"].as_str().unwrap().contains("99999"));
    let location = &result["locations"][0]["physicalLocation"];
    assert!(location["artifactLocation"]["uri"]
        .as_str()
        .unwrap()
        .ends_with("/bad.mesh"));
    let region = &location["region"];
    assert_eq!(
        (region["startLine"].as_u64(), region["startColumn"].as_u64()),
        (Some(3), Some(15))
    );
    assert_eq!(
        (region["endLine"].as_u64(), region["endColumn"].as_u64()),
        (Some(3), Some(20))
    );

    // A clean run is a log with no results (what code scanning uploads need).
    let run = meshc(&["check", "--message-format", "sarif", EXAMPLE]);
    assert_eq!(code(&run), 0);
    let log: serde_json::Value = serde_json::from_slice(&run.stderr).unwrap();
    assert_eq!(log["runs"][0]["results"].as_array().map(Vec::len), Some(0));

    // Relative file names stay relative URIs; a build's file notices are notifications.
    let out = scratch.path("out");
    scratch.write("out/notes.txt", "x\n");
    let run = meshc(&["build", "--message-format", "sarif", "-o", s(&out), EXAMPLE]);
    assert_eq!(code(&run), 0);
    let log: serde_json::Value = serde_json::from_slice(&run.stderr).unwrap();
    let notes = &log["runs"][0]["invocations"][0]["toolExecutionNotifications"];
    assert_eq!(notes.as_array().map(Vec::len), Some(1), "{log}");
    assert!(notes[0]["message"]["text"].as_str().unwrap().contains("left untouched"));
}

#[test]
fn completions_and_man_page() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let run = meshc(&["completions", shell]);
        assert_eq!(code(&run), 0, "{shell}");
        let script = stdout(&run);
        assert!(script.len() > 500 && script.contains("meshc"), "{shell}");
        assert!(
            script.contains("post-render") && script.contains("message-format"),
            "{shell}"
        );
    }
    assert_eq!(code(&meshc(&["completions", "tcsh"])), 2);
    let run = meshc(&["man"]);
    assert_eq!(code(&run), 0);
    let page = stdout(&run);
    assert!(
        page.starts_with(".ie") || page.contains(".TH meshc"),
        "{}",
        &page[..page.len().min(200)]
    );
    assert!(page.contains(".TH meshc") && page.contains("build"));
}

#[test]
fn build_help_documents_the_naming_scheme_and_helm() {
    let help = stdout(&meshc(&["build", "--help"]));
    for needle in [
        "DIR/<namespace>/<kind>-<name>.yaml",
        "DIR/_cluster/<kind>-<name>.yaml",
        "kustomization.yaml",
        "# Generated by meshc",
        "--post-renderer",
        "--check",
    ] {
        assert!(help.contains(needle), "{needle} missing from build --help");
    }
}
