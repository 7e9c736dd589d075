//! Base64 payload checks shared by the formats that take inline image bytes.

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
    fn base64_payloads() {
        assert!(valid_base64("iVBORw0KGgo="));
        assert!(!valid_base64("data:image/png;base64,iVBORw0KGgo="));
    }
}
