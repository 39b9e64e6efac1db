//! Large and hostile inputs: a clear diagnostic or a correct result, never a panic, a hang
//! or a stack overflow. (The 50 MB and 100 000-service runs use the release binary in CI:
//! see `.ci/run`.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use meshc::{compile, diagnostic, syntax, Options, Source};

fn run(text: &str) -> Result<String, Vec<meshc::Diagnostic>> {
    let sources = [Source::new("input.mesh", text)];
    match compile(&sources, &Options::default()) {
        Ok(output) => Ok(output.to_yaml()),
        Err(failure) => {
            // Rendering must cope with whatever the checker found.
            let _ = diagnostic::render(&failure.diagnostics, &sources, 100);
            let _ = diagnostic::to_json(&failure.diagnostics, &sources);
            Err(failure.diagnostics)
        }
    }
}

fn codes(result: &Result<String, Vec<meshc::Diagnostic>>) -> Vec<&'static str> {
    match result {
        Ok(_) => Vec::new(),
        Err(d) => d.iter().map(|d| d.code.id()).collect(),
    }
}

#[test]
fn deep_nesting_is_a_syntax_error_not_a_stack_overflow() {
    let text = format!("namespace a {}{}", "{".repeat(200_000), "}".repeat(200_000));
    assert_eq!(codes(&run(&text)), ["M1001"]);
    assert!(syntax::format(0, &text).is_err());
}

#[test]
fn a_very_long_line_is_read() {
    let long = "x".repeat(2_000_000);
    let text = format!("namespace a {{ service b {{ port http 80 pod v1 image \"{long}\" }} }}");
    let yaml = run(&text).unwrap_or_else(|d| panic!("{:?}", d.first().map(|d| &d.message)));
    assert!(yaml.contains(&long));
    // A two-megabyte name is reported, not accepted.
    let text = format!("namespace {long} {{ }}");
    assert_eq!(codes(&run(&text)), ["M2004"]);
}

#[test]
fn nul_bytes_and_control_characters() {
    assert_eq!(codes(&run("namespace a {\0}")), ["M1001"]);
    assert_eq!(codes(&run("\0\0\0")), ["M1001"]);
    // Inside a string a control character is a value like any other, and comes out escaped.
    let yaml = run("namespace a { service b { port http 80 pod v1 image \"a\u{0}b\u{7}\" } }").unwrap_or_default();
    assert!(yaml.contains("image: \"a\\u0000b\\u0007\""), "{yaml}");
}

#[test]
fn empty_and_blank_files_compile_to_nothing() {
    for text in ["", "   \n\n", "# only a comment\n"] {
        assert_eq!(run(text).as_deref(), Ok(""));
    }
}

#[test]
fn many_errors_are_all_reported() {
    let mut text = String::from("namespace a {\n");
    for i in 0..500 {
        text.push_str(&format!(
            "  service s{i} {{ port http 80 calls nowhere{i} pod v1 image \"x\" }}\n"
        ));
    }
    text.push_str("}\n");
    let result = run(&text);
    let codes = codes(&result);
    assert_eq!(codes.len(), 500);
    assert!(codes.iter().all(|c| *c == "M2001"));
}

#[test]
fn many_services_compile() {
    let mut text = String::from("namespace a {\n");
    for i in 0..3_000 {
        text.push_str(&format!(
            "  service s{i} {{\n    port http 80\n    calls s{}\n    pod v1 image \"x\"\n    vm v2 at 10.{}.{}.{}\n    route {{ v1 50% v2 50% }}\n  }}\n",
            (i + 1) % 3_000,
            i / 65_536,
            (i / 256) % 256,
            i % 256
        ));
    }
    text.push_str("}\n");
    let yaml = run(&text).unwrap_or_else(|d| panic!("{:?}", d.first().map(|d| &d.message)));
    assert_eq!(yaml.matches("\nkind: WorkloadEntry\n").count(), 3_000);
}

