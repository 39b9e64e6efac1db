//! `meshc lint`: the checks on existing manifests.
//!
//! Each folder under `tests/lint/` is a case: its `*.yaml` files are linted together, and
//! its `expect` file lists every diagnostic as `CODE FILE:LINE`, in report order; the
//! rendered diagnostics are snapshotted as `lint__<case>.snap`. `blue-green-header` and
//! `hybrid-seed` are the seed's reference manifests (the latter with the article's
//! WorkloadEntries, `app: hello-workload`). Adding a case is adding a folder.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use std::collections::BTreeSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{cases, example_paths, read, root, CaseKind};
use meshc::codes::Code;
use meshc::source::Locator;
use meshc::traffic::{Protocol, Request, Start};
use meshc::{ApiVersion, Diagnostic, Options, RouteApi, Source};

fn case_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root().join("tests/lint"))
        .expect("tests/lint/")
        .map(|e| e.expect("readable").path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

/// The case's YAML files, named relative to the case folder.
fn case_sources(dir: &Path) -> Vec<Source> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("case folder")
        .map(|e| e.expect("readable").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|f| Source::new(f.file_name().expect("name").to_string_lossy(), read(f)))
        .collect()
}

fn located(diagnostics: &[Diagnostic], sources: &[Source]) -> Vec<String> {
    let locator = Locator::new(sources);
    diagnostics
        .iter()
        .map(|d| {
            let at = locator.locate(d.primary.span).expect("a span in a source");
            format!("{} {}:{}", d.code.id(), at.file, at.line)
        })
        .collect()
}

#[test]
fn cases_report_their_expected_codes_at_their_lines() {
    for dir in case_dirs() {
        let case = dir.file_name().expect("name").to_string_lossy().into_owned();
        let sources = case_sources(&dir);
        let (_, diagnostics) = meshc::manifests::lint(&sources);
        let expect: Vec<String> = read(&dir.join("expect")).lines().map(str::to_string).collect();
        assert_eq!(located(&diagnostics, &sources), expect, "case {case}");
        insta::with_settings!({
            snapshot_path => "../snapshots",
            prepend_module_to_snapshot => false,
        }, {
            insta::assert_snapshot!(
                format!("lint__{case}"),
                meshc::diagnostic::render(&diagnostics, &sources, 100)
            );
        });
    }
}

#[test]
fn every_manifest_code_has_a_case() {
    let mut produced = BTreeSet::new();
    for dir in case_dirs() {
        let (_, diagnostics) = meshc::manifests::lint(&case_sources(&dir));
        produced.extend(diagnostics.iter().map(|d| d.code));
    }
    let missing: Vec<&str> = Code::ALL
        .iter()
        .filter(|c| c.id().starts_with("M40") && !produced.contains(c))
        .map(|c| c.id())
        .collect();
    assert!(missing.is_empty(), "no lint case produces {missing:?}");
}

/// What meshc writes passes its own lint: every example, each API version, both route
/// modes (where the mesh can be written in that mode).
#[test]
fn the_examples_output_lints_clean() {
    let mut linted = 0;
    for path in example_paths() {
        for api in [ApiVersion::V1, ApiVersion::V1beta1, ApiVersion::V1alpha3] {
            for routes in [RouteApi::Istio, RouteApi::GatewayApi] {
                let options = Options {
                    api,
                    routes,
                    ..Options::default()
                };
                let sources = vec![Source::new(path.to_string_lossy(), read(&path))];
                let label = format!("{} {api:?} {routes:?}", path.display());
                if let Some(manifests) = output_lints_clean(&label, &sources, &options) {
                    assert!(!manifests.services.is_empty(), "the model is read");
                    linted += 1;
                }
            }
        }
    }
    assert!(linted >= example_paths().len() * 3);
}

/// What meshc writes for every ok case (a mesh with no diagnostic at all) passes its own lint
/// too, in both route modes where the mesh can be written: a warning there would be one the
/// `.mesh` checks do not give, for the same objects.
#[test]
fn every_ok_case_output_lints_clean() {
    let mut linted = 0;
    for case in cases(CaseKind::Ok).into_iter().filter(|c| c.missing_imports.is_empty()) {
        for routes in [RouteApi::Istio, RouteApi::GatewayApi] {
            let options = Options {
                routes,
                ..case.options.clone()
            };
            let label = format!("{} {routes:?}", case.id());
            if output_lints_clean(&label, &case.sources, &options).is_some() {
                linted += 1;
            }
        }
    }
    assert!(linted >= 40, "{linted} outputs linted");
}

