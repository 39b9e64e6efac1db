//! The hostile-input corpus: every folder under `tests/hostile/` is one input meant to hurt
//! (special files, path tricks, huge, deep and long inputs, odd encodings and escapes,
//! control characters, numbers at and past every limit, KRM ResourceLists, vars files),
//! run through the real binary. Each must end with exit 1 or 2 and a coded diagnostic or
//! a clear `meshc:` message on stderr, write nothing on stdout (a KRM function writes its
//! ResourceList, with error results), never panic, finish within [`TIME_LIMIT`] (the
//! process is killed and the case fails past it) and within [`MEMORY_LIMIT_KIB`] of
//! address space (set with `ulimit -v`; an allocation past it aborts the process, which
//! fails the case).
//!
//! A case is a folder with a `case` file and the files it reads. `case` lines:
//!
//! | line | meaning |
//! |---|---|
//! | `# ...` | what the case is about |
//! | `run ARGS...` | the arguments of `meshc` (split at white space), run in the case folder |
//! | `stdin FILE` | feed FILE on stdin (default: nothing) |
//! | `exit N` | the exit status required: 1 or 2 |
//! | `expect TEXT` | stderr must contain TEXT (a code such as `M2010`, or words) |
//! | `reject TEXT` | stderr must not contain TEXT (a secret that must not be echoed) |
//! | `stdout resource-list` | stdout must be a ResourceList with an error result |
//! | `setup fifo PATH` | make a FIFO |
//! | `setup socket PATH` | make a Unix socket |
//! | `setup symlink PATH TARGET` | make a symlink |
//! | `setup sparse PATH BYTES` | make a sparse file of that size (`300M` allowed) |
//! | `setup append PATH TEXT` | append TEXT, with `\n`, `\r`, `\t`, `\0`, `\\`, `\xHH` decoded |
//! | `setup repeat PATH COUNT TEXT` | append TEXT COUNT times |
//! | `setup deep PATH DEPTH` | make DEPTH nested folders `d/d/d/...` under PATH |
//!
//! The folder is copied to a scratch folder first, so setup never touches the source tree.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long one case may run (a debug build, on a shared machine: generous).
const TIME_LIMIT: Duration = Duration::from_secs(20);

/// The address space one run may use: a runaway read or allocation aborts past it.
const MEMORY_LIMIT_KIB: u64 = 2 * 1024 * 1024;

struct Case {
    name: String,
    args: Vec<String>,
    stdin: Option<String>,
    exit: i32,
    expect: Vec<String>,
    reject: Vec<String>,
    resource_list: bool,
    setup: Vec<Vec<String>>,
}

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/hostile")
}

fn read_case(dir: &Path) -> Result<Case, String> {
    let name = dir.file_name().unwrap().to_string_lossy().into_owned();
    let text = std::fs::read_to_string(dir.join("case")).map_err(|e| format!("{name}: no case file: {e}"))?;
    let mut case = Case {
        name: name.clone(),
        args: Vec::new(),
        stdin: None,
        exit: 0,
        expect: Vec::new(),
        reject: Vec::new(),
        resource_list: false,
        setup: Vec::new(),
    };
    for line in text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let (word, rest) = line.split_once(' ').unwrap_or((line, ""));
        match word {
            "run" => case.args = rest.split_whitespace().map(str::to_string).collect(),
            "stdin" => case.stdin = Some(rest.to_string()),
            "exit" => case.exit = rest.parse().map_err(|_| format!("{name}: bad exit line"))?,
            "expect" => case.expect.push(rest.to_string()),
            "reject" => case.reject.push(rest.to_string()),
            "stdout" if rest == "resource-list" => case.resource_list = true,
            "setup" => {
                let mut parts: Vec<String> = Vec::new();
                let mut rest = rest;
                // The last field of append/repeat is the rest of the line.
                let fields = match rest.split_whitespace().next() {
                    Some("append") => 3,
                    Some("repeat") => 4,
                    _ => usize::MAX,
                };
                while !rest.is_empty() && parts.len() + 1 < fields {
                    let (part, tail) = rest.split_once(' ').unwrap_or((rest, ""));
                    parts.push(part.to_string());
                    rest = tail;
                }
                if !rest.is_empty() {
                    parts.push(rest.to_string());
                }
                case.setup.push(parts);
            }
            other => return Err(format!("{name}: unknown line `{other}`")),
        }
    }
    if case.args.is_empty() {
        return Err(format!("{name}: no run line"));
    }
    if !matches!(case.exit, 1 | 2) {
        return Err(format!("{name}: exit must be 1 or 2"));
    }
    Ok(case)
}

