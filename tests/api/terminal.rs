//! `banter chat`, the terminal client, run as a child process against the real server:
//! commands typed on its stdin, events read from its stdout, every wait bounded.

use crate::helpers::*;
use serde_json::json;
use std::io::{BufRead, Write};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::time::Duration;
use tokio::sync::mpsc;

/// A running `banter chat` with pipes on stdin, stdout and stderr.
struct Terminal {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::UnboundedReceiver<String>,
    stderr: Option<std::thread::JoinHandle<String>>,
    /// Every line read so far, for failure messages.
    seen: Vec<String>,
    /// Lines starting with one of these are read past (live room list updates, whose
    /// order against other events is not fixed).
    ignored: Vec<&'static str>,
}

impl Terminal {
    /// `banter chat --server <server> <args>`.
    fn start(server: &str, args: &[&str]) -> Terminal {
        Terminal::start_with_env(server, args, &[])
    }

    /// Like [`Terminal::start`], with more environment variables.
    fn start_with_env(server: &str, args: &[&str], env: &[(&str, &str)]) -> Terminal {
        let mut child = Command::new(env!("CARGO_BIN_EXE_banter"))
            .arg("chat")
            .args(["--server", server])
            .args(args)
            .env_remove("BANTER_TOKEN")
            .env("RUST_LOG", "warn")
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start banter chat");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = mpsc::unbounded_channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        let mut stderr = child.stderr.take().expect("stderr");
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = std::io::Read::read_to_string(&mut stderr, &mut text);
            text
        });
        Terminal {
            stdin: child.stdin.take(),
            child,
            lines,
            stderr: Some(stderr),
            seen: Vec::new(),
            ignored: Vec::new(),
        }
    }

    /// Signed in as `person` on `app`.
    fn signed_in(app: &TestApp, person: &Person) -> Terminal {
        Terminal::start(&app.address, &["--token", &person.token])
    }

    /// Types one line.
    fn type_line(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin is open");
        writeln!(stdin, "{line}").expect("write to the client's stdin");
        stdin.flush().expect("flush the client's stdin");
    }

    /// Closes stdin: end of input.
    fn end_input(&mut self) {
        self.stdin = None;
    }

    /// The next line of stdout (but those [`Terminal::ignore`] skips).
    async fn next_line(&mut self) -> String {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            match tokio::time::timeout_at(deadline, self.lines.recv()).await {
                Ok(Some(line)) => {
                    self.seen.push(line.clone());
                    if !self.ignored.iter().any(|p| line.starts_with(p)) {
                        return line;
                    }
                }
                Ok(None) => panic!("stdout ended; so far: {:#?}", self.seen),
                Err(_) => panic!("no line in time; so far: {:#?}", self.seen),
            }
        }
    }

    /// From now on, reads past lines starting with `prefix`.
    fn ignore(&mut self, prefix: &'static str) {
        self.ignored.push(prefix);
    }

    /// Skips lines until every one of `wanted` has appeared, in any order.
    async fn expect_all(&mut self, wanted: &[String]) {
        let mut missing: Vec<&String> = wanted.iter().collect();
        let deadline = tokio::time::Instant::now() + WAIT;
        while !missing.is_empty() {
            let line = tokio::time::timeout_at(deadline, self.next_line())
                .await
                .unwrap_or_else(|_| panic!("still missing {missing:#?}; so far: {:#?}", self.seen));
            missing.retain(|w| **w != line);
        }
    }

    /// Skips lines until one starts with `prefix`; returns it.
    async fn expect(&mut self, prefix: &str) -> String {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let line = tokio::time::timeout_at(deadline, self.next_line())
                .await
                .unwrap_or_else(|_| panic!("no line {prefix:?} in time; so far: {:#?}", self.seen));
            if line.starts_with(prefix) {
                return line;
            }
        }
    }

    /// The next line, which must be exactly `wanted`.
    async fn expect_next(&mut self, wanted: &str) {
        let line = self.next_line().await;
        assert_eq!(line, wanted, "so far: {:#?}", self.seen);
    }

    /// Waits for the process to end; its status and everything it wrote on stderr.
    async fn exit(&mut self) -> (ExitStatus, String) {
        let deadline = tokio::time::Instant::now() + WAIT;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("poll the client") {
                break status;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the client did not exit in time; so far: {:#?}",
                self.seen
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let stderr = self.stderr.take().expect("stderr read once");
        let stderr = tokio::task::spawn_blocking(move || stderr.join().unwrap_or_default())
            .await
            .unwrap_or_default();
        (status, stderr)
    }

    /// Lines still to come before stdout ends (after the process exited).
    async fn rest(&mut self) -> Vec<String> {
        let mut rest = Vec::new();
        while let Ok(Some(line)) = tokio::time::timeout(WAIT, self.lines.recv()).await {
            rest.push(line);
        }
        rest
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `check` until it holds; panics after [`WAIT`]. For effects of frames that get
/// no answer (`read`, `block`).
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + WAIT;
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: not in time"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The set-up most terminal tests start from, on an app of their own: Alice in the
/// terminal client, which has printed its greeting (ready, with Bob online), and Bob in a
/// window. Keep `app` and `bob_ws` bound even if unused (`_app`): dropping them drops the
/// database or closes Bob's window.
async fn alice_in_the_terminal_bob_online() -> (TestApp, Person, Person, Ws, Terminal) {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let (bob_ws, _) = app.window(&bob).await;
    let mut term = Terminal::signed_in(&app, &alice);
    term.expect_next("ready me=alice@example.com online=1")
        .await;
    term.expect_next("online bob@example.com").await;
    term.expect_next("end online").await;
    (app, alice, bob, bob_ws, term)
}

/// The conversation id in a `sent`, `message` or `opened` line.
fn conversation_of(line: &str) -> String {
    line.split(' ')
        .nth(1)
        .expect("a conversation field")
        .to_owned()
}

#[actix_web::test]
async fn the_terminal_client_lists_who_is_online_and_prints_presence_changes() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let carol = app.sign_in("carol@example.com").await;
    let (bob_ws, _) = app.window(&bob).await;

    let mut term = Terminal::signed_in(&app, &alice);
    term.expect_next("ready me=alice@example.com online=1")
        .await;
    term.expect_next("online bob@example.com").await;
    term.expect_next("end online").await;

    let (_carol_ws, _) = app.window(&carol).await;
    term.expect_next("presence online carol@example.com").await;
    bob_ws.close().await;
    term.expect_next("presence offline bob@example.com").await;

    term.type_line("/online");
    term.expect_next("online carol@example.com").await;
    term.expect_next("end online").await;
    term.type_line("/who");
    term.expect_next("online carol@example.com").await;
    term.expect_next("end online").await;

    // With a prefix, the server searches everyone online (case-insensitive).
    let (_dave_ws, _) = app.window(&app.sign_in("dave@example.com").await).await;
    term.expect_next("presence online dave@example.com").await;
    term.type_line("/online CA");
    term.expect_next("online carol@example.com").await;
    term.expect_next("end online").await;
    term.type_line("/online zed");
    term.expect_next("end online").await;
}

#[actix_web::test]
async fn a_message_typed_in_the_terminal_reaches_the_peer_once_and_the_reply_is_printed() {
    let (app, alice, _, mut bob_ws, mut term) = alice_in_the_terminal_bob_online().await;

    term.type_line("/open bob@example.com");
    term.expect_next("opened bob@example.com new").await;
    term.expect_next("end history").await;
    term.type_line("hello bob");
    let sent = term.expect("sent ").await;
    let conversation = conversation_of(&sent);
    assert_eq!(sent, format!("sent {conversation} 1 hello bob"));

    let message = bob_ws.recv_type("message").await["message"].clone();
    assert_eq!(message["body"], "hello bob");
    assert_eq!(message["sender_id"], alice.id);
    assert_eq!(message["conversation_id"], conversation.as_str());
    assert_eq!(app.count_messages().await, 1);

    // Bob types, then answers on two lines; "//" sends a leading slash.
    bob_ws
        .send(json!({"type": "typing", "conversation_id": conversation}))
        .await;
    term.expect_next(&format!("typing {conversation} bob@example.com"))
        .await;
    bob_ws
        .send(
            json!({"type": "send", "ref": "r1", "client_id": new_client_id(),
                     "body": "hi alice\nhow are you?", "conversation_id": conversation}),
        )
        .await;
    term.expect_next(&format!(
        "message {conversation} 2 bob@example.com hi alice\\nhow are you?"
    ))
    .await;
    term.type_line("//shrug");
    term.expect_next(&format!("sent {conversation} 3 /shrug"))
        .await;
    assert_eq!(
        bob_ws.recv_type("message").await["message"]["body"],
        "/shrug"
    );

    term.type_line("/read");
    term.expect_next(&format!("read {conversation} 3")).await;
    eventually("the read position is stored", || async {
        let (_, list) = app.get("/api/conversations", &alice.token).await;
        list["conversations"][0]["read_seq"] == 3
    })
    .await;
    assert_eq!(app.count_messages().await, 3);
}

#[actix_web::test]
async fn opening_a_chat_shows_its_last_twenty_messages_and_history_pages_further_back() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let (_, direct) = app.open_direct(&bob.token, &alice.id).await;
    let conversation = direct["id"]
        .as_str()
        .expect("the conversation id")
        .to_owned();
    for i in 1..=25 {
        let (status, _) = app
            .post_message(
                &bob.token,
                &conversation,
                &format!("note {i}"),
                &new_client_id(),
            )
            .await;
        assert_eq!(status, 201);
    }

    let mut term = Terminal::signed_in(&app, &alice);
    term.expect_next("ready me=alice@example.com online=0")
        .await;
    term.expect_next("end online").await;
    term.type_line(&format!("/open {}", bob.email));
    term.expect_next(&format!("opened bob@example.com {conversation}"))
        .await;
    for i in 6..=25 {
        term.expect_next(&format!(
            "history {conversation} {i} bob@example.com note {i}"
        ))
        .await;
    }
    term.expect_next("end history").await;
    term.type_line("/history 3");
    for i in 3..=5 {
        term.expect_next(&format!(
            "history {conversation} {i} bob@example.com note {i}"
        ))
        .await;
    }
    term.expect_next("end history").await;
}

#[actix_web::test]
async fn a_send_refused_because_the_peer_blocked_the_terminal_user_prints_a_blocked_error() {
    let (app, alice, bob, mut bob_ws, mut term) = alice_in_the_terminal_bob_online().await;
    term.type_line("/open bob@example.com");
    term.expect("end history").await;
    term.type_line("are we friends?");
    term.expect("sent ").await;
    assert_eq!(
        bob_ws.recv_type("message").await["message"]["body"],
        "are we friends?"
    );

    bob_ws
        .send(json!({"type": "block", "user_id": alice.id}))
        .await;
    term.expect_next("presence offline bob@example.com").await;
    term.type_line("hello?");
    term.expect_next("error blocked one of you has blocked the other")
        .await;
    assert_eq!(
        app.count_messages().await,
        1,
        "the refused message is not stored"
    );

    // The terminal user's own block list works the same way.
    term.type_line("/block bob@example.com");
    term.expect_next("blocked bob@example.com").await;
    term.type_line("/blocked");
    term.expect_next("blocked bob@example.com").await;
    term.expect_next("end blocked").await;
    // The line is printed as the frame goes out; the server stores the block just after.
    eventually("the block is stored", || async {
        let (_, blocks) = app.get("/api/blocks", &alice.token).await;
        ids(&blocks["blocked"]) == vec![bob.id.clone()]
    })
    .await;
}

#[actix_web::test]
async fn a_bad_token_makes_the_terminal_client_exit_non_zero_with_one_clear_line() {
    let app = spawn_app().await;
    let mut term = Terminal::start(&app.address, &["--token", "not-a-token"]);
    let (status, stderr) = term.exit().await;
    assert!(!status.success(), "{status:?}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("refused the session token"), "{stderr}");
    assert_eq!(term.rest().await, Vec::<String>::new(), "nothing on stdout");
}

#[actix_web::test]
async fn an_unreachable_server_makes_the_terminal_client_exit_non_zero_with_one_clear_line() {
    let port = free_port();
    let mut term = Terminal::start(&format!("http://127.0.0.1:{port}"), &["--token", "x"]);
    let (status, stderr) = term.exit().await;
    assert!(!status.success(), "{status:?}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains(&format!("cannot reach ws://127.0.0.1:{port}/ws")),
        "{stderr}"
    );
}

#[actix_web::test]
async fn a_script_piped_into_the_client_is_carried_out_and_end_of_input_exits_zero_after_a_clean_close(
) {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let (mut bob_ws, _) = app.window(&bob).await;

    // The whole script is written and closed before the client has even connected.
    let mut term = Terminal::signed_in(&app, &alice);
    term.type_line("/open bob@example.com");
    term.type_line("hello from a script");
    term.end_input();

    let (status, stderr) = term.exit().await;
    assert!(status.success(), "{status:?}: {stderr}");
    assert_eq!(stderr, "", "nothing extra when stdin is not a terminal");
    let out = term.rest().await;
    assert_eq!(out.len(), 6, "{out:#?}");
    assert_eq!(
        out[..5],
        [
            "ready me=alice@example.com online=1",
            "online bob@example.com",
            "end online",
            "opened bob@example.com new",
            "end history"
        ]
    );
    assert!(
        out[5].starts_with("sent ") && out[5].ends_with(" 1 hello from a script"),
        "{out:#?}"
    );

    assert_eq!(
        bob_ws.recv_type("message").await["message"]["body"],
        "hello from a script"
    );
    // The socket was closed: alice ends offline for bob (if he heard of her at all:
    // online for less than a presence tick, she may have come and gone unseen).
    let heard = bob_ws
        .presence_until_quiet(Duration::from_millis(700))
        .await;
    assert_ne!(heard.get(&alice.id), Some(&true), "{heard:?}");
    assert_eq!(app.count_messages().await, 1);
}

#[actix_web::test]
async fn after_the_server_restarts_the_client_reconnects_and_prints_what_it_missed() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let port = free_port();
    let mut server =
        ServerProcess::start(&app.database_url, port, app.peer_env("restarting")).await;
    let mut term = Terminal::start(
        &format!("http://127.0.0.1:{port}"),
        &["--token", &alice.token],
    );
    term.expect_next("ready me=alice@example.com online=0")
        .await;
    term.expect_next("end online").await;
    term.type_line("/open bob@example.com");
    term.expect_next(
        "error unknown_user bob@example.com is not online, blocked or in one of your chats",
    )
    .await;
    term.type_line(&format!("/open {}", bob.id));
    term.expect_next(&format!("opened {} new", bob.id)).await;
    term.expect_next("end history").await;
    term.type_line("before the restart");
    let conversation = conversation_of(&term.expect("sent ").await);

    server.kill().await;
    term.expect("disconnected ").await;
    // While the server is down: bob answers (through another node), and alice types on.
    let (status, _) = app
        .post_message(
            &bob.token,
            &conversation,
            "while you were away",
            &new_client_id(),
        )
        .await;
    assert_eq!(status, 201);
    // ... and reacts to her message.
    let (mut bob_ws, _) = app.window(&bob).await;
    bob_ws
        .send(
            json!({"type": "react", "ref": "r1", "conversation_id": conversation, "seq": 1,
                     "emoji": "👍"}),
        )
        .await;
    assert_eq!(bob_ws.recv_type("reaction").await["ref"], "r1");
    term.type_line("typed while disconnected");

    let _server = ServerProcess::start(&app.database_url, port, app.peer_env("restarted")).await;
    term.expect_next("reconnected").await;
    term.expect_next(&format!(
        "message {conversation} 2 bob@example.com while you were away"
    ))
    .await;
    // What became of a message printed before the drop: as it is now.
    term.expect_next(&format!(
        "changed {conversation} 1 alice@example.com before the restart"
    ))
    .await;
    term.expect_next(&format!("state {conversation} 1 👍 1"))
        .await;
    term.expect_next(&format!("sent {conversation} 3 typed while disconnected"))
        .await;
    assert_eq!(app.count_messages().await, 3);
}

#[actix_web::test]
async fn an_operator_can_start_the_client_with_an_email_instead_of_a_token() {
    let app = spawn_app().await;
    let bob = app.sign_in("bob@example.com").await;
    let (mut bob_ws, _) = app.window(&bob).await;
    // The token is minted with the root key the server keeps in Postgres, as
    // `banter token` does; the user is created on first sight.
    let mut term = Terminal::start_with_env(
        &app.address,
        &["--email", "operator@example.com", "--ttl", "5m"],
        &[
            ("DATABASE_URL", app.database_url.as_str()),
            ("ROOT_KEY_ENCRYPTION_KEY", TEST_ROOT_KEY_ENCRYPTION_KEY),
        ],
    );
    term.expect_next("ready me=operator@example.com online=1")
        .await;
    term.expect_next("online bob@example.com").await;
    term.expect_next("end online").await;
    let presence = bob_ws.recv_presence().await;
    assert_eq!(presence["user"]["email"], "operator@example.com");
    term.type_line("/open bob@example.com");
    term.expect_next("opened bob@example.com new").await;
    term.expect_next("end history").await;
    term.type_line("hello from the operator");
    term.expect("sent ").await;
    let message = bob_ws.recv_type("message").await["message"].clone();
    assert_eq!(message["body"], "hello from the operator");
}

/// A tmux server of its own on a private socket, killed at the end.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn run(&self, args: &[&str]) -> std::process::Output {
        Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .output()
            .expect("run tmux")
    }

    /// Waits until the pane shows a line containing `text`; returns the pane.
    async fn wait_for(&self, text: &str) -> String {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let pane =
                String::from_utf8_lossy(&self.run(&["capture-pane", "-p", "-t", "chat"]).stdout)
                    .into_owned();
            if pane.lines().any(|l| l.contains(text)) {
                return pane;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{text:?} did not appear; the pane:\n{pane}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

#[actix_web::test]
async fn in_a_real_terminal_the_client_greets_the_person_and_takes_what_they_type() {
    if Command::new("tmux").arg("-V").output().is_err() {
        eprintln!("tmux is not installed: skipped");
        return;
    }
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let (mut bob_ws, _) = app.window(&bob).await;
    let tmux = Tmux {
        socket: format!("banter-test-{}", uuid::Uuid::new_v4().simple()),
    };
    let chat = format!(
        "{} chat --server {} --token {}",
        env!("CARGO_BIN_EXE_banter"),
        app.address,
        alice.token
    );
    let started = tmux.run(&[
        "new-session",
        "-d",
        "-s",
        "chat",
        "-x",
        "200",
        "-y",
        "50",
        &chat,
    ]);
    assert!(started.status.success(), "{started:?}");

    tmux.wait_for("ready me=alice@example.com online=1").await;
    tmux.wait_for("Connected as alice@example.com").await;
    tmux.run(&["send-keys", "-t", "chat", "/open bob@example.com", "Enter"]);
    tmux.wait_for("opened bob@example.com new").await;
    tmux.run(&["send-keys", "-t", "chat", "-l", "typed by hand"]);
    tmux.run(&["send-keys", "-t", "chat", "Enter"]);
    let message = bob_ws.recv_type("message").await["message"].clone();
    assert_eq!(message["body"], "typed by hand");
    tmux.wait_for("1 typed by hand").await;
    tmux.run(&["send-keys", "-t", "chat", "/quit", "Enter"]);
    // Alice quits: her client exits (and tmux with it), and she ends offline for bob
    // (if he heard of her at all: online for less than a presence tick, she may have
    // come and gone unseen).
    let deadline = tokio::time::Instant::now() + WAIT;
    while tmux.run(&["has-session", "-t", "chat"]).status.success() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the client did not quit"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let heard = bob_ws
        .presence_until_quiet(Duration::from_millis(700))
        .await;
    assert_ne!(heard.get(&alice.id), Some(&true), "{heard:?}");
}

/// A TLS front for the app (as Heroku's router is), with a certificate from a private CA
/// (`certs`, ca.crt); each connection is decrypted and forwarded to the app.
struct TlsFront {
    certs: Certificates,
    port: u16,
}

impl TlsFront {
    async fn start(app: &TestApp) -> TlsFront {
        let certs = Certificates::make("wss");
        let dir = &certs.dir;
        let chain: Vec<_> =
            rustls_pemfile::certs(&mut std::fs::read(dir.join("server.crt")).unwrap().as_slice())
                .collect::<Result<_, _>>()
                .unwrap();
        let key = rustls_pemfile::private_key(
            &mut std::fs::read(dir.join("server.key")).unwrap().as_slice(),
        )
        .unwrap()
        .expect("a private key");
        let config = rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let backend = app.port;
        actix_web::rt::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                actix_web::rt::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let Ok(mut app) = tokio::net::TcpStream::connect(("127.0.0.1", backend)).await
                    else {
                        return;
                    };
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut app).await;
                });
            }
        });
        TlsFront { certs, port }
    }
}

