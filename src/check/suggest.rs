//! "Did you mean" suggestions.
//!
//! A name is suggested for a typo when it is at most one edit away for words up to five
//! characters, and at most two edits away for longer words (optimal string alignment
//! distance: an insertion, deletion, substitution or swap of two neighbours is one edit). Small fixed lists (keywords) are compared one by
//! one; the names of a mesh, which can number in the hundred thousands, go through an
//! [`Index`] built once, so that each unknown name costs a few lookups rather than a
//! comparison with every name.

use std::collections::{HashMap, HashSet};

use crate::diagnostic::Diagnostic;
use crate::source::Span;

/// The most edits a suggestion may be away from the word.
const MAX_EDITS: usize = 2;

/// How many edits a word of `length` characters may be away from its suggestion.
fn limit(length: usize) -> usize {
    (length / 3).clamp(1, MAX_EDITS)
}

/// The candidate closest to `word`, if it is close enough to be a likely typo (see the
/// module documentation). Compares with each candidate: for short, fixed lists.
pub(crate) fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let chars: Vec<char> = word.chars().collect();
    let length = chars.len();
    let limit = limit(length);
    candidates
        .into_iter()
        // Words whose lengths differ by more than the limit cannot be close: skip the cost.
        .filter(|c| {
            *c != word && c.len().abs_diff(word.len()) <= limit * 4 && c.chars().count().abs_diff(length) <= limit
        })
        .filter_map(|c| {
            Some((
                distance_within(&chars, &c.chars().collect::<Vec<_>>(), limit, &mut Vec::new())?,
                c,
            ))
        })
        .min()
        .map(|(_, c)| c)
}

/// What to tell about an unknown name: a help line and, when one candidate is close, that
/// candidate, which becomes the diagnostic's fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Suggestion {
    pub(crate) help: String,
    pub(crate) candidate: Option<String>,
}

impl Suggestion {
    fn near(best: &str) -> Self {
        Suggestion {
            help: format!("did you mean `{best}`?"),
            candidate: Some(best.to_string()),
        }
    }

    /// Adds the help line to `d` and, with a close candidate, the fix that writes it over
    /// `span` (the misspelled name).
    pub(crate) fn on(self, d: Diagnostic, span: Span) -> Diagnostic {
        let d = d.help(self.help);
        match self.candidate {
            Some(candidate) => d.fix(span, candidate),
            None => d,
        }
    }
}

/// What to tell about an unknown name: a suggestion when one is close, else the list of
/// what exists (up to a handful), else nothing.
pub(crate) fn did_you_mean(word: &str, candidates: &[&str], kind: &str) -> Option<Suggestion> {
    if let Some(best) = closest(word, candidates.iter().copied()) {
        return Some(Suggestion::near(best));
    }
    listing(candidates, kind)
}

/// At most how many candidates are listed when none is close.
const LISTED: usize = 8;

fn listing(candidates: &[&str], kind: &str) -> Option<Suggestion> {
    match candidates.len() {
        0 => None,
        1..=LISTED => {
            let list: Vec<String> = candidates.iter().map(|c| format!("`{c}`")).collect();
            Some(Suggestion {
                help: format!("the {kind} here: {}", list.join(", ")),
                candidate: None,
            })
        }
        _ => None,
    }
}

/// Candidates longer than this are not indexed: they are compared one by one, within
/// [`LONG_BUDGET`]. (Names that long are rare, and invalid as Kubernetes names past 63.)
const INDEXED_LENGTH: usize = 24;

/// How many comparisons with long candidates one index may spend, in all.
const LONG_BUDGET: u64 = 1 << 20;

/// Many candidates, indexed once, with the answers remembered per word. Two strings
/// within `k` edits of each other can both be shortened to a common string by deleting
/// at most `k` characters from each (a swap of neighbours is one deletion on each side),
/// so each candidate is filed under every string its deletions of up to two characters
/// make (as a hash), and a word looks up its own deletions: only the candidates found
/// that way are compared. Building costs O(n·L²) for n names of at most L characters, and
/// each lookup O(L² + m) for m near candidates, independent of n.
#[derive(Debug, Default)]
pub(crate) struct Index {
    names: Vec<String>,
    /// The first few distinct candidates in the order given: what is listed when none is
    /// close.
    listed: Vec<String>,
    /// The characters of each name, for comparisons.
    chars: Vec<Vec<char>>,
    filed: HashMap<u64, Vec<u32>>,
    long: Vec<u32>,
    answers: HashMap<String, Option<u32>>,
    long_spent: u64,
    /// Comparisons and lookups made so far: the cost, for tests.
    pub(crate) work: u64,
}

