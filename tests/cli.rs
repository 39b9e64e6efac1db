//! The `meshc` binary: exit statuses (0 ok, 1 input errors, 2 usage or I/O trouble), what
//! goes to stdout (manifests) and stderr (diagnostics), and the `explain` pages.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::{compile_ok, parse_yaml, read, root};
use meshc::{ApiVersion, Code, Options};

const SEED: &str = "examples/hybrid-hello.mesh";

/// A fresh, empty folder for one test.
fn scratch(test: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cli").join(test);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("folder");
    }
    std::fs::write(path, bytes).expect("write fixture");
}

/// Runs the binary in `dir`; never accepts a panic.
fn run(dir: &Path, args: &[&str]) -> Output {
    let out = common::meshc(dir, args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(101), "meshc {args:?} panicked:\n{err}");
    assert!(!err.contains("panicked"), "meshc {args:?} panicked:\n{err}");
    assert!(out.status.code().is_some(), "meshc {args:?} was killed by a signal");
    out
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("stdout is UTF-8")
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).expect("stderr is UTF-8")
}

fn status(out: &Output) -> i32 {
    out.status.code().expect("an exit status")
}

const UNKNOWN_SERVICE: &str = "namespace shop {
  service web {
    port http 8080
    calls nope
    pod v1 image \"registry.example.com/web:1.0\"
  }
}
";

const WARNING_ONLY: &str = "namespace shop {
  service web {
    port http 8080
    pod v1 image \"registry.example.com/web:1.0\"
    pod v2 image \"registry.example.com/web:2.0\"
    route { v1 90% v2 10% }
  }
  gateway edge {
    listen http 80
    route prefix \"/web\" -> web
  }
}
";

#[test]
fn build_prints_the_yaml_and_exits_0() {
    let out = run(&root(), &["build", SEED]);
    assert_eq!(status(&out), 0, "stderr:\n{}", stderr(&out));
    let expected = compile_ok(&read(&root().join(SEED)), &Options::default()).to_yaml();
    assert_eq!(stdout(&out), expected, "the binary prints what the library writes");
    assert!(stdout(&out).starts_with("---\n") && stdout(&out).ends_with('\n'));
    assert_eq!(stderr(&out), "", "nothing on stderr when all is well");
}

#[test]
fn build_and_check_with_an_input_error_exit_1_with_nothing_on_stdout() {
    let dir = scratch("input_error");
    write(&dir, "bad.mesh", UNKNOWN_SERVICE);
    for command in ["build", "check"] {
        let out = run(&dir, &[command, "bad.mesh"]);
        assert_eq!(status(&out), 1, "{command}: stderr:\n{}", stderr(&out));
        assert_eq!(stdout(&out), "", "{command}: no manifests when the input is wrong");
        let err = stderr(&out);
        assert!(err.contains("M2001"), "{command}: the code is shown:\n{err}");
        assert!(
            err.contains("bad.mesh:4:11"),
            "{command}: file, line and column are shown:\n{err}"
        );
        assert!(err.contains("nope"), "{command}: the offending name is shown:\n{err}");
        assert!(
            !err.contains('\u{1b}'),
            "{command}: no colour escapes when stderr is not a terminal"
        );
    }
}

#[test]
fn check_prints_nothing_on_stdout() {
    let out = run(&root(), &["check", SEED]);
    assert_eq!(status(&out), 0, "stderr:\n{}", stderr(&out));
    assert_eq!(stdout(&out), "");
    assert_eq!(stderr(&out), "");
}

#[test]
fn a_missing_file_exits_2() {
    let dir = scratch("missing_file");
    for command in ["build", "check"] {
        let out = run(&dir, &[command, "does-not-exist.mesh"]);
        assert_eq!(status(&out), 2, "{command}");
        assert_eq!(stdout(&out), "");
        assert!(
            stderr(&out).contains("does-not-exist.mesh"),
            "{command}: the path is named:\n{}",
            stderr(&out)
        );
    }
    // One missing file among good ones is still trouble, and nothing is printed.
    let out = run(&root(), &["build", SEED, "does-not-exist.mesh"]);
    assert_eq!(status(&out), 2);
    assert_eq!(stdout(&out), "");
}

