//! Helpers shared by the integration tests: fixture cases, compiling, reading YAML back,
//! and a tiny deterministic PRNG.
//!
//! Each test binary uses a different subset of these helpers.
#![allow(unreachable_pub, clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output as ProcessOutput};

use meshc::{ApiVersion, Code, Diagnostic, Options, Output, RouteApi, Source};
use serde_yaml::Value;

/// The crate's root folder.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Reads a file of the crate, panicking with the path on failure.
/// `examples/*.mesh`, sorted.
pub fn example_paths() -> Vec<PathBuf> {
    let dir = root().join("examples");
    let mut examples: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("examples/")
        .map(|e| e.expect("readable").path())
        .filter(|p| p.extension().is_some_and(|e| e == "mesh"))
        .collect();
    examples.sort();
    examples
}

pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

// ------------------------------------------------------------------ compiling

/// Compiles one `.mesh` text named `input.mesh`; panics with the rendered diagnostics when it
/// does not compile.
pub fn compile_ok(text: &str, options: &Options) -> Output {
    let sources = [Source::new("input.mesh", text)];
    match meshc::compile(&sources, options) {
        Ok(output) => output,
        Err(failure) => panic!(
            "expected the input to compile, got:\n{}\ninput:\n{text}",
            meshc::diagnostic::render(&failure.diagnostics, &sources, 100)
        ),
    }
}

/// Compiles one `.mesh` text; returns every diagnostic (errors and warnings) whatever the
/// outcome.
pub fn diagnostics_of(text: &str, options: &Options) -> Vec<Diagnostic> {
    let sources = [Source::new("input.mesh", text)];
    match meshc::compile(&sources, options) {
        Ok(output) => output.warnings,
        Err(failure) => failure.diagnostics,
    }
}

/// The codes of some diagnostics, as `M1234` ids.
pub fn code_ids(diagnostics: &[Diagnostic]) -> BTreeSet<String> {
    diagnostics.iter().map(|d| d.code.id().to_string()).collect()
}

/// Parses multi-document YAML text into values, panicking on invalid YAML.
pub fn parse_yaml(text: &str) -> Vec<Value> {
    meshc::emit::yaml::parse_documents(text).unwrap_or_else(|e| panic!("invalid YAML: {e}\n{text}"))
}

/// Follows a path of mapping keys and sequence indexes (`"spec.http.0.route"`).
pub fn at<'v>(value: &'v Value, path: &str) -> &'v Value {
    let mut current = value;
    for part in path.split('.') {
        let next = match part.parse::<usize>() {
            Ok(i) => current.get(i),
            Err(_) => current.get(part),
        };
        current = next.unwrap_or_else(|| panic!("no `{part}` on the way to `{path}` in:\n{value:?}"));
    }
    current
}

/// A string at `path`, panicking when absent or not a string.
pub fn str_at<'v>(value: &'v Value, path: &str) -> &'v str {
    at(value, path)
        .as_str()
        .unwrap_or_else(|| panic!("`{path}` is not a string in:\n{value:?}"))
}

/// Writes `s` as a `.mesh` string literal.
pub fn mesh_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '$' => out.push_str("\\$"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

// ------------------------------------------------------------------ fixture cases

/// The folders of `tests/cases/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum CaseKind {
    /// Compiles without any diagnostic.
    Ok,
    /// Fails with errors (possibly warnings too).
    Err,
    /// Compiles, with warnings.
    Warn,
}

impl CaseKind {
    pub const ALL: [CaseKind; 3] = [CaseKind::Ok, CaseKind::Err, CaseKind::Warn];

    pub fn folder(self) -> &'static str {
        match self {
            CaseKind::Ok => "ok",
            CaseKind::Err => "err",
            CaseKind::Warn => "warn",
        }
    }
}