/// `\n`, `\r`, `\t`, `\0`, `\\` and `\xHH` decoded to bytes.
fn unescape(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && i + 1 < bytes.len() {
            i += 2;
            match bytes[i - 1] {
                b'n' => out.push(b'\n'),
                b'r' => out.push(b'\r'),
                b't' => out.push(b'\t'),
                b'0' => out.push(0),
                b's' => out.push(b' '),
                b'x' => {
                    let hex = std::str::from_utf8(&bytes[i..i + 2]).unwrap();
                    out.push(u8::from_str_radix(hex, 16).unwrap());
                    i += 2;
                }
                other => out.push(other),
            }
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

fn size(text: &str) -> u64 {
    match text.strip_suffix('M') {
        Some(m) => m.parse::<u64>().unwrap() << 20,
        None => text.parse().unwrap(),
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        let kind = entry.file_type().unwrap();
        if kind.is_dir() {
            copy_dir(&entry.path(), &target);
        } else if kind.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(entry.path()).unwrap(), &target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn set_up(dir: &Path, step: &[String]) {
    let path = |i: usize| dir.join(&step[i]);
    let parent = |p: &Path| {
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
    };
    match step[0].as_str() {
        "fifo" => {
            parent(&path(1));
            let made = Command::new("mkfifo").arg(path(1)).status().unwrap();
            assert!(made.success());
        }
        "socket" => {
            parent(&path(1));
            // The socket file stays after the listener is dropped.
            drop(std::os::unix::net::UnixListener::bind(path(1)).unwrap());
        }
        "symlink" => {
            parent(&path(1));
            std::os::unix::fs::symlink(&step[2], path(1)).unwrap();
        }
        "sparse" => {
            parent(&path(1));
            std::fs::File::create(path(1)).unwrap().set_len(size(&step[2])).unwrap();
        }
        "append" | "repeat" => {
            parent(&path(1));
            let (count, text) = if step[0] == "append" {
                (1, step.get(2).map_or("", String::as_str))
            } else {
                (step[2].parse().unwrap(), step.get(3).map_or("", String::as_str))
            };
            let unit = unescape(text);
            let mut file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path(1))
                .unwrap();
            let mut all = Vec::with_capacity(unit.len() * count);
            for _ in 0..count {
                all.extend_from_slice(&unit);
            }
            file.write_all(&all).unwrap();
        }
        "deep" => {
            let mut p = path(1);
            for _ in 0..step[2].parse::<usize>().unwrap() {
                p.push("d");
            }
            std::fs::create_dir_all(p).unwrap();
        }
        other => panic!("unknown setup step `{other}`"),
    }
}

/// Runs one case; the problems found, in words, and how long it ran.
fn run(case: &Case, scratch: &Path) -> (Vec<String>, Duration) {
    let dir = scratch.join(&case.name);
    let _ = std::fs::remove_dir_all(&dir);
    copy_dir(&corpus().join(&case.name), &dir);
    for step in &case.setup {
        set_up(&dir, step);
    }
    let stdin = match &case.stdin {
        Some(file) => Stdio::from(std::fs::File::open(dir.join(file)).unwrap()),
        None => Stdio::null(),
    };
    let out_path = dir.join(".stdout");
    let err_path = dir.join(".stderr");
    let mut child = Command::new("/bin/sh")
        .arg("-c")
        .arg(format!("ulimit -v {MEMORY_LIMIT_KIB} && exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_meshc"))
        .args(&case.args)
        .current_dir(&dir)
        .stdin(stdin)
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if started.elapsed() > TIME_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let stdout = String::from_utf8_lossy(&std::fs::read(&out_path).unwrap()).into_owned();
    let stderr = String::from_utf8_lossy(&std::fs::read(&err_path).unwrap()).into_owned();
    let mut problems = Vec::new();
    let took = started.elapsed();
    let Some(status) = status else {
        return (vec![format!("still running after {TIME_LIMIT:?}: killed")], took);
    };
    match status.code() {
        None => problems.push(format!("killed by a signal ({status}): a crash, or the memory limit")),
        Some(code) if code != case.exit => problems.push(format!("exit {code}, expected {}", case.exit)),
        Some(_) => {}
    }
    if stderr.contains("panicked") {
        problems.push("panicked".to_string());
    }
    let coded = stderr
        .as_bytes()
        .windows(5)
        .any(|w| w[0] == b'M' && w[1..].iter().all(u8::is_ascii_digit));
    // `--message-format json` reports the CLI's own errors as items with `"code": null`.
    let json_error = stderr.contains("\"code\": null") && stderr.contains("\"severity\": \"error\"");
    if !coded && !json_error && !stderr.contains("meshc: ") && !stderr.starts_with("error: ") {
        problems.push("stderr has neither a diagnostic code nor a `meshc:` message".to_string());
    }
    for text in &case.expect {
        if !stderr.contains(text.as_str()) {
            problems.push(format!("stderr lacks `{text}`"));
        }
    }
    for text in &case.reject {
        if stderr.contains(text.as_str()) || stdout.contains(text.as_str()) {
            problems.push(format!("the output shows `{text}`"));
        }
    }
    if case.resource_list {
        let list = meshc::emit::yaml::parse_one(&stdout).unwrap_or(meshc::emit::yaml::Value::Null);
        let failed = list
            .get("results")
            .and_then(|r| r.as_sequence())
            .is_some_and(|results| {
                results
                    .iter()
                    .any(|r| r.get("severity").and_then(|s| s.as_str()) == Some("error"))
            });
        if list.get("kind").and_then(|k| k.as_str()) != Some("ResourceList") || !failed {
            problems.push("stdout is not a ResourceList with an error result".to_string());
        }
    } else if !stdout.is_empty() {
        problems.push(format!("wrote {} bytes on stdout", stdout.len()));
    }
    if !problems.is_empty() {
        problems.push(format!("stderr:\n{}", stderr.chars().take(2000).collect::<String>()));
    }
    (problems, took)
}

#[test]
fn hostile_inputs_are_refused_cleanly() {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(corpus())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    let cases: Vec<Case> = dirs.iter().map(|d| read_case(d).unwrap()).collect();
    assert!(cases.len() >= 150, "the corpus has {} cases", cases.len());
    let scratch = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("hostile");
    let next = std::sync::atomic::AtomicUsize::new(0);
    let failures = std::sync::Mutex::new(Vec::new());
    let times = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let Some(case) = cases.get(i) else { break };
                let (problems, took) = run(case, &scratch);
                times.lock().unwrap().push((took, case.name.as_str()));
                if !problems.is_empty() {
                    failures
                        .lock()
                        .unwrap()
                        .push(format!("{}: {}", case.name, problems.join("; ")));
                }
            });
        }
    });
    let mut times = times.into_inner().unwrap();
    times.sort();
    for (took, name) in times.iter().rev().take(8) {
        println!("{took:>10.2?}  {name}");
    }
    let failures = failures.into_inner().unwrap();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}
