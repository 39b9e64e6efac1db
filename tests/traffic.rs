//! `meshc traffic`, `meshc test` and `meshc graph`: the engine on the examples, the traffic
//! tests next to them, the fixtures of the traffic-test codes (`tests/traffic/<name>/`:
//! `input.mesh`, `input.traffic`, `expect` with the codes; the rendered diagnostics are
//! snapshotted as `traffic__<name>`), the code pages' traffic blocks, and the graphs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use std::collections::BTreeSet;

use common::{compile_ok, meshc, read, root, Scratch};
use meshc::graph::Graph;
use meshc::traffic::{Request, Start, Table, Trace};
use meshc::{Code, Options};

fn table(path: &str) -> Table {
    let text = read(&root().join(path));
    let sources = [meshc::Source::new(path, text)];
    let (mesh, diagnostics) = meshc::analyze(&sources, &Options::default());
    assert!(
        !diagnostics.iter().any(meshc::Diagnostic::is_error),
        "{path} has errors"
    );
    Table::from_mesh(&mesh.expect("a mesh"))
}

fn table_of(text: &str) -> Table {
    let sources = [meshc::Source::new("input.mesh", text)];
    let (mesh, _) = meshc::analyze(&sources, &Options::default());
    Table::from_mesh(&mesh.expect("a mesh"))
}

/// Requests sent by every version of a service to every service it calls.
fn sent_by(service: &str) -> Start {
    Start::Service {
        name: service.into(),
        version: None,
        to: None,
    }
}

fn get(path: &str) -> Request {
    Request {
        method: "GET".into(),
        path: path.into(),
        ..Request::default()
    }
}

/// `service/version` → share, over every hop.
fn versions(trace: &Trace) -> Vec<(String, f64)> {
    trace
        .hops
        .iter()
        .flat_map(|h| &h.versions)
        .map(|v| (format!("{}/{}", v.service, v.version), v.share))
        .collect()
}

fn endpoints(trace: &Trace, service: &str) -> Vec<(String, f64)> {
    trace
        .hops
        .iter()
        .flat_map(|h| &h.versions)
        .filter(|v| v.service == service)
        .flat_map(|v| v.endpoints.iter().map(|e| (e.endpoint.clone(), e.share)))
        .collect()
}

fn close(got: &[(String, f64)], want: &[(&str, f64)]) -> bool {
    got.len() == want.len()
        && got
            .iter()
            .zip(want)
            .all(|((g, gs), (w, ws))| g == w && (gs - ws).abs() < 1e-9)
}

#[test]
fn the_seed_chain_from_the_gateway_splits_hello2_30_60_10() {
    let t = table("examples/hybrid-hello.mesh");
    let trace = t
        .trace(&Start::Gateway("hybrid-gateway".into()), &get("/hello/eric"))
        .unwrap();
    let places: Vec<&str> = trace.hops.iter().map(|h| h.place.as_str()).collect();
    assert_eq!(places, ["gateway hybrid-gateway", "hello2", "hello3"]);
    let v = versions(&trace);
    assert!(
        close(
            &v,
            &[
                ("hello1/v1", 100.0),
                ("hello2/v1", 30.0),
                ("hello2/v2", 60.0),
                ("hello2/v3", 10.0),
                ("hello3/v1", 100.0)
            ]
        ),
        "{v:?}"
    );
    let e = endpoints(&trace, "hello2");
    assert!(
        close(
            &e,
            &[
                ("hello2-deploy-v1", 30.0),
                ("192.168.0.171", 60.0),
                ("192.168.0.172", 10.0)
            ]
        ),
        "{e:?}"
    );
    // The route that took them at hello2 is the `/hello` one, written on the file's line.
    let decision = &trace.hops[1].decisions[0];
    assert_eq!(decision.route, Some(0));
    assert_eq!(decision.caller.as_deref(), Some("hello1/v1"));
    assert_eq!(decision.matched, "prefix \"/hello\"");
}

#[test]
fn a_vm_version_on_several_addresses_splits_its_share_evenly() {
    let text = r#"namespace shop {
  service web {
    port http 8080
    calls cart
    pod v1 image "r/web:1"
  }
  service cart {
    port http 8080
    pod v1 image "r/cart:1" replicas 2
    vm v2 at 10.0.0.1, 10.0.0.2, 10.0.0.3
    route prefix "/new" -> v2
  }
}
"#;
    let t = table_of(text);
    let from_web = sent_by("web");
    let trace = t.trace(&from_web, &get("/new/x")).unwrap();
    let e = endpoints(&trace, "cart");
    let third = 100.0 / 3.0;
    assert!(
        close(&e, &[("10.0.0.1", third), ("10.0.0.2", third), ("10.0.0.3", third)]),
        "{e:?}"
    );
    // Other paths: the default route to every endpoint alike, a Deployment once per replica.
    let trace = t.trace(&from_web, &get("/old")).unwrap();
    let v = versions(&trace);
    assert!(close(&v, &[("cart/v1", 40.0), ("cart/v2", 60.0)]), "{v:?}");
    let text = meshc_out(&["traffic", "--from", "web", "--path", "/new", "input.mesh"], text);
    assert!(text.contains("split evenly over 3 VM addresses"), "{text}");
}

