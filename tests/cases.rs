//! The fixture harness: every folder under `tests/cases/` is a test case (see
//! `tests/README.md`).
//!
//! * `ok/<name>/input.mesh` compiles with no diagnostic; its YAML is snapshotted as
//!   `ok__<name>`, and the VMs' files, when there are any, as `ok__<name>__files`.
//! * `err/<name>/input.mesh` fails; its diagnostics, rendered without colour at width 100,
//!   are snapshotted as `err__<name>`, and the set of codes must equal the `expect` file.
//! * `warn/<name>/input.mesh` compiles with warnings only; the rendered warnings are
//!   snapshotted as `warn__<name>` and the YAML as `warn__<name>__yaml`; the set of codes
//!   must equal the `expect` file.
//!
//! Every case is also run through the real `meshc` binary, which must agree with the library
//! byte for byte (YAML on stdout, the same rendering plus one summary line on stderr) and, in
//! `--message-format json`, report the same codes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::panic::{catch_unwind, AssertUnwindSafe};

use common::{cases, cases_dir, code_ids, meshc, parse_yaml, Case, CaseKind};
use meshc::{diagnostic, Code, Diagnostic, Severity, Source};

/// Runs `check` on every case of `kind`, collecting failures so that one broken case does
/// not hide the others; fails listing them all.
fn for_each_case(kind: CaseKind, check: impl Fn(&Case)) {
    let cases = cases(kind);
    assert!(!cases.is_empty(), "no case under tests/cases/{}", kind.folder());
    let mut failures = Vec::new();
    for case in &cases {
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| check(case))) {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "(no message)".to_string());
            failures.push(format!("── {} ──\n{message}", case.id()));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} {} cases failed:\n\n{}",
        failures.len(),
        cases.len(),
        kind.folder(),
        failures.join("\n\n")
    );
}

/// Asserts a snapshot in the top-level `snapshots/` folder, named without the module.
fn snapshot(case: &Case, name: &str, text: &str) {
    insta::with_settings!({
        snapshot_path => "../snapshots",
        prepend_module_to_snapshot => false,
        omit_expression => true,
        description => format!("tests/cases/{}/input.mesh", case.id()),
    }, {
        insta::assert_snapshot!(name.to_string(), text);
    });
}

/// The command-line arguments for a case: its `args`, then `input.mesh`.
fn cli_args<'a>(case: &'a Case, command: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![command];
    args.extend(extra);
    args.extend(case.args.iter().map(String::as_str));
    args.push("input.mesh");
    args
}

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("stdout is UTF-8")
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8(output.stderr.clone()).expect("stderr is UTF-8")
}

/// Splits the binary's stderr into the rendered diagnostics and its closing summary line.
fn split_summary(stderr: &str) -> (&str, &str) {
    let body = stderr.strip_suffix('\n').unwrap_or(stderr);
    match body.rfind('\n') {
        Some(i) => (&stderr[..=i], &stderr[i + 1..]),
        None => ("", stderr),
    }
}

/// The codes the binary reports in `--message-format json`, checking the shape of each item.
fn cli_json_codes(case: &Case) -> (Option<i32>, BTreeSet<String>) {
    let out = meshc(&case.dir, &cli_args(case, "check", &["--message-format", "json"]));
    assert!(
        out.stdout.is_empty(),
        "`meshc check` wrote to stdout:\n{}",
        stdout(&out)
    );
    let text = stderr(&out);
    let items: serde_json::Value = if text.trim().is_empty() {
        serde_json::Value::Array(Vec::new())
    } else {
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("stderr is not JSON ({e}):\n{text}"))
    };
    let items = items
        .as_array()
        .unwrap_or_else(|| panic!("JSON is not an array:\n{text}"));
    let mut codes = BTreeSet::new();
    for item in items {
        let code = item["code"].as_str().unwrap_or_else(|| panic!("no code in {item}"));
        assert!(
            item["location"]["line"].as_u64().is_some_and(|l| l >= 1),
            "no line in {item}"
        );
        assert!(
            item["location"]["column"].as_u64().is_some_and(|c| c >= 1),
            "no column in {item}"
        );
        codes.insert(code.to_string());
    }
    (out.status.code(), codes)
}

