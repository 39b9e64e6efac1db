//! Command-line arguments and the commands behind them: one module per subcommand.
//!
//! | module | does |
//! |---|---|
//! | `args` | the clap definitions of every subcommand and their shared options |
//! | `build` | `build`, `build --check`, `diff` and `check` |
//! | `post_render` | `post-render`: meshc as a Helm post-renderer |
//! | `krm` | `krm` and `kustomize-plugin`: meshc as a KRM function / kustomize generator |
//! | `fmt` | `fmt`: the canonical layout of `.mesh` files |
//! | `explain` | `explain`: the documentation of a diagnostic code |
//! | `dump` | `dump ast|model`: an intermediate stage, as JSON |
//! | `lint` | `lint`: the checks on existing Kubernetes and Istio manifests |
//! | `shell` | `completions` and `man` |
//! | `graph` | `graph`: the mesh as a Mermaid or DOT picture |
//! | `test` | `test`: traffic tests, `.traffic` files of expectations |
//! | `traffic` | `traffic`: where a request goes, hop by hop |
//! | `load` | reads the `.mesh` files, their imports and variables |
//! | `layout` | the files `build -o` writes: naming scheme, header, kustomization, Helm escaping |
//! | `output` | writes them atomically, removes stale ones, compares for `--check` |
//! | `report` | diagnostics as `human`, `json`, `github` or `sarif` |

mod args;
mod build;
mod dump;
mod explain;
mod fmt;
mod graph;
mod import;
mod krm;
mod layout;
mod lint;
mod load;
mod output;
mod post_render;
mod report;
mod shell;
mod test;
mod traffic;

pub(crate) use args::Args;
use args::{Command, Input};
use meshc::Source;

/// Exit statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    Ok = 0,
    InputErrors = 1,
    Trouble = 2,
}

pub(crate) fn run(args: Args) -> Status {
    let Some(command) = args.command else {
        return krm::run(krm::Invocation::Bare);
    };
    match command {
        Command::Build {
            input,
            target,
            out,
            check,
        } => build::run(&input, &target, out.output.as_deref(), out.helm, check),
        Command::Diff {
            input,
            target,
            output,
            helm,
        } => build::run(&input, &target, Some(&output), helm, true),
        Command::Check { input, target } => build::run(&input, &target, None, false, true),
        Command::PostRender { input, target } => post_render::run(&input, &target),
        Command::Krm => krm::run(krm::Invocation::Explicit),
        Command::KustomizePlugin { config } => krm::plugin(&config),
        Command::Explain { code } => explain::run(code.as_deref()),
        Command::Fmt { files, check } => fmt::run(&files, check),
        Command::Dump { stage, input, target } => dump::run(stage, &input, &target),
        Command::Completions { shell } => shell::completions(shell),
        Command::Man => shell::man(),
        Command::Lint { paths, message_format } => lint::run(&paths, message_format),
        Command::Import { paths, output } => import::run(&paths, output.as_deref()),
        Command::Graph { input, target, format } => graph::run(&input, &target, format),
        Command::Test { input } => test::run(&input),
        Command::Traffic {
            input,
            target,
            request,
            format,
        } => traffic::run(&input, &target, &request, format),
    }
}

pub(crate) fn finish(written: std::io::Result<()>) -> Status {
    match written {
        Ok(()) => Status::Ok,
        Err(e) => {
            eprintln!("meshc: cannot write the output: {e}");
            Status::Trouble
        }
    }
}

/// Compiles the input; on failure reports and returns the status to exit with.
pub(crate) fn compile(input: &Input, options: &meshc::Options) -> Result<(Vec<Source>, meshc::Output), Status> {
    let (sources, unreadable) = input.load()?;
    if !unreadable.is_empty() {
        report::report(&unreadable, &[], &sources, input.message_format);
        return Err(Status::InputErrors);
    }
    match meshc::compile(&sources, options) {
        Ok(output) => Ok((sources, output)),
        Err(failure) => {
            report::report(&failure.diagnostics, &[], &sources, input.message_format);
            Err(Status::InputErrors)
        }
    }
}