/// One fixture: `tests/cases/<kind>/<name>/`.
#[derive(Debug, Clone)]
pub struct Case {
    pub kind: CaseKind,
    pub name: String,
    pub dir: PathBuf,
    /// `input.mesh` first, then the files it imports (transitively, each once), then vars
    /// sources, in the order the command line would load them. Names are relative to the
    /// case folder, so nothing absolute reaches a snapshot.
    pub sources: Vec<Source>,
    /// Imports that name a file absent from the folder: only the command line (which
    /// reports them, M2010) can compile such a case.
    pub missing_imports: Vec<String>,
    pub options: Options,
    /// The `args` file, as command-line arguments.
    pub args: Vec<String>,
    /// The `expect` file's codes (err and warn cases).
    pub expect: Option<BTreeSet<String>>,
}

impl Case {
    /// `ok/seed`
    pub fn id(&self) -> String {
        format!("{}/{}", self.kind.folder(), self.name)
    }

    /// `ok__seed`
    pub fn snapshot_name(&self) -> String {
        format!("{}__{}", self.kind.folder(), self.name)
    }

    /// The `.mesh` sources only.
    pub fn mesh_sources(&self) -> impl Iterator<Item = &Source> {
        self.sources.iter().filter(|s| s.kind == meshc::SourceKind::Mesh)
    }
}

pub fn cases_dir() -> PathBuf {
    root().join("tests").join("cases")
}

/// Every case of one kind, sorted by name.
pub fn cases(kind: CaseKind) -> Vec<Case> {
    let dir = cases_dir().join(kind.folder());
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut dirs: Vec<PathBuf> = entries
        .map(|e| e.expect("readable case folder").path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs.into_iter().map(|d| load_case(kind, &d)).collect()
}

/// Reads one case folder. Panics, naming the folder, when it is malformed.
pub fn load_case(kind: CaseKind, dir: &Path) -> Case {
    let name = dir
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_else(|| panic!("case folder {} has no UTF-8 name", dir.display()))
        .to_string();
    let input = dir.join("input.mesh");
    assert!(input.is_file(), "case {}/{name} has no input.mesh", kind.folder());

    let args_path = dir.join("args");
    let args: Vec<String> = if args_path.is_file() {
        read(&args_path)
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .flat_map(|l| l.split_whitespace().map(str::to_string).collect::<Vec<_>>())
            .collect()
    } else {
        Vec::new()
    };
    let parsed = parse_args(&args).unwrap_or_else(|e| panic!("case {}/{name}: bad args file: {e}", kind.folder()));

    // `.mesh` sources: input.mesh, then imports breadth first, as the command line does.
    let mut sources = vec![Source::new("input.mesh", read(&input))];
    let mut missing_imports = Vec::new();
    let mut seen: BTreeSet<String> = BTreeSet::from(["input.mesh".to_string()]);
    let mut next = 0;
    while next < sources.len() {
        let (file, _) = meshc::syntax::parse(next, &sources[next].text);
        let base = Path::new(&sources[next].name)
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        next += 1;
        let Some(file) = file else { continue };
        for import in file.imports {
            let relative = base.join(&import.value).to_string_lossy().into_owned();
            if !seen.insert(relative.clone()) {
                continue;
            }
            match std::fs::read_to_string(dir.join(&relative)) {
                Ok(text) => sources.push(Source::new(relative, text)),
                Err(_) => missing_imports.push(relative),
            }
        }
    }
    // Vars files, then `--var` definitions as one source, as the command line does.
    for file in &parsed.vars_files {
        sources.push(Source::vars(file.clone(), read(&dir.join(file))));
    }
    if !parsed.vars.is_empty() {
        let text: String = parsed.vars.iter().map(|v| format!("{v}\n")).collect();
        sources.push(Source::vars("--var", text));
    }

    let expect_path = dir.join("expect");
    let expect = expect_path.is_file().then(|| {
        read(&expect_path)
            .lines()
            .map(|l| l.split('#').next().unwrap_or("").trim().to_string())
            .filter(|l| !l.is_empty())
            .collect::<BTreeSet<String>>()
    });
    Case {
        kind,
        name,
        dir: dir.to_path_buf(),
        sources,
        missing_imports,
        options: parsed.options,
        args,
        expect,
    }
}

/// What an `args` file may say.
#[derive(Debug, Default)]
pub struct Args {
    pub options: Options,
    pub vars: Vec<String>,
    pub vars_files: Vec<String>,
}

/// Parses the options the harness understands: `--api v1|v1beta1|v1alpha3`,
/// `--cluster-domain X`, `--var NAME=VALUE` and `--vars FILE` (relative to the case
/// folder), `--routes istio|gateway-api`, each as `--flag value` or `--flag=value`, and
/// `--sidecars`.
pub fn parse_args(args: &[String]) -> Result<Args, String> {
    let mut out = Args::default();
    let mut i = 0;
    while i < args.len() {
        let (flag, inline) = match args[i].split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (args[i].clone(), None),
        };
        if flag == "--sidecars" && inline.is_none() {
            out.options.sidecars = true;
            i += 1;
            continue;
        }
        let value = match inline {
            Some(v) => v,
            None => {
                i += 1;
                args.get(i).cloned().ok_or_else(|| format!("`{flag}` needs a value"))?
            }
        };
        match flag.as_str() {
            "--api" => {
                out.options.api = match value.as_str() {
                    "v1" => ApiVersion::V1,
                    "v1beta1" => ApiVersion::V1beta1,
                    "v1alpha3" => ApiVersion::V1alpha3,
                    other => return Err(format!("unknown API version `{other}`")),
                }
            }
            "--cluster-domain" => out.options.cluster_domain = value,
            "--trust-domain" => out.options.trust_domain = value,
            "--routes" => {
                out.options.routes = match value.as_str() {
                    "istio" => RouteApi::Istio,
                    "gateway-api" => RouteApi::GatewayApi,
                    other => return Err(format!("unknown route API `{other}`")),
                }
            }
            "--var" => out.vars.push(value),
            "--vars" => out.vars_files.push(value),
            other => return Err(format!("unknown option `{other}`")),
        }
        i += 1;
    }
    Ok(out)
}

