//! Command-line arguments and the commands behind them.

mod load;

use std::io::Write as _;
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use meshc::{codes::Code, diagnostic, ApiVersion, Diagnostic, Options, Source};

/// Exit statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    Ok = 0,
    InputErrors = 1,
    Trouble = 2,
}

#[derive(Parser, Debug)]
#[command(
    name = "meshc",
    version,
    about = "Compile a .mesh topology into Istio and Kubernetes manifests"
)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Compile .mesh files and print the manifests as multi-document YAML
    Build {
        #[command(flatten)]
        input: Input,
        #[command(flatten)]
        target: Target,
    },
    /// Check .mesh files without writing anything
    Check {
        #[command(flatten)]
        input: Input,
        #[command(flatten)]
        target: Target,
    },
    /// Print the documentation of a diagnostic code (e.g. `meshc explain M3011`)
    Explain {
        /// A code such as M3011, or its name such as label-mismatch; omit to list all codes
        code: Option<String>,
    },
    /// Print an intermediate stage, for debugging meshc or a .mesh file
    Dump {
        /// The stage to print
        #[arg(value_enum)]
        stage: Stage,
        #[command(flatten)]
        input: Input,
        #[command(flatten)]
        target: Target,
    },
}

#[derive(clap::Args, Debug)]
struct Input {
    /// The .mesh files to compile together; a directory stands for every .mesh file under it
    #[arg(required = true, value_name = "PATH")]
    files: Vec<PathBuf>,
    /// Define a variable used as ${NAME} in the .mesh files (repeatable; overrides --vars)
    #[arg(long = "var", value_name = "NAME=VALUE")]
    vars: Vec<String>,
    /// Read variables from a file of NAME=VALUE lines (repeatable; later files win)
    #[arg(long = "vars", value_name = "FILE")]
    vars_files: Vec<PathBuf>,
    /// How to print diagnostics
    #[arg(long, value_enum, default_value_t = MessageFormat::Human)]
    message_format: MessageFormat,
}

#[derive(clap::Args, Debug)]
struct Target {
    /// The Istio API version to write: v1 (Istio 1.22+), v1beta1, or v1alpha3 (older meshes)
    #[arg(long, value_enum, default_value_t = Api::V1)]
    api: Api,
    /// The cluster's DNS domain, used in service addresses
    #[arg(long, default_value = "cluster.local", value_name = "DOMAIN")]
    cluster_domain: String,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Api {
    V1,
    V1beta1,
    V1alpha3,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum MessageFormat {
    /// Annotated source excerpts
    Human,
    /// A JSON array of diagnostics
    Json,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    /// The syntax tree of each file
    Ast,
    /// The resolved mesh
    Model,
}

impl Target {
    fn options(&self) -> Options {
        Options {
            api: match self.api {
                Api::V1 => ApiVersion::V1,
                Api::V1beta1 => ApiVersion::V1beta1,
                Api::V1alpha3 => ApiVersion::V1alpha3,
            },
            cluster_domain: self.cluster_domain.clone(),
        }
    }
}

pub(crate) fn run(args: Args) -> Status {
    match args.command {
        Command::Build { input, target } => compile(&input, &target, true),
        Command::Check { input, target } => compile(&input, &target, false),
        Command::Explain { code } => explain(code.as_deref()),
        Command::Dump { stage, input, target } => dump(stage, &input, &target),
    }
}

fn compile(input: &Input, target: &Target, print: bool) -> Status {
    let (sources, unreadable) = match input.load() {
        Ok(loaded) => loaded,
        Err(status) => return status,
    };
    if !unreadable.is_empty() {
        report(&unreadable, &sources, input.message_format);
        return Status::InputErrors;
    }
    match meshc::compile(&sources, &target.options()) {
        Ok(output) => {
            report(&output.warnings, &sources, input.message_format);
            if print {
                let text = output.to_yaml();
                let mut stdout = std::io::stdout().lock();
                if let Err(e) = stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
                    eprintln!("meshc: cannot write the output: {e}");
                    return Status::Trouble;
                }
            }
            Status::Ok
        }
        Err(failure) => {
            report(&failure.diagnostics, &sources, input.message_format);
            Status::InputErrors
        }
    }
}

impl Input {
    fn load(&self) -> Result<(Vec<Source>, Vec<Diagnostic>), Status> {
        let loaded = load::load(&self.files, &self.vars_files, &self.vars)?;
        Ok((loaded.sources, loaded.problems))
    }
}

fn report(diagnostics: &[Diagnostic], sources: &[Source], format: MessageFormat) {
    if diagnostics.is_empty() && format == MessageFormat::Human {
        return;
    }
    let text = match format {
        MessageFormat::Human => {
            let mut text = diagnostic::render(diagnostics, sources, 100);
            let summary = diagnostic::summary(diagnostics);
            if !summary.is_empty() {
                text.push_str(&format!("meshc: {summary}\n"));
            }
            text
        }
        MessageFormat::Json => diagnostic::to_json(diagnostics, sources),
    };
    let mut stderr = std::io::stderr().lock();
    let _ = stderr.write_all(text.as_bytes());
}

fn explain(code: Option<&str>) -> Status {
    let Some(code) = code else {
        for c in Code::ALL {
            println!("{}  {:<20} {}", c.id(), c.name(), c.summary());
        }
        return Status::Ok;
    };
    match code.parse::<Code>() {
        Ok(c) => {
            print!("{}", c.doc());
            Status::Ok
        }
        Err(()) => {
            eprintln!("meshc: unknown code `{code}`; `meshc explain` lists them all");
            Status::Trouble
        }
    }
}

fn dump(stage: Stage, input: &Input, target: &Target) -> Status {
    let (sources, unreadable) = match input.load() {
        Ok(loaded) => loaded,
        Err(status) => return status,
    };
    if !unreadable.is_empty() {
        report(&unreadable, &sources, input.message_format);
        return Status::InputErrors;
    }
    match stage {
        Stage::Ast => {
            let mut failed = false;
            for (id, source) in sources.iter().enumerate() {
                let (file, diagnostics) = meshc::syntax::parse(id, &source.text);
                report(&diagnostics, &sources, input.message_format);
                failed |= diagnostics.iter().any(Diagnostic::is_error);
                if let Some(file) = file {
                    println!("# {}\n{file:#?}", source.name);
                }
            }
            if failed {
                Status::InputErrors
            } else {
                Status::Ok
            }
        }
        Stage::Model => {
            let (mesh, mut diagnostics) = meshc::analyze(&sources, &target.options());
            diagnostic::sort(&mut diagnostics);
            report(&diagnostics, &sources, input.message_format);
            if let Some(mesh) = mesh {
                println!("{mesh:#?}");
            }
            if diagnostics.iter().any(Diagnostic::is_error) {
                Status::InputErrors
            } else {
                Status::Ok
            }
        }
    }
}
