//! The secret file, generated keys and ids, and the hex form of digests.

use crate::keys::secret::{digest_from_hex, load_or_create_secret, new_id, new_key, to_hex};
use std::os::unix::fs::PermissionsExt;

#[test]
fn secret_file_is_created_once_with_mode_0600() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data/switchyard.db.keysecret");
    let first = load_or_create_secret(&path).unwrap();
    assert_eq!(first.len(), 32);
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    assert_eq!(
        load_or_create_secret(&path).unwrap(),
        first,
        "read back, not replaced"
    );
    let other = load_or_create_secret(&dir.path().join("other")).unwrap();
    assert_ne!(other, first, "random");

    let short = dir.path().join("short");
    std::fs::write(&short, b"too short").unwrap();
    let e = load_or_create_secret(&short).unwrap_err();
    assert!(e.contains("shorter than 16 bytes"), "{e}");
}

#[test]
fn keys_and_ids_have_their_shapes() {
    let (a, b) = (new_key().unwrap(), new_key().unwrap());
    assert_ne!(a.expose(), b.expose());
    let k = a.expose();
    assert_eq!(k.len(), 46);
    assert!(k.starts_with("sy-"));
    assert!(
        k[3..]
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
    );
    assert_eq!(format!("{a:?}"), "Secret(***)");
    let id = new_id().unwrap();
    assert!(id.starts_with("key_") && id.len() == 20);
    assert!(
        id[4..]
            .bytes()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    );
}

#[test]
fn digest_hex_round_trip() {
    let d: [u8; 32] = std::array::from_fn(|i| (i * 8) as u8);
    let hex = to_hex(&d);
    assert_eq!(hex.len(), 64);
    assert_eq!(digest_from_hex(&hex), Some(d));
    assert_eq!(digest_from_hex(&hex[..62]), None);
    assert_eq!(digest_from_hex(&format!("+f{}", &hex[2..])), None);
    assert_eq!(digest_from_hex(&"zz".repeat(32)), None);
}