/// Properties every list of diagnostics must have.
fn check_diagnostics(diagnostics: &[Diagnostic], sources: &[Source]) {
    let keys: Vec<(usize, usize)> = diagnostics
        .iter()
        .map(|d| (d.primary.span.source, d.primary.span.start))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "diagnostics are not sorted by file and position");
    for (i, d) in diagnostics.iter().enumerate() {
        let source = sources.get(d.primary.span.source).unwrap_or_else(|| {
            panic!(
                "{} points into source #{} which does not exist",
                d.code.id(),
                d.primary.span.source
            )
        });
        assert!(
            d.primary.span.start <= d.primary.span.end && d.primary.span.end <= source.text.len(),
            "{} `{}` has a span outside its source",
            d.code.id(),
            d.message
        );
        assert!(!d.message.trim().is_empty(), "{} has no message", d.code.id());
        for label in &d.secondary {
            let text_len = sources.get(label.span.source).map_or(0, |s| s.text.len());
            assert!(
                label.span.end <= text_len,
                "{} has a note outside its source",
                d.code.id()
            );
        }
        // A duplicate's first note shows the first declaration: it comes before the repeat
        // (a note after it shows the last of more repeats).
        if d.code == Code::Duplicate {
            for label in d
                .secondary
                .iter()
                .take(1)
                .filter(|l| l.span.source == d.primary.span.source)
            {
                assert!(
                    label.span.start < d.primary.span.start,
                    "M2003 `{}`: the note `{}` (byte {}) should point at the first declaration, before \
                     the repeat (byte {})",
                    d.message,
                    label.text,
                    label.span.start,
                    d.primary.span.start
                );
            }
        }
        assert!(
            !diagnostics[..i].contains(d),
            "{} `{}` is reported twice",
            d.code.id(),
            d.message
        );
        // One mistake, one report: the same finding on the same token, with other notes, is a
        // repeat.
        if diagnostics[..i]
            .iter()
            .any(|e| e.code == d.code && e.primary.span == d.primary.span && e.message == d.message)
        {
            panic!(
                "{} `{}` is reported twice on the same token (byte {}), with different notes",
                d.code.id(),
                d.message,
                d.primary.span.start
            );
        }
    }
}

// ------------------------------------------------------------------ what the manifests mean

fn text<'v>(value: &'v serde_yaml::Value, key: &str) -> &'v str {
    value.get(key).and_then(serde_yaml::Value::as_str).unwrap_or_default()
}

fn seq(value: &serde_yaml::Value) -> &[serde_yaml::Value] {
    value.as_sequence().map(Vec::as_slice).unwrap_or_default()
}

fn labels(value: &serde_yaml::Value) -> BTreeMap<String, String> {
    common::string_map(value)
}

/// A host routes may name: its ports, and for a Service its namespace and selector.
type Host = (Vec<u64>, Option<(String, BTreeMap<String, String>)>);

fn selects(workload: &BTreeMap<String, String>, wanted: &BTreeMap<String, String>) -> bool {
    wanted.iter().all(|(k, v)| workload.get(k) == Some(v))
}

