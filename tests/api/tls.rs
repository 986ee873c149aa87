//! TLS to managed services, against local servers given certificates made here.

use crate::helpers::*;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

fn pg_bin(name: &str) -> PathBuf {
    let root = Path::new("/usr/lib/postgresql");
    let mut versions: Vec<_> = std::fs::read_dir(root)
        .expect("PostgreSQL server binaries")
        .flatten()
        .map(|e| e.path())
        .collect();
    versions.sort();
    versions
        .pop()
        .expect("a PostgreSQL version")
        .join("bin")
        .join(name)
}

/// Runs a command as the `postgres` user when we are root (initdb refuses root).
fn as_postgres(program: PathBuf) -> Command {
    let root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout == b"0\n")
        .unwrap_or(false);
    if root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

/// A private PostgreSQL that accepts only TLS connections.
struct TlsPostgres {
    /// The certificates, and beside them the server's data, socket and log.
    certs: Certificates,
    port: u16,
}

impl TlsPostgres {
    async fn start() -> TlsPostgres {
        let certs = Certificates::make("pg");
        let dir = &certs.dir;
        let data = dir.join("data");
        run(Command::new("chmod").arg("-R").arg("a+rwX").arg(dir));
        run(as_postgres(pg_bin("initdb"))
            .args(["-A", "trust", "-U", "postgres", "-D"])
            .arg(&data));
        std::fs::write(
            data.join("pg_hba.conf"),
            "local all all trust\nhostssl all all 127.0.0.1/32 trust\nhostnossl all all 127.0.0.1/32 reject\n",
        )
        .unwrap();
        for f in ["server.crt", "server.key"] {
            std::fs::copy(dir.join(f), data.join(f)).unwrap();
        }
        run(Command::new("chown").args(["-R", "postgres"]).arg(&data));
        run(Command::new("chmod")
            .arg("600")
            .arg(data.join("server.key")));
        let port = free_port();
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c ssl=on -c ssl_cert_file=server.crt -c ssl_key_file=server.key",
            dir.display()
        );
        run(as_postgres(pg_bin("pg_ctl"))
            .args(["-w", "-t", "30", "-D"])
            .arg(&data)
            .args(["-l"])
            .arg(dir.join("log"))
            .args(["-o", &options, "start"]));
        TlsPostgres { certs, port }
    }

    fn url(&self, host: &str, params: &str) -> String {
        format!("postgres://postgres@{host}:{}/postgres?{params}", self.port)
    }
}

impl Drop for TlsPostgres {
    fn drop(&mut self) {
        let _ = as_postgres(pg_bin("pg_ctl"))
            .args(["-m", "immediate", "-D"])
            .arg(self.certs.dir.join("data"))
            .arg("stop")
            .output();
        // Then `certs` removes the directory.
    }
}

/// Connects once with the app's own TLS set-up (no pool, so refusals are immediate).
async fn reachable(url: &str) -> Result<(), String> {
    let (config, tls) =
        banter::db::tls::connect_config(url).map_err(|e| banter::error_chain(&e))?;
    let (client, connection) = tokio::time::timeout(Duration::from_secs(5), config.connect(tls))
        .await
        .map_err(|_| "timed out".to_owned())?
        .map_err(|e| banter::error_chain(&e))?;
    actix_web::rt::spawn(connection);
    client
        .simple_query("SELECT 1")
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

#[actix_web::test]
async fn postgres_over_tls_works_as_sslmode_asks() {
    let pg = TlsPostgres::start().await;
    let ca = pg.certs.dir.join("ca.crt").display().to_string();

    // Heroku's way: encrypted, certificate not verified.
    reachable(&pg.url("127.0.0.1", "sslmode=require"))
        .await
        .expect("sslmode=require connects");
    // The default (prefer) uses TLS when the server offers it (plain TCP is rejected here).
    reachable(&pg.url("127.0.0.1", ""))
        .await
        .expect("sslmode=prefer connects over TLS");
    // Verification against the CA, with and without the host name.
    reachable(&pg.url(
        "localhost",
        &format!("sslmode=verify-full&sslrootcert={ca}"),
    ))
    .await
    .expect("verify-full with the right CA connects");
    reachable(&pg.url("127.0.0.1", &format!("sslmode=verify-ca&sslrootcert={ca}")))
        .await
        .expect("verify-ca ignores the host name");
    // Refusals: an unknown CA, and plain TCP.
    let foreign = pg.certs.dir.join("server.crt").display().to_string();
    assert!(
        reachable(&pg.url("localhost", "sslmode=verify-full"))
            .await
            .is_err(),
        "public roots do not know our CA"
    );
    assert!(
        reachable(&pg.url(
            "localhost",
            &format!("sslmode=verify-full&sslrootcert={foreign}")
        ))
        .await
        .is_err(),
        "a leaf is no CA"
    );
    assert!(
        reachable(&pg.url("127.0.0.1", "sslmode=disable"))
            .await
            .is_err(),
        "plain TCP is refused by this server"
    );

    // The whole app runs on it.
    let app = spawn_app_with(|s| s.database_url = pg.url("127.0.0.1", "sslmode=require")).await;
    let alice = app.sign_in("alice@example.com").await;
    let (status, me) = app.get("/api/me", &alice.token).await;
    assert_eq!(
        (status, me["email"].as_str()),
        (200, Some("alice@example.com"))
    );
}
