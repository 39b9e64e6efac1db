//! `dump ast|model`: an intermediate stage of the compiler.

use meshc::diagnostic;

use super::args::{Input, Stage, Target};
use super::{report, Status};

pub(crate) fn run(stage: Stage, input: &Input, target: &Target) -> Status {
    let sources = match super::load(input) {
        Ok(sources) => sources,
        Err(status) => return status,
    };
    let mut diagnostics = Vec::new();
    // JSON: the AST as an array of `{"source", "ast"}` (one per `.mesh` file), the model as
    // one object; spans are byte ranges `{"source", "start", "end"}`.
    match stage {
        Stage::Ast => {
            let mut files = Vec::new();
            for (id, source) in sources.iter().enumerate() {
                if source.kind != meshc::SourceKind::Mesh {
                    continue;
                }
                let (file, found) = meshc::syntax::parse(id, &source.text);
                diagnostics.extend(found);
                if let Some(file) = file {
                    files.push(serde_json::json!({ "source": source.name, "ast": file }));
                }
            }
            println!("{}", serde_json::Value::Array(files));
        }
        Stage::Model => {
            let (mesh, found) = meshc::analyze(&sources, &target.options());
            diagnostics = found;
            diagnostic::sort(&mut diagnostics);
            if let Some(mesh) = mesh {
                println!("{}", serde_json::to_value(&mesh).unwrap_or_default());
            }
        }
    }
    report::report(&diagnostics, &[], &sources, input.reporting())
}