/// Checks that the objects fit together as Kubernetes and Istio will read them: every
/// Service and subset selects a workload, Deployments select their own pods, every route
/// destination is a host, port and subset that exist, and a mesh route rule does not mix
/// match alternatives for different ports (each is written once per port).
fn check_manifests(docs: &[serde_yaml::Value], cluster_domain: &str) {
    fn of<'d>(docs: &'d [serde_yaml::Value], kind: &'static str) -> impl Iterator<Item = &'d serde_yaml::Value> {
        docs.iter().filter(move |d| text(d, "kind") == kind)
    }
    let ns = |d: &serde_yaml::Value| text(&d["metadata"], "namespace").to_string();
    let name = |d: &serde_yaml::Value| text(&d["metadata"], "name").to_string();

    // Workloads by namespace: pod template labels and WorkloadEntry labels.
    let mut workloads: Vec<(String, BTreeMap<String, String>)> = Vec::new();
    for d in of(docs, "Deployment") {
        let template = labels(&d["spec"]["template"]["metadata"]["labels"]);
        let selector = labels(&d["spec"]["selector"]["matchLabels"]);
        assert!(
            !selector.is_empty() && selects(&template, &selector),
            "Deployment {} does not select its own pods",
            name(d)
        );
        workloads.push((ns(d), template));
    }
    for d in of(docs, "WorkloadEntry") {
        let mut l = labels(&d["spec"]["labels"]);
        l.extend(labels(&d["metadata"]["labels"]));
        workloads.push((ns(d), l));
    }
    // VMs that auto-register join with the labels of their WorkloadGroup.
    for d in of(docs, "WorkloadGroup") {
        let mut l = labels(&d["spec"]["template"]["labels"]);
        l.extend(labels(&d["spec"]["metadata"]["labels"]));
        workloads.push((ns(d), l));
    }
    let selected = |namespace: &str, wanted: &BTreeMap<String, String>| {
        workloads.iter().any(|(n, l)| n == namespace && selects(l, wanted))
    };

    // Hosts a route may name, with their ports, and the selectors behind them.
    let mut hosts: BTreeMap<String, Host> = BTreeMap::new();
    let mut services: BTreeMap<(String, String), Vec<u64>> = BTreeMap::new();
    for d in of(docs, "Service") {
        let ports: Vec<u64> = seq(&d["spec"]["ports"])
            .iter()
            .filter_map(|p| p["port"].as_u64())
            .collect();
        let selector = labels(&d["spec"]["selector"]);
        assert!(
            !selector.is_empty() && selected(&ns(d), &selector),
            "Service {}/{} selects no workload",
            ns(d),
            name(d)
        );
        let fqdn = format!("{}.{}.svc.{cluster_domain}", name(d), ns(d));
        hosts.insert(fqdn, (ports.clone(), Some((ns(d), selector))));
        services.insert((ns(d), name(d)), ports);
    }
    for d in of(docs, "ServiceEntry") {
        let ports: Vec<u64> = seq(&d["spec"]["ports"])
            .iter()
            .filter_map(|p| p["number"].as_u64())
            .collect();
        for h in seq(&d["spec"]["hosts"]).iter().filter_map(|h| h.as_str()) {
            hosts.insert(h.to_string(), (ports.clone(), None));
        }
    }

    // Subsets by host; each selects a workload of the host's Service.
    let mut subsets: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for d in of(docs, "DestinationRule") {
        let host = text(&d["spec"], "host").to_string();
        let known = hosts.get(&host);
        assert!(
            known.is_some(),
            "DestinationRule {} is for an unknown host {host}",
            name(d)
        );
        for s in seq(&d["spec"]["subsets"]) {
            let subset = text(s, "name").to_string();
            if let Some((_, Some((namespace, selector)))) = known {
                let mut wanted = selector.clone();
                wanted.extend(labels(&s["labels"]));
                assert!(
                    selected(namespace, &wanted),
                    "subset {subset} of {host} selects no workload"
                );
            }
            subsets.entry(host.clone()).or_default().push(subset);
        }
    }

    // Istio routes: every destination exists.
    let check_destination = |vs: &str, d: &serde_yaml::Value| {
        let host = text(d, "host");
        if host.contains('*') || !(host.ends_with(&format!(".svc.{cluster_domain}")) || hosts.contains_key(host)) {
            return;
        }
        let (ports, _) = hosts
            .get(host)
            .unwrap_or_else(|| panic!("VirtualService {vs} routes to {host}, which nothing declares"));
        if let Some(port) = d["port"]["number"].as_u64() {
            assert!(
                ports.contains(&port),
                "VirtualService {vs} routes to port {port} of {host}, which has {ports:?}"
            );
        }
        if let Some(subset) = d.get("subset").and_then(|s| s.as_str()) {
            assert!(
                subsets.get(host).is_some_and(|s| s.iter().any(|x| x == subset)),
                "VirtualService {vs} routes to subset {subset} of {host}, which no DestinationRule defines"
            );
        }
    };
    for d in of(docs, "VirtualService") {
        let vs = format!("{}/{}", ns(d), name(d));
        let mesh = d["spec"].get("gateways").is_none();
        for kind in ["http", "tcp", "tls"] {
            for rule in seq(&d["spec"][kind]) {
                for r in seq(&rule["route"]) {
                    check_destination(&vs, &r["destination"]);
                }
                if !rule["mirror"].is_null() {
                    check_destination(&vs, &rule["mirror"]);
                }
                if mesh && kind == "http" {
                    let ports: BTreeSet<u64> = seq(&rule["match"]).iter().filter_map(|m| m["port"].as_u64()).collect();
                    assert!(
                        ports.len() <= 1,
                        "VirtualService {vs}: one rule matches requests on ports {ports:?} but sends them all to {:?}",
                        seq(&rule["route"])
                            .iter()
                            .map(|r| r["destination"]["port"]["number"].as_u64())
                            .collect::<Vec<_>>()
                    );
                }
            }
        }
    }

    // Gateway API routes: every backend is a Service port.
    for d in of(docs, "HTTPRoute")
        .chain(of(docs, "GRPCRoute"))
        .chain(of(docs, "TCPRoute"))
        .chain(of(docs, "TLSRoute"))
    {
        for rule in seq(&d["spec"]["rules"]) {
            for b in seq(&rule["backendRefs"]) {
                let kind = b.get("kind").and_then(|k| k.as_str()).unwrap_or("Service");
                if kind != "Service" {
                    continue;
                }
                let namespace = b
                    .get("namespace")
                    .and_then(|n| n.as_str())
                    .map(str::to_string)
                    .unwrap_or_else(|| ns(d));
                let backend = text(b, "name").to_string();
                let ports = services.get(&(namespace.clone(), backend.clone())).unwrap_or_else(|| {
                    panic!(
                        "{} {} has a backend {namespace}/{backend} that is not a Service",
                        text(d, "kind"),
                        name(d)
                    )
                });
                if let Some(port) = b["port"].as_u64() {
                    assert!(
                        ports.contains(&port),
                        "{} {}: {backend} has no port {port}",
                        text(d, "kind"),
                        name(d)
                    );
                }
            }
        }
    }
}