#[test]
fn usage_errors_exit_2() {
    let cases: &[&[&str]] = &[
        &["build", "--frobnicate", SEED],
        &["build", "--api", "v2", SEED],
        &["build", "--message-format", "xml", SEED],
        &["build"],
        &["frobnicate", SEED],
        &[],
    ];
    for args in cases {
        let out = run(&root(), args);
        assert_eq!(status(&out), 2, "meshc {args:?}; stderr:\n{}", stderr(&out));
        assert_eq!(stdout(&out), "", "meshc {args:?} prints usage errors on stderr only");
        assert!(!stderr(&out).is_empty(), "meshc {args:?} says what is wrong");
    }
}

#[test]
fn help_and_version_exit_0_on_stdout() {
    let out = run(&root(), &["--help"]);
    assert_eq!(status(&out), 0);
    for command in ["build", "check", "explain"] {
        assert!(
            stdout(&out).contains(command),
            "--help lists `{command}`:\n{}",
            stdout(&out)
        );
    }
    let out = run(&root(), &["--version"]);
    assert_eq!(status(&out), 0);
    assert!(stdout(&out).contains(env!("CARGO_PKG_VERSION")), "{}", stdout(&out));
}

#[test]
fn json_diagnostics_carry_code_line_and_column() {
    let dir = scratch("json");
    let text = "namespace shop {
  service web {
    port htp 8080
    calls nope
    pod v1 image \"registry.example.com/web:1.0\"
  }
}
";
    write(&dir, "bad.mesh", text);
    let out = run(&dir, &["check", "--message-format", "json", "bad.mesh"]);
    assert_eq!(status(&out), 1);
    assert_eq!(stdout(&out), "");
    let value: serde_json::Value =
        serde_json::from_str(&stderr(&out)).unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", stderr(&out)));
    let items = value.as_array().expect("a JSON array");
    let found: Vec<(String, String, u64, u64, String)> = items
        .iter()
        .map(|d| {
            (
                d["code"].as_str().expect("code").to_string(),
                d["severity"].as_str().expect("severity").to_string(),
                d["location"]["line"].as_u64().expect("line"),
                d["location"]["column"].as_u64().expect("column"),
                d["location"]["file"].as_str().expect("file").to_string(),
            )
        })
        .collect();
    assert_eq!(
        found,
        vec![
            ("M3004".into(), "error".into(), 3, 10, "bad.mesh".into()),
            ("M2001".into(), "error".into(), 4, 11, "bad.mesh".into()),
        ]
    );
    for item in items {
        assert!(item["message"].as_str().is_some_and(|m| !m.is_empty()));
        assert!(
            item["name"].as_str().is_some_and(|n| n.parse::<Code>().is_ok()),
            "{item}"
        );
    }

    // With the human format on the same input, the same two codes, and no JSON.
    let human = run(&dir, &["check", "bad.mesh"]);
    assert!(serde_json::from_str::<serde_json::Value>(&stderr(&human)).is_err());
    assert!(stderr(&human).contains("M3004") && stderr(&human).contains("M2001"));

    // A clean run in JSON prints no diagnostic (an empty array, or nothing).
    let clean = run(&root(), &["check", "--message-format", "json", SEED]);
    assert_eq!(status(&clean), 0);
    let err = stderr(&clean);
    if !err.trim().is_empty() {
        let v: serde_json::Value = serde_json::from_str(&err).unwrap_or_else(|e| panic!("not JSON ({e}):\n{err}"));
        assert_eq!(v, serde_json::json!([]));
    }
}

#[test]
fn warnings_do_not_fail_the_build() {
    let dir = scratch("warnings");
    write(&dir, "warn.mesh", WARNING_ONLY);
    let out = run(&dir, &["build", "warn.mesh"]);
    assert_eq!(status(&out), 0, "stderr:\n{}", stderr(&out));
    let expected = compile_ok(WARNING_ONLY, &Options::default()).to_yaml();
    assert_eq!(stdout(&out), expected);
    assert!(stderr(&out).contains("M3018"), "{}", stderr(&out));
    assert!(stderr(&out).contains("warning"), "{}", stderr(&out));

    let out = run(&dir, &["check", "--message-format", "json", "warn.mesh"]);
    assert_eq!(status(&out), 0);
    let value: serde_json::Value = serde_json::from_str(&stderr(&out)).expect("JSON");
    assert_eq!(value[0]["code"], "M3018");
    assert_eq!(value[0]["severity"], "warning");
}

#[test]
fn explain_prints_the_page() {
    let page = read(&root().join("docs/codes/M3011.md"));
    for spelling in ["M3011", "m3011", "label-mismatch"] {
        let out = run(&root(), &["explain", spelling]);
        assert_eq!(status(&out), 0, "explain {spelling}");
        assert_eq!(stdout(&out), page, "explain {spelling} prints docs/codes/M3011.md");
        assert_eq!(stderr(&out), "");
    }
}

