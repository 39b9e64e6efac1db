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
//! | `lsp` | `lsp`: the language server, over stdio |
//! | `shell` | `completions` and `man` |
//! | `graph` | `graph`: the mesh as a Mermaid or DOT picture |
//! | `test` | `test`: traffic tests, `.traffic` files of expectations |
//! | `traffic` | `traffic`: where a request goes, hop by hop |
//! | `load` | reads the `.mesh` files, their imports and variables |
//! | `layout` | the files `build -o` writes: naming scheme, header, kustomization, Helm escaping |
//! | `output` | writes them atomically, removes stale ones, compares for `--check` |
//! | `report` | diagnostics and the CLI's own messages as `human`, `json`, `github` or `sarif` |
//! | `color` | colours and ASCII for `human` diagnostics on a terminal |

/// A `meshc: …` line on stderr, for the commands without `--message-format`; text from the
/// input in it is escaped (see [`report::say`]).
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::cli::report::say(&format!($($arg)*))
    };
}

mod args;
mod build;
mod color;
mod dump;
mod explain;
mod fmt;
mod graph;
mod import;
mod krm;
mod layout;
mod lint;
mod load;
mod lsp;
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
    color::init(args.color);
    if let Some(reporting) = args.command.as_ref().and_then(Command::reporting) {
        report::set_format(reporting.format);
    }
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
        Command::Man { dir } => shell::man(dir.as_deref()),
        Command::Lint {
            paths,
            message_format,
            deny_warnings,
        } => lint::run(
            &paths,
            report::Reporting {
                format: message_format,
                deny_warnings,
            },
        ),
        Command::Lsp {
            target,
            vars,
            vars_files,
        } => lsp::run(target.options(), &vars_files, &vars),
        Command::Import { paths, output } => import::run(&paths, output.as_deref()),
        Command::Graph { input, target, format } => graph::run(&input, &target, format),
        Command::Test { input, manifests } => test::run(&input, &manifests),
        Command::Traffic {
            input,
            target,
            request,
            format,
        } => traffic::run(&input, &target, &request, format),
    }
}

/// Reports a usage error in the `--message-format` the command line asks for, when it asks
/// for `json`, `github` or `sarif`; `false` (nothing printed) otherwise.
pub(crate) fn usage_error(error: &clap::Error) -> bool {
    let args: Vec<String> = std::env::args().collect();
    let named = args
        .iter()
        .enumerate()
        .find_map(|(i, arg)| match arg.strip_prefix("--message-format") {
            Some("") => args.get(i + 1).map(String::as_str),
            Some(value) => value.strip_prefix('='),
            None => None,
        });
    let Some(format) = named.and_then(|f| <report::MessageFormat as clap::ValueEnum>::from_str(f, false).ok()) else {
        return false;
    };
    if format == report::MessageFormat::Human {
        return false;
    }
    let text = error.render().to_string();
    let first = text.lines().next().unwrap_or("a usage error");
    let message = first.strip_prefix("error: ").unwrap_or(first);
    report::fail("", &format!("{message} (see `meshc --help`)"), format);
    true
}

pub(crate) fn finish(written: std::io::Result<()>) -> Status {
    match written {
        Ok(()) => Status::Ok,
        Err(e) => {
            say!("cannot write the output: {e}");
            Status::Trouble
        }
    }
}

impl Status {
    /// The worse of two outcomes.
    pub(crate) fn worst(self, other: Status) -> Status {
        if (other as u8) > (self as u8) {
            other
        } else {
            self
        }
    }
}

/// Reads the input's files; when one cannot be read (an import, a folder entry), reports it
/// and returns the status to exit with.
pub(crate) fn load(input: &Input) -> Result<Vec<Source>, Status> {
    let (sources, unreadable) = input.load()?;
    if !unreadable.is_empty() {
        report::report(&unreadable, &[], &sources, input.reporting());
        return Err(Status::InputErrors);
    }
    Ok(sources)
}

/// Compiles the input; on failure reports and returns the status to exit with.
pub(crate) fn compile(input: &Input, options: &meshc::Options) -> Result<(Vec<Source>, meshc::Output), Status> {
    let sources = load(input)?;
    match meshc::compile(&sources, options) {
        Ok(output) => Ok((sources, output)),
        Err(failure) => {
            report::report(&failure.diagnostics, &[], &sources, input.reporting());
            Err(Status::InputErrors)
        }
    }
}