impl Index {
    /// Indexes the candidates (duplicates are kept once; the order is that of a listing).
    pub(crate) fn new<'a>(candidates: impl IntoIterator<Item = &'a str>) -> Self {
        let mut names: Vec<String> = candidates.into_iter().map(str::to_string).collect();
        let mut listed: Vec<String> = Vec::new();
        for name in &names {
            if listed.len() > LISTED {
                break;
            }
            if !listed.contains(name) {
                listed.push(name.clone());
            }
        }
        names.sort();
        names.dedup();
        let mut index = Index {
            names,
            listed,
            ..Index::default()
        };
        index.chars = index.names.iter().map(|n| n.chars().collect()).collect();
        for (id, chars) in index.chars.iter().enumerate() {
            let Ok(id) = u32::try_from(id) else { break };
            if chars.len() > INDEXED_LENGTH {
                index.long.push(id);
                continue;
            }
            for key in deletions(chars, MAX_EDITS) {
                index.filed.entry(key).or_default().push(id);
                index.work += 1;
            }
        }
        index
    }

    /// Whether there is no name at all.
    pub(crate) fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The indexed name closest to `word`, as [`closest`] would choose it.
    pub(crate) fn closest(&mut self, word: &str) -> Option<&str> {
        if let Some(answer) = self.answers.get(word) {
            return answer.map(|id| self.names[id as usize].as_str());
        }
        let chars: Vec<char> = word.chars().collect();
        let limit = limit(chars.len());
        let mut near: Vec<u32> = Vec::new();
        if chars.len() <= INDEXED_LENGTH + limit {
            for key in deletions(&chars, limit) {
                self.work += 1;
                if let Some(ids) = self.filed.get(&key) {
                    near.extend_from_slice(ids);
                }
            }
        }
        if chars.len() + limit > INDEXED_LENGTH {
            for &id in &self.long {
                if self.long_spent >= LONG_BUDGET {
                    break;
                }
                self.long_spent += 1;
                if self.chars[id as usize].len().abs_diff(chars.len()) <= limit {
                    near.push(id);
                }
            }
        }
        near.sort_unstable();
        near.dedup();
        let mut best: Option<(usize, u32)> = None;
        let mut rows = Vec::new();
        for id in near {
            let name = &self.names[id as usize];
            if name == word {
                continue;
            }
            self.work += 1;
            // Only as close as the best so far can win: a tighter bound stops sooner.
            let bound = best.map_or(limit, |(d, _)| d);
            let Some(distance) = distance_within(&chars, &self.chars[id as usize], bound, &mut rows) else {
                continue;
            };
            if best.is_none_or(|(d, b)| (distance, name) < (d, &self.names[b as usize])) {
                best = Some((distance, id));
            }
        }
        let answer = best.map(|(_, id)| id);
        self.answers.insert(word.to_string(), answer);
        answer.map(|id| self.names[id as usize].as_str())
    }

    /// What to tell about an unknown name, as [`did_you_mean`] tells it.
    pub(crate) fn did_you_mean(&mut self, word: &str, kind: &str) -> Option<Suggestion> {
        if let Some(best) = self.closest(word) {
            return Some(Suggestion::near(best));
        }
        let few: Vec<&str> = self.listed.iter().map(String::as_str).collect();
        listing(&few, kind)
    }
}