#[test]
fn explain_an_unknown_code_exits_2() {
    for code in ["M9999", "M30111", "label", ""] {
        let out = run(&root(), &["explain", code]);
        assert_eq!(status(&out), 2, "explain {code:?}");
        assert_eq!(stdout(&out), "");
        assert!(!stderr(&out).is_empty());
    }
}

#[test]
fn explain_without_a_code_lists_every_code() {
    let out = run(&root(), &["explain"]);
    assert_eq!(status(&out), 0);
    let text = stdout(&out);
    for code in Code::ALL {
        let line = text
            .lines()
            .find(|l| l.contains(code.id()))
            .unwrap_or_else(|| panic!("{} is not listed:\n{text}", code.id()));
        assert!(
            line.contains(code.name()),
            "{} is listed with its name: {line}",
            code.id()
        );
    }
    assert_eq!(
        text.lines().filter(|l| !l.trim().is_empty()).count(),
        Code::ALL.len(),
        "one line per code:\n{text}"
    );
}

#[test]
fn a_file_that_is_not_utf8_is_an_input_error() {
    let dir = scratch("not_utf8");
    let mut bytes = b"namespace shop {\n  service web {\n    port http 8080\n    pod v1 image \"caf".to_vec();
    bytes.extend([0xE9, 0xFF]);
    bytes.extend(b"\"\n  }\n}\n");
    write(&dir, "latin1.mesh", &bytes);
    let out = run(&dir, &["build", "latin1.mesh"]);
    assert_eq!(status(&out), 1, "stderr:\n{}", stderr(&out));
    assert_eq!(stdout(&out), "");
    let err = stderr(&out);
    assert!(err.contains("M1001") && err.contains("UTF-8"), "{err}");

    let out = run(&dir, &["check", "--message-format", "json", "latin1.mesh"]);
    assert_eq!(status(&out), 1);
    let value: serde_json::Value = serde_json::from_str(&stderr(&out)).expect("JSON");
    assert_eq!(value.as_array().map(Vec::len), Some(1), "{value}");
    assert_eq!(value[0]["code"], "M1001");
    assert_eq!(value[0]["location"]["line"], 4, "the first bad byte's line");
    assert_eq!(value[0]["location"]["column"], 22, "the first bad byte's column");
}

#[test]
fn odd_files_never_crash() {
    let dir = scratch("odd_files");
    let files: &[(&str, &[u8])] = &[
        ("empty.mesh", b""),
        ("blank.mesh", b"\n\n   \n\t\n"),
        ("comment.mesh", b"# only a comment"),
        ("nul.mesh", b"namespace a {\0}"),
        (
            "nul-in-string.mesh",
            b"namespace a { service s { port http 80 pod v1 image \"x\0y\" } }",
        ),
        ("bom.mesh", "\u{feff}namespace a { }".as_bytes()),
        (
            "crlf.mesh",
            b"namespace a {\r\n  service s {\r\n    port http 80\r\n    pod v1 image \"x\"\r\n  }\r\n}\r\n",
        ),
        ("deep.mesh", &[b'{'; 10_000]),
        (
            "unicode.mesh",
            "namespace ä { service ß { port http 80 pod v1 image \"😀\" } }".as_bytes(),
        ),
        (
            "control.mesh",
            b"namespace a { service s { port http 80 pod v1 image \"\x07\x1b[31m\" } }",
        ),
    ];
    for (name, bytes) in files {
        write(&dir, name, bytes);
        for command in ["build", "check"] {
            let out = run(&dir, &[command, name]);
            let code = status(&out);
            assert!(
                code == 0 || code == 1,
                "meshc {command} {name} exited {code}:\n{}",
                stderr(&out)
            );
            if code == 1 {
                assert_eq!(stdout(&out), "", "{name}: no manifests with errors");
                assert!(
                    stderr(&out).contains("M1"),
                    "{name}: a reading error is reported:\n{}",
                    stderr(&out)
                );
            }
        }
    }
    // An empty file is an empty mesh: nothing to write, nothing wrong.
    let out = run(&dir, &["build", "empty.mesh"]);
    assert_eq!(status(&out), 0);
    assert_eq!(stdout(&out), "");
    // A string may hold any character: control characters come out escaped.
    let out = run(&dir, &["build", "control.mesh"]);
    assert_eq!(status(&out), 0, "{}", stderr(&out));
    assert!(
        !stdout(&out).contains('\u{1b}'),
        "control characters must be escaped in YAML"
    );
    let docs = parse_yaml(&stdout(&out));
    let deployment = docs.iter().find(|d| d["kind"] == "Deployment").expect("a Deployment");
    assert_eq!(
        deployment["spec"]["template"]["spec"]["containers"][0]["image"],
        "\u{7}\u{1b}[31m"
    );
}

