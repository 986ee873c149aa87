//! The in-test OpenID Connect issuer: discovery, JWKS and userinfo on a random port, and
//! the tokens it signs (the identity provider is the one outside party we stand in for).

use super::fixture;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// The audience the issuer's tokens are for, and the app expects.
pub const AUDIENCE: &str = "https://api.banter.test";

/// An OpenID Connect issuer on a random port with its own RSA and EC keys.
pub struct TestIssuer {
    /// The issuer exactly as tokens carry it (with a trailing slash, like Auth0's).
    pub issuer: String,
    pub jwks_fetches: Arc<AtomicUsize>,
    rsa: EncodingKey,
    ec: EncodingKey,
    stranger: EncodingKey,
}

impl TestIssuer {
    pub async fn start() -> TestIssuer {
        Self::start_on(std::net::TcpListener::bind("127.0.0.1:0").unwrap()).await
    }

    /// An issuer on `listener` (a port chosen before it came up).
    pub async fn start_on(listener: std::net::TcpListener) -> TestIssuer {
        let port = listener.local_addr().unwrap().port();
        let issuer = format!("http://127.0.0.1:{port}/");
        let jwks_fetches = Arc::new(AtomicUsize::new(0));
        let jwks: Value = serde_json::from_slice(&fixture("issuer_jwks.json")).unwrap();
        let (iss, fetches) = (issuer.clone(), jwks_fetches.clone());
        let server = HttpServer::new(move || {
            let (iss, fetches, jwks) = (iss.clone(), fetches.clone(), jwks.clone());
            App::new()
                .route(
                    "/.well-known/openid-configuration",
                    web::get().to(move || {
                        let iss = iss.clone();
                        async move {
                            HttpResponse::Ok().json(json!({
                                "issuer": iss,
                                "jwks_uri": format!("{iss}jwks"),
                                "userinfo_endpoint": format!("{iss}userinfo"),
                                "authorization_endpoint": format!("{iss}authorize"),
                                "token_endpoint": format!("{iss}token"),
                            }))
                        }
                    }),
                )
                .route(
                    "/jwks",
                    web::get().to(move || {
                        fetches.fetch_add(1, Ordering::SeqCst);
                        let jwks = jwks.clone();
                        async move { HttpResponse::Ok().json(jwks) }
                    }),
                )
                .route("/userinfo", web::get().to(userinfo))
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        actix_web::rt::spawn(server);
        TestIssuer {
            issuer,
            jwks_fetches,
            rsa: EncodingKey::from_rsa_pem(&fixture("issuer_rsa.pem")).unwrap(),
            ec: EncodingKey::from_ec_pem(&fixture("issuer_ec.pem")).unwrap(),
            stranger: EncodingKey::from_rsa_pem(&fixture("stranger_rsa.pem")).unwrap(),
        }
    }

    /// Standard claims for `subject`, valid for five minutes; an email comes with
    /// `email_verified: true`, as a provider gives it for a person who proved the address.
    pub fn claims(&self, subject: &str, email: Option<&str>) -> Value {
        let now = chrono::Utc::now().timestamp();
        let mut claims = json!({
            "iss": self.issuer, "sub": subject, "aud": [AUDIENCE, format!("{}userinfo", self.issuer)],
            "iat": now, "nbf": now, "exp": now + 300,
        });
        if let Some(email) = email {
            claims["email"] = json!(email);
            claims["email_verified"] = json!(true);
        }
        claims
    }

    /// An RS256 access token signed by the issuer's published key.
    pub fn token(&self, subject: &str, email: Option<&str>) -> String {
        self.sign(&self.claims(subject, email), Algorithm::RS256, "rsa-1")
    }

    /// Signs `claims` with the issuer's key for `alg` (or a stranger's for kid "stranger").
    pub fn sign(&self, claims: &Value, alg: Algorithm, kid: &str) -> String {
        let mut header = Header::new(alg);
        header.kid = Some(kid.to_owned());
        let key = match (kid, alg) {
            ("stranger", _) => &self.stranger,
            (_, Algorithm::ES256) => &self.ec,
            _ => &self.rsa,
        };
        jsonwebtoken::encode(&header, claims, key).unwrap()
    }
}

/// Userinfo answers for any bearer with an email derived from the token's subject,
/// verified unless the subject starts with `unverified|` (then `email_verified: false`)
/// or `unsaid|` (then no `email_verified` at all). A subject `named|<name>|…` also gets
/// that `name`.
async fn userinfo(req: HttpRequest) -> HttpResponse {
    let token = req
        .headers()
        .get("authorization")
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .unwrap_or_default();
    let payload = token.split('.').nth(1).unwrap_or_default();
    use base64::Engine as _;
    let claims: Value = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    match claims["sub"].as_str() {
        Some(sub) => {
            let mut info = json!({ "sub": sub, "email": format!("{sub}@userinfo.test") });
            if !sub.starts_with("unsaid|") {
                info["email_verified"] = json!(!sub.starts_with("unverified|"));
            }
            if let Some(name) = sub.strip_prefix("named|").and_then(|r| r.split('|').next()) {
                info["name"] = json!(name);
            }
            HttpResponse::Ok().json(info)
        }
        None => HttpResponse::Unauthorized().finish(),
    }
}