#[test]
fn truncated_files_never_panic() {
    // Every prefix of a real mesh: a syntax error or a result, never a panic.
    let text = common::read(&common::root().join("examples/bookinfo.mesh"));
    let mut boundaries: Vec<usize> = (0..=text.len()).filter(|i| text.is_char_boundary(*i)).collect();
    boundaries.retain(|i| i % 29 == 0 || *i == text.len());
    for end in boundaries {
        let prefix = &text[..end];
        let _ = run(prefix);
        let _ = syntax::format(0, prefix);
    }
}

#[test]
fn hostile_names_never_escape_into_paths_or_yaml() {
    // Names that would be dangerous as paths or YAML are stopped by the name rules.
    for name in ["../etc", "a/b", "..", "*", "{{x}}", "A", "-a"] {
        let text = format!("namespace {name} {{ service b {{ port http 80 pod v1 image \"x\" }} }}");
        let result = run(&text);
        assert!(result.is_err(), "namespace {name:?} was accepted");
    }
    // A valid name that YAML 1.1 reads as a boolean is accepted, and written quoted.
    let yaml = run("namespace on { service b { port http 80 pod v1 image \"x\" } }").unwrap_or_default();
    assert!(yaml.contains("  namespace: \"on\"\n"), "{yaml}");
}

/// The rendered reports of a failing input, human and JSON, with the diagnostics.
fn reports(text: &str) -> (Vec<meshc::Diagnostic>, String, String) {
    let sources = [Source::new("input.mesh", text)];
    let Err(failure) = compile(&sources, &Options::default()) else {
        panic!("the input has errors");
    };
    let human = diagnostic::render(&failure.diagnostics, &sources, 100);
    let json = diagnostic::to_json(&failure.diagnostics, &sources);
    (failure.diagnostics, human, json)
}

/// A value repeated 100 000 times in one list is one report, with its count, whose
/// excerpts are windows of the long line: what is printed does not grow with the input.
#[test]
fn a_value_repeated_in_a_long_list_is_one_bounded_report() {
    let split = format!(
        "namespace a {{\n  service b {{\n    port http 80\n    pod v1 image \"x\"\n    route {{{} }}\n  }}\n}}\n",
        " v1 1%".repeat(100_000)
    );
    let addresses = format!(
        "namespace a {{\n  service b {{\n    port http 80\n    vm v1 at 10.0.0.1{}\n  }}\n}}\n",
        ", 10.0.0.1".repeat(99_999)
    );
    let env = format!(
        "namespace a {{\n  service b {{\n    port http 80\n    pod v1 {{\n      image \"x\"\n{}    }}\n  }}\n}}\n",
        "      env A \"1\"\n".repeat(100_000)
    );
    for (text, code) in [(split, "M3010"), (addresses, "M2003"), (env, "M2003")] {
        let (diagnostics, human, json) = reports(&text);
        let found: Vec<&str> = diagnostics.iter().map(|d| d.code.id()).collect();
        assert_eq!(found, [code], "{human}");
        assert!(
            diagnostics[0].message.ends_with("and 99998 more times after"),
            "{human}"
        );
        assert!(human.len() < 2_000, "{} bytes: {human}", human.len());
        assert!(json.len() < 2_000, "{} bytes: {json}", json.len());
    }
}

/// A split naming 100 000 times a target that does not resolve (a version the service
/// lacks, a service that is not declared, a port the service does not have) reports the
/// target once and the repeats once, with their count: not 100 000 errors.
#[test]
fn an_unresolved_target_repeated_in_a_long_split_is_two_bounded_reports() {
    let split = |target: &str| {
        format!(
            "namespace a {{\n  service b {{\n    port http 80\n    pod v1 image \"x\"\n    route {{{} }}\n  }}\n  service c {{\n    port http 80\n    pod v1 image \"x\"\n  }}\n}}\n",
            format!(" {target} 1%").repeat(100_000)
        )
    };
    for (target, code) in [("v9", "M2002"), ("a.nowhere", "M2001"), ("c:81", "M2011")] {
        let (diagnostics, human, json) = reports(&split(target));
        let found: Vec<&str> = diagnostics.iter().map(|d| d.code.id()).collect();
        assert_eq!(found, [code, "M3010"], "{target}: {human}");
        assert!(
            diagnostics[1].message.ends_with("and 99998 more times after"),
            "{human}"
        );
        assert!(human.len() < 4_000, "{} bytes: {human}", human.len());
        assert!(json.len() < 4_000, "{} bytes: {json}", json.len());
    }
}