#[test]
fn api_version_and_cluster_domain_options() {
    let source = read(&root().join(SEED));
    for (flag, api) in [
        ("v1", ApiVersion::V1),
        ("v1beta1", ApiVersion::V1beta1),
        ("v1alpha3", ApiVersion::V1alpha3),
    ] {
        let out = run(
            &root(),
            &[
                "build",
                "--api",
                flag,
                "--cluster-domain",
                "corp.example",
                "--trust-domain",
                "corp.example",
                SEED,
            ],
        );
        assert_eq!(status(&out), 0);
        let options = Options {
            api,
            cluster_domain: "corp.example".to_string(),
            trust_domain: "corp.example".to_string(),
            ..Options::default()
        };
        assert_eq!(stdout(&out), compile_ok(&source, &options).to_yaml(), "--api {flag}");
        assert!(stdout(&out).contains(&format!("apiVersion: networking.istio.io/{flag}\n")));
        assert!(stdout(&out).contains("hello2-svc.hybrid-hello.svc.corp.example"));
        assert!(!stdout(&out).contains("cluster.local"));
    }
}

#[test]
fn several_files_make_one_mesh() {
    let dir = scratch("several_files");
    write(
        &dir,
        "a.mesh",
        "namespace shop {\n  service web {\n    port http 8080\n    calls api via env API\n    pod v1 image \"web:1\"\n  }\n}\n",
    );
    write(
        &dir,
        "b.mesh",
        "namespace shop {\n  service api {\n    port http 9000\n    pod v1 image \"api:1\"\n  }\n}\n",
    );
    let out = run(&dir, &["build", "a.mesh", "b.mesh"]);
    assert_eq!(status(&out), 0, "{}", stderr(&out));
    assert!(
        stdout(&out).contains("value: api.shop.svc.cluster.local"),
        "{}",
        stdout(&out)
    );
    // The order of the files does not matter.
    let swapped = run(&dir, &["build", "b.mesh", "a.mesh"]);
    assert_eq!(stdout(&swapped), stdout(&out));

    // A duplicate across files names both files.
    write(
        &dir,
        "c.mesh",
        "namespace shop {\n  service api {\n    port http 9001\n    pod v1 image \"api:2\"\n  }\n}\n",
    );
    let out = run(&dir, &["check", "a.mesh", "b.mesh", "c.mesh"]);
    assert_eq!(status(&out), 1);
    let err = stderr(&out);
    assert!(err.contains("M2003"), "{err}");
    assert!(
        err.contains("b.mesh") && err.contains("c.mesh"),
        "both files are named:\n{err}"
    );
}

#[test]
fn a_directory_stands_for_its_mesh_files() {
    let dir = scratch("directory");
    write(
        &dir,
        "mesh/a.mesh",
        "namespace shop {\n  service web {\n    port http 8080\n    calls api\n    pod v1 image \"web:1\"\n  }\n}\n",
    );
    write(
        &dir,
        "mesh/sub/b.mesh",
        "namespace shop {\n  service api {\n    port http 9000\n    pod v1 image \"api:1\"\n  }\n}\n",
    );
    write(&dir, "mesh/notes.txt", "not a mesh file");
    let from_dir = run(&dir, &["build", "mesh"]);
    assert_eq!(status(&from_dir), 0, "{}", stderr(&from_dir));
    let from_files = run(&dir, &["build", "mesh/a.mesh", "mesh/sub/b.mesh"]);
    assert_eq!(stdout(&from_dir), stdout(&from_files));

    std::fs::create_dir_all(dir.join("nothing")).expect("folder");
    let out = run(&dir, &["build", "nothing"]);
    assert_eq!(status(&out), 2, "a folder without .mesh files is trouble");
}