#[actix_web::test]
async fn over_https_the_client_speaks_wss_and_checks_the_certificate() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let front = TlsFront::start(&app).await;
    let server = format!("https://localhost:{}", front.port);

    // A certificate from an unknown authority is refused.
    let mut term = Terminal::start(&server, &["--token", &alice.token]);
    let (status, stderr) = term.exit().await;
    assert!(!status.success(), "{status:?}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains(&format!("cannot reach wss://localhost:{}/ws", front.port)),
        "{stderr}"
    );

    // Trusting that authority, the client connects and works.
    let ca = front.certs.dir.join("ca.crt");
    let mut term = Terminal::start(
        &server,
        &["--token", &alice.token, "--ca-cert", ca.to_str().unwrap()],
    );
    term.expect_next("ready me=alice@example.com online=0")
        .await;
    term.expect_next("end online").await;
    term.type_line("/online");
    term.expect_next("end online").await;
}

#[actix_web::test]
async fn room_messages_are_printed_with_their_senders_and_a_room_is_never_taken_for_a_direct_chat()
{
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let mut term = Terminal::signed_in(&app, &alice);
    term.expect_next("ready me=alice@example.com online=0")
        .await;
    term.expect_next("end online").await;

    // Bob (never online, so unknown to alice's client) makes a room; alice joins it.
    let room = app.post_room(&bob.token, "Lobby").await;
    app.join_room(&alice.token, &room).await;

    let (status, _) = app
        .post_message(&bob.token, &room, "welcome to the room", &new_client_id())
        .await;
    assert_eq!(status, 201);
    // (After the live room list's lines: the room appeared, alice joined it.)
    term.expect(&format!(
        "message {room} 1 bob@example.com welcome to the room"
    ))
    .await;

    // Bob is known now, and his direct chat with alice is not the room.
    term.type_line("/open bob@example.com");
    term.expect_next("opened bob@example.com new").await;
    term.expect_next("end history").await;
    term.type_line("just between us");
    let sent = term.expect("sent ").await;
    assert_ne!(conversation_of(&sent), room);
    assert!(sent.ends_with(" 1 just between us"), "{sent}");
}

