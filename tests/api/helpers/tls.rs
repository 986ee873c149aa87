//! Certificates for TLS tests: a private certificate authority and a server certificate it
//! signed, made with `openssl` in a directory of their own.

use super::run;
use std::path::{Path, PathBuf};

/// A temporary directory, removed when dropped, holding a certificate authority (ca.crt,
/// ca.key) and a server certificate it signed (server.crt, server.key) for localhost and
/// 127.0.0.1. A test may keep more of its own things there.
pub struct Certificates {
    pub dir: PathBuf,
}

impl Certificates {
    /// Makes them in a new directory `banter-{kind}-…` under the temporary directory.
    pub fn make(kind: &str) -> Certificates {
        let dir =
            std::env::temp_dir().join(format!("banter-{kind}-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        make_certificates(&dir);
        Certificates { dir }
    }
}

impl Drop for Certificates {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn make_certificates(dir: &Path) {
    let ca_key = dir.join("ca.key");
    let ca = dir.join("ca.crt");
    run(std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=Banter test CA",
        ])
        .arg("-keyout")
        .arg(&ca_key)
        .arg("-out")
        .arg(&ca));
    let ext = dir.join("ext.cnf");
    std::fs::write(&ext, "subjectAltName=DNS:localhost,IP:127.0.0.1\n").unwrap();
    run(std::process::Command::new("openssl")
        .args([
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=localhost",
        ])
        .arg("-keyout")
        .arg(dir.join("server.key"))
        .arg("-out")
        .arg(dir.join("server.csr")));
    run(std::process::Command::new("openssl")
        .args(["x509", "-req", "-days", "1", "-CAcreateserial"])
        .arg("-in")
        .arg(dir.join("server.csr"))
        .arg("-CA")
        .arg(&ca)
        .arg("-CAkey")
        .arg(&ca_key)
        .arg("-extfile")
        .arg(&ext)
        .arg("-out")
        .arg(dir.join("server.crt")));
}
