//! `meshc krm`: meshc as a KRM function (a kustomize exec generator).
//!
//! Reads a `ResourceList` on stdin and writes it back on stdout with meshc's manifests
//! appended to `items` (the items it had are kept, in order). kustomize runs exec
//! functions without arguments, so `meshc` run with no arguments and a non-terminal stdin
//! does the same as `meshc krm`.
//!
//! The mesh comes from the `functionConfig`, in either (or both) of two shapes:
//!
//! ```yaml
//! # ConfigMap style: the .mesh text inline (it cannot `import` other files)
//! apiVersion: v1
//! kind: ConfigMap
//! metadata:
//!   name: mesh
//!   annotations:
//!     config.kubernetes.io/function: |
//!       exec:
//!         path: /usr/local/bin/meshc
//! data:
//!   mesh: |
//!     namespace shop { ... }
//!   vars: |                  # optional, NAME=VALUE lines
//!     REGISTRY=registry.example.com
//!   api: v1                  # optional: v1, v1beta1 or v1alpha3
//!   clusterDomain: cluster.local   # optional
//!   sidecars: "true"         # optional, as --sidecars
//! ---
//! # Resource style: .mesh files (or folders) relative to the function's working
//! # directory, which kustomize sets to the kustomization's folder
//! apiVersion: meshc.dev/v1alpha1
//! kind: MeshGenerator
//! metadata:
//!   name: mesh
//!   annotations:
//!     config.kubernetes.io/function: |
//!       exec:
//!         path: /usr/local/bin/meshc
//! spec:
//!   files: [mesh/app.mesh]
//!   vars: {REGISTRY: registry.example.com}   # optional
//!   api: v1                                   # optional
//!   clusterDomain: cluster.local              # optional
//!   sidecars: true                            # optional, as --sidecars
//! ```
//!
//! Files are read the way kustomize's load restrictor lets a kustomization read them: only
//! `.mesh` files under the working directory (the kustomization's folder), with `..` and
//! symlinks resolved; an absolute path or one that leads outside is refused, and no other
//! file's text can reach a message. Inline `data.mesh` cannot import.
//!
//! The output is YAML: the existing items, `functionConfig` and `results` are written as
//! JSON (a subset of YAML, so no value can change type on the way), meshc's own items as
//! meshc writes YAML. Problems in the mesh become `results` entries (severity, message
//! with `file:line:col` and code, `file.path`, `tags.code`), are also rendered on stderr,
//! and make the exit status 1; an input that is not a ResourceList exits with 2.

use std::io::{IsTerminal as _, Write as _};
use std::path::PathBuf;

use meshc::emit::yaml::{parse_one, Value};
use meshc::source::Locator;
use meshc::{ApiVersion, Diagnostic, Options, Severity, Source};
use serde_json::{json, Value as Json};

use super::report;
use super::{load, Status};

/// How `meshc krm` was reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Invocation {
    /// `meshc krm`.
    Explicit,
    /// `meshc` with no arguments: a KRM function only if stdin brings something.
    Bare,
}

/// Runs the function. With [`Invocation::Bare`], a terminal or empty stdin means the user
/// ran `meshc` alone: that prints the usage error instead.
pub(crate) fn run(invocation: Invocation) -> Status {
    let stdin = std::io::stdin();
    if invocation == Invocation::Bare && stdin.is_terminal() {
        return missing_command();
    }
    let bytes = match load::read_stdin("the ResourceList on stdin") {
        Ok(bytes) => bytes,
        Err(why) => {
            say!("{why}");
            return Status::Trouble;
        }
    };
    let Ok(text) = String::from_utf8(bytes) else {
        say!("the ResourceList on stdin is not UTF-8");
        return Status::Trouble;
    };
    if invocation == Invocation::Bare && text.trim().is_empty() {
        return missing_command();
    }
    let list: Value = match read_yaml(&text) {
        Ok(list) => list,
        Err(e) => {
            say!("stdin is not a YAML ResourceList: {e}");
            return Status::Trouble;
        }
    };
    if list.get("kind").and_then(Value::as_str) != Some("ResourceList") {
        say!("stdin is not a ResourceList (its kind is not ResourceList)");
        return Status::Trouble;
    }
    let (out, status) = match respond(&list, Channel::Krm) {
        Ok(answer) => answer,
        Err(message) => {
            say!("{message}");
            return Status::Trouble;
        }
    };
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout.write_all(out.as_bytes()).and_then(|()| stdout.flush()) {
        say!("cannot write the output: {e}");
        return Status::Trouble;
    }
    status
}