fn meshc_out(args: &[&str], mesh: &str) -> String {
    let scratch = Scratch::new(&format!("traffic-{}", args.join("-").replace('/', "_")));
    scratch.write("input.mesh", mesh);
    let out = meshc(&scratch.path(""), args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn header_routes_and_sources_decide_in_bookinfo() {
    let t = table("examples/bookinfo.mesh");
    let mut jason = get("/productpage");
    jason.headers.insert("end-user".into(), "jason".into());
    jason.port = Some(443);
    jason.host = Some("bookinfo.example.com".into());
    let trace = t.trace(&Start::Gateway("bookinfo-gateway".into()), &jason).unwrap();
    let v = versions(&trace);
    assert!(
        close(
            &v,
            &[
                ("productpage/v1", 100.0),
                ("details/v1", 100.0),
                ("reviews/v2", 100.0),
                ("ratings/v1", 100.0)
            ]
        ),
        "{v:?}"
    );
    // Port 80 redirects to HTTPS before any route.
    let trace = t
        .trace(&Start::Gateway("bookinfo-gateway".into()), &get("/productpage"))
        .unwrap();
    assert_eq!(trace.hops[0].answered, vec![("redirect to https".to_string(), 100.0)]);
}

#[test]
fn the_json_trace_is_the_engines() {
    let mesh = read(&root().join("examples/hybrid-hello.mesh"));
    let json = meshc_out(
        &[
            "traffic",
            "--gateway",
            "hybrid-gateway",
            "--path",
            "/bye",
            "--format",
            "json",
            "input.mesh",
        ],
        &mesh,
    );
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    let t = table("examples/hybrid-hello.mesh");
    let trace = t.trace(&Start::Gateway("hybrid-gateway".into()), &get("/bye")).unwrap();
    assert_eq!(value, serde_json::to_value(&trace).unwrap());
}

#[test]
fn the_examples_traffic_tests_pass() {
    for name in ["hybrid-hello", "bookinfo"] {
        let path = format!("examples/{name}.traffic");
        assert!(root().join(&path).is_file(), "{path} is missing");
        let out = meshc(&root(), &["test", &path]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{path}:\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains(", 0 failed"), "{stdout}");
        // A file that tests nothing would pass too: each has several expectations.
        let count: usize = stdout.split_whitespace().next().unwrap().parse().unwrap();
        assert!(count >= 5, "{path}: {stdout}");
    }
}

/// Codes from `--message-format json` on stderr.
fn codes_of(stderr: &[u8]) -> BTreeSet<String> {
    let items: serde_json::Value = serde_json::from_slice(stderr).unwrap_or(serde_json::json!([]));
    items
        .as_array()
        .into_iter()
        .flatten()
        .map(|i| i["code"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn the_fixtures_fail_with_their_codes_at_the_expectation() {
    let dir = root().join("tests").join("traffic");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut seen = BTreeSet::new();
    for name in &names {
        let case = dir.join(name);
        let expect: BTreeSet<String> = read(&case.join("expect"))
            .split_whitespace()
            .map(str::to_string)
            .collect();
        let out = meshc(&case, &["test", "--message-format", "json", "input.traffic"]);
        assert_eq!(out.status.code(), Some(1), "{name}");
        assert_eq!(codes_of(&out.stderr), expect, "{name}");
        seen.extend(expect);
        let human = meshc(&case, &["test", "input.traffic"]);
        let rendered = String::from_utf8_lossy(&human.stderr).into_owned();
        insta::with_settings!({
            snapshot_path => "../snapshots",
            prepend_module_to_snapshot => false,
            omit_expression => true,
            description => format!("tests/traffic/{name}/input.traffic"),
        }, {
            insta::assert_snapshot!(format!("traffic__{name}"), rendered);
        });
    }
    for code in traffic_codes() {
        assert!(
            seen.contains(code.id()),
            "no fixture under tests/traffic/ produces {}",
            code.id()
        );
    }
}

/// The codes `meshc test` raises (M4100–M4149), which `meshc check` never does.
fn traffic_codes() -> Vec<Code> {
    Code::ALL
        .iter()
        .copied()
        .filter(|c| c.id().starts_with("M41"))
        .collect()
}

/// Fenced blocks of one language, with their info words.
fn blocks<'p>(page: &'p str, language: &str) -> Vec<(Vec<&'p str>, String)> {
    let mut out = Vec::new();
    let mut lines = page.lines();
    while let Some(line) = lines.next() {
        let Some(info) = line.strip_prefix("```") else { continue };
        let words: Vec<&str> = info.split_whitespace().collect();
        let mut body = String::new();
        for l in lines.by_ref() {
            if l.starts_with("```") {
                break;
            }
            body.push_str(l);
            body.push('\n');
        }
        if words.first() == Some(&language) {
            out.push((words, body));
        }
    }
    out
}

#[test]
fn the_traffic_code_pages_show_their_code_wrong_then_fixed() {
    for code in traffic_codes() {
        let id = code.id();
        let page = read(&root().join("docs").join("codes").join(format!("{id}.md")));
        let mesh = blocks(&page, "mesh");
        assert_eq!(mesh.len(), 1, "{id}: one ```mesh block, the mesh under test");
        let traffic = blocks(&page, "traffic");
        for (words, body) in &traffic {
            let scratch = Scratch::new(&format!("traffic-page-{id}-{}", words.join("-")));
            scratch.write("input.mesh", &mesh[0].1);
            scratch.write("input.traffic", body);
            let out = meshc(
                &scratch.path(""),
                &["test", "--message-format", "json", "input.traffic"],
            );
            let codes = codes_of(&out.stderr);
            if words.contains(&"wrong") {
                assert!(codes.contains(id), "{id}: the wrong block gives {codes:?}");
            } else {
                assert!(out.status.success(), "{id}: the fixed block gives {codes:?}");
            }
        }
        assert!(
            traffic.iter().any(|(w, _)| w.contains(&"wrong")),
            "{id}: no ```traffic wrong block"
        );
        assert!(
            traffic.iter().any(|(w, _)| w.contains(&"fixed")),
            "{id}: no ```traffic fixed block"
        );
    }
}

// ------------------------------------------------------------------ graphs

#[test]
fn the_readme_shows_the_seed_graph_as_meshc_draws_it() {
    let readme = read(&root().join("README.md"));
    let drawn = blocks(&readme, "mermaid");
    assert_eq!(drawn.len(), 1, "README.md: one ```mermaid block");
    let out = meshc(&root(), &["graph", "--format", "mermaid", "examples/hybrid-hello.mesh"]);
    assert!(out.status.success());
    assert_eq!(
        drawn[0].1,
        String::from_utf8_lossy(&out.stdout),
        "README's graph is stale"
    );
}

const HOSTILE: &str = r#"namespace shop {
  service web {
    port http 8080
    calls cart
    pod v1 image "r/web:1"
  }
  service cart {
    port http 8080
    pod v1 image "r/cart:1"
    vm v2 at 10.0.0.1
    route header x-name "\"quoted\" #1 <b>é</b> | ] } end" -> v2
    route prefix "/a\\b\n" -> v1
    route regex "/[a-z]+\"(x|y)" { v1 50% v2 50% }
  }
}
"#;

#[test]
fn hostile_names_stay_inside_their_labels() {
    // It is a valid mesh.
    compile_ok(HOSTILE, &Options::default());
    let sources = [meshc::Source::new("input.mesh", HOSTILE)];
    let (mesh, _) = meshc::analyze(&sources, &Options::default());
    let graph = Graph::from_mesh(&mesh.unwrap());
    let mermaid = graph.to_mermaid();
    // Every label is one quoted string with no quote, `|`, `<` (but the line breaks meshc
    // writes), brackets or non-ASCII inside.
    for line in mermaid.lines().skip(1) {
        for (i, part) in line.split('"').enumerate() {
            if i % 2 == 1 {
                let text = part.replace("<br/>", "");
                assert!(
                    text.chars().all(|c| c.is_ascii() && !"<>|[]{}()\"\\`".contains(c)),
                    "unescaped label text `{text}` in: {line}"
                );
            }
        }
        assert_eq!(line.matches('"').count() % 2, 0, "unbalanced quotes: {line}");
    }
    assert!(
        mermaid.contains("quoted#92;#34; #35;1 #60;b#62;#233;#60;/b#62; #124; #93; #125; end"),
        "{mermaid}"
    );
    let dot = graph.to_dot();
    assert!(dot.contains(r#"quoted\\\" #1 <b>é</b> | ] } end"#), "{dot}");
    for line in dot.lines() {
        // Outside escapes, quotes pair up on every line.
        let unescaped = line.replace("\\\\", "").replace("\\\"", "");
        assert_eq!(unescaped.matches('"').count() % 2, 0, "unbalanced quotes: {line}");
    }
}

#[test]
fn graphs_are_deterministic_and_name_every_service_and_version() {
    for path in common::example_paths() {
        let rel = path.strip_prefix(root()).unwrap().to_str().unwrap().to_string();
        for format in ["mermaid", "dot"] {
            let a = meshc(&root(), &["graph", "--format", format, &rel]);
            let b = meshc(&root(), &["graph", "--format", format, &rel]);
            assert!(a.status.success(), "{rel}: {}", String::from_utf8_lossy(&a.stderr));
            assert_eq!(a.stdout, b.stdout, "{rel} {format}");
        }
    }
    let t = table("examples/bookinfo.mesh");
    let dot =
        String::from_utf8(meshc(&root(), &["graph", "--format", "dot", "examples/bookinfo.mesh"]).stdout).unwrap();
    for s in &t.services {
        assert!(dot.contains(&format!("label=\"{}\\n", s.name)), "{} missing", s.name);
    }
    assert!(dot.contains("external google"));
    assert!(dot.contains("gateway bookinfo-gateway"));
    assert!(dot.contains("header end-user \\\"jason\\\""));
}

#[test]
fn calls_in_a_cycle_end() {
    let text = r#"namespace loop {
  service a {
    port http 8080
    calls b
    pod v1 image "r/a:1"
  }
  service b {
    port http 8080
    calls a
    pod v1 image "r/b:1"
  }
}
"#;
    let t = table_of(text);
    let from_a = sent_by("a");
    let trace = t.trace(&from_a, &get("/")).unwrap();
    let places: Vec<&str> = trace.hops.iter().map(|h| h.place.as_str()).collect();
    assert_eq!(places, ["b"]);
    assert_eq!(
        trace.hops[0].answered,
        vec![(
            "b calls a.loop.svc.cluster.local back: a cycle, not followed".to_string(),
            100.0
        )]
    );
}

#[test]
fn any_text_reads_as_expectations_or_diagnostics() {
    // Every prefix of the examples' test files, and lines of stray words, never panic the
    // reader, and every problem points inside the text.
    let mut corpus = String::new();
    for name in ["hybrid-hello", "bookinfo"] {
        corpus.push_str(&read(&root().join(format!("examples/{name}.traffic"))));
    }
    corpus.push_str("\"unterminated\nGET\nGET /\nGET / via\nGET / from a/\nGET / via g port x reaches\nGET / via g reaches s v1 on\nGET / via g reaches s v1 -3%\nmesh\nmesh a b\né / via g answers\n");
    let t = table("examples/hybrid-hello.mesh");
    for (end, _) in corpus.char_indices().step_by(7) {
        let text = &corpus[..end];
        let (file, problems) = meshc::traffic::expect::parse(0, text);
        for d in &problems {
            assert!(d.primary.span.end <= text.len(), "{d:?}");
        }
        for e in &file.expectations {
            if let Some(d) = meshc::traffic::expect::check(&t, e) {
                assert!(d.primary.span.end <= text.len(), "{d:?}");
            }
        }
    }
}

#[test]
fn the_human_trace_names_each_route_where_it_is_written() {
    let mesh = read(&root().join("examples/hybrid-hello.mesh"));
    let text = meshc_out(
        &[
            "traffic",
            "--gateway",
            "hybrid-gateway",
            "--path",
            "/hello/eric",
            "input.mesh",
        ],
        &mesh,
    );
    let line = mesh
        .lines()
        .position(|l| l.contains("route prefix \"/hello\""))
        .unwrap()
        + 1;
    for want in [
        format!("from hello1/v1: route 1: prefix \"/hello\" at input.mesh:{line} (100 %)"),
        "-> hello2/v2  60 %".to_string(),
        "vm 192.168.0.171  60 %".to_string(),
        "vm 192.168.0.172  10 %".to_string(),
        "pod hello2-deploy-v1  30 %".to_string(),
    ] {
        assert!(text.contains(&want), "`{want}` not in:\n{text}");
    }
}

// ------------------------------------------------------------------ over existing manifests

/// The table of the YAML files of a folder, as `meshc lint` reads them, and their sources.
fn manifests_table(dir: &str) -> (Table, Vec<meshc::Source>) {
    let dir = root().join(dir);
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    paths.sort();
    let sources: Vec<meshc::Source> = paths
        .iter()
        .map(|p| meshc::Source::new(p.file_name().unwrap().to_string_lossy(), read(p)))
        .collect();
    let (manifests, problems) = meshc::manifests::read(&sources);
    assert!(problems.is_empty(), "{dir:?} reads");
    (Table::from_manifests(&manifests), sources)
}

fn yaml_table(text: &str) -> Table {
    let (manifests, problems) = meshc::manifests::read(&[meshc::Source::new("input.yaml", text)]);
    assert!(problems.is_empty(), "the YAML reads");
    Table::from_manifests(&manifests)
}

/// The seed's manifests as the article edits them: the WorkloadEntries of v2 and v3 carry
/// `app: hello-workload`, not hello2-svc's `app: hello2-deploy`, so the VMs get nothing;
/// the trace says so, at the WorkloadEntry's label.
#[test]
fn the_seed_manifests_send_the_vms_nothing_and_say_why() {
    let (t, sources) = manifests_table("tests/lint/hybrid-seed");
    let trace = t
        .trace(&Start::Gateway("hybrid-gateway".into()), &get("/hello/eric"))
        .unwrap();
    let hello2 = trace.hops.iter().find(|h| h.place == "hello2-svc").unwrap();
    let shares: Vec<(&str, f64, usize)> = hello2
        .versions
        .iter()
        .map(|v| (v.version.as_str(), v.share, v.endpoints.len()))
        .collect();
    assert_eq!(shares, [("v1", 30.0, 1), ("v2", 60.0, 0), ("v3", 10.0, 0)]);
    let locator = meshc::source::Locator::new(&sources);
    for (version, entry) in [
        ("v2", "mesh-expansion-hello2-svc-171"),
        ("v3", "mesh-expansion-hello2-svc-172"),
    ] {
        let v = hello2.versions.iter().find(|v| v.version == version).unwrap();
        let note = &v.notes[0];
        assert!(note.message.contains(entry), "{note:?}");
        assert!(note.message.contains("app: hello-workload"), "{note:?}");
        let at = locator.locate(note.span.unwrap()).unwrap();
        let text = &sources.iter().find(|s| s.name == at.file).unwrap().text;
        let line = text.lines().nth(at.line - 1).unwrap();
        assert_eq!(at.file, "workloadentries.yaml");
        assert_eq!(line.trim(), "app: hello-workload");
    }
    // Only v1's pods answer, and call hello3 (their env says so): 30 % reaches it.
    let hello3 = trace.hops.iter().find(|h| h.place == "hello3-svc").unwrap();
    assert!((hello3.share - 30.0).abs() < 1e-9, "{hello3:?}");
    // From the command line, on the folder: the note points at the file and line.
    let out = meshc(
        &root(),
        &[
            "traffic",
            "tests/lint/hybrid-seed",
            "--gateway",
            "hybrid-gateway",
            "--path",
            "/hello",
        ],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    for want in [
        "-> hello2-svc/v2  60 %",
        "no endpoint: these requests fail (503)",
        "note: the WorkloadEntry `mesh-expansion-hello2-svc-171`",
        "at tests/lint/hybrid-seed/workloadentries.yaml:11",
        "pod hello2-deploy-v1  30 %",
    ] {
        assert!(text.contains(want), "`{want}` not in:\n{text}");
    }
}

/// The blue/green demo: every route matches `port: 8001` first, so a request asking for
/// v2 or v3 by header still takes the first route to v1; the header routes are never
/// reached.
#[test]
fn the_blue_green_header_routes_are_never_reached() {
    let (t, _) = manifests_table("tests/lint/blue-green-header");
    for version in ["v1", "v2", "v3"] {
        let mut request = get("/");
        request.port = Some(8001);
        request.headers.insert("version".into(), version.into());
        let start = Start::Service {
            name: "hello1-svc".into(),
            version: None,
            to: Some("hello2-svc".into()),
        };
        let trace = t.trace(&start, &request).unwrap();
        let hop = &trace.hops[0];
        assert_eq!(hop.decisions.iter().map(|d| d.route).collect::<Vec<_>>(), [Some(0)]);
        assert_eq!(versions(&trace), [("hello2-svc/v1".to_string(), 100.0)], "{version}");
    }
}

/// `meshc test` ran `count` expectations of one file, and every one held.
fn assert_all_hold(out: &std::process::Output, count: usize) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    let summary = format!("{count} traffic expectations in 1 files, 0 failed");
    assert!(stdout.contains(&summary), "{stdout}");
}

#[test]
fn traffic_tests_run_against_manifests() {
    let out = meshc(
        &root(),
        &[
            "test",
            "tests/traffic_manifests/hybrid-seed.traffic",
            "--manifests",
            "tests/lint/hybrid-seed",
        ],
    );
    assert_all_hold(&out, 5);
    // The same tests fail where the manifests differ: hello2's VMs reached.
    let scratch = Scratch::new("traffic-manifests");
    std::fs::write(
        scratch.0.join("t.traffic"),
        "GET /hello via hybrid-gateway reaches hello3-svc v1\n",
    )
    .unwrap();
    let seed = root().join("tests/lint/hybrid-seed");
    let out = meshc(
        &scratch.0,
        &[
            "test",
            "t.traffic",
            "--manifests",
            seed.to_str().unwrap(),
            "--message-format",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(codes_of(&out.stderr), BTreeSet::from(["M4100".to_string()]));
}

const SHOP_YAML: &str = r#"
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  selector: {app: web}
  ports: [{name: http, port: 8080}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web-v1, namespace: shop}
spec:
  replicas: 3
  template:
    metadata: {labels: {app: web, version: v1}}
    spec:
      containers:
        - name: web
          env:
            - {name: API_URL, value: "http://api:9000/v1"}
            - {name: GREETING, value: "hello there"}
---
apiVersion: networking.istio.io/v1
kind: WorkloadGroup
metadata: {name: web-v2, namespace: shop}
spec:
  metadata: {labels: {app: web, version: v2}}
  template: {labels: {app: web, version: v2}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: web, namespace: shop}
spec:
  host: web.shop.svc.cluster.local
  subsets:
    - {name: v1, labels: {version: v1}}
    - {name: v2, labels: {version: v2}}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: web, namespace: shop}
spec:
  hosts: [web]
  http:
    - match: [{scheme: {exact: https}}]
      route: [{destination: {host: web, subset: v2}}]
    - match: [{headers: {x-beta: {exact: "yes"}}, gateways: [mesh]}]
      route: [{destination: {host: web, subset: v2}}]
    - route:
        - {destination: {host: web, subset: v1}, weight: 75}
        - {destination: {host: web.shop, subset: v2}, weight: 25}
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: shop}
spec:
  selector: {app: api}
  ports: [{name: http-api, port: 9000}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  template:
    metadata: {labels: {app: api}}
"#;

/// Short hosts resolve in the VirtualService's namespace; replicas weigh pods; a
/// WorkloadGroup with no WorkloadEntry is one endpoint; a URL in a container's env is a
/// call; a condition the engine does not evaluate never matches, with a note.
#[test]
fn manifests_fill_the_table_as_istio_reads_them() {
    let t = yaml_table(SHOP_YAML);
    let web = &t.services[t.service("web").unwrap()];
    assert_eq!(web.host, "web.shop.svc.cluster.local");
    assert_eq!(t.service("web.shop"), t.service("web"));
    assert_eq!(t.service("web.shop.svc"), t.service("web"));
    assert_eq!(t.service("web.other"), None);
    assert_eq!(web.calls, ["api.shop.svc.cluster.local"]);
    let start = Start::Service {
        name: "api".into(),
        version: None,
        to: Some("web".into()),
    };
    let trace = t.trace(&start, &get("/")).unwrap();
    assert_eq!(
        versions(&trace),
        [("web/v1".to_string(), 75.0), ("web/v2".to_string(), 25.0)]
    );
    // web calls api back (its pods' env names it; calls are the service's): a cycle.
    let cycle = "web calls api.shop.svc.cluster.local back: a cycle, not followed".to_string();
    assert_eq!(trace.hops[0].answered, [(cycle, 100.0)]);
    let v2 = &trace.hops[0].versions[1];
    assert_eq!(v2.endpoints[0].endpoint, "web-v2");
    assert!(v2.endpoints[0].vm);
    assert_eq!(trace.notes.len(), 1, "{:?}", trace.notes);
    assert!(trace.notes[0].message.contains("`scheme`"), "{:?}", trace.notes);
    let scheme = yaml_table(&SHOP_YAML.replace(
        "    - match: [{scheme: {exact: https}}]",
        "    - match: [{scheme: {exact: https}}, {uri: {prefix: /v2}}]",
    ));
    let trace = scheme.trace(&start, &get("/v2/x")).unwrap();
    assert_eq!(
        trace.hops[0].decisions[0].matched,
        "a match meshc does not evaluate or prefix \"/v2\""
    );
    let mut beta = get("/");
    beta.headers.insert("x-beta".into(), "yes".into());
    let trace = t.trace(&start, &beta).unwrap();
    assert_eq!(trace.hops[0].versions[0].version, "v2");
    // A route that sends nowhere (a delegate): its requests are answered by nobody, noted.
    let delegated = yaml_table(&SHOP_YAML.replace(
        "    - match: [{scheme: {exact: https}}]\n      route: [{destination: {host: web, subset: v2}}]",
        "    - delegate: {name: web-routes}",
    ));
    let trace = delegated.trace(&start, &get("/")).unwrap();
    assert_eq!(trace.hops[0].answered, [("no destination".to_string(), 100.0)]);
    assert!(
        trace.notes[0].message.contains("`delegate` is not followed"),
        "{:?}",
        trace.notes
    );
    // Every endpoint alike, when a destination names no subset: 3 replicas and one VM group.
    let whole = yaml_table(&SHOP_YAML.replace("subset: v1}, weight: 75", "}, weight: 75"));
    let trace = whole.trace(&start, &get("/")).unwrap();
    assert_eq!(
        versions(&trace)[..2],
        [("web/v1".to_string(), 56.25), ("web/v2".to_string(), 43.75)]
    );
}

const TCP_YAML: &str = r#"
apiVersion: v1
kind: Service
metadata: {name: db, namespace: data}
spec:
  selector: {app: db}
  ports: [{name: tcp, port: 5432}, {name: tls-replica, port: 5433}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: db-v1, namespace: data}
spec:
  template: {metadata: {labels: {app: db, version: v1}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: db-v2, namespace: data}
spec:
  template: {metadata: {labels: {app: db, version: v2}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: reporting, namespace: data}
spec:
  template: {metadata: {labels: {app: reporting, version: v1}}}
---
apiVersion: v1
kind: Service
metadata: {name: reporting, namespace: data}
spec:
  selector: {app: reporting}
  ports: [{name: http, port: 8080}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: db, namespace: data}
spec:
  host: db
  subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: db, namespace: data}
spec:
  hosts: [db]
  tcp:
    - match: [{port: 5432, sourceLabels: {app: reporting}}]
      route: [{destination: {host: db, subset: v2}}]
    - match: [{port: 5432, destinationSubnets: [10.1.0.0/16]}]
      route: [{destination: {host: db, subset: v2}, weight: 20}, {destination: {host: db, subset: v1}, weight: 80}]
    - match: [{port: 5432}]
      route: [{destination: {host: db, subset: v1}}]
  tls:
    - match: [{port: 5433, sniHosts: [replica.db.example.com]}]
      route: [{destination: {host: db, subset: v2}}]
"#;

/// TCP routes by port, caller and destination subnet; TLS routes by SNI host; a TCP or TLS
/// connection no route takes goes to every endpoint alike.
#[test]
fn tcp_and_tls_routes_over_manifests() {
    use meshc::traffic::Protocol;
    let t = yaml_table(TCP_YAML);
    let tcp = |from: &str, address: Option<&str>| {
        let mut r = get("/");
        r.protocol = Protocol::Tcp;
        r.port = Some(5432);
        r.address = address.map(str::to_string);
        let start = Start::Service {
            name: from.into(),
            version: None,
            to: Some("db".into()),
        };
        versions(&t.trace(&start, &r).unwrap())
    };
    let only = |v: &str| vec![(format!("db/{v}"), 100.0)];
    assert_eq!(tcp("reporting", None), only("v2"));
    // The db's own versions call nothing: a request from them is from a stranger's labels.
    assert_eq!(tcp("db", None), only("v1"));
    assert_eq!(
        tcp("db", Some("10.1.2.3")),
        [("db/v1".to_string(), 80.0), ("db/v2".to_string(), 20.0)]
    );
    assert_eq!(tcp("db", Some("10.2.0.1")), only("v1"));
    let mut r = get("/");
    r.protocol = Protocol::Tcp;
    r.port = Some(5432);
    r.address = Some("10.1.0.9".into());
    let start = Start::Service {
        name: "db".into(),
        version: Some("v1".into()),
        to: Some("db".into()),
    };
    let trace = t.trace(&start, &r).unwrap();
    assert_eq!(trace.hops[0].decisions[0].matched, "port 5432 to 10.1.0.0/16");
    let tls = |sni: &str| {
        let mut r = get("/");
        r.protocol = Protocol::Tls;
        r.port = Some(5433);
        r.sni = Some(sni.into());
        let start = Start::Service {
            name: "reporting".into(),
            version: None,
            to: Some("db".into()),
        };
        let trace = t.trace(&start, &r).unwrap();
        (versions(&trace), trace.hops[0].decisions[0].matched.clone())
    };
    assert_eq!(tls("replica.db.example.com").0, only("v2"));
    let (other, matched) = tls("other.example.com");
    assert_eq!(other, [("db/v1".to_string(), 50.0), ("db/v2".to_string(), 50.0)]);
    assert_eq!(matched, "no route matches: every endpoint alike");
}

/// The `.mesh` model's TCP and TLS routes: at the service (by port and caller, by SNI) and
/// at a gateway passing TLS through; and from the command line.
#[test]
fn tcp_and_tls_routes_over_the_mesh() {
    use meshc::traffic::Protocol;
    let t = table("tests/cases/ok/tcp-routes/input.mesh");
    let mut r = get("/");
    r.protocol = Protocol::Tcp;
    r.port = Some(27017);
    let from_reporting = t.trace(&sent_by("reporting"), &r).unwrap();
    assert_eq!(versions(&from_reporting), [("mongo/v2".to_string(), 100.0)]);
    let start = Start::Service {
        name: "mongo".into(),
        version: None,
        to: Some("mongo".into()),
    };
    assert_eq!(
        versions(&t.trace(&start, &r).unwrap()),
        [("mongo/v1".to_string(), 100.0)]
    );
    let gateway = table("examples/tls-gateway.mesh");
    let mut r = get("/");
    r.protocol = Protocol::Tls;
    r.sni = Some("reports.db.example.com".into());
    let trace = gateway.trace(&Start::Gateway("public".into()), &r).unwrap();
    assert_eq!(
        trace.hops[0].answered,
        [("external reports.db.example.com".to_string(), 100.0)]
    );
    r.sni = Some("elsewhere.example.com".into());
    let trace = gateway.trace(&Start::Gateway("public".into()), &r).unwrap();
    assert_eq!(
        trace.hops[0].answered,
        [("connection closed (no route)".to_string(), 100.0)]
    );
    let out = meshc(
        &root(),
        &[
            "traffic",
            "tests/cases/ok/tcp-routes/input.mesh",
            "--from",
            "reporting",
            "--protocol",
            "tcp",
            "--port",
            "27017",
        ],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("from reporting/v1: route 1: from app=reporting"),
        "{text}"
    );
    assert!(text.contains("vm 10.5.0.1  100 %"), "{text}");
}

/// `.traffic` lines for TCP and TLS connections: `TCP`/`TLS` in place of the method and
/// path, with `sni` and `address`.
#[test]
fn traffic_tests_send_tcp_and_tls_connections() {
    let scratch = Scratch::new("traffic-l4");
    for (name, from) in [
        ("tcp-routes.mesh", "tests/cases/ok/tcp-routes/input.mesh"),
        ("tls-gateway.mesh", "examples/tls-gateway.mesh"),
    ] {
        std::fs::write(scratch.0.join(name), read(&root().join(from))).unwrap();
    }
    let tests = [
        "mesh \"tcp-routes.mesh\"\n\
         TCP from reporting port 27017 reaches mongo v2\n\
         TCP from mongo port 27017 reaches mongo v1\n\
         TLS from reporting port 27018 sni mongo.data.svc.cluster.local reaches mongo v1\n",
        "mesh \"tls-gateway.mesh\"\n\
         TLS via public host reports.db.example.com answers external reports.db.example.com\n\
         TLS via public sni other.example.com answers connection closed (no route)\n\
         GET / via public port 443 host shop.example.com reaches web v1 95%, v2 5%\n",
    ];
    for (i, text) in tests.iter().enumerate() {
        let file = format!("t{i}.traffic");
        std::fs::write(scratch.0.join(&file), text).unwrap();
        let out = meshc(&scratch.0, &["test", &file]);
        assert_all_hold(&out, 3);
    }
    // And one that does not hold: reporting's connections go to v2.
    std::fs::write(
        scratch.0.join("wrong.traffic"),
        "mesh \"tcp-routes.mesh\"\nTCP from reporting port 27017 reaches mongo v1\n",
    )
    .unwrap();
    let out = meshc(&scratch.0, &["test", "wrong.traffic", "--message-format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(codes_of(&out.stderr), BTreeSet::from(["M4100".to_string()]));
}

const GATEWAY_YAML: &str = r#"
apiVersion: v1
kind: Service
metadata: {name: web, namespace: edge}
spec: {selector: {app: web}, ports: [{name: http, port: 80}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: edge}
spec: {replicas: 2, template: {metadata: {labels: {app: web}}}}
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: public, namespace: edge}
spec:
  selector: {istio: ingressgateway}
  servers:
    - port: {number: 80, name: http, protocol: HTTP}
      hosts: ["*"]
      tls: {httpsRedirect: true}
    - port: {number: 443, name: https, protocol: HTTPS}
      hosts: ["edge/*"]
      tls: {mode: SIMPLE, credentialName: cert}
    - port: {number: 5432, name: tls, protocol: TLS}
      hosts: ["*"]
      tls: {mode: PASSTHROUGH}
    - port: {number: 6379, name: tls-terminated, protocol: TLS}
      hosts: ["*"]
      tls: {mode: SIMPLE, credentialName: cert}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: admin, namespace: edge}
spec:
  hosts: [admin.example.com]
  gateways: [public]
  http:
    - match: [{uri: {prefix: /api}}]
      route: [{destination: {host: web}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: everything, namespace: edge}
spec:
  hosts: ["*"]
  gateways: [edge/public]
  http:
    - match: [{uri: {exact: /old}}]
      redirect: {uri: /new}
    - match: [{uri: {prefix: /health}}]
      directResponse: {status: 204}
    - route: [{destination: {host: web.edge.svc.cluster.local}}]
  tls:
    - match: [{sniHosts: [db.example.com], port: 5432}]
      route: [{destination: {host: db.example.com}}]
  tcp:
    - match: [{port: 6379}]
      route: [{destination: {host: web}}]
"#;

/// A Gateway and the VirtualServices bound to it: a host's own VirtualService alone takes
/// its requests (no falling through to `*`), redirects and direct responses, the listener
/// that redirects to HTTPS, and TLS passed through by SNI.
#[test]
fn gateways_over_manifests() {
    use meshc::traffic::Protocol;
    let t = yaml_table(GATEWAY_YAML);
    let at = |host: &str, path: &str, port: u16| {
        let mut r = get(path);
        r.host = Some(host.into());
        r.port = Some(port);
        t.trace(&Start::Gateway("public".into()), &r).unwrap()
    };
    let answered = |trace: &Trace| trace.hops[0].answered.clone();
    let to = |what: &str| vec![(what.to_string(), 100.0)];
    assert_eq!(
        versions(&at("admin.example.com", "/api/x", 443)),
        [("web/-".to_string(), 100.0)]
    );
    assert_eq!(answered(&at("admin.example.com", "/other", 443)), to("404 (no route)"));
    assert_eq!(
        versions(&at("shop.example.com", "/other", 443)),
        [("web/-".to_string(), 100.0)]
    );
    assert_eq!(answered(&at("shop.example.com", "/old", 443)), to("redirect to /new"));
    assert_eq!(answered(&at("shop.example.com", "/health", 443)), to("respond 204"));
    assert_eq!(answered(&at("shop.example.com", "/", 80)), to("redirect to https"));
    let mut r = get("/");
    r.protocol = Protocol::Tls;
    r.sni = Some("db.example.com".into());
    let trace = t.trace(&Start::Gateway("public".into()), &r).unwrap();
    assert_eq!(answered(&trace), to("external db.example.com"));
    // TLS terminated at the gateway carries TCP: its `tcp` routes take it.
    let mut r = get("/");
    r.protocol = Protocol::Tcp;
    let trace = t.trace(&Start::Gateway("public".into()), &r).unwrap();
    assert_eq!(versions(&trace), [("web/-".to_string(), 100.0)]);
    assert_eq!(trace.hops[0].decisions[0].matched, "port 6379");
}

/// `meshc traffic - --manifests` reads a stream of YAML documents on stdin and prints the
/// JSON trace, notes included; YAML that does not read is M4000 and exit status 1.
#[test]
fn the_cli_traces_manifests_from_stdin_as_json() {
    use std::io::Write as _;
    let run = |stdin: &str| {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_meshc"))
            .args([
                "traffic",
                "-",
                "--manifests",
                "--gateway",
                "hybrid-gateway",
                "--path",
                "/hello",
            ])
            .args(["--format", "json", "--message-format", "json"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    };
    let dir = root().join("tests/lint/hybrid-seed");
    let mut paths: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    paths.sort();
    let stream: String = paths
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .map(|p| format!("---\n{}\n", read(p)))
        .collect();
    let out = run(&stream);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let trace: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let places: Vec<&str> = trace["hops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["place"].as_str().unwrap())
        .collect();
    assert_eq!(places, ["gateway hybrid-gateway", "hello2-svc", "hello3-svc"]);
    let v2 = &trace["hops"][1]["versions"][1];
    assert_eq!(v2["version"], "v2");
    assert_eq!(v2["endpoints"].as_array().unwrap().len(), 0);
    assert!(v2["notes"][0]["message"]
        .as_str()
        .unwrap()
        .contains("mesh-expansion-hello2-svc-171"));
    let bad = run("kind: Service\nmetadata: {name: [\n");
    assert_eq!(bad.status.code(), Some(1));
    assert_eq!(codes_of(&bad.stderr), BTreeSet::from(["M4000".to_string()]));
    assert!(bad.stdout.is_empty());
}

const REWRITE: &str = r#"
namespace shop {
  service web {
    port http 8080
    calls api via env API_URL
    pod v1 image "registry.example.com/web:1"
    route prefix "/old" -> v1 rewrite "/new"
    route -> v1
  }
  service api {
    port http 9000
    pod v1 image "registry.example.com/api:1"
    pod v2 image "registry.example.com/api:2"
    route prefix "/new" -> v2
    route -> v1
  }
  gateway edge {
    listen http 80 hosts "*"
    route -> web
  }
}
"#;

/// A route's rewrite is the path its destinations receive, and so the path their calls
/// carry onwards: over the `.mesh` and over the YAML meshc builds from it alike.
#[test]
fn a_rewritten_path_is_carried_to_the_next_hops() {
    let built = compile_ok(REWRITE, &Options::default());
    let yaml: String = built.documents.iter().map(|d| format!("---\n{}", d.yaml)).collect();
    for t in [table_of(REWRITE), yaml_table(&yaml)] {
        let api = |path: &str| {
            let trace = t.trace(&Start::Gateway("edge".into()), &get(path)).unwrap();
            let hop = trace.hops.iter().find(|h| h.place.starts_with("api")).unwrap();
            // The gateway route carries web's routes: the rewrite is decided at the gateway.
            (
                hop.versions[0].version.clone(),
                trace.hops[0].decisions[0].matched.clone(),
            )
        };
        let (version, matched) = api("/old/x");
        assert_eq!(version, "v2");
        assert_eq!(matched, "prefix \"/old\", path rewritten to \"/new\"");
        assert_eq!(api("/other").0, "v1");
    }
}