/// The VMs' files of a case, each after a `=== path` line, for one snapshot.
fn files_text(files: &[meshc::GeneratedFile]) -> String {
    let mut out = String::new();
    for file in files {
        out.push_str(&format!("=== {}\n{}", file.path, file.contents));
    }
    out
}

fn case_has_files(case: &Case) -> bool {
    meshc::compile(&case.sources, &case.options).is_ok_and(|o| !o.files.is_empty())
}

#[test]
fn ok_cases() {
    for_each_case(CaseKind::Ok, |case| {
        assert!(case.expect.is_none(), "an ok case has no `expect` file");
        assert!(
            case.missing_imports.is_empty(),
            "imports not found: {:?}",
            case.missing_imports
        );
        let output = match meshc::compile(&case.sources, &case.options) {
            Ok(output) => output,
            Err(failure) => panic!(
                "expected no error, got:\n{}",
                diagnostic::render(&failure.diagnostics, &case.sources, 100)
            ),
        };
        assert!(
            output.warnings.is_empty(),
            "an ok case must compile without warnings (move it to warn/), got:\n{}",
            diagnostic::render(&output.warnings, &case.sources, 100)
        );
        let yaml = output.to_yaml();
        snapshot(case, &case.snapshot_name(), &yaml);
        if !output.files.is_empty() {
            snapshot(
                case,
                &format!("{}__files", case.snapshot_name()),
                &files_text(&output.files),
            );
        }

        // The stream reads back, one value per document, agreeing with the document list.
        let values = parse_yaml(&yaml);
        check_manifests(&values, &case.options.cluster_domain);
        assert_eq!(
            values.len(),
            output.documents.len(),
            "documents in the YAML vs Output.documents"
        );
        for (value, doc) in values.iter().zip(&output.documents) {
            assert_eq!(value["apiVersion"].as_str(), Some(doc.api_version));
            assert_eq!(value["kind"].as_str(), Some(doc.kind));
            assert_eq!(value["metadata"]["name"].as_str(), Some(doc.name.as_str()));
            assert_eq!(
                value["metadata"].get("namespace").and_then(|v| v.as_str()),
                doc.namespace.as_deref()
            );
            assert!(doc.yaml.ends_with('\n') && !doc.yaml.starts_with("---"), "{}", doc.yaml);
        }

        let out = meshc(&case.dir, &cli_args(case, "build", &[]));
        assert_eq!(out.status.code(), Some(0), "`meshc build` failed:\n{}", stderr(&out));
        assert_eq!(stdout(&out), yaml, "`meshc build` printed other YAML than the library");
        assert_eq!(stderr(&out), "", "`meshc build` wrote to stderr");
    });
}

