//! A small glob matcher for model names: `*` matches any run of characters (including none),
//! `?` exactly one character, `\` escapes the next character; everything else is literal and
//! case-sensitive. Matching is iterative with single-star backtracking: O(pattern × text) in
//! the worst case, no allocation, no recursion.

/// A compiled glob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glob {
    toks: Vec<Tok>,
    literal: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    Byte(u8),
    One,
    Star,
}

impl Glob {
    /// Compiles `pattern` (never fails: a trailing `\` is a literal backslash).
    pub fn new(pattern: &str) -> Self {
        let mut toks = Vec::with_capacity(pattern.len());
        let mut chars = pattern.chars();
        let mut buf = [0u8; 4];
        while let Some(c) = chars.next() {
            let lit = match c {
                '*' => {
                    if toks.last() != Some(&Tok::Star) {
                        toks.push(Tok::Star);
                    }
                    continue;
                }
                '?' => {
                    toks.push(Tok::One);
                    continue;
                }
                '\\' => chars.next().unwrap_or('\\'),
                c => c,
            };
            toks.extend(lit.encode_utf8(&mut buf).bytes().map(Tok::Byte));
        }
        let literal = toks.iter().all(|t| matches!(t, Tok::Byte(_)));
        Self { toks, literal }
    }

    /// True when the pattern has no wildcard (an exact name).
    pub fn is_literal(&self) -> bool {
        self.literal
    }

    /// Whether `text` matches the whole pattern.
    pub fn matches(&self, text: &str) -> bool {
        let t = text.as_bytes();
        let p = &self.toks;
        let (mut pi, mut ti) = (0, 0);
        let mut star: Option<(usize, usize)> = None;
        while ti < t.len() {
            match p.get(pi) {
                Some(Tok::Star) => {
                    star = Some((pi, ti));
                    pi += 1;
                    continue;
                }
                Some(Tok::One) => {
                    pi += 1;
                    ti += char_len(t[ti]);
                    continue;
                }
                Some(Tok::Byte(b)) if *b == t[ti] => {
                    pi += 1;
                    ti += 1;
                    continue;
                }
                _ => {}
            }
            let Some((sp, st)) = star else {
                return false;
            };
            let next = st + char_len(t[st]);
            star = Some((sp, next));
            pi = sp + 1;
            ti = next;
        }
        p[pi.min(p.len())..].iter().all(|t| *t == Tok::Star)
    }
}

/// Length of the UTF-8 sequence starting with `lead`.
fn char_len(lead: u8) -> usize {
    match lead {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::Glob;
    use proptest::prelude::*;

    /// The examples of the issue, and the edge cases of `*`, `?` and escapes.
    #[test]
    fn examples() {
        let cases: &[(&str, &str, bool)] = &[
            ("gpt-4*", "gpt-4o", true),
            ("gpt-4*", "gpt-4", true),
            ("gpt-4*", "gpt-3.5", false),
            ("*-mini", "gpt-4o-mini", true),
            ("*-mini", "gpt-4o-mini-2024", false),
            ("claude-?-*", "claude-3-haiku", true),
            ("claude-?-*", "claude-3-", true),
            ("claude-?-*", "claude-35-haiku", false),
            ("*", "", true),
            ("", "", true),
            ("", "x", false),
            ("a*b*c", "aXbYbZc", true),
            ("a*b*c", "aXbYbZ", false),
            ("?", "é", true),
            ("??", "é", false),
            ("*é", "caféé", true),
            (r"gpt\*", "gpt*", true),
            (r"gpt\*", "gpt-4", false),
            (r"a\?", "a?", true),
            ("exact", "exact", true),
            ("exact", "Exact", false),
        ];
        for &(p, t, want) in cases {
            assert_eq!(Glob::new(p).matches(t), want, "{p:?} vs {t:?}");
        }
        assert!(Glob::new("gpt-4o").is_literal());
        assert!(Glob::new(r"gpt\*").is_literal());
        assert!(!Glob::new("gpt-*").is_literal());
    }

    proptest! {
        /// A pattern without wildcards matches exactly its own text.
        #[test]
        fn literal_is_equality(p in "[a-z0-9.-]{0,12}", t in "[a-z0-9.-]{0,12}") {
            prop_assert_eq!(Glob::new(&p).matches(&t), p == t);
            prop_assert!(Glob::new(&p).matches(&p));
        }

        /// Replacing characters by `?` and a substring by `*` keeps the text matching.
        #[test]
        fn wildcards_generalise(t in "\\PC{0,16}", q in proptest::collection::vec(any::<bool>(), 16), cut in (0usize..17, 0usize..17)) {
            let chars: Vec<char> = t.chars().collect();
            let escaped = |c: char| if matches!(c, '*' | '?' | '\\') { format!("\\{c}") } else { c.to_string() };
            let with_q: String = chars.iter().enumerate()
                .map(|(i, &c)| if q[i % 16] { "?".to_string() } else { escaped(c) })
                .collect();
            prop_assert!(Glob::new(&with_q).matches(&t), "{} vs {}", with_q, t);
            let (a, b) = (cut.0.min(chars.len()), cut.1.min(chars.len()));
            let (a, b) = (a.min(b), a.max(b));
            let starred: String = chars[..a].iter().map(|&c| escaped(c)).collect::<String>()
                + "*" + &chars[b..].iter().map(|&c| escaped(c)).collect::<String>();
            prop_assert!(Glob::new(&starred).matches(&t), "{} vs {}", starred, t);
            prop_assert!(Glob::new("*").matches(&t));
        }
    }
}
