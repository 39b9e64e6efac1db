//! `meshc lint PATH...`: the checks that apply to existing Kubernetes and Istio manifests.
//!
//! Reads files, folders (every `*.yaml` and `*.yml` under them, in name order) and `-`
//! (stdin, e.g. `kubectl kustomize . | meshc lint -`), each as a stream of YAML documents,
//! and reports with the compiler's codes at the file, line and column of the offending
//! node. Exit status: 0 clean (warnings allowed, unless `--deny-warnings`), 1 errors, 2 usage
//! or I/O trouble.

use std::path::{Path, PathBuf};

use meshc::Source;

use super::load::{self, Reach};
use super::report::{self, Reporting};
use super::Status;

pub(crate) fn run(paths: &[PathBuf], reporting: Reporting) -> Status {
    let sources = match read(paths) {
        Ok(sources) => sources,
        Err((path, message)) => return report::fail(&path, &message, reporting.format),
    };
    let (_, mut diagnostics) = meshc::manifests::lint(&sources);
    // `# meshc: allow CODE -- reason` comments, as in .mesh files.
    meshc::suppress::apply_yaml(&sources, &mut diagnostics);
    meshc::diagnostic::sort(&mut diagnostics);
    report::report(&diagnostics, &[], &sources, reporting)
}

/// Every file named, or found under a folder named, as one source; stdin once, as `-`.
/// An error names the path it is about.
pub(crate) fn read(paths: &[PathBuf]) -> Result<Vec<Source>, (String, String)> {
    let mut files = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            files.push(path.clone());
        } else if path.is_dir() {
            let before = files.len();
            load::files_under(path, &["yaml", "yml"], &mut files, &Reach::Anywhere)
                .map_err(|e| format!("cannot read directory {}: {e}", path.display()))
                .map_err(about(path))?;
            if files.len() == before {
                return Err(about(path)(format!("no .yaml or .yml file under {}", path.display())));
            }
        } else {
            files.push(path.clone());
        }
    }
    let mut sources = Vec::new();
    let mut stdin_read = false;
    for path in files {
        let (name, bytes) = if path.as_os_str() == "-" {
            if std::mem::replace(&mut stdin_read, true) {
                continue;
            }
            ("-".to_string(), load::read_stdin("stdin").map_err(about(&path))?)
        } else {
            let bytes = load::read_regular(&path)
                .map_err(|why| format!("cannot read {}: {why}", path.display()))
                .map_err(about(&path))?;
            (display(&path), bytes)
        };
        let text = String::from_utf8(bytes).map_err(|_| (name.clone(), format!("{name} is not UTF-8")))?;
        sources.push(Source::new(name, text));
    }
    Ok(sources)
}

/// Pairs an error message with the path it is about.
fn about(path: &Path) -> impl Fn(String) -> (String, String) {
    let name = display(path);
    move |message| (name.clone(), message)
}

fn display(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}