/// `meshc kustomize-plugin CONFIG`: kustomize's exec generator plugins (run by
/// `kustomize build --enable-alpha-plugins`, which `kubectl kustomize` supports) get the path
/// of their configuration file and print manifests. The configuration takes the same
/// `spec`/`data` settings as the KRM function's functionConfig.
pub(crate) fn plugin(config: &std::path::Path) -> Status {
    let say = Channel::Kustomize;
    let text = match load::read_regular(config).map(String::from_utf8) {
        Ok(Ok(text)) => text,
        Ok(Err(_)) => {
            say.line(&format!(
                "meshc: the plugin configuration {} is not UTF-8",
                config.display()
            ));
            return Status::Trouble;
        }
        Err(why) => {
            say.line(&format!(
                "meshc: cannot read the plugin configuration {}: {why}",
                config.display()
            ));
            return Status::Trouble;
        }
    };
    let value: Value = match read_yaml(&text) {
        Ok(value) => value,
        Err(e) => {
            say.line(&format!("meshc: the plugin configuration is not YAML: {e}"));
            return Status::Trouble;
        }
    };
    match generate(&value, say) {
        Ok((documents, _)) => match super::output::write_documents(&documents) {
            Ok(()) => Status::Ok,
            Err(e) => {
                say.line(&format!("meshc: cannot write the output: {e}"));
                Status::Trouble
            }
        },
        // Everything is already on stderr, where kustomize shows it.
        Err(_) => Status::InputErrors,
    }
}

/// Where meshc's stderr goes, and how it must be written to arrive as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Channel {
    /// A KRM function: stderr is shown as it is.
    Krm,
    /// A kustomize exec plugin: kustomize puts the plugin's stderr into an error message
    /// that it then formats again as a Go format string (with no arguments), so a `%`
    /// would come out as `%!,(MISSING)`. Writing each `%` as `%%` makes it arrive intact.
    Kustomize,
}

impl Channel {
    fn write(self, text: &str) {
        if text.is_empty() {
            return;
        }
        let text = match self {
            Channel::Krm => std::borrow::Cow::Borrowed(text),
            Channel::Kustomize => std::borrow::Cow::Owned(text.replace('%', "%%")),
        };
        let mut stderr = std::io::stderr().lock();
        let _ = stderr.write_all(text.as_bytes());
        let _ = stderr.flush();
    }

    fn line(self, text: &str) {
        self.write(&format!("{text}\n"));
    }

    fn report(self, diagnostics: &[Diagnostic], sources: &[Source]) {
        self.write(&report::plain(diagnostics, sources));
    }
}

/// The deepest nesting of flow collections (`[`, `{`) accepted on input.
const MAX_FLOW_DEPTH: usize = 256;

/// The widest run of indentation and block indicators (` `, `-`, `?`, `:`) that may lead
/// a line, which bounds the nesting of block collections.
const MAX_INDENT: usize = 4096;

/// Reads one YAML document after checking, in one pass, that its nesting stays within
/// [`MAX_FLOW_DEPTH`] and [`MAX_INDENT`]: deeply nested input costs the YAML reader time
/// that grows faster than the input, so it is refused before the reader sees it.
fn read_yaml(text: &str) -> Result<Value, String> {
    let mut depth = 0usize;
    let mut line_start = true;
    let mut lead = 0usize;
    let mut quote: Option<u8> = None;
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        i += 1;
        if b == b'\n' {
            line_start = true;
            lead = 0;
            continue;
        }
        if line_start {
            if matches!(b, b' ' | b'-' | b'?' | b':') {
                lead += 1;
                if lead > MAX_INDENT {
                    return Err(format!("it is nested deeper than {MAX_INDENT} columns of indentation"));
                }
                continue;
            }
            line_start = false;
        }
        match (quote, b) {
            (Some(b'"'), b'\\') => i += 1,
            (Some(q), _) if b == q => quote = None,
            (Some(_), _) => {}
            (None, b'"' | b'\'') => quote = Some(b),
            (None, b'#') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            (None, b'[' | b'{') => {
                depth += 1;
                if depth > MAX_FLOW_DEPTH {
                    return Err(format!("it nests `[` and `{{` deeper than {MAX_FLOW_DEPTH} levels"));
                }
            }
            (None, b']' | b'}') => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    parse_one(text)
}

fn missing_command() -> Status {
    let mut command = <super::Args as clap::CommandFactory>::command();
    let _ = command
        .error(
            clap::error::ErrorKind::MissingSubcommand,
            "a command is required (or, as a KRM function, a ResourceList on stdin)",
        )
        .print();
    Status::Trouble
}

/// What the function config asks for.
#[derive(Debug, Default)]
struct Config {
    inline: Option<String>,
    files: Vec<PathBuf>,
    vars: Vec<String>,
    vars_text: Option<String>,
    options: Options,
}

fn string_at<'a>(value: &'a Value, section: &str, key: &str) -> Option<&'a str> {
    value.get(section)?.get(key)?.as_str()
}

