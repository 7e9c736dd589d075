//! Random material for keys: the HMAC secret file of the embedded mode, new client keys
//! (`sy-` + 43 base64url characters = 32 random bytes), new key ids (`key_` + 16 hex digits),
//! and the hex form digests are stored in.

use crate::secret::Secret;
use base64::Engine;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// Length of a generated HMAC secret.
pub const SECRET_LEN: usize = 32;

/// Reads the HMAC secret at `path`, creating it (32 random bytes, mode 0600, parent
/// directories included) when absent. Every instance that shares a key store must use the
/// same secret, or keys made on one instance will not verify on another; losing the file
/// invalidates every API key.
pub fn load_or_create_secret(path: &Path) -> Result<Vec<u8>, String> {
    let shown = path.display();
    match std::fs::read(path) {
        Ok(bytes) if bytes.len() >= 16 => return Ok(bytes),
        Ok(_) => return Err(format!("{shown}: key secret is shorter than 16 bytes")),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(format!("cannot read key secret {shown}: {e}")),
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let mut secret = vec![0u8; SECRET_LEN];
    getrandom::fill(&mut secret)
        .map_err(|e| format!("no OS randomness for the key secret: {e}"))?;
    let created = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path);
    match created {
        Ok(mut f) => {
            f.write_all(&secret)
                .and_then(|()| f.sync_all())
                .map_err(|e| format!("cannot write key secret {shown}: {e}"))?;
            Ok(secret)
        }
        // Another process created it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            std::fs::read(path).map_err(|e| format!("cannot read key secret {shown}: {e}"))
        }
        Err(e) => Err(format!("cannot create key secret {shown}: {e}")),
    }
}

/// A new client key: `sy-` + 32 random bytes in unpadded base64url (46 characters).
pub fn new_key() -> Result<Secret, String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| format!("no OS randomness for a new key: {e}"))?;
    let mut key = String::with_capacity(46);
    key.push_str("sy-");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode_string(bytes, &mut key);
    Ok(Secret::new(key))
}

/// A new key id: `key_` + 16 random hex digits.
pub fn new_id() -> Result<String, String> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(|e| format!("no OS randomness for a key id: {e}"))?;
    Ok(format!("key_{}", to_hex(&bytes)))
}

/// Lowercase hex.
pub fn to_hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// A 32-byte digest from 64 hex digits.
pub fn digest_from_hex(hex: &str) -> Option<[u8; 32]> {
    let hex = hex.as_bytes();
    if hex.len() != 64 || !hex.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    let mut out = [0u8; 32];
    for (o, pair) in out.iter_mut().zip(hex.chunks_exact(2)) {
        let s = std::str::from_utf8(pair).ok()?;
        *o = u8::from_str_radix(s, 16).ok()?;
    }
    Some(out)
}