/// An error at the end of a 1 MB line is shown in a window of the line, cut with `...`.
#[test]
fn an_error_at_the_end_of_a_long_line_shows_a_window_of_it() {
    let text = format!(
        "namespace a {{ service b {{ port http 80 pod v1 image \"{}\" route {{ v9 100% }} }} }}\n",
        "x".repeat(1_000_000)
    );
    let (diagnostics, human, json) = reports(&text);
    assert_eq!(diagnostics.len(), 1, "{human}");
    assert!(human.len() < 2_000, "{} bytes: {human}", human.len());
    assert!(json.len() < 2_000, "{} bytes: {json}", json.len());
    assert!(human.contains("...xxxx") && human.contains("v9 100%"), "{human}");
    // The column is the byte's on the line, as on short lines.
    let column = text.find("v9").unwrap_or(0) + 1;
    assert!(human.contains(&format!("input.mesh:1:{column}]")), "{human}");
}

/// Labels far apart on a long line are shown in one window each; labels close together
/// share one; an error after a long line shows no part of it.
#[test]
fn labels_on_a_long_line_get_windows() {
    let text = format!(
        "namespace a {{\n  service b {{\n    port http 80\n    pod v1 image \"x\"\n    route {{ v1 50%{} v1 50% }}\n  }}\n}}\n",
        " ".repeat(10_000)
    );
    let (_, human, _) = reports(&text);
    assert!(human.len() < 4_000, "{} bytes: {human}", human.len());
    assert!(human.contains("first here") && human.contains("again here"), "{human}");
    // A syntax error on the line after: the long line is no context.
    let (_, human, _) = reports(&text.replace("  }\n}", "    bogus\n  }\n}"));
    assert!(human.len() < 2_000, "{} bytes: {human}", human.len());
    assert!(human.contains("bogus") && !human.contains("v1 50%"), "{human}");
}

/// A service (or, with `external`, an external service) with `n` HTTP ports and one route
/// split over `n` destinations, one per port: meshc writes the route once per port, each
/// time with every destination, so the VirtualService grows as n².
fn ports_by_destinations(n: usize, external: bool) -> String {
    let ports: String = (1..=n).map(|p| format!("    port http {p}\n")).collect();
    let targets: String = (2..=n).map(|p| format!(" s:{p} 0%")).collect();
    let body = if external {
        format!("    hosts \"s.example.com\"\n{ports}")
    } else {
        format!("{ports}    pod v1 image \"x\"\n")
    };
    let kind = if external { "external" } else { "service" };
    format!("namespace a {{\n  {kind} s {{\n{body}    route {{ s:1 100%{targets} }}\n  }}\n}}\n")
}

/// The JSON size of each VirtualService of a build's output (the form the API server stores).
fn virtual_services_json_sizes(yaml: &str) -> Vec<usize> {
    yaml.split("\n---\n")
        .filter(|doc| doc.contains("kind: VirtualService"))
        .map(|doc| {
            let value: serde_json::Value = serde_yaml::from_str(doc.trim_start_matches("---\n")).unwrap();
            serde_json::to_string(&value).unwrap().len()
        })
        .collect()
}

/// The one diagnostic of `text`, which must be M3026: the text it underlines, its label and
/// its message.
fn the_size_refusal(text: &str) -> (String, String, String) {
    let (diagnostics, rendered, _) = reports(text);
    let codes: Vec<&str> = diagnostics.iter().map(|d| d.code.id()).collect();
    assert_eq!(codes, ["M3026"], "{rendered}");
    let d = &diagnostics[0];
    let at = text[d.primary.span.start..d.primary.span.end].to_string();
    (at, d.primary.text.clone(), d.message.clone())
}

