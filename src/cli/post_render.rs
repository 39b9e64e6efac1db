//! `post-render`: meshc as a Helm 3 post-renderer.

use std::io::Write as _;

use super::args::{Input, Target};
use super::{compile, finish, report, Status};

/// `post-render`: stdin, then the mesh's manifests, to stdout. Stdin is read to its end
/// before the mesh is compiled, so that helm never writes into a closed pipe when the mesh
/// has errors.
pub(crate) fn run(input: &Input, target: &Target) -> Status {
    let rendered = match super::load::read_stdin("the manifests on stdin").map(String::from_utf8) {
        Ok(Ok(text)) => text,
        Ok(Err(_)) => {
            return report::fail("", "the manifests on stdin are not UTF-8", input.message_format);
        }
        Err(why) => return report::fail("", &why, input.message_format),
    };
    let (sources, compiled) = match compile(input, &target.options()) {
        Ok(compiled) => compiled,
        Err(status) => return status,
    };
    let mut rendered = rendered;
    if !rendered.is_empty() && !rendered.ends_with('\n') {
        rendered.push('\n');
    }
    rendered.push_str(&compiled.to_yaml());
    if report::report(&compiled.warnings, &[], &sources, input.reporting()) != Status::Ok {
        // --deny-warnings: helm stops, with nothing to install.
        return Status::InputErrors;
    }
    let mut stdout = std::io::stdout().lock();
    finish(stdout.write_all(rendered.as_bytes()).and_then(|()| stdout.flush()))
}