#[test]
fn err_cases() {
    for_each_case(CaseKind::Err, |case| {
        let expect = case
            .expect
            .as_ref()
            .expect("an err case has an `expect` file listing its codes");
        let human = meshc(&case.dir, &cli_args(case, "build", &[]));
        assert_eq!(
            human.status.code(),
            Some(1),
            "`meshc build` exit status; stderr:\n{}",
            stderr(&human)
        );
        assert_eq!(stdout(&human), "", "`meshc build` printed manifests despite errors");
        let human_stderr = stderr(&human);
        let (cli_rendered, summary) = split_summary(&human_stderr);
        assert!(
            summary.starts_with("meshc: ") && summary.contains("error"),
            "summary line: {summary:?}"
        );

        let rendered = if case.missing_imports.is_empty() {
            let diagnostics = match meshc::compile(&case.sources, &case.options) {
                Ok(output) => panic!("expected errors, but it compiled into:\n{}", output.to_yaml()),
                Err(failure) => failure.diagnostics,
            };
            assert!(
                diagnostics.iter().any(Diagnostic::is_error),
                "no error among the diagnostics"
            );
            let rendered = diagnostic::render(&diagnostics, &case.sources, 100);
            // The snapshot first, so that a review always sees what users would see.
            snapshot(case, &case.snapshot_name(), &rendered);
            check_diagnostics(&diagnostics, &case.sources);
            assert_eq!(
                code_ids(&diagnostics),
                *expect,
                "the codes produced (left) differ from `expect` (right); rendered:\n{rendered}"
            );
            assert_eq!(
                cli_rendered, rendered,
                "the binary rendered other diagnostics than the library"
            );
            rendered
        } else {
            // Only the command line loads imports; the case stands on its output alone.
            snapshot(case, &case.snapshot_name(), cli_rendered);
            cli_rendered.to_string()
        };
        assert!(!rendered.contains('\u{1b}'), "colour escapes in the rendering");

        let (status, json_codes) = cli_json_codes(case);
        assert_eq!(status, Some(1), "`meshc check --message-format json` exit status");
        assert_eq!(
            json_codes, *expect,
            "codes in `--message-format json` (left) differ from `expect` (right)"
        );
    });
}

