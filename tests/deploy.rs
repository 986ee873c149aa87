//! The container image is built the way the tests build: its build steps call the same
//! script the README's commands use, and the deployment files say what Heroku needs.
//! (`scripts/test.sh` also lints the Dockerfile with hadolint.)

use std::fs;

fn read(path: &str) -> String {
    fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/").to_owned() + path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn the_dockerfile_builds_with_the_readme_build_script() {
    let dockerfile = read("Dockerfile");
    let readme = read("README.md");
    let run = read("scripts/run.sh");
    assert!(
        readme.contains("bash scripts/run.sh"),
        "the README runs scripts/run.sh"
    );
    assert!(
        run.contains("scripts/build.sh"),
        "scripts/run.sh builds with scripts/build.sh"
    );
    assert!(
        dockerfile.contains("RUN bash scripts/build.sh web"),
        "the web stage uses the script"
    );
    assert!(
        dockerfile.contains("bash scripts/build.sh server"),
        "the server stage uses the script"
    );
}

#[test]
fn the_image_runs_the_server_as_a_non_root_user_on_a_slim_base() {
    let dockerfile = read("Dockerfile");
    let stages = dockerfile
        .lines()
        .filter(|l| l.starts_with("FROM "))
        .count();
    assert_eq!(stages, 3, "node, cargo, runtime");
    let runtime = dockerfile.rsplit("FROM ").next().unwrap();
    assert!(runtime.starts_with("debian:bookworm-slim"), "{runtime}");
    assert!(runtime.contains("ca-certificates") && runtime.contains("curl"));
    assert!(runtime.contains("useradd --system --create-home --uid 10001 banter"));
    assert!(runtime.contains("USER 10001"), "not root");
    assert!(runtime.contains(r#"CMD ["banter", "serve"]"#));
    assert!(!dockerfile.contains(":latest"), "base images are pinned");
}

#[test]
fn heroku_migrates_in_the_release_phase_and_runs_the_server() {
    let heroku = read("heroku.yml");
    assert!(heroku.contains("web: Dockerfile"));
    assert!(heroku.contains("release:") && heroku.contains("- banter migrate"));
    assert!(heroku.contains("web: banter serve"));
    let app: serde_json::Value = serde_json::from_str(&read("app.json")).unwrap();
    assert_eq!(app["stack"], "container");
    let addons: Vec<&str> = app["addons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["plan"].as_str().unwrap())
        .collect();
    assert!(addons.iter().any(|a| a.starts_with("heroku-postgresql")));
    assert!(addons.iter().any(|a| a.starts_with("heroku-redis")));
    for name in [
        "OIDC_ISSUER",
        "OIDC_AUDIENCE",
        "OIDC_CLIENT_ID",
        "BISCUIT_PRIVATE_KEY",
    ] {
        assert!(app["env"].get(name).is_some(), "app.json asks for {name}");
    }
}
