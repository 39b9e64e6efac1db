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