#[test]
fn imports_are_read_relative_to_the_importing_file() {
    let dir = scratch("imports");
    write(&dir, "mesh/main.mesh", "import \"lib/api.mesh\"\nnamespace shop {\n  service web {\n    port http 8080\n    calls api\n    pod v1 image \"web:1\"\n  }\n}\n");
    write(
        &dir,
        "mesh/lib/api.mesh",
        "namespace shop {\n  service api {\n    port http 9000\n    pod v1 image \"api:1\"\n  }\n}\n",
    );
    let out = run(&dir, &["build", "mesh/main.mesh"]);
    assert_eq!(status(&out), 0, "{}", stderr(&out));
    assert!(
        stdout(&out).contains("name: api-v1"),
        "the imported service is compiled"
    );

    write(&dir, "broken.mesh", "import \"missing.mesh\"\nnamespace shop { }\n");
    let out = run(&dir, &["build", "broken.mesh"]);
    assert_eq!(status(&out), 1, "a missing import is an input error:\n{}", stderr(&out));
    assert_eq!(stdout(&out), "");
    assert!(stderr(&out).contains("M2010"), "{}", stderr(&out));
}

#[test]
fn variables_from_the_command_line_and_vars_files() {
    let dir = scratch("variables");
    write(&dir, "vars.mesh", "namespace shop {\n  service web {\n    port http 8080\n    pod v1 image \"web:${TAG}\"\n    vm v2 at ${VM}\n  }\n}\n");
    write(&dir, "site.env", "# site\nexport VM=10.1.2.3\nTAG=\"1.0\"\n");
    let out = run(&dir, &["build", "--vars", "site.env", "--var", "TAG=2.0", "vars.mesh"]);
    assert_eq!(status(&out), 0, "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("image: \"web:2.0\""),
        "--var overrides the vars file:\n{text}"
    );
    assert!(text.contains("address: \"10.1.2.3\""), "{text}");

    let out = run(&dir, &["build", "--var", "TAG=2.0", "vars.mesh"]);
    assert_eq!(status(&out), 1);
    assert!(
        stderr(&out).contains("M2008"),
        "an undefined variable:\n{}",
        stderr(&out)
    );
    assert_eq!(stdout(&out), "");

    let out = run(&dir, &["build", "--vars", "missing.env", "vars.mesh"]);
    assert_eq!(status(&out), 2, "a vars file that cannot be read is trouble");
}

#[test]
fn dump_prints_the_stages() {
    for stage in ["ast", "model"] {
        let out = run(&root(), &["dump", stage, SEED]);
        assert_eq!(status(&out), 0, "dump {stage}: {}", stderr(&out));
        let json: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("dump prints JSON");
        let namespaces = match stage {
            "ast" => &json[0]["ast"]["namespaces"],
            _ => &json["namespaces"],
        };
        assert_eq!(
            namespaces[0]["name"]
                .as_str()
                .or(namespaces[0]["name"]["text"].as_str()),
            Some("hybrid-hello"),
            "dump {stage}"
        );
        assert!(stdout(&out).contains("hello2"), "dump {stage}");
    }
    let dir = scratch("dump");
    write(&dir, "bad.mesh", UNKNOWN_SERVICE);
    let out = run(&dir, &["dump", "model", "bad.mesh"]);
    assert_eq!(status(&out), 1);
    assert!(stderr(&out).contains("M2001"));
}