/// Sends a message over a socket and waits for its `ack`; the message.
async fn say(ws: &mut Ws, room: &str, body: &str, reply_to: Option<i64>) -> serde_json::Value {
    let mut frame = json!({"type": "send", "ref": "s1", "client_id": new_client_id(),
                           "body": body, "conversation_id": room});
    if let Some(seq) = reply_to {
        frame["reply_to"] = json!(seq);
    }
    ws.send(frame).await;
    ws.recv_type("ack").await["message"].clone()
}

#[actix_web::test]
async fn a_room_created_in_the_terminal_appears_for_others_and_its_members_talk_both_ways() {
    let (_app, alice, _, mut bob_ws, mut term) = alice_in_the_terminal_bob_online().await;

    // A name with a space, in quotes; the room opens at once (empty).
    term.type_line(r#"/create "Team room""#);
    let joined = term.expect("joined ").await;
    let room = conversation_of(&joined);
    assert_eq!(joined, format!("joined {room} Team room"));
    term.expect("end history").await;

    // Bob finds it in the directory at once; when he joins, the terminal hears of it.
    bob_ws
        .send(json!({"type": "rooms", "ref": "d", "query": "team"}))
        .await;
    let listed = &bob_ws.recv_type("rooms").await["rooms"][0];
    assert_eq!(listed["id"], room.as_str());
    assert_eq!(listed["name"], "Team room");
    assert_eq!(listed["members"], 1);
    bob_ws
        .send(json!({"type": "join_room", "ref": "j1", "room_id": room}))
        .await;
    assert_eq!(bob_ws.recv_type("joined").await["ref"], "j1");
    term.expect_all(&[
        format!("member joined {room} bob@example.com"),
        format!("room {room} members=2 password=no joined=yes Team room"),
    ])
    .await;
    term.type_line("/rooms");
    // By name: the room everyone shares ("general", alice and bob), then theirs.
    let general = term.next_line().await;
    assert!(
        general.starts_with("room ")
            && general.ends_with(" members=2 password=no joined=yes general"),
        "{general}"
    );
    term.expect_next(&format!(
        "room {room} members=2 password=no joined=yes Team room"
    ))
    .await;
    term.expect_next("end rooms").await;

    // Text goes to the open room; bob's words come back.
    term.type_line("hello team");
    term.expect_next(&format!("sent {room} 1 hello team")).await;
    let message = bob_ws.recv_type("message").await["message"].clone();
    assert_eq!(
        (
            &message["conversation_id"],
            &message["sender_id"],
            &message["body"]
        ),
        (&json!(room), &json!(alice.id), &json!("hello team"))
    );
    say(&mut bob_ws, &room, "hi alice", None).await;
    term.expect_next(&format!("message {room} 2 bob@example.com hi alice"))
        .await;

    term.type_line("/members");
    term.expect_next("member alice@example.com online").await;
    term.expect_next("member bob@example.com online").await;
    term.expect_next("end members").await;

    // A direct chat in between, then the room again, by its name.
    term.type_line("/open bob@example.com");
    term.expect_next("opened bob@example.com new").await;
    term.expect_next("end history").await;
    term.type_line("/members");
    term.expect_next(
        "error not_room the open chat is not a room; /open <room> first, or name the room",
    )
    .await;
    term.type_line(r#"/open "team ROOM""#);
    term.expect_next(&format!("opened room {room} Team room"))
        .await;
    term.expect_next(&format!("history {room} 1 alice@example.com hello team"))
        .await;
    term.expect_next(&format!("history {room} 2 bob@example.com hi alice"))
        .await;
    term.expect_next("end history").await;
    term.type_line("back in the room");
    term.expect_next(&format!("sent {room} 3 back in the room"))
        .await;
    assert_eq!(
        bob_ws.recv_type("message").await["message"]["body"],
        "back in the room"
    );
}

#[actix_web::test]
async fn joining_a_room_with_a_password_from_the_terminal_needs_the_right_one() {
    let (app, _, bob, mut bob_ws, mut term) = alice_in_the_terminal_bob_online().await;

    let (room, _) = create_room(&mut bob_ws, "Book club", Some("s3cret")).await;
    say(&mut bob_ws, &room, "chapter one tonight", None).await;

    term.type_line(r#"/open "Book club""#);
    term.expect_next("error not_member you are not a member of Book club; /join it first")
        .await;
    term.type_line(r#"/join "Book club" wrong"#);
    term.expect_next("error forbidden wrong password").await;
    term.type_line(r#"/join "Book club""#);
    term.expect_next("error forbidden this room needs its password")
        .await;
    // Unquoted, "club" would be the password of a room "Book": the client says so.
    term.type_line("/join Book club");
    term.expect_next(r#"error usage quote a name with spaces: /join "Book club" [password]"#)
        .await;
    assert_eq!(
        app.get(&format!("/api/rooms/{room}/members"), &bob.token)
            .await
            .1["members"]
            .as_array()
            .map(Vec::len),
        Some(1),
        "alice is not a member yet"
    );

    term.ignore("room ");
    term.type_line(&format!("/join {room} s3cret"));
    term.expect_next(&format!("joined {room} Book club")).await;
    term.expect_next(&format!(
        "history {room} 1 bob@example.com chapter one tonight"
    ))
    .await;
    term.expect_next("end history").await;
    let member = bob_ws.recv_type("member").await;
    assert_eq!(
        (
            &member["room_id"],
            &member["user"]["email"],
            &member["joined"]
        ),
        (&json!(room), &json!("alice@example.com"), &json!(true))
    );
    // The live line of her join came before `joined` (skipped); the list now says she is in.
    term.ignored.clear();
    term.type_line("/rooms");
    term.expect_next(&format!(
        "room {room} members=2 password=yes joined=yes Book club"
    ))
    .await;
    // Then the room everyone shares (by name: "Book club" < "general").
    let general = term.next_line().await;
    assert!(
        general.ends_with(" password=no joined=yes general"),
        "{general}"
    );
    term.expect_next("end rooms").await;
    term.type_line("/join Nowhere");
    term.expect_next("error unknown_room Nowhere is not a room (/rooms lists them)")
        .await;
}

#[actix_web::test]
async fn leaving_a_room_and_its_deletion_by_its_creator_are_printed() {
    let (_app, _, _, mut bob_ws, mut term) = alice_in_the_terminal_bob_online().await;

    let (room, _) = create_room(&mut bob_ws, "Lounge", None).await;
    // Not told of it, the terminal finds it by name in the directory.
    term.ignore("room ");
    term.type_line("/join lounge");
    term.expect_next(&format!("joined {room} Lounge")).await;
    term.expect_next("end history").await;
    assert_eq!(bob_ws.recv_type("member").await["joined"], true);

    // Only its creator may delete it.
    term.type_line("/delete");
    let refused = term.next_line().await;
    assert!(refused.starts_with("error forbidden "), "{refused}");

    term.type_line("/leave");
    term.expect_next(&format!("left {room}")).await;
    let member = bob_ws.recv_type("member").await;
    assert_eq!(
        (&member["user"]["email"], &member["joined"]),
        (&json!("alice@example.com"), &json!(false))
    );
    term.type_line("anyone?");
    term.expect_next("error no_chat no chat is open; /open <email> first")
        .await;

    // Back in, and bob deletes the room.
    term.type_line(&format!("/join {room}"));
    term.expect_next(&format!("joined {room} Lounge")).await;
    term.expect_next("end history").await;
    bob_ws
        .send(json!({"type": "delete_room", "ref": "d1", "room_id": room}))
        .await;
    assert_eq!(bob_ws.recv_type("room_deleted").await["ref"], "d1");
    term.expect_next(&format!("room_deleted {room}")).await;
    term.type_line("still here?");
    term.expect_next("error no_chat no chat is open; /open <email> first")
        .await;

    // A room of her own she may delete; only its members hear of it.
    term.type_line("/create Attic");
    let attic = conversation_of(&term.expect("joined ").await);
    term.expect_next("end history").await;
    term.type_line("/delete");
    term.expect_next(&format!("room_deleted {attic}")).await;
    bob_ws
        .assert_no("room_deleted", std::time::Duration::from_millis(300))
        .await;
    term.type_line("/rooms");
    term.expect_next("end rooms").await;
}

#[actix_web::test]
async fn a_reply_from_the_terminal_quotes_the_right_message_and_an_incoming_reply_prints_its_quote()
{
    let (app, _, bob, mut bob_ws, mut term) = alice_in_the_terminal_bob_online().await;

    let (room, _) = create_room(&mut bob_ws, "Lunch", None).await;
    // Not told of it, the terminal finds it by name in the directory.
    term.ignore("room ");
    term.type_line("/join Lunch");
    term.expect_next(&format!("joined {room} Lunch")).await;
    term.expect_next("end history").await;
    say(&mut bob_ws, &room, "lunch?\nsomewhere new", None).await;
    term.expect_next(&format!(
        "message {room} 1 bob@example.com lunch?\\nsomewhere new"
    ))
    .await;

    term.type_line("/reply 1 yes please, the noodle place");
    term.expect_next(&format!("sent {room} 2 yes please, the noodle place"))
        .await;
    term.expect_next(&format!(
        "reply-to {room} 2 1 bob@example.com lunch?\\nsomewhere new"
    ))
    .await;
    let reply = bob_ws.recv_type("message").await["message"].clone();
    assert_eq!(reply["body"], "yes please, the noodle place");
    assert_eq!(reply["seq"], 2);
    assert_eq!(reply["reply_to"]["seq"], 1);
    assert_eq!(reply["reply_to"]["sender_id"], bob.id.as_str());

    say(&mut bob_ws, &room, "noon then", Some(2)).await;
    term.expect_next(&format!("message {room} 3 bob@example.com noon then"))
        .await;
    term.expect_next(&format!(
        "reply-to {room} 3 2 alice@example.com yes please, the noodle place"
    ))
    .await;

    // History shows the quotes too; a seq with no message is refused.
    term.type_line("/open Lunch");
    term.expect_next(&format!("opened room {room} Lunch")).await;
    term.expect_next(&format!(
        "history {room} 1 bob@example.com lunch?\\nsomewhere new"
    ))
    .await;
    term.expect_next(&format!(
        "history {room} 2 alice@example.com yes please, the noodle place"
    ))
    .await;
    term.expect("reply-to ").await;
    term.expect_next(&format!("history {room} 3 bob@example.com noon then"))
        .await;
    term.expect("reply-to ").await;
    term.expect_next("end history").await;
    term.type_line("/reply 9 hm?");
    let refused = term.next_line().await;
    assert!(refused.starts_with("error not_found "), "{refused}");
    assert_eq!(app.count_messages().await, 3);
}

#[actix_web::test]
async fn edits_reactions_and_deletions_typed_in_the_terminal_reach_others_and_theirs_are_printed() {
    let (_app, _, _, mut bob_ws, mut term) = alice_in_the_terminal_bob_online().await;

    let (room, _) = create_room(&mut bob_ws, "Lunch", None).await;
    term.ignore("room ");
    term.type_line("/join Lunch");
    term.expect_next(&format!("joined {room} Lunch")).await;
    term.expect_next("end history").await;
    say(&mut bob_ws, &room, "lunch?", None).await;
    term.expect_next(&format!("message {room} 1 bob@example.com lunch?"))
        .await;
    term.type_line("sure, wehre?");
    term.expect_next(&format!("sent {room} 2 sure, wehre?"))
        .await;
    bob_ws.recv_type("message").await;

    // Alice fixes her typo; bob is told. The same text again changes nothing.
    term.type_line("/edit 2 sure, where?");
    term.expect_next(&format!("edited {room} 2 sure, where?"))
        .await;
    let edited = bob_ws.recv_type("message_edited").await;
    assert_eq!(
        (&edited["seq"], &edited["body"]),
        (&json!(2), &json!("sure, where?"))
    );
    term.type_line("/edit 2 sure, where?");
    term.expect_next(&format!("unchanged {room} 2")).await;
    // Only its sender edits a message.
    term.type_line("/edit 1 dinner?");
    let refused = term.next_line().await;
    assert!(refused.starts_with("error forbidden "), "{refused}");

    // `/react` puts her reaction on, and the same again takes it back.
    term.type_line("/react 1 👍");
    term.expect_next(&format!("reaction added {room} 1 alice@example.com 👍"))
        .await;
    let on = bob_ws.recv_type("reaction").await;
    assert_eq!((&on["emoji"], &on["add"]), (&json!("👍"), &json!(true)));
    term.type_line("/react 1 👍");
    term.expect_next(&format!("reaction removed {room} 1 alice@example.com 👍"))
        .await;
    assert_eq!(bob_ws.recv_type("reaction").await["add"], false);
    term.type_line("/react 1 thumbs");
    let refused = term.next_line().await;
    assert!(refused.starts_with("error bad_request "), "{refused}");

    // Bob's reaction prints live, and history shows what became of each message.
    bob_ws
        .send(
            json!({"type": "react", "ref": "r1", "conversation_id": room, "seq": 2,
                     "emoji": "🎉"}),
        )
        .await;
    assert_eq!(bob_ws.recv_type("reaction").await["ref"], "r1");
    term.expect_next(&format!("reaction added {room} 2 bob@example.com 🎉"))
        .await;
    term.type_line("/open Lunch");
    term.expect_next(&format!("opened room {room} Lunch")).await;
    term.expect_next(&format!("history {room} 1 bob@example.com lunch?"))
        .await;
    term.expect_next(&format!("history {room} 2 alice@example.com sure, where?"))
        .await;
    term.expect_next(&format!("state {room} 2 edited 🎉 1"))
        .await;
    term.expect_next("end history").await;

    // Bob created the room: he may delete her message; she may delete only her own.
    term.type_line("/delete 1");
    let refused = term.next_line().await;
    assert!(refused.starts_with("error forbidden "), "{refused}");
    bob_ws
        .send(json!({"type": "delete", "ref": "x1", "conversation_id": room, "seq": 2}))
        .await;
    assert_eq!(bob_ws.recv_type("message_deleted").await["ref"], "x1");
    term.expect_next(&format!("deleted {room} 2")).await;
    term.type_line("/delete 2");
    term.expect_next(&format!("unchanged {room} 2")).await;
    say(&mut bob_ws, &room, "deleting mine too", None).await;
    term.expect_next(&format!(
        "message {room} 3 bob@example.com deleting mine too"
    ))
    .await;
    bob_ws
        .send(json!({"type": "delete", "ref": "x2", "conversation_id": room, "seq": 1}))
        .await;
    term.expect_next(&format!("deleted {room} 1")).await;
    term.type_line("/open Lunch");
    term.expect_next(&format!("opened room {room} Lunch")).await;
    term.expect_next(&format!("history {room} 1 bob@example.com"))
        .await;
    term.expect_next(&format!("state {room} 1 deleted")).await;
    term.expect_next(&format!("history {room} 2 alice@example.com"))
        .await;
    term.expect_next(&format!("state {room} 2 deleted")).await;
    term.expect_next(&format!(
        "history {room} 3 bob@example.com deleting mine too"
    ))
    .await;
    term.expect_next("end history").await;
}
