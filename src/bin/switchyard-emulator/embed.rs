//! Deterministic fake embeddings shared by the embeddings endpoints.

/// Vector length when the request asks for none.
pub const DEFAULT_DIMENSIONS: usize = 8;

/// A unit-length vector derived from `text` (same text, same vector).
pub fn vector(text: &str, dims: usize) -> Vec<f32> {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    let mut v: Vec<f32> = (0..dims.max(1))
        .map(|i| {
            h = h
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407 ^ i as u64);
            ((h >> 40) as f32 / (1u64 << 24) as f32) - 0.5
        })
        .collect();
    let norm = v
        .iter()
        .map(|x| x * x)
        .sum::<f32>()
        .sqrt()
        .max(f32::EPSILON);
    v.iter_mut().for_each(|x| *x /= norm);
    v
}

/// Token count of an input: about four characters per token, at least one.
pub fn tokens(text: &str) -> usize {
    text.chars().count().div_ceil(4).max(1)
}

/// Standard base64 alphabet, length a multiple of 4, `=` padding only at the end.
pub fn valid_base64(s: &str) -> bool {
    let b = s.as_bytes();
    if b.is_empty() || !b.len().is_multiple_of(4) {
        return false;
    }
    let pad = b.iter().rev().take_while(|&&c| c == b'=').count();
    pad <= 2
        && b[..b.len() - pad]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'+' || *c == b'/')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_are_deterministic_unit_length() {
        let a = vector("hello", 16);
        assert_eq!(a, vector("hello", 16));
        assert_ne!(a, vector("hellp", 16));
        assert_eq!(a.len(), 16);
        let norm: f32 = a.iter().map(|x| x * x).sum();
        assert!((norm - 1.0).abs() < 1e-4);
        assert_eq!(tokens("abcde"), 2);
        assert!(valid_base64("iVBORw0KGgo="));
        assert!(!valid_base64("data:image/png;base64,iVBORw0KGgo="));
    }
}