#[test]
fn warn_cases() {
    for_each_case(CaseKind::Warn, |case| {
        let expect = case
            .expect
            .as_ref()
            .expect("a warn case has an `expect` file listing its codes");
        assert!(
            case.missing_imports.is_empty(),
            "imports not found: {:?}",
            case.missing_imports
        );
        let output = match meshc::compile(&case.sources, &case.options) {
            Ok(output) => output,
            Err(failure) => panic!(
                "a warn case must compile, got:\n{}",
                diagnostic::render(&failure.diagnostics, &case.sources, 100)
            ),
        };
        assert!(!output.warnings.is_empty(), "no warning: move this case to ok/");
        assert!(output.warnings.iter().all(|w| w.severity == Severity::Warning));
        let rendered = diagnostic::render(&output.warnings, &case.sources, 100);
        let yaml = output.to_yaml();
        snapshot(case, &case.snapshot_name(), &rendered);
        snapshot(case, &format!("{}__yaml", case.snapshot_name()), &yaml);
        check_diagnostics(&output.warnings, &case.sources);
        assert_eq!(
            code_ids(&output.warnings),
            *expect,
            "the codes produced (left) differ from `expect` (right); rendered:\n{rendered}"
        );
        let values = parse_yaml(&yaml);
        assert_eq!(values.len(), output.documents.len());
        check_manifests(&values, &case.options.cluster_domain);

        let out = meshc(&case.dir, &cli_args(case, "build", &[]));
        assert_eq!(
            out.status.code(),
            Some(0),
            "warnings must not fail `meshc build`:\n{}",
            stderr(&out)
        );
        assert_eq!(stdout(&out), yaml, "`meshc build` printed other YAML than the library");
        let err = stderr(&out);
        let (cli_rendered, summary) = split_summary(&err);
        assert_eq!(
            cli_rendered, rendered,
            "the binary rendered other warnings than the library"
        );
        assert!(
            summary.starts_with("meshc: ") && summary.contains("warning"),
            "summary line: {summary:?}"
        );

        let (status, json_codes) = cli_json_codes(case);
        assert_eq!(status, Some(0), "`meshc check --message-format json` exit status");
        assert_eq!(
            json_codes, *expect,
            "codes in `--message-format json` (left) differ from `expect` (right)"
        );
    });
}

/// The codes a case actually produces: from the library, or from the binary for a case only
/// the command line can load.
fn produced(case: &Case) -> BTreeSet<String> {
    if !case.missing_imports.is_empty() {
        return cli_json_codes(case).1;
    }
    match meshc::compile(&case.sources, &case.options) {
        Ok(output) => code_ids(&output.warnings),
        Err(failure) => code_ids(&failure.diagnostics),
    }
}

#[test]
fn every_code_is_produced_by_a_case() {
    let mut by_code: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for kind in [CaseKind::Err, CaseKind::Warn] {
        for case in cases(kind) {
            for code in produced(&case) {
                by_code.entry(code).or_default().push(case.id());
            }
        }
    }
    // M4xxx codes are about existing manifests (`tests/lint.rs`) and traffic tests
    // (`tests/traffic.rs`, fixtures under tests/traffic/): those files have their cases.
    let missing: Vec<String> = Code::ALL
        .iter()
        .filter(|c| !c.id().starts_with("M4") && !by_code.contains_key(c.id()))
        .map(|c| format!("{} {}", c.id(), c.name()))
        .collect();
    assert!(missing.is_empty(), "no err or warn case produces: {missing:?}");
}