/// Compiles and lints meshc's output, which must give no diagnostic; `None` when the mesh
/// cannot be written with `--routes gateway-api` (it must compile in the default mode).
fn output_lints_clean(label: &str, sources: &[Source], options: &Options) -> Option<meshc::manifests::Manifests> {
    let Ok(output) = meshc::compile(sources, options) else {
        assert_eq!(options.routes, RouteApi::GatewayApi, "{label} compiles");
        return None;
    };
    let text: String = output.documents.iter().map(|d| format!("---\n{}", d.yaml)).collect();
    let yaml = [Source::new("out.yaml", text)];
    let (manifests, diagnostics) = meshc::manifests::lint(&yaml);
    assert!(
        diagnostics.is_empty(),
        "{label}:\n{}",
        meshc::diagnostic::render(&diagnostics, &yaml, 100)
    );
    Some(manifests)
}

/// The seed's hybrid mesh as meshc writes it: hello2's versions are all selected.
#[test]
fn the_seed_as_compiled_has_every_workload_selected() {
    let path = root().join("examples/hybrid-hello.mesh");
    let sources = vec![Source::new("hybrid-hello.mesh", read(&path))];
    let output = meshc::compile(&sources, &Options::default()).expect("compiles");
    let text: String = output.documents.iter().map(|d| format!("---\n{}", d.yaml)).collect();
    let (manifests, _) = meshc::manifests::lint(&[Source::new("out.yaml", text.clone())]);
    assert!(manifests
        .workloads
        .iter()
        .any(|w| w.kind == meshc::manifests::model::WorkloadKind::Vm));
    // Breaking one VM's app label is the article's mistake: lint finds it.
    let broken = text.replacen(
        "app: hello2-deploy\n    security.istio.io/tlsMode: istio\n    version: v2",
        "app: hello-workload\n    security.istio.io/tlsMode: istio\n    version: v2",
        1,
    );
    assert_ne!(broken, text, "the VM's labels are where the test expects them");
    let (_, diagnostics) = meshc::manifests::lint(&[Source::new("out.yaml", broken)]);
    let codes: BTreeSet<&str> = diagnostics.iter().map(|d| d.code.id()).collect();
    assert!(codes.contains("M3011"), "{codes:?}");
}

#[test]
fn hostile_yaml_does_not_panic() {
    let inputs = [
        "[".repeat(100_000),
        "{a: ".repeat(50_000),
        "- ".repeat(50_000) + "x",
        "a: &a [x, x, x]\nb: &b [*a, *a, *a]\nc: &c [*b, *b, *b]\nd: [*c, *c, *c]\n".to_string(),
        "\u{feff}kind: Service\nmetadata: {name: é}\nspec: {ports: [{port: 99999999999999999999}]}\n".to_string(),
        "kind: VirtualService\nmetadata: {name: x}\nspec: {http: [{match: [{uri: {prefix: 7}}], route: 5}]}\n"
            .to_string(),
        "--- !!binary\n...\n---\n? [a]\n: b\n".to_string(),
        "\t\u{0}\u{7f}".to_string(),
    ];
    for text in inputs.into_iter().chain([calling_one_another(9), odd_routes()]) {
        let sources = [Source::new("hostile.yaml", text)];
        let (manifests, diagnostics) = meshc::manifests::lint(&sources);
        let _ = meshc::diagnostic::render(&diagnostics, &sources, 100);
        // `meshc traffic` over the same: every service, every protocol, from the gateways.
        let table = meshc::traffic::Table::from_manifests(&manifests);
        let mut starts: Vec<Start> = table.gateways.iter().map(|g| Start::Gateway(g.name.clone())).collect();
        starts.extend(table.services.iter().map(|s| Start::Service {
            name: s.name.clone(),
            version: None,
            to: Some(s.name.clone()),
        }));
        for start in &starts {
            for protocol in [Protocol::Http, Protocol::Tcp, Protocol::Tls] {
                let request = Request {
                    protocol,
                    address: Some("10.0.0.1".into()),
                    sni: Some("x".into()),
                    ..Request::default()
                };
                let _ = table.trace(start, &request);
            }
        }
    }
}

#[test]
fn a_trace_through_services_that_all_call_one_another_is_cut() {
    let text = calling_one_another(9);
    let (manifests, _) = meshc::manifests::read(&[Source::new("calls.yaml", text)]);
    let table = meshc::traffic::Table::from_manifests(&manifests);
    assert_eq!(table.services[0].calls.len(), 8);
    let start = Start::Service {
        name: "s0".into(),
        version: None,
        to: None,
    };
    let trace = table.trace(&start, &Request::default()).expect("traced");
    let cut = trace
        .hops
        .iter()
        .flat_map(|h| &h.answered)
        .any(|(what, _)| what.ends_with("not followed, the trace is too large"));
    assert!(cut, "{:?}", trace.hops.iter().map(|h| &h.answered).collect::<Vec<_>>());
}

/// Services whose pods all call one another through their env: as many chains of calls as
/// orderings of them, which the trace must cut.
fn calling_one_another(n: usize) -> String {
    let mut text = String::new();
    for i in 0..n {
        let env: String = (0..n)
            .map(|j| format!("            - {{name: S{j}, value: \"http://s{j}:80\"}}\n"))
            .collect();
        text += &format!(
            "---\nkind: Service\nmetadata: {{name: s{i}}}\nspec: {{selector: {{app: s{i}}}, ports: [{{name: http, port: 80}}]}}\n---\nkind: Deployment\nmetadata: {{name: s{i}}}\nspec:\n  template:\n    metadata: {{labels: {{app: s{i}}}}}\n    spec:\n      containers:\n        - name: c\n          env:\n{env}"
        );
    }
    text
}