// ------------------------------------------------------------------ the binary

/// Runs the real `meshc` binary in `dir`.
pub fn meshc(dir: &Path, args: &[&str]) -> ProcessOutput {
    Command::new(env!("CARGO_BIN_EXE_meshc"))
        .args(args)
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env("TERM", "dumb")
        // A UTF-8 locale: under `C` the human format is ASCII.
        .env_remove("LC_ALL")
        .env_remove("LC_CTYPE")
        .env("LANG", "C.UTF-8")
        .output()
        .expect("the meshc binary runs")
}

// ------------------------------------------------------------------ shuffling

/// A 64-bit linear congruential generator (Knuth's MMIX constants): deterministic, tiny,
/// good enough to shuffle a handful of items.
pub struct Lcg(u64);

impl Lcg {
    pub fn new(seed: u64) -> Self {
        Lcg(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 11
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// Fisher–Yates.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

/// Every `Code` id.
pub fn all_code_ids() -> BTreeSet<String> {
    Code::ALL.iter().map(|c| c.id().to_string()).collect()
}

/// A scratch folder under the system's temporary folder, removed when dropped.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("meshc-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
        Scratch(dir)
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.0.join(rel)
    }

    pub fn write(&self, rel: &str, text: &str) -> PathBuf {
        let path = self.path(rel);
        if let Some(parent) = path.parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A YAML mapping of strings (labels, selectors) as a sorted map; anything else is empty.
pub fn string_map(value: &Value) -> std::collections::BTreeMap<String, String> {
    value
        .as_mapping()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.as_str()?.to_string(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// Every file under `dir` (links not followed), relative path with `/` → contents; a FIFO,
/// socket or device is listed as `(special)`, never opened.
pub fn files_under(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    fn walk(dir: &Path, prefix: &str, out: &mut std::collections::BTreeMap<String, Vec<u8>>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for entry in entries {
            let entry = entry.unwrap();
            let rel = format!("{prefix}{}", entry.file_name().to_string_lossy());
            let kind = entry.file_type().unwrap();
            if kind.is_dir() {
                walk(&entry.path(), &format!("{rel}/"), out);
            } else if kind.is_file() {
                out.insert(rel, std::fs::read(entry.path()).unwrap());
            } else {
                out.insert(rel, b"(special)".to_vec());
            }
        }
    }
    let mut out = std::collections::BTreeMap::new();
    walk(dir, "", &mut out);
    out
}
