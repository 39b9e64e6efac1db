//! The documentation stays true: examples and README blocks compile, every code has a page
//! whose `wrong` example produces that code and whose `fixed` example compiles, and the
//! README lists every code.
//!
//! Blocks are compiled by the real binary in a scratch folder, as `input.mesh`, so that
//! imports and variables behave as for a user. The command-line options a block needs are
//! read, in this order of precedence, from its fence (```` ```mesh wrong --var TAG=1 ````),
//! from an `<!-- args: --var TAG=1 -->` line right before the fence, or from the first
//! inline command before the page's first block (`` `meshc check --var TAG=1` ``).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;

use common::{read, root};
use meshc::Code;

/// A fenced code block: its info string's words after the language, and its text.
#[derive(Debug)]
struct Block {
    tags: Vec<String>,
    /// Options from an `<!-- args: ... -->` line right before the fence.
    comment_args: Vec<String>,
    text: String,
    line: usize,
}

/// Every ```` ```mesh ```` block of a Markdown text.
fn mesh_blocks(markdown: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut lines = markdown.lines().enumerate();
    let mut comment_args: Vec<String> = Vec::new();
    while let Some((i, line)) = lines.next() {
        let trimmed = line.trim_start();
        let fence: String = trimmed.chars().take_while(|&c| c == '`' || c == '~').collect();
        if fence.len() < 3 || !(fence.chars().all(|c| c == '`') || fence.chars().all(|c| c == '~')) {
            if let Some(args) = trimmed
                .strip_prefix("<!-- args:")
                .and_then(|r| r.trim_end().strip_suffix("-->"))
            {
                comment_args = args.split_whitespace().map(str::to_string).collect();
            } else if !trimmed.is_empty() {
                comment_args.clear();
            }
            continue;
        }
        let block_args = std::mem::take(&mut comment_args);
        let info: Vec<String> = trimmed[fence.len()..].split_whitespace().map(str::to_string).collect();
        let mut text = String::new();
        for (_, body) in lines.by_ref() {
            if body.trim_start().starts_with(&fence)
                && body.trim().chars().all(|c| c == fence.chars().next().unwrap_or('`'))
            {
                break;
            }
            text.push_str(body);
            text.push('\n');
        }
        if info.first().map(String::as_str) == Some("mesh") {
            blocks.push(Block {
                tags: info[1..].to_vec(),
                comment_args: block_args,
                text,
                line: i + 1,
            });
        }
    }
    blocks
}

impl Block {
    fn has(&self, tag: &str) -> bool {
        self.tags.iter().any(|t| t == tag)
    }

    /// Command-line options written in the fence after the tags, or else on an
    /// `<!-- args: ... -->` line right before the fence.
    fn options(&self) -> Vec<String> {
        let in_fence: Vec<String> = self.tags.iter().skip_while(|t| !t.starts_with("--")).cloned().collect();
        if in_fence.is_empty() {
            self.comment_args.clone()
        } else {
            in_fence
        }
    }
}

/// Options from the first inline `` `meshc check ...` `` or `` `meshc build ...` `` command
/// written before the first ```` ```mesh ```` block of a page.
fn page_options(markdown: &str) -> Vec<String> {
    let first_block = markdown.find("```mesh").unwrap_or(markdown.len());
    let before = &markdown[..first_block];
    for span in before.split('`').skip(1).step_by(2) {
        let words: Vec<&str> = span.split_whitespace().collect();
        if words.len() > 2 && words[0] == "meshc" && matches!(words[1], "check" | "build") {
            return words[2..]
                .iter()
                .filter(|w| !w.ends_with(".mesh"))
                .map(|w| w.to_string())
                .collect();
        }
    }
    Vec::new()
}

/// What compiling a block with the binary gave: exit status and codes with severities.
struct Outcome {
    status: i32,
    codes: BTreeSet<String>,
    errors: BTreeSet<String>,
    stderr: String,
}