#[test]
fn an_object_larger_than_the_api_server_stores_is_refused_before_it_is_built() {
    const STORED: usize = 1536 * 1024;
    for external in [false, true] {
        // 120 ports × 120 destinations: about 1.3 MB of JSON, written.
        let yaml = run(&ports_by_destinations(120, external)).unwrap_or_else(|d| panic!("{d:?}"));
        let sizes = virtual_services_json_sizes(&yaml);
        assert_eq!(sizes.len(), 1);
        assert!(sizes[0] > 1_000_000 && sizes[0] < STORED, "{sizes:?}");

        // 200 × 200: over 3 MB, refused at the route, with what makes it large.
        let (at, label, message) = the_size_refusal(&ports_by_destinations(200, external));
        assert_eq!(at, "route");
        assert_eq!(
            label,
            "written once for each of 200 ports, each time with 200 destinations"
        );
        assert!(
            message.starts_with("the VirtualService `s` would take at least "),
            "{message}"
        );

        // 5 000 × 5 000 would be about 2 GB of JSON (and many times that in memory): refused
        // from the model, before anything is built.
        assert_eq!(codes(&run(&ports_by_destinations(5_000, external))), ["M3026"]);
    }
    // Many small routes together: reported at the service, with the totals.
    let routes: String = (0..30_000)
        .map(|i| format!("    route header x-user \"u{i}\" -> v1\n"))
        .collect();
    let text = format!("namespace a {{\n  service s {{\n    port http 80\n    pod v1 image \"x\"\n{routes}  }}\n}}\n");
    let (at, label, _) = the_size_refusal(&text);
    assert_eq!(at, "s");
    assert_eq!(label, "its VirtualService `s` has 30001 routes and 30001 destinations");

    // At a gateway: each listener's route to `s` carries s's 30 routes over, each copy with
    // its 40 destinations. 20 listeners make 24 000 destinations in one VirtualService,
    // refused at the gateway; the same routes spread over 20 hosts make one VirtualService
    // per host, each small enough, and are written.
    let carried = |listeners: usize, hosts: bool| {
        let versions: String = (0..40).map(|v| format!("    pod v{v} image \"x\"\n")).collect();
        let split: String = (1..40).map(|v| format!(" v{v} 0%")).collect();
        let routes: String = (0..30)
            .map(|r| format!("    route header x-r \"{r}\" {{ v0 100%{split} }}\n"))
            .collect();
        let (listen, route): (String, String) = (0..listeners)
            .map(|k| {
                if hosts {
                    (
                        format!("    listen http {} hosts \"h{k}.example.com\"\n", 8000 + k),
                        format!("    route host \"h{k}.example.com\" -> s\n"),
                    )
                } else {
                    (
                        format!("    listen http {} hosts \"*\"\n", 8000 + k),
                        format!("    route port {} -> s\n", 8000 + k),
                    )
                }
            })
            .unzip();
        format!("namespace a {{\n  service s {{\n    port http 80\n{versions}{routes}  }}\n  gateway g {{\n{listen}{route}  }}\n}}\n")
    };
    let (at, label, _) = the_size_refusal(&carried(20, false));
    assert_eq!(at, "g");
    assert_eq!(label, "its VirtualService `g` has 620 routes and 24020 destinations");
    let yaml = run(&carried(20, true)).unwrap_or_else(|d| panic!("{d:?}"));
    let sizes = virtual_services_json_sizes(&yaml);
    // The service's own and the gateway's 20.
    assert_eq!(sizes.len(), 21);
    assert_eq!(
        sizes.iter().filter(|&&size| size > 100_000 && size < STORED).count(),
        20,
        "{sizes:?}"
    );

    // The Gateway API target writes no VirtualService: its own limit (16 backends) applies.
    let sources = [Source::new("input.mesh", ports_by_destinations(200, false))];
    let options = Options {
        routes: meshc::RouteApi::GatewayApi,
        ..Options::default()
    };
    let failure = compile(&sources, &options).err().unwrap();
    let codes: Vec<&str> = failure.diagnostics.iter().map(|d| d.code.id()).collect();
    assert_eq!(codes, ["M3024"]);
}