#[test]
fn every_warning_code_has_a_warn_case() {
    // A code raised as a warning needs a case where compilation still succeeds, so that the
    // YAML written despite the warning is reviewed too.
    let mut severities: BTreeMap<String, BTreeSet<CaseKind>> = BTreeMap::new();
    for kind in [CaseKind::Err, CaseKind::Warn] {
        for case in cases(kind) {
            if !case.missing_imports.is_empty() {
                continue;
            }
            let diagnostics = match meshc::compile(&case.sources, &case.options) {
                Ok(output) => output.warnings,
                Err(failure) => failure.diagnostics,
            };
            for d in diagnostics {
                let k = if d.is_error() { CaseKind::Err } else { CaseKind::Warn };
                severities.entry(d.code.id().to_string()).or_default().insert(k);
            }
        }
    }
    let warn_codes: Vec<&String> = severities
        .iter()
        .filter(|(_, k)| k.contains(&CaseKind::Warn))
        .map(|(c, _)| c)
        .collect();
    let warn_case_codes: BTreeSet<String> = cases(CaseKind::Warn).iter().flat_map(produced).collect();
    for code in warn_codes {
        assert!(warn_case_codes.contains(code), "warning {code} has no case under warn/");
    }
}

#[test]
fn case_folders_are_well_formed() {
    let known_kinds: BTreeSet<&str> = CaseKind::ALL.iter().map(|k| k.folder()).collect();
    for entry in std::fs::read_dir(cases_dir()).expect("tests/cases exists") {
        let path = entry.expect("readable").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        assert!(
            path.is_dir() && known_kinds.contains(name.as_str()),
            "unexpected tests/cases/{name}: only ok/, err/ and warn/ belong here"
        );
    }
    let valid: BTreeSet<String> = common::all_code_ids();
    for kind in CaseKind::ALL {
        for case in cases(kind) {
            let name_ok = case
                .name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            assert!(
                name_ok,
                "case {}: folder names are lowercase letters, digits and `-`",
                case.id()
            );
            match (kind, &case.expect) {
                (CaseKind::Ok, Some(_)) => panic!("case {}: ok cases have no `expect` file", case.id()),
                (CaseKind::Err | CaseKind::Warn, None) => panic!("case {}: no `expect` file", case.id()),
                (_, Some(expect)) => {
                    assert!(!expect.is_empty(), "case {}: empty `expect` file", case.id());
                    for code in expect {
                        assert!(
                            valid.contains(code),
                            "case {}: `{code}` in `expect` is not a code",
                            case.id()
                        );
                    }
                }
                _ => {}
            }
            for entry in std::fs::read_dir(&case.dir).expect("readable case folder") {
                let file = entry.expect("readable").file_name().to_string_lossy().into_owned();
                let used = file == "input.mesh"
                    || file == "args"
                    || file == "expect"
                    || case.sources.iter().any(|s| s.name == file)
                    || case.missing_imports.contains(&file);
                assert!(
                    used,
                    "case {}: stray file `{file}` (neither input, args, expect, an import nor a vars file)",
                    case.id()
                );
            }
        }
    }
}

#[test]
fn no_orphan_snapshots() {
    let mut expected: BTreeSet<String> = BTreeSet::new();
    for kind in CaseKind::ALL {
        for case in cases(kind) {
            expected.insert(case.snapshot_name());
            if kind == CaseKind::Warn {
                expected.insert(format!("{}__yaml", case.snapshot_name()));
            }
            if kind == CaseKind::Ok && case_has_files(&case) {
                expected.insert(format!("{}__files", case.snapshot_name()));
            }
        }
    }
    let dir = common::root().join("snapshots");
    let mut orphans = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("snapshots/ exists") {
        let file = entry.expect("readable").file_name().to_string_lossy().into_owned();
        let Some(stem) = file.strip_suffix(".snap") else {
            continue;
        };
        let ours = ["ok__", "err__", "warn__"].iter().any(|p| stem.starts_with(p));
        if ours && !expected.contains(stem) {
            orphans.push(file);
        }
    }
    assert!(
        orphans.is_empty(),
        "snapshots without a case (delete them): {orphans:?}"
    );
}