/// Reads the function config; problems are messages for `results`.
fn config(function_config: &Value) -> Result<Config, String> {
    let mut config = Config::default();
    // A ResourceList carries Kubernetes objects only: the VMs' files are not planned.
    config.options.vm_files = false;
    let setting = |key: &str| string_at(function_config, "data", key).or(string_at(function_config, "spec", key));
    config.inline = string_at(function_config, "data", "mesh").map(str::to_string);
    if let Some(files) = function_config.get("spec").and_then(|s| s.get("files")) {
        let files = files
            .as_sequence()
            .ok_or("functionConfig spec.files must be a list of paths")?;
        for file in files {
            let file = file
                .as_str()
                .ok_or("functionConfig spec.files must be a list of paths")?;
            config.files.push(PathBuf::from(file));
        }
    }
    if config.inline.is_none() && config.files.is_empty() {
        return Err(
            "the functionConfig names no mesh: set data.mesh (the .mesh text) or spec.files (.mesh paths)".into(),
        );
    }
    config.vars_text = string_at(function_config, "data", "vars").map(str::to_string);
    if let Some(vars) = function_config.get("spec").and_then(|s| s.get("vars")) {
        let vars = vars
            .as_mapping()
            .ok_or("functionConfig spec.vars must map names to values")?;
        for (name, value) in vars {
            let (Some(name), Some(value)) = (name.as_str(), scalar(value)) else {
                return Err("functionConfig spec.vars must map names to string values".into());
            };
            config.vars.push(format!("{name}={value}"));
        }
    }
    if let Some(api) = setting("api") {
        config.options.api = match api {
            "v1" => ApiVersion::V1,
            "v1beta1" => ApiVersion::V1beta1,
            "v1alpha3" => ApiVersion::V1alpha3,
            other => {
                return Err(format!(
                    "unknown api `{other}` in the functionConfig: use v1, v1beta1 or v1alpha3"
                ))
            }
        };
    }
    if let Some(domain) = setting("clusterDomain") {
        config.options.cluster_domain = domain.to_string();
    }
    let sidecars = ["data", "spec"]
        .iter()
        .find_map(|section| function_config.get(*section)?.get("sidecars").and_then(scalar));
    if let Some(sidecars) = sidecars {
        config.options.sidecars = match sidecars.as_str() {
            "true" => true,
            "false" => false,
            other => return Err(format!("sidecars must be true or false, not `{other}`")),
        };
    }
    Ok(config)
}

fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The output ResourceList and exit status for an input list.
fn respond(list: &Value, say: Channel) -> Result<(String, Status), String> {
    let items: Vec<Value> = match list.get("items") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Sequence(items)) => items.clone(),
        Some(_) => return Err("the ResourceList's items is not a list".to_string()),
    };
    let function_config = list.get("functionConfig").cloned().unwrap_or(Value::Null);
    let api_version = list
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("config.kubernetes.io/v1")
        .to_string();
    let (documents, results, failed) = match generate(&function_config, say) {
        Ok((documents, results)) => (documents, results, false),
        Err(results) => (Vec::new(), results, true),
    };
    let mut out = format!("apiVersion: {}\nkind: ResourceList\n", Json::String(api_version));
    if items.is_empty() && documents.is_empty() {
        out.push_str("items: []\n");
    } else {
        out.push_str("items:\n");
    }
    for item in &items {
        out.push_str(&format!("- {}\n", to_json(item)?));
    }
    for doc in &documents {
        for (i, line) in doc.yaml.lines().enumerate() {
            out.push_str(if i == 0 { "- " } else { "  " });
            out.push_str(line);
            out.push('\n');
        }
    }
    if !function_config.is_null() {
        out.push_str(&format!("functionConfig: {}\n", to_json(&function_config)?));
    }
    if !results.is_empty() {
        out.push_str("results:\n");
        for result in &results {
            out.push_str(&format!("- {result}\n"));
        }
    }
    Ok((out, if failed { Status::InputErrors } else { Status::Ok }))
}

fn to_json(value: &Value) -> Result<String, String> {
    serde_json::to_string(value).map_err(|e| format!("cannot write an item of the ResourceList: {e}"))
}

fn error_result(message: impl Into<String>) -> Json {
    json!({ "message": message.into(), "severity": "error" })
}

