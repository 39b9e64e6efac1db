//! `test`: runs traffic tests (`.traffic` files) against their mesh, or against existing
//! manifests (`--manifests PATH...`, read once as `meshc lint` reads them).

use std::path::{Path, PathBuf};

use meshc::traffic::{expect, Table};
use meshc::{diagnostic, Diagnostic, Source};

use super::args::Input;
use super::load::{self, Reach};
use super::report::{self, Notice};
use super::Status;

/// `meshc test PATH...`: PATH is a `.traffic` file, a `.mesh` file (the `.traffic` file of the
/// same name), or a folder (every `.traffic` file under it).
pub(crate) fn run(args: &Input, manifests: &[PathBuf]) -> Status {
    let manifests = if manifests.is_empty() {
        None
    } else {
        match super::traffic::load_manifests(manifests, args.message_format) {
            Ok(loaded) => Some(loaded),
            Err(status) => return status,
        }
    };
    let mut files = Vec::new();
    for path in &args.files {
        if let Err(why) = collect(path, &mut files) {
            return report::fail(&path.display().to_string(), &why, args.message_format);
        }
    }
    // One report for every file, so that `sarif` and `json` print one document: each
    // file's sources follow the previous files', and its spans move with them.
    let mut status = Status::Ok;
    let (mut total, mut failed) = (0, 0);
    let (mut sources, mut diagnostics, mut notices) = (Vec::new(), Vec::new(), Vec::new());
    for file in &files {
        let outcome = match &manifests {
            Some((sources, table)) => run_on_manifests(file, args, sources, table),
            None => run_file(file, args),
        };
        match outcome {
            Ok(outcome) => {
                total += outcome.count;
                failed += outcome.failures;
                if outcome.failures > 0 {
                    status = Status::InputErrors;
                }
                let base = sources.len();
                diagnostics.extend(outcome.diagnostics.into_iter().map(|d| rebase(d, base)));
                sources.extend(outcome.sources);
            }
            Err(notice) => {
                notices.push(notice);
                status = Status::Trouble;
            }
        }
    }
    let reported = report::report(&diagnostics, &notices, &sources, args.reporting());
    println!("{total} traffic expectations in {} files, {failed} failed", files.len());
    status.worst(reported)
}

/// A diagnostic whose sources now start at `base`.
fn rebase(mut d: Diagnostic, base: usize) -> Diagnostic {
    d.primary.span.source += base;
    for label in &mut d.secondary {
        label.span.source += base;
    }
    if let Some(fix) = &mut d.fix {
        fix.span.source += base;
    }
    d
}

/// What one `.traffic` file gave.
struct Outcome {
    count: usize,
    failures: usize,
    diagnostics: Vec<Diagnostic>,
    sources: Vec<Source>,
}

/// The `.traffic` files a path stands for.
fn collect(path: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    if path.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for entry in entries {
            let symlink = std::fs::symlink_metadata(&entry).is_ok_and(|m| m.file_type().is_symlink());
            if entry.is_dir() && !symlink {
                collect(&entry, out)?;
            } else if entry.extension().is_some_and(|e| e == "traffic") {
                out.push(entry);
            }
        }
        return Ok(());
    }
    if path.extension().is_some_and(|e| e == "mesh") {
        let traffic = path.with_extension("traffic");
        if !traffic.is_file() {
            return Err(format!(
                "no traffic tests for `{}`: `{}` does not exist",
                path.display(),
                traffic.display()
            ));
        }
        out.push(traffic);
        return Ok(());
    }
    out.push(path.to_path_buf());
    Ok(())
}

/// Reads one `.traffic` file: its source and expectations, and the problems of reading it.
fn read_tests(path: &Path) -> Result<(Source, expect::TestFile, Vec<Diagnostic>), Notice> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        let name = path.display().to_string();
        Notice::error(name.clone(), format!("cannot read `{name}`: {e}"))
    })?;
    let traffic = Source::new(path.display().to_string(), text);
    let (file, problems) = expect::parse(0, &traffic.text);
    Ok((traffic, file, problems))
}

/// Runs one file against the manifests' table: the number of expectations and of failures,
/// and what to report.
fn run_on_manifests(path: &Path, args: &Input, manifests: &[Source], table: &Table) -> Result<Outcome, Notice> {
    let (traffic, file, problems) = read_tests(path)?;
    let count = file.expectations.len() + problems.len();
    let id = manifests.len();
    let shift = |mut d: Diagnostic| {
        d.primary.span.source = id;
        d
    };
    let mut diagnostics: Vec<Diagnostic> = problems.into_iter().map(shift).collect();
    for e in &file.expectations {
        if let Some(d) = expect::check(table, e) {
            diagnostics.push(shift(d));
        }
    }
    diagnostic::sort(&mut diagnostics);
    let mut sources = manifests.to_vec();
    sources.push(traffic);
    let failures = diagnostics.iter().filter(|d| d.is_error()).count();
    let failed = failures > 0 || (args.deny_warnings && !diagnostics.is_empty());
    Ok(Outcome {
        count,
        failures: if failed { failures.max(1) } else { 0 },
        diagnostics,
        sources,
    })
}

/// Runs one file: the number of expectations and of failures, and what to report.
fn run_file(path: &Path, args: &Input) -> Result<Outcome, Notice> {
    let (traffic, file, mut problems) = read_tests(path)?;
    // Every line that tests something, read or not.
    let count = file.expectations.len() + problems.len();
    let mesh_path = match &file.mesh {
        Some((name, _)) => path.parent().unwrap_or(Path::new(".")).join(name),
        None => path.with_extension("mesh"),
    };
    let loaded = load::load(&[mesh_path], &args.vars_files, &args.vars, &Reach::Anywhere)
        .map_err(|why| Notice::error("", why))?;
    let mut sources = loaded.sources;
    let id = sources.len();
    // The test file's spans point past the mesh's sources.
    let shift = |mut d: Diagnostic| {
        d.primary.span.source = id;
        d
    };
    problems = problems.into_iter().map(shift).collect();
    let mut diagnostics = loaded.problems;
    if diagnostics.is_empty() {
        let (mesh, found) = meshc::analyze(&sources, &meshc::Options::default());
        let errors = found.iter().any(Diagnostic::is_error);
        diagnostics.extend(found.into_iter().filter(Diagnostic::is_error));
        if let (Some(mesh), false) = (mesh, errors) {
            let table = Table::from_mesh(&mesh);
            for e in &file.expectations {
                if let Some(d) = expect::check(&table, e) {
                    problems.push(shift(d));
                }
            }
        }
    }
    let failures = problems.len();
    diagnostics.extend(problems);
    diagnostic::sort(&mut diagnostics);
    sources.push(traffic);
    let failed = diagnostics.iter().any(Diagnostic::is_error) || (args.deny_warnings && !diagnostics.is_empty());
    Ok(Outcome {
        count,
        failures: if failed { failures.max(1) } else { 0 },
        diagnostics,
        sources,
    })
}
