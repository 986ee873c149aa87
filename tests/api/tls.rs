//! TLS to managed services (Postgres, Redis), against local servers given certificates
//! made here.

use crate::helpers::*;
use banter::configuration::RedisTls;
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

/// A private Redis that speaks only TLS, presenting `cert` (with `key`).
async fn tls_redis(cert: &Path, key: &Path) -> RedisServer {
    let port = free_port();
    let args = vec![
        "--port".into(),
        "0".into(),
        "--tls-port".into(),
        port.to_string(),
        "--tls-cert-file".into(),
        cert.display().to_string(),
        "--tls-key-file".into(),
        key.display().to_string(),
        "--tls-auth-clients".into(),
        "no".into(),
    ];
    RedisServer::start(port, args).await
}

/// PINGs the Redis at `url` through the app's own client set-up.
async fn redis_reachable(url: &str, tls: &RedisTls) -> Result<(), String> {
    let client =
        banter::cluster::mirror::redis_client(url, tls).map_err(|e| banter::error_chain(&e))?;
    let mut conn = tokio::time::timeout(
        Duration::from_secs(5),
        client.get_multiplexed_async_connection(),
    )
    .await
    .map_err(|_| "timed out".to_owned())?
    .map_err(|e| e.to_string())?;
    redis::cmd("PING")
        .query_async::<String>(&mut conn)
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

#[actix_web::test]
async fn redis_over_tls_is_verified_unless_explicitly_turned_off() {
    let certs = Certificates::make("redis-tls");
    let verified = RedisTls::default();
    let unverified = RedisTls {
        verify: false,
        ca_file: None,
    };
    let with_ca = RedisTls {
        verify: true,
        ca_file: Some(certs.dir.join("ca.crt")),
    };

    // Heroku Redis's kind: a self-signed certificate (here the authority's own).
    let self_signed = tls_redis(&certs.dir.join("ca.crt"), &certs.dir.join("ca.key")).await;
    let self_signed_url = format!("rediss://127.0.0.1:{}", self_signed.port);
    let refused = redis_reachable(&self_signed_url, &verified).await;
    assert!(
        refused.is_err(),
        "a self-signed certificate is refused by default"
    );
    redis_reachable(&self_signed_url, &unverified)
        .await
        .expect("accepted with REDIS_TLS_VERIFY=false");

    // A certificate of a private authority: refused by default, accepted with its CA.
    let signed = tls_redis(&certs.dir.join("server.crt"), &certs.dir.join("server.key")).await;
    let signed_url = format!("rediss://127.0.0.1:{}", signed.port);
    assert!(redis_reachable(&signed_url, &verified).await.is_err());
    redis_reachable(&signed_url, &with_ca)
        .await
        .expect("accepted with REDIS_TLS_CA_FILE");
    let missing = RedisTls {
        verify: true,
        ca_file: Some(certs.dir.join("nowhere.crt")),
    };
    let error = redis_reachable(&signed_url, &missing).await.unwrap_err();
    assert!(error.contains("REDIS_TLS_CA_FILE"), "{error}");

    // A whole node: on the self-signed Redis with the defaults it never gets in sync
    // (not ready); with the CA configured it does.
    let strict = spawn_app_with(|s| cluster(s, &self_signed_url, &test_prefix(), "strict")).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(strict.node().ready_status(&strict.http).await, 503);
    let trusting = spawn_app_with(|s| {
        cluster(s, &signed_url, &test_prefix(), "trusting");
        s.redis_tls = with_ca.clone();
    })
    .await;
    trusting.node().wait_ready(&trusting.http).await;
}