fn compile_block(label: &str, text: &str, options: &[String]) -> Outcome {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("docs")
        .join(label.replace(['/', ' ', ':'], "_"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    std::fs::write(dir.join("input.mesh"), text).expect("write block");
    let mut args: Vec<&str> = vec!["check", "--message-format", "json"];
    args.extend(options.iter().map(String::as_str));
    args.push("input.mesh");
    let out = common::meshc(&dir, &args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let status = out.status.code().unwrap_or(-1);
    assert!(status == 0 || status == 1, "{label}: meshc exited {status}:\n{stderr}");
    let items: serde_json::Value = if stderr.trim().is_empty() {
        serde_json::json!([])
    } else {
        serde_json::from_str(&stderr).unwrap_or_else(|e| panic!("{label}: not JSON ({e}):\n{stderr}"))
    };
    let mut codes = BTreeSet::new();
    let mut errors = BTreeSet::new();
    for item in items.as_array().into_iter().flatten() {
        let code = item["code"].as_str().unwrap_or_default().to_string();
        if item["severity"] == "error" {
            errors.insert(code.clone());
        }
        codes.insert(code);
    }
    Outcome {
        status,
        codes,
        errors,
        stderr,
    }
}

#[test]
fn every_example_compiles() {
    let examples = common::example_paths();
    assert!(!examples.is_empty(), "no examples/*.mesh");
    let mut failures = Vec::new();
    for path in &examples {
        let out = common::meshc(&root(), &["check", path.to_str().expect("UTF-8 path")]);
        if out.status.code() != Some(0) {
            failures.push(format!("{}:\n{}", path.display(), String::from_utf8_lossy(&out.stderr)));
        }
    }
    assert!(
        failures.is_empty(),
        "examples that do not compile:\n{}",
        failures.join("\n")
    );
}

#[test]
fn readme_mesh_blocks_compile() {
    let path = root().join("README.md");
    assert!(path.is_file(), "README.md is missing");
    let readme = read(&path);
    let blocks = mesh_blocks(&readme);
    assert!(!blocks.is_empty(), "README.md has no ```mesh block");
    let mut failures = Vec::new();
    for block in blocks.iter().filter(|b| !b.has("wrong")) {
        let label = format!("README.md:{}", block.line);
        let outcome = compile_block(&label, &block.text, &block.options());
        if outcome.status != 0 || !outcome.errors.is_empty() {
            failures.push(format!("{label}:\n{}", outcome.stderr));
        }
    }
    assert!(
        failures.is_empty(),
        "README blocks that do not compile:\n{}",
        failures.join("\n")
    );
}

#[test]
fn readme_lists_every_code_in_a_table() {
    let path = root().join("README.md");
    assert!(path.is_file(), "README.md is missing");
    let readme = read(&path);
    let rows: Vec<&str> = readme.lines().filter(|l| l.trim_start().starts_with('|')).collect();
    let missing: Vec<&str> = Code::ALL
        .iter()
        .map(|c| c.id())
        .filter(|id| !rows.iter().any(|row| row.contains(id)))
        .collect();
    assert!(missing.is_empty(), "codes not in a README table: {missing:?}");
}

#[test]
fn there_is_one_page_per_code() {
    let dir = root().join("docs").join("codes");
    let pages: BTreeSet<String> = std::fs::read_dir(&dir)
        .expect("docs/codes/")
        .map(|e| e.expect("readable").file_name().to_string_lossy().into_owned())
        .filter_map(|n| n.strip_suffix(".md").map(str::to_string))
        .collect();
    let codes: BTreeSet<String> = Code::ALL.iter().map(|c| c.id().to_string()).collect();
    let missing: Vec<&String> = codes.difference(&pages).collect();
    let extra: Vec<&String> = pages.difference(&codes).collect();
    assert!(missing.is_empty(), "codes without a page: {missing:?}");
    assert!(extra.is_empty(), "pages without a code: {extra:?}");
    for code in Code::ALL {
        let page = read(&dir.join(format!("{}.md", code.id())));
        assert_eq!(code.doc(), page, "Code::doc() for {} is the page", code.id());
    }
}

#[test]
fn every_page_shows_its_code_wrong_then_fixed() {
    let dir = root().join("docs").join("codes");
    let mut failures = Vec::new();
    // M40xx pages show manifests (```yaml wrong/fixed), linted by `tests/lint.rs`; the
    // traffic-test codes (M41xx) come from `meshc test`: `tests/traffic.rs` runs their pages.
    for code in Code::ALL.iter().filter(|c| !c.id().starts_with("M4")) {
        let id = code.id();
        let path = dir.join(format!("{id}.md"));
        let Ok(page) = std::fs::read_to_string(&path) else {
            failures.push(format!("{id}: no page docs/codes/{id}.md"));
            continue;
        };
        let blocks = mesh_blocks(&page);
        let wrong: Vec<&Block> = blocks.iter().filter(|b| b.has("wrong")).collect();
        let fixed: Vec<&Block> = blocks.iter().filter(|b| b.has("fixed")).collect();
        // M3026 needs a mesh of hundreds of ports, which its page only sketches:
        // `tests/robustness.rs` generates it.
        if wrong.is_empty() && id != "M3026" {
            failures.push(format!("{id}: no ```mesh wrong block"));
        }
        if fixed.is_empty() {
            failures.push(format!("{id}: no ```mesh fixed block"));
        }
        let shared = page_options(&page);
        for block in wrong {
            let options = if block.options().is_empty() {
                shared.clone()
            } else {
                block.options()
            };
            let outcome = compile_block(&format!("{id}-wrong-{}", block.line), &block.text, &options);
            if !outcome.codes.contains(id) {
                failures.push(format!(
                    "{id}: the wrong block (line {}, options {options:?}) does not produce {id}; it gives {:?}:\n{}",
                    block.line, outcome.codes, outcome.stderr
                ));
            }
        }
        for block in fixed {
            let options = if block.options().is_empty() {
                shared.clone()
            } else {
                block.options()
            };
            let outcome = compile_block(&format!("{id}-fixed-{}", block.line), &block.text, &options);
            if outcome.status != 0 || !outcome.errors.is_empty() || outcome.codes.contains(id) {
                failures.push(format!(
                    "{id}: the fixed block (line {}, options {options:?}) does not compile cleanly; it gives {:?}:\n{}",
                    block.line, outcome.codes, outcome.stderr
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} problems in docs/codes:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn the_block_reader_reads_fences() {
    let markdown = "text\n```mesh\na\n```\n\n```mesh wrong --var X=1\nb\n```\n<!-- args: --routes gateway-api -->\n````mesh fixed\nc\n```\nstill c\n````\n```rust\nfn x() {}\n```\n<!-- args: --sidecars -->\ntext between\n```mesh\nd\n```\n";
    let blocks = mesh_blocks(markdown);
    assert_eq!(blocks.len(), 4);
    assert!(blocks[0].options().is_empty());
    assert_eq!(
        blocks[2].options(),
        vec!["--routes".to_string(), "gateway-api".to_string()]
    );
    assert!(
        blocks[3].options().is_empty(),
        "an args comment applies to the fence right after it only"
    );
    assert_eq!(blocks[0].text, "a\n");
    assert!(blocks[1].has("wrong") && !blocks[1].has("fixed"));
    assert_eq!(
        blocks[1].options(),
        vec!["--var", "X=1"].into_iter().map(String::from).collect::<Vec<_>>()
    );
    assert_eq!(blocks[2].text, "c\n```\nstill c\n");
    assert_eq!(
        page_options("Compiled with `meshc check --var A=1 shop.mesh`, this:\n```mesh wrong\n```\n"),
        vec!["--var".to_string(), "A=1".to_string()]
    );
    assert!(page_options("Run `meshc build` on it.\n```mesh wrong\n```\n").is_empty());
}
