//! "Did you mean" suggestions.

/// The candidate closest to `word`, if it is close enough to be a likely typo: at most one
/// edit for words up to four characters, otherwise at most a third of the word's length
/// (Damerau–Levenshtein, so a swap of two letters counts once).
pub(crate) fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let length = word.chars().count();
    let limit = (length / 3).max(1);
    candidates
        .into_iter()
        // Words whose lengths differ by more than the limit cannot be close: skip the cost.
        .filter(|c| {
            *c != word && c.len().abs_diff(word.len()) <= limit * 4 && c.chars().count().abs_diff(length) <= limit
        })
        .map(|c| (strsim::damerau_levenshtein(word, c), c))
        .filter(|(distance, _)| *distance <= limit)
        .min()
        .map(|(_, c)| c)
}

/// A help line for an unknown name: a suggestion when one is close, else the list of what
/// exists (up to a handful), else nothing.
pub(crate) fn did_you_mean(word: &str, candidates: &[&str], kind: &str) -> Option<String> {
    if let Some(best) = closest(word, candidates.iter().copied()) {
        return Some(format!("did you mean `{best}`?"));
    }
    match candidates.len() {
        0 => None,
        1..=8 => {
            let list: Vec<String> = candidates.iter().map(|c| format!("`{c}`")).collect();
            Some(format!("the {kind} here: {}", list.join(", ")))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::closest;

    #[test]
    fn suggests_near_names_only() {
        assert_eq!(closest("helo2", ["hello1", "hello2", "hello3"]), Some("hello2"));
        assert_eq!(closest("hello4", ["hello2"]), Some("hello2"));
        assert_eq!(closest("imgae", ["image", "replicas"]), Some("image"));
        assert_eq!(closest("zzz", ["image", "replicas"]), None);
        assert_eq!(closest("v1", ["v1"]), None);
    }
}