/// meshc's documents and the warning results, or the error results. Files are read only
/// under the working directory, which kustomize sets to the kustomization's folder.
/// Problems that are not diagnostics (the configuration, spec.files) are written on stderr
/// too, as `meshc:` lines.
#[allow(clippy::type_complexity)]
fn generate(function_config: &Value, say: Channel) -> Result<(Vec<meshc::Document>, Vec<Json>), Vec<Json>> {
    generate_quietly(function_config, say).inspect_err(|results| {
        for result in results.iter().filter(|r| r.get("tags").is_none()) {
            if let Some(message) = result.get("message").and_then(Json::as_str) {
                say.line(&format!("meshc: {message}"));
            }
        }
    })
}

#[allow(clippy::type_complexity)]
fn generate_quietly(function_config: &Value, say: Channel) -> Result<(Vec<meshc::Document>, Vec<Json>), Vec<Json>> {
    let config = config(function_config).map_err(|m| vec![error_result(m)])?;
    let root = std::env::current_dir()
        .and_then(std::fs::canonicalize)
        .map_err(|e| vec![error_result(format!("cannot find the working directory: {e}"))])?;
    let mut refused = Vec::new();
    for file in &config.files {
        // `..` that climbs above the folder, before anything is looked up there.
        let mut depth = 0i64;
        let climbs = file.components().any(|c| {
            depth += match c {
                std::path::Component::ParentDir => -1,
                std::path::Component::Normal(_) => 1,
                _ => 0,
            };
            depth < 0
        });
        if file.is_absolute() {
            refused.push(error_result(format!(
                "spec.files: `{}` is an absolute path; name files relative to the kustomization's folder",
                file.display()
            )));
        } else if climbs {
            refused.push(error_result(format!(
                "spec.files: `{}` is outside the kustomization's folder {} (`..` climbs out of it)",
                file.display(),
                root.display()
            )));
        } else if !root.join(file).exists() {
            refused.push(error_result(format!(
                "spec.files: {} not found (relative to {})",
                file.display(),
                root.display()
            )));
        } else if std::fs::canonicalize(root.join(file)).map_or(true, |real| !real.starts_with(&root)) {
            refused.push(error_result(format!(
                "spec.files: `{}` is outside the kustomization's folder {} (symlinks and `..` resolved)",
                file.display(),
                root.display()
            )));
        }
    }
    if !refused.is_empty() {
        return Err(refused);
    }
    let loaded = load::load(&config.files, &[], &config.vars, &load::Reach::Under(root))
        .map_err(|why| vec![error_result(format!("spec.files: {why}"))])?;
    let mut sources = loaded.sources;
    let mut problems = loaded.problems;
    if let Some(text) = &config.inline {
        let id = sources.len();
        sources.push(Source::new("functionConfig data.mesh", text.clone()));
        // Inline text has no folder to import from: say so at each import.
        let (imports, mut found) = meshc::syntax::imports(id, &sources[id].text);
        problems.append(&mut found);
        for import in imports {
            problems.push(
                Diagnostic::error(
                    meshc::Code::ImportNotFound,
                    import.span,
                    format!("`{}` cannot be imported from functionConfig data.mesh", import.value),
                )
                .label("inline text cannot import")
                .help("name the .mesh files in spec.files instead, or put the imported text into data.mesh"),
            );
        }
    }
    if let Some(text) = &config.vars_text {
        sources.push(Source::vars("functionConfig data.vars", text.clone()));
    }
    if !problems.is_empty() {
        say.report(&problems, &sources);
        return Err(results(&problems, &sources));
    }
    match meshc::compile(&sources, &config.options) {
        Ok(output) => {
            say.report(&output.warnings, &sources);
            Ok((output.documents, results(&output.warnings, &sources)))
        }
        Err(failure) => {
            say.report(&failure.diagnostics, &sources);
            Err(results(&failure.diagnostics, &sources))
        }
    }
}

/// Diagnostics as KRM `results` entries.
fn results(diagnostics: &[Diagnostic], sources: &[Source]) -> Vec<Json> {
    let locator = Locator::new(sources);
    diagnostics
        .iter()
        .map(|d| {
            let at = locator.locate(d.primary.span).map(|l| (l.file, l.line, l.column));
            let mut message = match at {
                Some((file, line, column)) => format!("{file}:{line}:{column}: "),
                None => String::new(),
            };
            message.push_str(&format!("{} {}: {}", d.code.id(), d.code.name(), d.message));
            if let Some(help) = &d.help {
                message.push_str(&format!(" (help: {help})"));
            }
            let mut result = json!({
                "message": message,
                "severity": if d.severity == Severity::Error { "error" } else { "warning" },
                "tags": { "code": d.code.id() },
            });
            if let Some((file, _, _)) = at {
                result["file"] = json!({ "path": file });
            }
            result
        })
        .collect()
}
