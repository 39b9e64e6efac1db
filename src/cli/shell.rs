//! `completions` and `man`: shell completion scripts and the man page.

use std::io::Write as _;

use clap::CommandFactory as _;

use super::{finish, Args, Status};

pub(crate) fn completions(shell: clap_complete::Shell) -> Status {
    let mut stdout = std::io::stdout().lock();
    clap_complete::generate(shell, &mut Args::command(), "meshc", &mut stdout);
    finish(stdout.flush())
}

pub(crate) fn man() -> Status {
    let mut stdout = std::io::stdout().lock();
    let rendered = clap_mangen::Man::new(Args::command()).render(&mut stdout);
    finish(rendered.and_then(|()| stdout.flush()))
}