/// Runs the binary in `dir` with `input` on stdin.
fn run_with_stdin(dir: &Path, args: &[&str], input: &[u8]) -> Output {
    use std::io::Write as _;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_meshc"))
        .args(args)
        .current_dir(dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("meshc runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input)
        .expect("stdin written");
    let out = child.wait_with_output().expect("meshc ends");
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
    out
}

/// Runs the binary in `dir` and requires the exit status and a text on stderr.
fn fails_with(dir: &Path, args: &[&str], code: i32, text: &str) {
    let out = run(dir, args);
    assert_eq!(status(&out), code, "meshc {args:?}: {}", stderr(&out));
    assert!(
        stderr(&out).contains(text),
        "meshc {args:?} lacks `{text}`: {}",
        stderr(&out)
    );
    assert_eq!(stdout(&out), "", "meshc {args:?} wrote on stdout");
}

const UNFORMATTED: &str = "namespace   shop {\nservice web { port http 8080 pod v1 image \"w\" }\n}\n";

#[test]
fn fmt_writes_through_symlinks_and_keeps_permissions() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = scratch("fmt-symlink");
    write(&dir, "real/app.mesh", UNFORMATTED);
    let real = dir.join("real/app.mesh");
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::os::unix::fs::symlink("real/app.mesh", dir.join("link.mesh")).unwrap();
    let out = run(&dir, &["fmt", "link.mesh"]);
    assert_eq!(status(&out), 0, "{}", stderr(&out));
    let link = std::fs::symlink_metadata(dir.join("link.mesh")).unwrap();
    assert!(link.file_type().is_symlink(), "the link is kept");
    let formatted = read(&real);
    assert_ne!(formatted, UNFORMATTED, "the target is formatted");
    assert!(formatted.starts_with("namespace shop {\n"), "{formatted}");
    let mode = std::fs::metadata(&real).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "permissions are kept");
    // No temporary file is left next to the target.
    let names: Vec<_> = std::fs::read_dir(dir.join("real"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
}

#[test]
fn fmt_dash_formats_stdin_to_stdout() {
    let dir = scratch("fmt-stdin");
    let out = run_with_stdin(&dir, &["fmt", "-"], UNFORMATTED.as_bytes());
    assert_eq!(status(&out), 0, "{}", stderr(&out));
    let formatted = stdout(&out);
    assert!(formatted.starts_with("namespace shop {\n"), "{formatted}");
    // Formatted text is left as it is; --check says whether it would change.
    let again = run_with_stdin(&dir, &["fmt", "-"], formatted.as_bytes());
    assert_eq!(stdout(&again), formatted);
    let check = run_with_stdin(&dir, &["fmt", "--check", "-"], UNFORMATTED.as_bytes());
    assert_eq!(status(&check), 1);
    assert!(stdout(&check).contains("+namespace shop {"), "{}", stdout(&check));
    let clean = run_with_stdin(&dir, &["fmt", "--check", "-"], formatted.as_bytes());
    assert_eq!((status(&clean), stdout(&clean)), (0, String::new()));
    // A syntax error: reported, nothing on stdout.
    let bad = run_with_stdin(&dir, &["fmt", "-"], b"namespace {");
    assert_eq!(status(&bad), 1);
    assert_eq!(stdout(&bad), "");
    assert!(stderr(&bad).contains("M1001"));
}

#[test]
fn fmt_formats_every_mesh_file_under_a_folder() {
    let dir = scratch("fmt-folder");
    write(&dir, "mesh/a.mesh", UNFORMATTED);
    write(&dir, "mesh/deeper/b.mesh", UNFORMATTED);
    write(&dir, "mesh/notes.txt", "namespace   untouched {}\n");
    std::os::unix::fs::symlink("..", dir.join("mesh/deeper/up")).unwrap();
    let check = run(&dir, &["fmt", "--check", "mesh"]);
    assert_eq!(status(&check), 1);
    let out = run(&dir, &["fmt", "mesh"]);
    assert_eq!(status(&out), 0, "{}", stderr(&out));
    for file in ["mesh/a.mesh", "mesh/deeper/b.mesh"] {
        assert!(read(&dir.join(file)).starts_with("namespace shop {\n"), "{file}");
    }
    assert_eq!(read(&dir.join("mesh/notes.txt")), "namespace   untouched {}\n");
    assert_eq!(status(&run(&dir, &["fmt", "--check", "mesh"])), 0);
}

#[test]
fn fmt_refuses_what_is_not_a_regular_file() {
    let dir = scratch("fmt-special");
    let before = std::fs::symlink_metadata("/dev/stdin")
        .ok()
        .map(|m| m.file_type().is_symlink());
    // stdin is /dev/null here (the common runner): a character device.
    fails_with(&dir, &["fmt", "/dev/stdin"], 2, "not a regular file");
    let after = std::fs::symlink_metadata("/dev/stdin")
        .ok()
        .map(|m| m.file_type().is_symlink());
    assert_eq!(before, after, "/dev/stdin is left as it was");
    let fifo = dir.join("pipe.mesh");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let out = run(&dir, &["fmt", "pipe.mesh"]);
    assert_eq!(status(&out), 2, "a FIFO is refused at once, not waited on");
    assert!(std::fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());
}

use std::os::unix::fs::FileTypeExt as _;

#[test]
fn special_files_are_refused_with_the_path_named() {
    let dir = scratch("special-files");
    write(&dir, "input.mesh", "import \"/dev/zero\"\nnamespace a {\n}\n");
    let out = run(&dir, &["build", "/dev/zero"]);
    assert_eq!(status(&out), 2);
    assert!(
        stderr(&out).contains("/dev/zero: it is a character device, not a regular file"),
        "{}",
        stderr(&out)
    );
    let out = run(&dir, &["build", "--vars", "/dev/zero", "input.mesh"]);
    assert_eq!(status(&out), 2);
    fails_with(&dir, &["build", "input.mesh"], 1, "M2010");
    let fifo = dir.join("pipe.mesh");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    write(&dir, "imports-fifo.mesh", "import \"pipe.mesh\"\nnamespace a {\n}\n");
    fails_with(&dir, &["build", "imports-fifo.mesh"], 1, "it is a FIFO");
}

#[test]
fn import_escapes_are_decoded_or_reported_at_the_import() {
    let dir = scratch("import-escapes");
    write(
        &dir,
        "lib.mesh",
        "namespace lib {\n  service db { port tcp 5432 pod v1 image \"db\" }\n}\n",
    );
    write(
        &dir,
        "escaped.mesh",
        "import \"lib\\u{2e}mesh\"\nnamespace shop {\n  service web { port http 80 calls db.lib pod v1 image \"w\" }\n}\n",
    );
    let out = run(&dir, &["build", "escaped.mesh"]);
    assert_eq!(status(&out), 0, "`lib\\u{{2e}}mesh` is lib.mesh: {}", stderr(&out));
    assert!(stdout(&out).contains("name: db"));

    // A bad escape is reported at the import, and the next import is still read.
    write(
        &dir,
        "deeper.mesh",
        "import \"missing-too.mesh\"\nnamespace deeper {\n}\n",
    );
    write(
        &dir,
        "bad.mesh",
        "import \"missing\\x.mesh\"\nimport \"deeper.mesh\"\nnamespace shop {\n}\n",
    );
    let out = run(&dir, &["build", "bad.mesh"]);
    assert_eq!(status(&out), 1);
    let err = stderr(&out);
    assert!(err.contains("M1002") && err.contains("bad.mesh:1:16"), "{err}");
    assert!(err.contains("missing-too.mesh"), "the later import was read: {err}");
    assert!(!err.contains("M2001"), "no misleading unknown-service error: {err}");

    write(&dir, "nul.mesh", "import \"a\\u{0}.mesh\"\nnamespace shop {\n}\n");
    let out = run(&dir, &["build", "nul.mesh"]);
    assert_eq!(status(&out), 1);
    assert!(
        stderr(&out).contains("M2010") && stderr(&out).contains("NUL"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn classic_mac_line_ends_read_like_unix_ones() {
    let dir = scratch("cr-only");
    let unix = "# shop\nimport \"lib.mesh\"\nnamespace shop {\n  # the web tier\n  service web {\n    port http 80\n    calls db.lib\n    pod v1 image \"w\"\n  }\n}\n";
    write(
        &dir,
        "lib.mesh",
        "namespace lib {\r  service db { port tcp 5432 pod v1 image \"db\" } # the db\r}\r",
    );
    write(&dir, "unix.mesh", unix);
    write(&dir, "mac.mesh", unix.replace('\n', "\r"));
    let a = run(&dir, &["build", "unix.mesh"]);
    let b = run(&dir, &["build", "mac.mesh"]);
    assert_eq!(status(&a), 0, "{}", stderr(&a));
    assert_eq!(status(&b), 0, "{}", stderr(&b));
    assert_eq!(stdout(&a), stdout(&b));
    // A mistake after a comment is found, on its line.
    write(
        &dir,
        "bad.mesh",
        "# c\rnamespace shop {\r  service web {\r    calls nope\r    port http 80\r    pod v1 image \"w\"\r  }\r}\r",
    );
    fails_with(&dir, &["build", "bad.mesh"], 1, "bad.mesh:4:11");
}

/// Vars files mean what `sh` makes of them: each definition is sourced by /bin/sh and its
/// value compared with the one meshc puts into the manifests.
#[test]
fn vars_files_read_as_a_shell_reads_them() {
    let dir = scratch("vars-shell");
    let lines = [
        "IMAGE_TAG='1.0.1'  # pinned",
        "export EXPORTED=\"a b\"",
        "DOUBLE=\"say \\\"hi\\\" for \\$5 \\\\ \\q\"",
        "SINGLE='a$b\\c \"d\"'",
        "BACKSLASH=two\\ words\\#x",
        "GLUED=a'b c'\"d e\"f",
        "EMPTY=",
        "EMPTY_QUOTES=''",
        "HASH=a#b",
        "TABBED=x\t# comment after a tab",
        "UNICODE='héllo wörld'",
    ];
    let mut vars = String::new();
    let mut mesh =
        String::from("namespace shop {\n  service web {\n    port http 80\n    pod v1 {\n      image \"w\"\n");
    let mut shell = String::from(". ./vars.env\n");
    for line in lines {
        vars.push_str(line);
        vars.push('\n');
        let name = line.trim_start_matches("export ").split('=').next().unwrap();
        mesh.push_str(&format!("      env {name} \"${{{name}}}\"\n"));
        shell.push_str(&format!("printf '%s\\0' \"${name}\"\n"));
    }
    mesh.push_str("    }\n  }\n}\n");
    write(&dir, "vars.env", &vars);
    write(&dir, "app.mesh", &mesh);
    let sh = std::process::Command::new("/bin/sh")
        .arg("-c")
        .arg(&shell)
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(sh.status.success(), "{}", String::from_utf8_lossy(&sh.stderr));
    let expected: Vec<String> = String::from_utf8(sh.stdout)
        .unwrap()
        .split_terminator('\0')
        .map(str::to_string)
        .collect();
    let out = run(&dir, &["build", "--vars", "vars.env", "app.mesh"]);
    assert_eq!(status(&out), 0, "{}", stderr(&out));
    let docs = parse_yaml(&stdout(&out));
    let deployment = docs.iter().find(|d| d["kind"] == "Deployment").unwrap();
    let env = &deployment["spec"]["template"]["spec"]["containers"][0]["env"];
    for (i, line) in lines.iter().enumerate() {
        let got = env[i]["value"].as_str().unwrap_or_default();
        assert_eq!(got, expected[i], "{line}");
    }
    // What a shell would expand or run is refused rather than read differently.
    for line in [
        "A=$HOME", "A=`id`", "A=$(id)", "A=1 B=2", "A=x;y", "A='open", "A=\"$X\"",
    ] {
        write(&dir, "bad.env", format!("{line}\n"));
        write(
            &dir,
            "a.mesh",
            "namespace a {\n  service b { port http 80 pod v1 image \"${A}\" }\n}\n",
        );
        let out = run(&dir, &["build", "--vars", "bad.env", "a.mesh"]);
        assert_eq!(status(&out), 1, "{line}");
        assert!(stderr(&out).contains("M1004"), "{line}: {}", stderr(&out));
    }
    // --var values are taken as given, whatever they contain.
    let out = run(&dir, &["build", "--var", "A=it's $HOME; `x`", "a.mesh"]);
    assert_eq!(status(&out), 0, "{}", stderr(&out));
    assert!(stdout(&out).contains("image: \"it's $HOME; `x`\""), "{}", stdout(&out));
}

/// kustomize formats an exec plugin's stderr again as a Go format string: messages with
/// `%` must still arrive intact. Run for real with kubectl when it is installed.
#[test]
fn percent_signs_arrive_intact_through_kubectl_kustomize() {
    let kubectl = std::env::var("MESHC_KUBECTL").unwrap_or_else(|_| "kubectl".to_string());
    let works = std::process::Command::new(&kubectl)
        .args(["version", "--client"])
        .output();
    if !works.is_ok_and(|o| o.status.success()) {
        println!("skipped: kubectl is not installed (set MESHC_KUBECTL to its path)");
        return;
    }
    let dir = scratch("kustomize-percent");
    let script = read(&root().join("integrations/kustomize/MeshGenerator"))
        .replace("${MESHC:-meshc}", env!("CARGO_BIN_EXE_meshc"));
    let plugin = dir.join("plugins/meshc.dev/v1/meshgenerator/MeshGenerator");
    write(&dir, "plugins/meshc.dev/v1/meshgenerator/MeshGenerator", script);
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&plugin, std::fs::Permissions::from_mode(0o755)).unwrap();
    write(&dir, "app/kustomization.yaml", "generators:\n- mesh.yaml\n");
    write(
        &dir,
        "app/mesh.yaml",
        "apiVersion: meshc.dev/v1\nkind: MeshGenerator\nmetadata:\n  name: mesh\nspec:\n  files: [app.mesh]\n",
    );
    write(
        &dir,
        "app/app.mesh",
        "namespace shop {\n  service web {\n    port http 80\n    pod v1 image \"w\"\n    pod v2 image \"w\"\n    route { v1 60% v2 50% }\n  }\n}\n",
    );
    let out = std::process::Command::new(&kubectl)
        .args(["kustomize", "--enable-alpha-plugins", "app"])
        .env("KUSTOMIZE_PLUGIN_HOME", dir.join("plugins"))
        .current_dir(&dir)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("M3009"), "{err}");
    assert!(err.contains("60% + 50% = 110%") || err.contains("110%"), "{err}");
    assert!(
        !err.contains("MISSING") && !err.contains("%%"),
        "the message arrives intact: {err}"
    );
}