/// Routes with values of every odd shape the engine reads.
fn odd_routes() -> String {
    r#"
kind: Service
metadata: {name: a}
spec: {selector: {app: a}, ports: [{name: tcp, port: 70000}, {port: -1}]}
---
kind: Deployment
metadata: {name: a}
spec: {replicas: -5, template: {metadata: {labels: {app: a}}}}
---
kind: WorkloadEntry
metadata: {name: w}
spec: {address: "::1", labels: {app: a}, weight: 99999999999}
---
kind: DestinationRule
metadata: {name: a}
spec: {host: a, subsets: [{name: v1, labels: {}}, {name: v1}]}
---
kind: VirtualService
metadata: {name: a}
spec:
  hosts: [a, "*", a.b.c.d.e]
  gateways: [mesh, g, x/y/z]
  http:
    - match: [{port: 99999}, {uri: {regex: "("}}, {scheme: 7}, {gateways: [g]}, {sourceLabels: [x]}]
      redirect: {}
      route: [{destination: {host: a, subset: nope}, weight: -3}]
    - directResponse: {status: 99999}
    - route: [{destination: {host: "*.x"}, weight: 0}, {destination: {host: a}, weight: 0}]
  tcp:
    - match: [{destinationSubnets: ["::/0", "0.0.0.0/0", "1.2.3.4/99", "x/y", "1.2.3.4"]}]
      route: [{destination: {host: a}}]
  tls:
    - match: [{sniHosts: ["*"], port: 70000}]
      route: [{destination: {host: a}}]
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: g}
spec:
  servers:
    - {port: {number: 99999, protocol: TLS}, hosts: ["*"], tls: {mode: PASSTHROUGH}}
    - {port: {number: 443, protocol: HTTPS}, hosts: ["ns/*"], tls: {httpsRedirect: true}}
    - {port: {number: 80, protocol: tcp}, hosts: ["*"]}
"#
    .to_string()
}

/// The pages of the manifest-only codes show YAML: the wrong block raises the code, the
/// fixed block nothing.
#[test]
fn manifest_code_pages_show_wrong_then_fixed_yaml() {
    for code in Code::ALL.iter().filter(|c| c.id().starts_with("M40")) {
        let page = code.doc();
        for (tag, wants) in [("```yaml wrong", true), ("```yaml fixed", false)] {
            let start = page
                .find(tag)
                .unwrap_or_else(|| panic!("{} has a {tag} block", code.id()));
            let body = &page[start + tag.len()..];
            let body = &body[..body.find("```").expect("closed block")];
            let sources = [Source::new("page.yaml", body.trim_start_matches('\n'))];
            let (_, diagnostics) = meshc::manifests::lint(&sources);
            let raised = diagnostics.iter().any(|d| d.code == *code);
            assert_eq!(raised, wants, "{} {tag}: {diagnostics:?}", code.id());
            if !wants {
                assert!(diagnostics.is_empty(), "{} fixed: {diagnostics:?}", code.id());
            }
        }
    }
}

fn lint_cli(args: &[&str], stdin: &str) -> (i32, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_meshc"))
        .arg("lint")
        .args(args)
        .current_dir(root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("writes");
    let out = child.wait_with_output().expect("ends");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_cli_reads_folders_files_and_stdin_with_the_usual_exit_statuses() {
    let (status, stderr) = lint_cli(&["tests/lint/blue-green-header"], "");
    assert_eq!(status, 1, "{stderr}");
    assert!(stderr.contains("hello2_virtualservice.yaml:28:13"), "{stderr}");
    let vs = read(&root().join("tests/lint/blue-green-header/hello2_virtualservice.yaml"));
    let (status, stderr) = lint_cli(&["-", "--message-format", "github"], &vs);
    // Alone, its host is unknown; and without the Service's one port, `port: 8001` no
    // longer shadows the later routes.
    assert_eq!(status, 1);
    assert!(stderr.contains("::error file=-,line=22,col=19"), "{stderr}");
    assert!(!stderr.contains("M3012"), "{stderr}");
    let (status, stderr) = lint_cli(&["tests/lint/hybrid-seed/hello_sa.yaml"], "");
    assert_eq!((status, stderr.as_str()), (0, ""));
    let (status, stderr) = lint_cli(&["tests/lint/no-such-file.yaml"], "");
    assert_eq!(status, 2);
    assert!(stderr.contains("cannot read"), "{stderr}");
    let (status, stderr) = lint_cli(&["tests/lint/hybrid-seed", "--message-format", "sarif"], "");
    assert_eq!(status, 1);
    assert!(stderr.contains("\"ruleId\": \"M3011\""), "{stderr}");
}