/// The edit distance between `a` and `b` (insertions, deletions, substitutions and swaps
/// of neighbours, each one edit: the optimal string alignment distance), if it is at most
/// `limit`. Only the band of cells within `limit` of the diagonal is computed, and the
/// computation stops as soon as a whole row exceeds `limit`: O(length × limit).
fn distance_within(a: &[char], b: &[char], limit: usize, rows: &mut Vec<usize>) -> Option<usize> {
    if a.len().abs_diff(b.len()) > limit {
        return None;
    }
    let far = limit + 1;
    let width = b.len() + 1;
    // Rows i-2, i-1 and i of the table side by side (reused between calls), cells outside
    // the band held at `far`.
    rows.clear();
    rows.resize(3 * width, far);
    for (j, cell) in rows[width..2 * width].iter_mut().enumerate().take(limit + 1) {
        *cell = j;
    }
    let (mut two_up, mut up, mut row) = (0, width, 2 * width);
    for i in 1..=a.len() {
        rows[row..row + width].fill(far);
        let low = i.saturating_sub(limit);
        let high = (i + limit).min(b.len());
        if low == 0 {
            rows[row] = i;
        }
        let mut best = rows[row];
        for j in low.max(1)..=high {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (rows[up + j] + 1)
                .min(rows[row + j - 1] + 1)
                .min(rows[up + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(rows[two_up + j - 2] + 1);
            }
            let d = d.min(far);
            rows[row + j] = d;
            best = best.min(d);
        }
        if best > limit {
            return None;
        }
        (two_up, up, row) = (up, row, two_up);
    }
    Some(rows[up + b.len()]).filter(|d| *d <= limit)
}

/// The hashes of every string made by deleting at most `edits` (up to two) characters,
/// each once.
fn deletions(chars: &[char], edits: usize) -> HashSet<u64> {
    const NONE: usize = usize::MAX;
    let mut out = HashSet::new();
    out.insert(hash_without(chars, NONE, NONE));
    if edits >= 1 {
        for i in 0..chars.len() {
            out.insert(hash_without(chars, i, NONE));
            if edits >= 2 {
                for j in i + 1..chars.len() {
                    out.insert(hash_without(chars, i, j));
                }
            }
        }
    }
    out
}

/// The hash (FNV-1a) of `chars` without the characters at positions `a` and `b`.
fn hash_without(chars: &[char], a: usize, b: usize) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for (i, c) in chars.iter().enumerate() {
        if i != a && i != b {
            hash = (hash ^ u64::from(u32::from(*c))).wrapping_mul(0x0100_0000_01b3);
        }
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::{closest, Index};

    #[test]
    fn suggests_near_names_only() {
        assert_eq!(closest("helo2", ["hello1", "hello2", "hello3"]), Some("hello2"));
        assert_eq!(closest("hello4", ["hello2"]), Some("hello2"));
        assert_eq!(closest("imgae", ["image", "replicas"]), Some("image"));
        assert_eq!(closest("zzz", ["image", "replicas"]), None);
        assert_eq!(closest("v1", ["v1"]), None);
    }

    #[test]
    fn distances() {
        let d = |a: &str, b: &str, limit| {
            super::distance_within(
                &a.chars().collect::<Vec<_>>(),
                &b.chars().collect::<Vec<_>>(),
                limit,
                &mut Vec::new(),
            )
        };
        assert_eq!(d("hello", "hello", 1), Some(0));
        assert_eq!(d("helo", "hello", 1), Some(1));
        assert_eq!(d("imgae", "image", 1), Some(1));
        assert_eq!(d("kitten", "sitting", 3), Some(3));
        assert_eq!(d("kitten", "sitting", 2), None);
        assert_eq!(d("", "ab", 2), Some(2));
        assert_eq!(d("abcdef", "badcfe", 3), Some(3));
        assert_eq!(d("abc", "xyz", 2), None);
    }

    #[test]
    fn the_index_agrees_with_the_comparison() {
        let names = [
            "hello1",
            "hello2",
            "hello3",
            "image",
            "replicas",
            "reviews",
            "ratings",
            "productpage",
            "a",
            "ab",
            "details-v2",
            "a-very-long-service-name-beyond-the-index",
        ];
        let mut index = Index::new(names);
        for word in [
            "helo2",
            "hello4",
            "imgae",
            "zzz",
            "v1",
            "reveiws",
            "ratngs",
            "prodcutpage",
            "b",
            "abc",
            "detials-v2",
            "a-very-long-service-name-beyond-the-indx",
            "hello2",
        ] {
            assert_eq!(index.closest(word), closest(word, names), "{word}");
        }
    }

    /// The work of suggesting for n unknown names among n names grows in proportion to n
    /// (it would grow as n² comparing each with each): counted, not timed.
    #[test]
    fn suggestions_cost_grows_linearly() {
        let work = |n: usize| {
            let names: Vec<String> = (0..n).map(|i| format!("service-{i:06}")).collect();
            let mut index = Index::new(names.iter().map(String::as_str));
            for i in 0..n {
                // Unknown names: some near a declared one, some far from all.
                let word = if i % 2 == 0 {
                    format!("servce-{i:06}")
                } else {
                    format!("missing-{i}")
                };
                index.closest(&word);
                index.closest(&word);
            }
            index.work
        };
        let (small, large) = (work(400), work(3_200));
        assert!(
            large < small * 8 * 2,
            "8 times the names cost {} times the work",
            large / small.max(1)
        );
    }
}
