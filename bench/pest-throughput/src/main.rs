//! `pest-throughput FILE [RUNS]`: parses FILE with meshc's grammar (`grammar/mesh.pest`, the
//! same pest and the same settings as meshc: error-detail tracking off) RUNS times (default
//! 10) and prints the median and best throughput in MB/s (10^6 bytes a second) of the grammar
//! alone: no lowering into the AST, no checking. Walks every pair once, as the lowering does.

use pest::Parser as _;

#[derive(pest_derive::Parser)]
#[grammar = "../../grammar/mesh.pest"]
struct MeshParser;

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(path), runs) = (args.next(), args.next().and_then(|r| r.parse::<usize>().ok()).unwrap_or(10)) else {
        eprintln!("usage: pest-throughput FILE [RUNS]");
        std::process::exit(2);
    };
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        eprintln!("pest-throughput: cannot read {path}: {e}");
        std::process::exit(2);
    });
    pest::set_error_detail(false);
    let mut seconds = Vec::with_capacity(runs);
    let mut pairs = 0;
    for _ in 0..runs.max(1) {
        let start = std::time::Instant::now();
        match MeshParser::parse(Rule::file, &text) {
            Ok(parsed) => pairs = parsed.flatten().count(),
            Err(e) => {
                eprintln!("pest-throughput: {path} does not parse:\n{e}");
                std::process::exit(1);
            }
        }
        seconds.push(start.elapsed().as_secs_f64());
    }
    seconds.sort_by(f64::total_cmp);
    let mb = text.len() as f64 / 1e6;
    println!(
        "{path}: {mb:.2} MB, {pairs} pairs, {} runs: median {:.2} MB/s, best {:.2} MB/s",
        seconds.len(),
        mb / seconds[seconds.len() / 2],
        mb / seconds[0]
    );
}
