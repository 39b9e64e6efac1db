//! `build`, `build --check`, `diff` and `check`.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::args::{Input, Target};
use super::output::{self, Destination, Difference, Drift};
use super::report::{self, MessageFormat, Notice};
use super::{compile, finish, layout, Status};

/// `build`, `build --check`, `diff` and `check` (`check`: no output and no `-o`).
pub(crate) fn run(input: &Input, target: &Target, output: Option<&Path>, helm: bool, check: bool) -> Status {
    let destination = output.map(Destination::of);
    if destination.is_none() && !helm {
        // `check` writes as `build` does, into nothing: it passes exactly when `build` would.
        return if check {
            build_to(input, &target.options(), &mut std::io::sink())
        } else {
            let mut stdout = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
            build_to(input, &target.options(), &mut stdout)
        };
    }
    let mut options = target.options();
    // The VMs' files go only into an output folder (never to stdout, a FILE.yaml or a chart).
    options.vm_files = !helm && matches!(destination, Some(Destination::Dir(_)));
    let (sources, compiled) = match compile(input, &options) {
        Ok(compiled) => compiled,
        Err(status) => return status,
    };
    let names: Vec<&str> = sources.iter().map(|s| s.name.as_str()).collect();
    // Named relative to the output folder, so that no spelling of a path and no working
    // directory changes the output (only `-o` writes a header).
    let header = match &destination {
        Some(destination) => layout::header(&output::source_names(&names, &destination.folder()), helm),
        None => String::new(),
    };
    let mut notices = Vec::new();
    let status = match (&destination, check) {
        (None, true) => Status::Ok,
        (None, false) => {
            let text = layout::helm_escape(&compiled.to_yaml());
            let mut stdout = std::io::stdout().lock();
            finish(stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()))
        }
        (Some(destination), _) => {
            let result = if check {
                check_output(
                    destination,
                    &compiled,
                    &header,
                    helm,
                    &mut notices,
                    &input.files,
                    input.message_format,
                )
            } else {
                write_output(
                    destination,
                    &compiled,
                    &header,
                    helm,
                    &mut notices,
                    input.message_format,
                )
            };
            match result {
                Ok(status) => status,
                Err(message) => {
                    let path = output.map(|p| p.display().to_string()).unwrap_or_default();
                    notices.push(Notice::error(path, message));
                    report::report(&compiled.warnings, &notices, &sources, input.reporting());
                    return Status::Trouble;
                }
            }
        }
    };
    let reported = report::report(&compiled.warnings, &notices, &sources, input.reporting());
    // The process ends next: the OS takes the memory back at once, freeing the documents one
    // by one would only cost time.
    std::mem::forget((sources, compiled));
    status.worst(reported)
}

/// `build` to stdout (and `check`, into nothing): each document goes out as the library
/// writes it, and no [`meshc::Document`] is made or kept (a large mesh needs less memory).
fn build_to(input: &Input, options: &meshc::Options, out: &mut dyn Write) -> Status {
    let sources = match super::load(input) {
        Ok(sources) => sources,
        Err(status) => return status,
    };
    let (warnings, status) = match meshc::compile_to(&sources, options, out) {
        Ok((warnings, written)) => (warnings, finish(written)),
        Err(failure) => (failure.diagnostics, Status::InputErrors),
    };
    let reported = report::report(&warnings, &[], &sources, input.reporting());
    status.worst(reported)
}

fn write_output(
    destination: &Destination,
    compiled: &meshc::Output,
    header: &str,
    helm: bool,
    notices: &mut Vec<Notice>,
    format: MessageFormat,
) -> Result<Status, String> {
    match destination {
        Destination::Dir(dir) => {
            let mut files = layout::plan_dir(&compiled.documents, header, helm)?;
            // Empty unless this is a folder without --helm (`options.vm_files`).
            layout::add_vm_files(&mut files, &compiled.files, header)?;
            let changes = output::write_dir(dir, &files, notices)?;
            if format == MessageFormat::Human {
                for path in &changes.removed {
                    notices.push(Notice::note(
                        path.display().to_string(),
                        format!("removed {}", path.display()),
                    ));
                }
                notices.push(Notice::note(
                    dir.display().to_string(),
                    format!(
                        "{}: {} written, {} unchanged, {} stale removed",
                        dir.display(),
                        changes.written,
                        changes.unchanged,
                        changes.removed.len()
                    ),
                ));
            }
        }
        Destination::File(path) => {
            let text = layout::plan_file(&compiled.to_yaml(), header, helm);
            let changed = output::write_file(path, &text)?;
            if format == MessageFormat::Human {
                let what = if changed { "written" } else { "unchanged" };
                notices.push(Notice::note(
                    path.display().to_string(),
                    format!("{}: {what}", path.display()),
                ));
            }
        }
    }
    Ok(Status::Ok)
}

fn check_output(
    destination: &Destination,
    compiled: &meshc::Output,
    header: &str,
    helm: bool,
    notices: &mut Vec<Notice>,
    inputs: &[PathBuf],
    format: MessageFormat,
) -> Result<Status, String> {
    let (target, differences) = match destination {
        Destination::Dir(dir) => {
            let mut files = layout::plan_dir(&compiled.documents, header, helm)?;
            // Empty unless this is a folder without --helm (`options.vm_files`).
            layout::add_vm_files(&mut files, &compiled.files, header)?;
            (dir, output::check_dir(dir, &files, notices)?)
        }
        Destination::File(path) => {
            let text = layout::plan_file(&compiled.to_yaml(), header, helm);
            (path, output::check_file(path, &text)?.into_iter().collect())
        }
    };
    if differences.is_empty() {
        return Ok(Status::Ok);
    }
    let mut stdout = std::io::stdout().lock();
    for difference in &differences {
        stdout
            .write_all(difference.diff.as_bytes())
            .map_err(|e| format!("cannot write the output: {e}"))?;
    }
    stdout.flush().map_err(|e| format!("cannot write the output: {e}"))?;
    // Each file as a finding in the CI formats; in `human` the diff on stdout says it, and
    // the files to be removed are named.
    let path_of = |difference: &Difference| match destination {
        Destination::Dir(dir) => dir.join(&difference.path).display().to_string(),
        Destination::File(path) => path.display().to_string(),
    };
    for difference in &differences {
        let path = path_of(difference);
        if format != MessageFormat::Human {
            let message = match difference.drift {
                Drift::Changed => format!("{path} differs from what the mesh produces"),
                Drift::Missing => format!("{path} is missing: the mesh produces it"),
                Drift::Stale => format!("{path} is stale: the mesh no longer produces it (a build removes it)"),
            };
            notices.push(Notice {
                out_of_date: true,
                ..Notice::error(path, message)
            });
        } else if difference.drift == Drift::Stale && matches!(destination, Destination::Dir(_)) {
            notices.push(Notice::note(path.clone(), format!("would remove {path}")));
        }
    }
    let count = |drift: Drift| differences.iter().filter(|d| d.drift == drift).count();
    let inputs: Vec<String> = inputs.iter().map(|p| p.display().to_string()).collect();
    let summary = format!(
        "{} is out of date: {} changed, {} missing, {} stale; run `meshc build{} -o {} {}` to update it",
        target.display(),
        count(Drift::Changed),
        count(Drift::Missing),
        count(Drift::Stale),
        if helm { " --helm" } else { "" },
        target.display(),
        inputs.join(" ")
    );
    notices.push(Notice::note(target.display().to_string(), summary));
    Ok(Status::InputErrors)
}
