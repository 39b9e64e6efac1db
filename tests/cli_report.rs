//! What the `meshc` binary prints on stderr for people and for CI: every message in the
//! `--message-format` asked for (read errors, output-folder refusals, lock timeouts, files
//! out of date), `--deny-warnings`, colours and ASCII, control characters from the input
//! escaped, suppression comments, and the help, man pages and completions.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::Scratch;

/// A mesh with one warning (M3018 ingress-split) on line 11, the gateway route.
const WARN_MESH: &str = "namespace shop {
  service web {
    port http 8080
    pod v1 image \"registry.example.com/web:1.0\"
    pod v2 image \"registry.example.com/web:2.0\"
    route { v1 90% v2 10% }
  }
  gateway public {
    listen http 80 hosts \"shop.example.com\"
    ROUTE_COMMENT
    route prefix \"/shop\" -> web
  }
}
";

const GOOD_MESH: &str = "namespace shop {
  service web {
    port http 8080
    pod v1 image \"registry.example.com/web:1.0\"
  }
}
";

/// Runs meshc in `dir` with a UTF-8 locale, no colour forced, and `env` on top.
fn meshc_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_meshc"));
    command
        .args(args)
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("LC_ALL")
        .env_remove("LC_CTYPE")
        .env("LANG", "C.UTF-8")
        .env("TERM", "xterm");
    for (name, value) in env {
        command.env(name, value);
    }
    let out = command.output().expect("meshc runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "meshc {args:?} panicked:\n{err}");
    out
}

fn meshc(dir: &Path, args: &[&str]) -> Output {
    meshc_env(dir, args, &[])
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn code(out: &Output) -> i32 {
    out.status.code().expect("exited")
}

/// Every line of a `github` run's stderr is a workflow command.
fn assert_github(out: &Output) -> String {
    let err = stderr(out);
    assert!(!err.is_empty());
    for line in err.lines() {
        assert!(
            line.starts_with("::error ") || line.starts_with("::warning ") || line.starts_with("::notice"),
            "not a workflow command: {line:?}\n{err}"
        );
    }
    err
}

/// A `sarif` run's stderr is exactly one SARIF log.
fn sarif(out: &Output) -> serde_json::Value {
    let log: serde_json::Value =
        serde_json::from_slice(&out.stderr).unwrap_or_else(|e| panic!("not one JSON document ({e}):\n{}", stderr(out)));
    check_sarif_shape(&log);
    log
}

/// `json`: one array of objects with a severity and a message.
fn json(out: &Output) -> Vec<serde_json::Value> {
    let items: Vec<serde_json::Value> =
        serde_json::from_slice(&out.stderr).unwrap_or_else(|e| panic!("not one JSON array ({e}):\n{}", stderr(out)));
    for item in &items {
        assert!(item["severity"].is_string() && item["message"].is_string(), "{item}");
    }
    items
}

/// The properties SARIF 2.1.0's schema requires, checked by hand (no schema validator in
/// the dev-dependencies): `version` and `runs`; each run's `tool.driver.name`; each result's
/// `message.text` (a rule id that names a rule of the driver, at `ruleIndex`); each
/// notification's `message.text`; locations with an `artifactLocation.uri`; levels from
/// the schema's enumeration; and, for code scanning, `informationUri` and rules with
/// `helpUri` and a `defaultConfiguration.level`.
fn check_sarif_shape(log: &serde_json::Value) {
    let levels = ["none", "note", "warning", "error"];
    assert_eq!(log["version"], "2.1.0");
    let runs = log["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "meshc");
    assert!(driver["informationUri"].as_str().unwrap().starts_with("https://"));
    let rules = driver["rules"].as_array().unwrap();
    for rule in rules {
        assert!(rule["id"].is_string());
        assert!(rule["helpUri"].as_str().unwrap().starts_with("https://"), "{rule}");
        assert!(rule["fullDescription"]["text"].is_string());
        assert!(levels.contains(&rule["defaultConfiguration"]["level"].as_str().unwrap()));
    }
    let location_ok = |l: &serde_json::Value| {
        let uri = l["physicalLocation"]["artifactLocation"]["uri"].as_str().unwrap();
        assert!(!uri.is_empty() && !uri.contains(' '), "{uri}");
    };
    for result in run["results"].as_array().unwrap() {
        assert!(result["message"]["text"].is_string(), "{result}");
        assert!(levels.contains(&result["level"].as_str().unwrap()));
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], result["ruleId"]);
        result["locations"].as_array().unwrap().iter().for_each(location_ok);
    }
    let invocation = &run["invocations"][0];
    assert!(invocation["executionSuccessful"].is_boolean());
    for note in invocation["toolExecutionNotifications"].as_array().unwrap() {
        assert!(note["message"]["text"].is_string());
        assert!(levels.contains(&note["level"].as_str().unwrap()));
        note["locations"].as_array().unwrap().iter().for_each(location_ok);
    }
}

