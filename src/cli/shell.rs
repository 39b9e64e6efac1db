//! `completions` and `man`: shell completion scripts and the man pages.
//!
//! Completions offer `.mesh` files (bash and zsh: only `*.mesh` and folders; fish: `.mesh`
//! files first) for the paths of the commands that compile a mesh, and the diagnostic codes
//! for `explain`.

use std::io::Write as _;
use std::path::Path;

use clap::CommandFactory as _;

use super::{finish, Args, Status};

/// The subcommands whose PATH arguments are `.mesh` files (or folders of them).
const MESH_COMMANDS: &[&str] = &[
    "build",
    "diff",
    "check",
    "post-render",
    "dump",
    "graph",
    "traffic",
    "fmt",
];

pub(crate) fn completions(shell: clap_complete::Shell) -> Status {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Args::command(), "meshc", &mut script);
    let mut script = String::from_utf8_lossy(&script).into_owned();
    match shell {
        clap_complete::Shell::Bash => script = bash_mesh_files(&script),
        clap_complete::Shell::Zsh => script = zsh_mesh_files(&script),
        clap_complete::Shell::Fish => {
            // fish offers every file for a positional argument; list the .mesh files first.
            for command in MESH_COMMANDS {
                script.push_str(&format!(
                    "complete -c meshc -n \"__fish_meshc_using_subcommand {command}\" -k -a \"(__fish_complete_suffix .mesh)\"\n"
                ));
            }
        }
        _ => {}
    }
    let mut stdout = std::io::stdout().lock();
    finish(stdout.write_all(script.as_bytes()).and_then(|()| stdout.flush()))
}

/// clap's bash script offers only the options where a positional argument goes (bash then
/// falls back to every file when nothing matches). For the commands that read `.mesh` files,
/// offer those and folders: in each such command's case (`meshc__subcmd__NAME)`), the last
/// `COMPREPLY` (past the options) becomes a filter on `*.mesh`.
fn bash_mesh_files(script: &str) -> String {
    const OPTIONS: &str = "COMPREPLY=( $(compgen -W \"${opts}\" -- \"${cur}\") )";
    const MESH_FILES: &str = "COMPREPLY=( $(compgen -d -- \"${cur}\") $(compgen -f -X '!*.mesh' -- \"${cur}\") )";
    const FIRST_WORD: &str = "if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then";
    let mut out = String::with_capacity(script.len() + 1024);
    let mut command: Option<String> = None;
    let mut past_options = false;
    for line in script.split_inclusive('\n') {
        let trimmed = line.trim();
        if let Some(case) = trimmed
            .strip_prefix("meshc__subcmd__")
            .and_then(|c| c.strip_suffix(')'))
        {
            command = Some(case.to_string());
            past_options = false;
        }
        let mesh = command.as_deref().is_some_and(|c| MESH_COMMANDS.contains(&c));
        if trimmed == "esac" {
            past_options = true;
        }
        if mesh && past_options && trimmed == OPTIONS {
            out.push_str(&line.replace(OPTIONS, MESH_FILES));
        } else if mesh && trimmed == FIRST_WORD {
            // Options at the first word only when one is being typed: files otherwise.
            out.push_str(&line.replace(FIRST_WORD, "if [[ ${cur} == -* ]] ; then"));
        } else {
            out.push_str(line);
        }
    }
    out
}

/// zsh: the PATH arguments of the commands that read `.mesh` files complete `*.mesh` files
/// (and folders, as `_files` always does). Each command's arguments follow its `(NAME)` line.
fn zsh_mesh_files(script: &str) -> String {
    let mut out = String::with_capacity(script.len() + 256);
    let mut command = String::new();
    for line in script.split_inclusive('\n') {
        let trimmed = line.trim();
        if let Some(name) = trimmed.strip_prefix('(').and_then(|l| l.strip_suffix(')')) {
            command = name.to_string();
        }
        if MESH_COMMANDS.contains(&command.as_str())
            && trimmed.starts_with("'*::files -- ")
            && trimmed.ends_with(":_files' \\")
        {
            out.push_str(&line.replacen(":_files' \\", ":_files -g \"*.mesh\"' \\", 1));
        } else {
            out.push_str(line);
        }
    }
    out
}

/// Without a folder, meshc's page to stdout; with one, every page into it.
pub(crate) fn man(dir: Option<&Path>) -> Status {
    let command = Args::command().disable_help_subcommand(true);
    match dir {
        None => {
            let mut stdout = std::io::stdout().lock();
            let rendered = clap_mangen::Man::new(command).render(&mut stdout);
            finish(rendered.and_then(|()| stdout.flush()))
        }
        Some(dir) => match std::fs::create_dir_all(dir).and_then(|()| clap_mangen::generate_to(command, dir)) {
            Ok(()) => Status::Ok,
            Err(e) => {
                say!("cannot write the man pages into {}: {e}", dir.display());
                Status::Trouble
            }
        },
    }
}