fn notifications(log: &serde_json::Value) -> Vec<String> {
    log["runs"][0]["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            format!(
                "{}: {}",
                n["level"].as_str().unwrap(),
                n["message"]["text"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn read_errors_come_in_the_format_asked_for() {
    let scratch = Scratch::new("report-read-errors");
    scratch.write("latin1.mesh", "");
    std::fs::write(scratch.path("latin1.mesh"), b"namespace caf\xe9 {}\n").unwrap();
    std::fs::create_dir_all(scratch.path("empty")).unwrap();
    let cases: [(&[&str], &str); 3] = [
        (&["check", "missing.mesh"], "missing.mesh"),
        (&["check", "empty"], "no .mesh file under empty"),
        (&["check", "/dev/null/x.mesh"], "cannot read /dev/null/x.mesh"),
    ];
    for (args, needle) in cases {
        let run = |format: &str| {
            let mut all = args.to_vec();
            all.extend(["--message-format", format]);
            meshc(&scratch.0, &all)
        };
        let out = run("human");
        assert_eq!(code(&out), 2, "{args:?}");
        assert!(stderr(&out).starts_with("meshc: ") && stderr(&out).contains(needle));

        let out = run("github");
        assert_eq!(code(&out), 2, "{args:?}");
        let err = assert_github(&out);
        // The command line's path the message is about.
        let file = args[1].replace(':', "%3A");
        assert!(
            err.starts_with(&format!("::error file={file},title=meshc::")) && err.contains(needle),
            "{err}"
        );

        let out = run("sarif");
        assert_eq!(code(&out), 2, "{args:?}");
        let log = sarif(&out);
        assert_eq!(log["runs"][0]["invocations"][0]["executionSuccessful"], false);
        let notes = notifications(&log);
        assert!(
            notes.len() == 1 && notes[0].starts_with("error: ") && notes[0].contains(needle),
            "{notes:?}"
        );

        let out = run("json");
        assert_eq!(code(&out), 2, "{args:?}");
        let items = json(&out);
        assert_eq!(items.len(), 1);
        assert_eq!(items[0]["severity"], "error");
        assert!(items[0]["code"].is_null());
        assert!(items[0]["message"].as_str().unwrap().contains(needle));
    }

    // A file that is not UTF-8 is a diagnostic at the file (M1001).
    let out = meshc(&scratch.0, &["check", "--message-format", "github", "latin1.mesh"]);
    assert_eq!(code(&out), 1);
    assert!(assert_github(&out).starts_with("::error file=latin1.mesh,line=1"));

    // A usage error, in the format the command line names.
    let out = meshc(
        &scratch.0,
        &["check", "--message-format", "github", "--bogus", "a.mesh"],
    );
    assert_eq!(code(&out), 2);
    assert!(assert_github(&out).starts_with("::error title=meshc::unexpected argument '--bogus'"));
    let out = meshc(
        &scratch.0,
        &["check", "--message-format=sarif", "--api", "v9", "a.mesh"],
    );
    assert_eq!(code(&out), 2);
    assert!(notifications(&sarif(&out))[0].contains("v9"));

    // lint names the file it could not read.
    let out = meshc(&scratch.0, &["lint", "--message-format", "github", "nothere.yaml"]);
    assert_eq!(code(&out), 2);
    let err = assert_github(&out);
    assert!(
        err.starts_with("::error file=nothere.yaml,title=meshc::cannot read nothere.yaml"),
        "{err}"
    );
}

#[test]
fn out_of_date_files_are_findings_with_their_file() {
    let scratch = Scratch::new("report-drift");
    scratch.write("app.mesh", GOOD_MESH);
    assert_eq!(code(&meshc(&scratch.0, &["build", "-o", "out", "app.mesh"])), 0);
    let service = scratch.path("out/shop/service-web.yaml");
    assert!(service.is_file());
    let text = std::fs::read_to_string(&service).unwrap();
    std::fs::write(&service, text.replace("8080", "8081")).unwrap();
    scratch.write(
        "app.mesh",
        &GOOD_MESH.replace(
            "    pod v1",
            "    pod v2 image \"registry.example.com/web:2.0\"\n    pod v1",
        ),
    );

    let out = meshc(
        &scratch.0,
        &["diff", "--message-format", "github", "-o", "out", "app.mesh"],
    );
    assert_eq!(code(&out), 1);
    let err = assert_github(&out);
    assert!(
        err.contains("::error file=out/shop/service-web.yaml,title=out-of-date::out/shop/service-web.yaml differs"),
        "{err}"
    );
    assert!(err.contains("is missing: the mesh produces it"), "{err}");
    assert!(
        err.contains("::notice file=out,title=meshc::out is out of date"),
        "{err}"
    );
    assert!(!stdout(&out).is_empty(), "the diff still goes to stdout");

    let out = meshc(
        &scratch.0,
        &["build", "--check", "--message-format", "sarif", "-o", "out", "app.mesh"],
    );
    assert_eq!(code(&out), 1);
    let log = sarif(&out);
    let results = log["runs"][0]["results"].as_array().unwrap();
    let files: Vec<&str> = results
        .iter()
        .filter(|r| r["ruleId"] == "out-of-date")
        .map(|r| {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert!(files.contains(&"out/shop/service-web.yaml"), "{files:?}");
    assert!(
        files.iter().any(|f| f.contains("v2")),
        "the new version's files: {files:?}"
    );
    assert_eq!(log["runs"][0]["invocations"][0]["executionSuccessful"], true);

    let out = meshc(
        &scratch.0,
        &["diff", "--message-format", "json", "-o", "out", "app.mesh"],
    );
    assert_eq!(code(&out), 1);
    let items = json(&out);
    assert!(items
        .iter()
        .any(|i| i["name"] == "out-of-date" && i["location"]["file"] == "out/shop/service-web.yaml"));
}

#[test]
fn output_folder_refusals_and_lock_timeouts_come_in_the_format_asked_for() {
    let scratch = Scratch::new("report-refusal");
    scratch.write("app.mesh", GOOD_MESH);
    // A planned file's path is taken by a folder: nothing is written.
    std::fs::create_dir_all(scratch.path("out/shop/service-web.yaml")).unwrap();
    let out = meshc(
        &scratch.0,
        &["build", "--message-format", "sarif", "-o", "out", "app.mesh"],
    );
    assert_eq!(code(&out), 2);
    let log = sarif(&out);
    let notes = notifications(&log);
    assert!(
        notes
            .iter()
            .any(|n| n.starts_with("error: ") && n.contains("is a directory")),
        "{notes:?}"
    );
    assert_eq!(log["runs"][0]["invocations"][0]["executionSuccessful"], false);
    let out = meshc(
        &scratch.0,
        &["build", "--message-format", "github", "-o", "out", "app.mesh"],
    );
    assert_eq!(code(&out), 2);
    assert!(assert_github(&out).contains("::error file=out,title=meshc::"));

    // Another run holds the folder's lock.
    std::fs::create_dir_all(scratch.path("locked")).unwrap();
    let held = std::fs::File::open(scratch.path("locked")).unwrap();
    held.lock().unwrap();
    let wait = [("MESHC_LOCK_WAIT", "0")];
    for format in ["github", "sarif", "json"] {
        let out = meshc_env(
            &scratch.0,
            &["build", "--message-format", format, "-o", "locked", "app.mesh"],
            &wait,
        );
        assert_eq!(code(&out), 2, "{format}");
        let err = stderr(&out);
        assert!(err.contains("is locked by another meshc run"), "{err}");
        assert!(
            !err.starts_with("meshc: ") && !err.contains("\nmeshc: "),
            "no plain line in {format}: {err}"
        );
        match format {
            "github" => drop(assert_github(&out)),
            "sarif" => drop(sarif(&out)),
            _ => drop(json(&out)),
        }
    }
    drop(held);
}

#[test]
fn deny_warnings_fails_the_run_and_says_so() {
    let scratch = Scratch::new("report-deny");
    scratch.write("warn.mesh", &WARN_MESH.replace("ROUTE_COMMENT", ""));
    let out = meshc(&scratch.0, &["check", "warn.mesh"]);
    assert_eq!(code(&out), 0);
    assert!(stderr(&out).ends_with("meshc: 1 warning\n"), "{}", stderr(&out));
    for command in ["check", "build"] {
        let out = meshc(&scratch.0, &[command, "--deny-warnings", "warn.mesh"]);
        assert_eq!(code(&out), 1, "{command}");
        assert!(
            stderr(&out).ends_with("meshc: 1 warning (--deny-warnings: exit status 1)\n"),
            "{}",
            stderr(&out)
        );
    }
    let out = meshc(
        &scratch.0,
        &["check", "--deny-warnings", "--message-format", "github", "warn.mesh"],
    );
    assert_eq!(code(&out), 1);
    let err = assert_github(&out);
    assert!(err.contains("::warning file=warn.mesh,line=11") && err.contains("denied by --deny-warnings"));
    let out = meshc(
        &scratch.0,
        &["check", "--deny-warnings", "--message-format", "sarif", "warn.mesh"],
    );
    assert_eq!(code(&out), 1);
    let log = sarif(&out);
    assert!(notifications(&log).iter().any(|n| n.contains("--deny-warnings")));
    assert_eq!(
        log["runs"][0]["invocations"][0]["executionSuccessful"], true,
        "meshc itself did its job"
    );

    // build -o: the manifests are written (warnings do not stop a build), the status is 1.
    let out = meshc(&scratch.0, &["build", "--deny-warnings", "-o", "out", "warn.mesh"]);
    assert_eq!(code(&out), 1);
    assert!(scratch.path("out/kustomization.yaml").is_file());
    let out = meshc(&scratch.0, &["diff", "--deny-warnings", "-o", "out", "warn.mesh"]);
    assert_eq!(code(&out), 1, "up to date, but warned");
    let out = meshc(&scratch.0, &["diff", "-o", "out", "warn.mesh"]);
    assert_eq!(code(&out), 0);

    // lint takes it too.
    let clean = meshc(&scratch.0, &["lint", "--deny-warnings", "-"]);
    assert_eq!(code(&clean), 0, "nothing on stdin, nothing to deny: {}", stderr(&clean));
}

#[test]
fn colours_follow_the_flag_and_the_environment() {
    let scratch = Scratch::new("report-colour");
    scratch.write("warn.mesh", &WARN_MESH.replace("ROUTE_COMMENT", ""));
    let escapes = |args: &[&str], env: &[(&str, &str)]| stderr(&meshc_env(&scratch.0, args, env)).contains('\u{1b}');
    assert!(!escapes(&["check", "warn.mesh"], &[]), "a pipe gets no colour");
    assert!(escapes(&["check", "--color", "always", "warn.mesh"], &[]));
    assert!(
        escapes(&["--color", "always", "check", "warn.mesh"], &[]),
        "--color is global"
    );
    assert!(!escapes(
        &["check", "--color", "never", "warn.mesh"],
        &[("CLICOLOR_FORCE", "1")]
    ));
    assert!(escapes(&["check", "warn.mesh"], &[("CLICOLOR_FORCE", "1")]));
    assert!(!escapes(
        &["check", "warn.mesh"],
        &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]
    ));
    assert!(escapes(
        &["check", "warn.mesh"],
        &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "")]
    ));
    assert!(
        !escapes(
            &["check", "--color", "always", "--message-format", "github", "warn.mesh"],
            &[]
        ),
        "colours are for people"
    );
}

#[test]
fn a_c_locale_gets_pure_ascii() {
    let scratch = Scratch::new("report-ascii");
    // Non-ASCII in a comment, a string and the message's quoted value.
    let mesh = WARN_MESH
        .replace("ROUTE_COMMENT", "# café ✓")
        .replace("registry.example.com/web:2.0", "registry.example.com/wéb:2.0");
    scratch.write("warn.mesh", &mesh);
    for env in [[("LANG", "C")], [("LANG", "POSIX")], [("LC_ALL", "C")]] {
        let out = meshc_env(&scratch.0, &["check", "--color", "always", "warn.mesh"], &env);
        let err = stderr(&out);
        assert!(!err.is_empty());
        assert!(err.is_ascii(), "{env:?}: {err}");
        assert!(err.contains("warn.mesh:11:") && err.contains("caf\\u{e9}"), "{err}");
    }
    let out = meshc_env(&scratch.0, &["check", "warn.mesh"], &[("LANG", "de_DE.UTF-8")]);
    assert!(stderr(&out).contains('╭') && stderr(&out).contains("café"));
    let out = meshc_env(
        &scratch.0,
        &["check", "warn.mesh"],
        &[("LANG", "C.UTF-8"), ("LC_ALL", "C")],
    );
    assert!(stderr(&out).is_ascii(), "LC_ALL wins over LANG");
}

#[test]
fn control_characters_from_the_input_are_shown_escaped() {
    let scratch = Scratch::new("report-control");
    let dangerous = |s: &str| {
        s.chars()
            .any(|c| (c.is_control() && c != '\n') || matches!(c, '\u{202e}' | '\u{200b}' | '\u{2066}'))
    };
    // ESC sequences in a comment, a string (a warning's label quotes it) and the file name;
    // a bidi override in an error's offending token.
    let name = "evil\u{1b}[2J.mesh";
    let mesh = WARN_MESH
        .replace("ROUTE_COMMENT", "# \u{1b}]0;owned\u{7} \u{202e}")
        .replace("\"/shop\"", "\"/sh\u{1b}[31mop\u{9b}\"");
    scratch.write(name, &mesh);
    for format in ["human", "github"] {
        let out = meshc(&scratch.0, &["check", "--message-format", format, name]);
        assert_eq!(code(&out), 0);
        let err = stderr(&out);
        assert!(!dangerous(&err), "{format}: {err:?}");
        assert!(err.contains("evil\\u{1b}[2J.mesh"), "{format}: {err}");
        if format == "human" {
            assert!(
                err.contains("# \\u{1b}]0;owned\\u{7} \\u{202e}"),
                "the source line: {err}"
            );
            assert!(err.contains("/sh\\u{1b}[31mop\\u{9b}"), "{err}");
        }
    }
    // A syntax error at a bidi override in a name.
    scratch.write("bidi.mesh", "namespace a\u{202e}b {}\n");
    for format in ["human", "github"] {
        let out = meshc(&scratch.0, &["check", "--message-format", format, "bidi.mesh"]);
        assert_eq!(code(&out), 1);
        let err = stderr(&out);
        assert!(!dangerous(&err), "{format}: {err:?}");
        assert!(err.contains("\\u{202e}"), "{format}: {err}");
    }
    // A read error naming a file with an ESC in its name.
    let out = meshc(&scratch.0, &["check", "gone\u{1b}[31m.mesh"]);
    assert_eq!(code(&out), 2);
    assert!(!dangerous(&stderr(&out)) && stderr(&out).contains("gone\\u{1b}[31m.mesh"));
    // The commands without a message format escape too.
    for args in [["explain", "M\u{1b}[31m"], ["fmt", "x\u{1b}]0;t\u{7}.mesh"]] {
        let out = meshc(&scratch.0, &args);
        assert_eq!(code(&out), 2);
        assert!(
            !dangerous(&stderr(&out)) && stderr(&out).contains("\\u{1b}"),
            "{args:?}: {}",
            stderr(&out)
        );
    }
    // JSON and SARIF escape them as JSON does.
    let out = meshc(&scratch.0, &["check", "--message-format", "sarif", name]);
    assert!(!stderr(&out).contains('\u{1b}'));
    sarif(&out);
}

#[test]
fn suppression_comments_allow_one_finding_with_a_reason() {
    let scratch = Scratch::new("report-suppress");
    let allowed = WARN_MESH.replace(
        "ROUTE_COMMENT",
        "# meshc: allow M3018 -- smoke tests reach every version through the gateway",
    );
    scratch.write("allowed.mesh", &allowed);
    let out = meshc(&scratch.0, &["check", "--deny-warnings", "allowed.mesh"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stderr(&out), "");

    let trailing = WARN_MESH
        .replace("ROUTE_COMMENT", "")
        .replace("-> web\n", "-> web # meshc: allow ingress-split -- same, by name\n");
    scratch.write("trailing.mesh", &trailing);
    assert_eq!(stderr(&meshc(&scratch.0, &["check", "trailing.mesh"])), "");

    let no_reason = WARN_MESH.replace("ROUTE_COMMENT", "# meshc: allow M3018");
    scratch.write("no-reason.mesh", &no_reason);
    let out = meshc(&scratch.0, &["check", "--message-format", "json", "no-reason.mesh"]);
    let codes: Vec<String> = json(&out)
        .iter()
        .map(|i| i["code"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(codes, ["M1010", "M3018"]);

    // A `#` inside a string is no comment.
    let in_string = WARN_MESH
        .replace("ROUTE_COMMENT", "")
        .replace("\"/shop\"", "\"/shop#meshc: allow M3018 -- no\"");
    scratch.write("in-string.mesh", &in_string);
    let out = meshc(&scratch.0, &["check", "--message-format", "json", "in-string.mesh"]);
    let codes: Vec<String> = json(&out)
        .iter()
        .map(|i| i["code"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(codes, ["M3018"]);
}

/// The subcommands `meshc --help` lists.
fn subcommands() -> Vec<String> {
    let help = stdout(&meshc(&common::root(), &["--help"]));
    let list = help.split("Commands:\n").nth(1).expect("a Commands section");
    list.lines()
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_string)
        .collect()
}

#[test]
fn every_subcommand_describes_itself() {
    let commands = subcommands();
    assert!(commands.len() >= 15, "{commands:?}");
    let main_help = stdout(&meshc(&common::root(), &["--help"]));
    for command in &commands {
        let help = stdout(&meshc(&common::root(), &[command, "--help"]));
        let first = help.lines().next().unwrap();
        // The first line is the command's own summary, as in the list of commands.
        let listed = main_help
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{command} ")))
            .unwrap();
        assert!(
            listed.trim_end().ends_with(first.trim_end())
                || first.starts_with(listed.split_whitespace().nth(1).unwrap()),
            "{command}: {first:?} vs {listed:?}"
        );
        assert!(help.contains(&format!("Usage: meshc {command}")), "{command}");
    }
    let diff = stdout(&meshc(&common::root(), &["diff", "--help"]));
    assert!(diff.contains("writes nothing, and compares"), "{diff}");
    assert!(
        !diff.contains("Without -o, the manifests go to stdout"),
        "build's help: {diff}"
    );
    let traffic = stdout(&meshc(&common::root(), &["traffic", "--help"]));
    assert!(traffic.starts_with("Show where a request goes"), "{traffic}");
    let graph = stdout(&meshc(&common::root(), &["graph", "--help"]));
    assert!(graph.starts_with("Draw the mesh"), "{graph}");
}

#[test]
fn man_pages_exist_for_every_subcommand_and_parse() {
    let scratch = Scratch::new("report-man");
    let out = meshc(&scratch.0, &["man", "pages"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let man = Command::new("man")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    let mut pages = vec!["meshc".to_string()];
    pages.extend(subcommands().iter().map(|c| format!("meshc-{c}")));
    for page in &pages {
        let path = scratch.path(&format!("pages/{page}.1"));
        let roff = std::fs::read_to_string(&path).unwrap_or_else(|_| panic!("no page {page}.1"));
        assert!(
            roff.contains(&format!(".TH {page} 1")),
            "{page}: {}",
            &roff[..roff.len().min(300)]
        );
        assert!(roff.contains(".SH NAME") && roff.contains(".SH SYNOPSIS"), "{page}");
        if man {
            let shown = Command::new("man")
                .arg("-l")
                .arg(&path)
                .env("MANWIDTH", "100")
                .env("LANG", "C.UTF-8")
                .output()
                .unwrap();
            let text = stdout(&shown);
            assert!(
                shown.status.success() && text.contains("NAME") && text.contains("SYNOPSIS"),
                "{page}: {text}"
            );
            assert!(
                !String::from_utf8_lossy(&shown.stderr).contains("warning"),
                "{page}: {}",
                String::from_utf8_lossy(&shown.stderr)
            );
        }
    }
    let written = std::fs::read_dir(scratch.path("pages")).unwrap().count();
    assert_eq!(written, pages.len(), "no page for a command that does not exist (help)");
    // The single page refers only to pages `meshc man DIR` writes.
    let page = stdout(&meshc(&scratch.0, &["man"]));
    for reference in page.split("meshc\\-").skip(1) {
        let name = reference.split('(').next().unwrap().replace("\\-", "-");
        assert!(pages.contains(&format!("meshc-{name}")), "meshc-{name}(1) has no page");
    }
}

#[test]
fn completions_offer_mesh_files_and_codes() {
    let scratch = Scratch::new("report-completions");
    let bash = stdout(&meshc(&scratch.0, &["completions", "bash"]));
    for code in meshc::Code::ALL {
        assert!(
            bash.contains(&format!(" {} ", code.id())) || bash.contains(&format!(" {}\"", code.id())),
            "{}",
            code.id()
        );
    }
    assert!(bash.contains("compgen -f -X '!*.mesh'"), "the .mesh filter");
    let zsh = stdout(&meshc(&scratch.0, &["completions", "zsh"]));
    assert!(zsh.contains("M3011") && zsh.contains(":_files -g \"*.mesh\"'"));
    let fish = stdout(&meshc(&scratch.0, &["completions", "fish"]));
    assert!(fish.contains("M3011"));
    assert!(fish.contains("__fish_meshc_using_subcommand check\" -k -a \"(__fish_complete_suffix .mesh)\""));

    // The bash script, run: `meshc build <TAB>` offers .mesh files and folders only;
    // `meshc explain M301<TAB>` the codes.
    let has_bash = Command::new("bash")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_bash {
        return;
    }
    scratch.write("c.bash", &bash);
    scratch.write("a.mesh", GOOD_MESH);
    scratch.write("b.yaml", "x: 1\n");
    std::fs::create_dir_all(scratch.path("sub")).unwrap();
    let complete = |words: &str, cword: usize| {
        let script = format!(
            "source ./c.bash; COMP_WORDS=({words}); COMP_CWORD={cword}; cur=\"${{COMP_WORDS[$COMP_CWORD]}}\"; _meshc meshc \"$cur\" \"${{COMP_WORDS[$((COMP_CWORD-1))]}}\"; printf '%s\\n' \"${{COMPREPLY[@]}}\" | sort"
        );
        let out = Command::new("bash")
            .arg("-c")
            .arg(script)
            .current_dir(&scratch.0)
            .output()
            .unwrap();
        stdout(&out)
    };
    assert_eq!(complete("meshc build ''", 2), "a.mesh\nsub\n");
    assert_eq!(complete("meshc check a.mesh ''", 3), "a.mesh\nsub\n");
    assert_eq!(
        complete("meshc explain M301", 2),
        (0..10).map(|i| format!("M301{i}\n")).collect::<String>()
    );
}

#[test]
fn traffic_tests_of_several_files_make_one_sarif_log() {
    let scratch = Scratch::new("report-test-files");
    scratch.write(
        "app.mesh",
        "namespace shop {
  service web {
    port http 8080
    calls cart
    pod v1 image \"registry.example.com/web:1.0\"
  }
  service cart {
    port http 8080
    pod v1 image \"registry.example.com/cart:1.0\"
    pod v2 image \"registry.example.com/cart:2.0\"
    route { v1 90% v2 10% }
  }
}
",
    );
    scratch.write("a.traffic", "mesh \"app.mesh\"\nGET /cart from web reaches cart v2\n");
    scratch.write(
        "b.traffic",
        "mesh \"app.mesh\"\nGET /cart from webb reaches cart v1\nGET /cart from web reaches cart v1 90%, v2 10%\n",
    );
    let out = meshc(
        &scratch.0,
        &[
            "test",
            "--message-format",
            "sarif",
            "a.traffic",
            "b.traffic",
            "c.traffic",
        ],
    );
    assert_eq!(code(&out), 2, "c.traffic does not exist");
    let log = sarif(&out);
    let found: Vec<(String, String, u64)> = log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let at = &r["locations"][0]["physicalLocation"];
            (
                r["ruleId"].as_str().unwrap().to_string(),
                at["artifactLocation"]["uri"].as_str().unwrap().to_string(),
                at["region"]["startLine"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            ("M4100".to_string(), "a.traffic".to_string(), 2),
            ("M4101".to_string(), "b.traffic".to_string(), 2)
        ]
    );
    assert!(notifications(&log)
        .iter()
        .any(|n| n.contains("cannot read `c.traffic`")));
    assert_eq!(stdout(&out), "3 traffic expectations in 3 files, 2 failed\n");
}

#[test]
fn suppression_comments_work_in_linted_manifests() {
    let scratch = Scratch::new("report-lint-suppress");
    let service = |comment: &str, trailing: &str| {
        format!(
            "apiVersion: v1
kind: Service
metadata:
  name: api
  namespace: shop
  annotations:
    note: \"a # meshc: allow M3004 -- inside a string\"
spec:
  selector:
    app: api
  ports:
    - name: http
      port: 8080
{comment}
    - name: metrics{trailing}
      port: 9090
"
        )
    };
    let codes = |name: &str, text: &str| -> Vec<String> {
        scratch.write(name, text);
        let out = meshc(&scratch.0, &["lint", "--message-format", "json", name]);
        json(&out)
            .iter()
            .map(|i| i["code"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(codes("plain.yaml", &service("", "")), ["M3004"]);
    assert_eq!(
        codes(
            "above.yaml",
            &service("    # meshc: allow M3004 -- scraped by a plain TCP probe", "")
        ),
        Vec::<String>::new()
    );
    assert_eq!(
        codes(
            "trailing.yaml",
            &service("", "  # meshc: allow unknown-protocol -- scraped over TCP")
        ),
        Vec::<String>::new()
    );
    assert_eq!(
        codes("no-reason.yaml", &service("    # meshc: allow M3004", "")),
        ["M1010", "M3004"]
    );
    // In a block scalar, it is text.
    let block = service("", "").replace(
        "    note: \"a # meshc: allow M3004 -- inside a string\"",
        "    note: |\n      # meshc: allow M3004 -- text\n    other: x",
    );
    assert_eq!(codes("block.yaml", &block), ["M3004"]);
}

#[test]
fn sarif_default_levels_are_those_of_docs_checks() {
    let checks = common::read(&common::root().join("docs/checks.md"));
    let line = checks
        .lines()
        .find(|l| l.starts_with("Warnings: "))
        .expect("the Warnings line");
    // The codes before the parenthesis (which names the lint-only warning).
    let listed: Vec<&str> = line["Warnings: ".len()..]
        .split('(')
        .next()
        .unwrap()
        .split(|c: char| c == ',' || c.is_whitespace() || c == '.')
        .filter(|w| w.starts_with('M'))
        .collect();
    assert!(listed.contains(&"M1010") && listed.contains(&"M2009"), "{listed:?}");
    let scratch = Scratch::new("report-levels");
    scratch.write("a.mesh", GOOD_MESH);
    let log = sarif(&meshc(&scratch.0, &["check", "--message-format", "sarif", "a.mesh"]));
    let warnings: Vec<&str> = log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["defaultConfiguration"]["level"] == "warning")
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(warnings, listed);
}

#[test]
fn suppressions_hold_in_every_command_that_checks_a_mesh() {
    let scratch = Scratch::new("report-suppress-everywhere");
    let allowed = WARN_MESH.replace("ROUTE_COMMENT", "# meshc: allow M3018 -- smoke tests");
    scratch.write("allowed.mesh", &allowed);
    for args in [
        &["check", "allowed.mesh"][..],
        &["build", "allowed.mesh"],
        &["graph", "allowed.mesh"],
        &["dump", "model", "allowed.mesh"],
        &["traffic", "--gateway", "public", "--path", "/shop", "allowed.mesh"],
    ] {
        let out = meshc(&scratch.0, args);
        assert_eq!(code(&out), 0, "{args:?}: {}", stderr(&out));
        assert_eq!(stderr(&out), "", "{args:?}");
    }
}

#[test]
fn waiting_for_a_lock_is_a_notice_in_github_and_silent_in_sarif() {
    let scratch = Scratch::new("report-lock-wait");
    scratch.write("app.mesh", GOOD_MESH);
    std::fs::create_dir_all(scratch.path("locked")).unwrap();
    let held = std::fs::File::open(scratch.path("locked")).unwrap();
    held.lock().unwrap();
    let wait = [("MESHC_LOCK_WAIT", "1")];
    let out = meshc_env(
        &scratch.0,
        &["build", "--message-format", "github", "-o", "locked", "app.mesh"],
        &wait,
    );
    assert_eq!(code(&out), 2);
    let err = assert_github(&out);
    assert!(
        err.starts_with("::notice::waiting for another meshc run that is writing locked\n"),
        "{err}"
    );
    let out = meshc_env(
        &scratch.0,
        &["build", "--message-format", "sarif", "-o", "locked", "app.mesh"],
        &wait,
    );
    assert_eq!(code(&out), 2);
    assert!(notifications(&sarif(&out))
        .iter()
        .any(|n| n.contains("still held after 1 s")));
    let out = meshc_env(&scratch.0, &["build", "-o", "locked", "app.mesh"], &wait);
    assert!(stderr(&out).starts_with("meshc: waiting for another meshc run that is writing locked\n"));
    drop(held);
}
